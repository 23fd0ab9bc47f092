//! The fake's read endpoints: account, budget, pipelines, couplings, apps, builds,
//! releases, slugs, dynos, formation and promotions. Each answers only what the acting
//! account may see, with Heroku's 403/404 otherwise.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::FakeHeroku;
use super::errors::ApiError;
use super::gate::Actor;
use super::paging::{self, BY_ID, Fields};
use super::world::World;

/// What every handler answers.
pub(super) type Answer = Result<Response, ApiError>;

const PIPELINES: Fields = &[("id", "id"), ("name", "name")];
const BUILDS: Fields = &[("id", "id"), ("started_at", "created_at")];
const RELEASES: Fields = &[("version", "version"), ("id", "id")];
const DYNOS: Fields = &[("id", "id"), ("name", "name")];
const FORMATION: Fields = &[("id", "id"), ("type", "type")];

pub(super) fn json(value: Value) -> Answer {
    Ok(Json(value).into_response())
}

pub(super) async fn account(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
) -> Answer {
    fake.with_world(|world| json(world.account_json(world.user(&actor.user_id))))
}

pub(super) async fn rate_limits(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
) -> Answer {
    fake.with_world(|world| {
        let user = world
            .users
            .iter_mut()
            .find(|user| user.id == actor.user_id)
            .expect("actors are known users");
        json(json!({"remaining": user.budget.remaining()}))
    })
}

pub(super) async fn pipelines(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
) -> Answer {
    fake.with_world(|world| {
        let visible = world
            .pipelines
            .iter()
            .filter(|pipeline| world.sees_pipeline(&actor.user_id, pipeline));
        paging::respond(
            visible
                .map(|pipeline| world.pipeline_json(pipeline))
                .collect(),
            &headers,
            PIPELINES,
        )
    })
}

pub(super) async fn pipeline(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(ident): Path<String>,
) -> Answer {
    fake.with_world(|world| json(world.pipeline_json(world.pipeline_for(&actor.user_id, &ident)?)))
}

/// Couplings are listed by pipeline id only, as the real endpoint is.
pub(super) async fn couplings(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(pipeline_id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    fake.with_world(|world| {
        let pipeline = world
            .pipeline_for(&actor.user_id, &pipeline_id)
            .ok()
            .filter(|pipeline| pipeline.id == pipeline_id);
        let pipeline = pipeline.ok_or_else(|| ApiError::not_found("pipeline"))?;
        let couplings = world
            .couplings
            .iter()
            .filter(|coupling| coupling.pipeline_id == pipeline.id);
        paging::respond(
            couplings
                .map(|coupling| world.coupling_json(coupling))
                .collect(),
            &headers,
            BY_ID,
        )
    })
}

pub(super) async fn app(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
) -> Answer {
    fake.with_world(|world| json(world.app_json(world.app_for(&actor.user_id, &app)?)))
}

pub(super) async fn builds(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Answer {
    fake.with_world(|world| {
        let app = world.app_for(&actor.user_id, &app)?;
        let builds = world.builds.iter().filter(|build| build.app_id == app.id);
        paging::respond(
            builds.map(|build| world.build_json(build)).collect(),
            &headers,
            BUILDS,
        )
    })
}

pub(super) async fn build(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path((app, build)): Path<(String, String)>,
) -> Answer {
    fake.with_world(|world| {
        let app = world.app_for(&actor.user_id, &app)?;
        let build = world
            .builds
            .iter()
            .find(|candidate| candidate.app_id == app.id && candidate.id == build);
        json(world.build_json(build.ok_or_else(|| ApiError::not_found("build"))?))
    })
}

pub(super) async fn releases(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Answer {
    fake.with_world(|world| {
        let app = world.app_for(&actor.user_id, &app)?;
        let releases = world
            .releases
            .iter()
            .filter(|release| release.app_id == app.id);
        paging::respond(
            releases
                .map(|release| world.release_json(release))
                .collect(),
            &headers,
            RELEASES,
        )
    })
}

/// A release by id or by version number.
pub(super) async fn release(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path((app, release)): Path<(String, String)>,
) -> Answer {
    fake.with_world(|world| {
        let app = world.app_for(&actor.user_id, &app)?;
        let version: Option<u64> = release.parse().ok();
        let found = world.releases.iter().find(|candidate| {
            candidate.app_id == app.id
                && (candidate.id == release || Some(candidate.version) == version)
        });
        json(world.release_json(found.ok_or_else(|| ApiError::not_found("release"))?))
    })
}

pub(super) async fn slug(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path((app, slug)): Path<(String, String)>,
) -> Answer {
    fake.with_world(|world| {
        let app = world.app_for(&actor.user_id, &app)?;
        // A promoted release runs the source app's slug, so the target can read it too.
        let released_here = |slug_id: &str| {
            world.releases.iter().any(|release| {
                release.app_id == app.id && release.slug_id.as_deref() == Some(slug_id)
            })
        };
        let slug = world
            .slug(&slug)
            .filter(|slug| slug.app_id == app.id || released_here(&slug.id));
        json(world.slug_json(slug.ok_or_else(|| ApiError::not_found("slug"))?))
    })
}

pub(super) async fn dynos(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Answer {
    fake.with_world(|world| {
        let app = world.app_for(&actor.user_id, &app)?;
        let dynos = world.dynos.iter().filter(|dyno| dyno.app_id == app.id);
        paging::respond(
            dynos.map(|dyno| world.dyno_json(dyno)).collect(),
            &headers,
            DYNOS,
        )
    })
}

pub(super) async fn formation(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Answer {
    fake.with_world(|world| {
        let app = world.app_for(&actor.user_id, &app)?;
        let items = app
            .formation
            .iter()
            .map(|formation| world.formation_json(app, formation))
            .collect();
        paging::respond(items, &headers, FORMATION)
    })
}

pub(super) async fn promotion(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Answer {
    fake.with_world(|world| {
        let index = visible_promotion(world, &actor, &id)?;
        json(world.promotion_json(&world.promotions[index]))
    })
}

pub(super) async fn targets(
    State(fake): State<FakeHeroku>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    fake.with_world(|world| {
        let promotion = &world.promotions[visible_promotion(world, &actor, &id)?];
        let items = promotion
            .targets
            .iter()
            .map(|target| world.target_json(promotion, target))
            .collect();
        paging::respond(items, &headers, BY_ID)
    })
}

/// A promotion is visible to whoever can see its pipeline.
fn visible_promotion(world: &World, actor: &Actor, id: &str) -> Result<usize, ApiError> {
    world
        .promotions
        .iter()
        .position(|promotion| {
            promotion.id == id
                && world
                    .pipeline_for(&actor.user_id, &promotion.pipeline_id)
                    .is_ok()
        })
        .ok_or_else(|| ApiError::not_found("pipeline promotion"))
}
