//! A stateful fake of the Heroku Platform API and of id.heroku.com's OAuth, speaking
//! the real wire format: bearer tokens that expire, per-account rate limits, 403/404
//! for apps and pipelines a user cannot reach, 2FA-protected apps, `Range` pagination,
//! builds that download their source and stream a log, releases with a release phase,
//! restarting dynos, promotions, rollbacks and signed app webhooks. It owns only the
//! fake; nothing here serves real traffic.
//!
//! # The seeded world
//!
//! | account | can reach |
//! |---|---|
//! | `alice@example.com` (2FA on) | everything: member of team `acme`, collaborator on Erin's apps |
//! | `bob@example.com` | nothing: `GET /pipelines` is empty, pipelines are 404, apps are 403 |
//! | `erin@example.com` (2FA on) | only the `vault` pipeline and its apps, which she owns |
//! | `bruno@example.com` (2FA on) | Alice's teammate: member of team `acme` (`paipu`, `atlas`) |
//!
//! | pipeline (owner) | test | staging | production |
//! |---|---|---|---|
//! | `paipu` (team acme, Ruby) | `paipu-app-test` | `paipu-app-staging` | `paipu-app-production` |
//! | `atlas` (team acme, Node.js) | | `atlas-staging` | `atlas-eu`, `atlas-us` (a multi-app stage) |
//! | `vault` (Erin, Python) | | `vault-app-staging` | `vault-app-production` (writes need 2FA) |
//!
//! Every app runs `web` x2 and `worker` x1, all `up` on its current release, whose slug
//! records a 40-hex commit. The `paipu` apps have a release phase
//! (`bundle exec rake db:migrate`); `paipu-app-staging` has 230 releases and 228 builds
//! (so lists paginate); `paipu-app-production` also runs a one-off `run.4821` console.
//! Writes to `vault-app-production` (builds, rollbacks, webhooks, promotions onto it)
//! need `Heroku-Two-Factor-Code:` [`FakeHeroku::TWO_FACTOR_CODE`].
//!
//! # Time
//!
//! Builds, release phases, restarts, promotions and webhook deliveries run as tokio
//! tasks started by the request that caused them, taking [`Timings`] per app
//! ([`Timings::SANDBOX`] by default: a deploy in about six seconds; tests set
//! [`Timings::FAST`]). Clients observe progress by polling, as against Heroku.
//!
//! A build downloads `source_blob.url` (redirects followed) and needs a gzip body; a
//! successful one makes a slug and a release (`Deploy <sha7>`), whose release phase
//! runs if the app has one; a successful release becomes current and the formation's
//! dynos restart on it (`starting`, then `up` or `crashed`).

mod access;
mod activity;
mod authorizations;
mod buildpacks;
mod builds;
mod control;
mod dynos;
mod errors;
mod gate;
mod ids;
mod logs;
mod oauth;
mod paging;
mod promotions;
mod read;
mod releases;
mod render;
mod seed;
mod webhooks;
mod world;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use tokio::sync::mpsc;

use super::Faults;
use world::World;

pub use activity::{
    ActedRequest, Build, Delivery, Dyno, DynoState, Promotion, PromotionTarget, Release,
    SeenRequest, Slug, SourceBlob, Status, Webhook,
};
pub use buildpacks::Language;
pub use errors::TWO_FACTOR_MESSAGE;
pub use world::{App, Coupling, Formation, Owner, Pipeline, Team, Timings, User};

/// The fake Heroku: cheap to clone, every clone sharing one world.
#[derive(Clone)]
pub struct FakeHeroku {
    /// Faults injected into this fake's endpoints.
    pub faults: Faults,
    inner: Arc<Inner>,
}

/// What the clones share.
struct Inner {
    world: Mutex<World>,
    /// Fetches source tarballs and delivers webhooks, as Heroku's own machinery does.
    http: reqwest::Client,
    /// The webhook sender, started with the first delivery.
    deliveries: OnceLock<mpsc::UnboundedSender<webhooks::Outgoing>>,
}

impl Inner {
    fn record_attempt(
        &self,
        delivery_id: &str,
        attempt: u32,
        status: Option<u16>,
        succeeded: bool,
    ) {
        let mut world = self.world.lock().expect("the fake's world lock");
        if let Some(delivery) = world
            .deliveries
            .iter_mut()
            .find(|delivery| delivery.id == delivery_id)
        {
            delivery.attempts = attempt;
            delivery.last_status = status;
            delivery.succeeded = succeeded;
        }
    }
}

impl FakeHeroku {
    /// The one-time password `vault-app-production` accepts.
    pub const TWO_FACTOR_CODE: &'static str = "123456";

    /// A fake serving at `base_url`, holding the seeded world.
    pub fn seeded(base_url: &str) -> FakeHeroku {
        let http = reqwest::Client::builder()
            .user_agent("heroku-fake-build-fetcher")
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .expect("the TLS backend initialises");
        let inner = Inner {
            world: Mutex::new(seed::world(base_url.trim_end_matches('/'))),
            http,
            deliveries: OnceLock::new(),
        };
        FakeHeroku {
            faults: Faults::default(),
            inner: Arc::new(inner),
        }
    }

    /// The API, OAuth and output-stream routes, with faults and request recording.
    pub fn router(&self) -> Router {
        let api = Router::new()
            .route("/account", get(read::account))
            .route("/account/rate-limits", get(read::rate_limits))
            .route("/pipelines", get(read::pipelines))
            .route("/pipelines/{pipeline}", get(read::pipeline))
            .route(
                "/pipelines/{pipeline}/pipeline-couplings",
                get(read::couplings),
            )
            .route("/pipeline-promotions", post(promotions::create))
            .route("/pipeline-promotions/{promotion}", get(read::promotion))
            .route(
                "/pipeline-promotions/{promotion}/promotion-targets",
                get(read::targets),
            )
            .route("/apps/{app}", get(read::app))
            .route("/apps/{app}/collaborators", get(access::collaborators))
            .route("/apps/{app}/builds", get(read::builds).post(builds::create))
            .route("/apps/{app}/builds/{build}", get(read::build))
            .route(
                "/apps/{app}/releases",
                get(read::releases).post(releases::create),
            )
            .route("/apps/{app}/releases/{release}", get(read::release))
            .route("/apps/{app}/slugs/{slug}", get(read::slug))
            .route("/apps/{app}/dynos", get(read::dynos))
            .route("/apps/{app}/formation", get(read::formation))
            .route(
                "/apps/{app}/webhooks",
                get(webhooks::list).post(webhooks::create),
            )
            .route("/apps/{app}/webhooks/{webhook}", delete(webhooks::delete))
            .route("/oauth/authorizations", get(authorizations::list))
            .route(
                "/oauth/authorizations/{authorization}",
                get(authorizations::info).delete(authorizations::revoke),
            )
            .route_layer(from_fn_with_state(self.clone(), gate::authenticate));
        Router::new()
            .merge(api)
            .route("/oauth/authorize", get(oauth::page).post(oauth::decide))
            .route("/oauth/token", post(oauth::token))
            .route("/streams/{id}", get(logs::stream))
            // Heroku answers unknown paths and wrong methods alike.
            .fallback(|| async { errors::ApiError::no_such_endpoint().into_response() })
            .method_not_allowed_fallback(|| async {
                errors::ApiError::no_such_endpoint().into_response()
            })
            .with_state(self.clone())
            .layer(from_fn_with_state(
                self.faults.clone(),
                super::faults::apply,
            ))
            .layer(from_fn_with_state(self.clone(), gate::record))
    }

    /// Runs `change` on the world under its lock, then hands any webhook deliveries it
    /// queued to the sender (outside the lock).
    fn with_world<R>(&self, change: impl FnOnce(&mut World) -> R) -> R {
        let (result, outgoing) = {
            let mut world = self.inner.world.lock().expect("the fake's world lock");
            let result = change(&mut world);
            (result, std::mem::take(&mut world.outbox))
        };
        if !outgoing.is_empty() {
            let sender = self.inner.deliveries.get_or_init(|| {
                let (sender, queue) = mpsc::unbounded_channel();
                tokio::spawn(webhooks::send_all(Arc::downgrade(&self.inner), queue));
                sender
            });
            outgoing
                .into_iter()
                .for_each(|delivery| drop(sender.send(delivery)));
        }
        result
    }

    fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }
}
