//! The fake's test controls: minting tokens, adding pipelines, arming failures and
//! setting timings per app, and reading back what happened (builds, releases,
//! promotions, dynos, webhook deliveries, requests). Apps are named as in the seeded
//! world (or as added); an unknown name is a mistake in the test and panics with it.

use std::time::Duration;

use super::FakeHeroku;
use super::activity::{
    ActedRequest, Build, Delivery, Dyno, Promotion, Release, SeenRequest, Slug, Webhook,
};
use super::buildpacks::Language;
use super::ids::{now, seeded_id};
use super::oauth::OAuthClient;
use super::world::{App, Behaviour, Coupling, Formation, Owner, Pipeline, Timings, World};

/// The stages a Heroku pipeline has.
const STAGES: [&str; 5] = ["test", "review", "development", "staging", "production"];

fn app_mut<'w>(world: &'w mut World, name: &str) -> &'w mut App {
    world
        .apps
        .iter_mut()
        .find(|app| app.name == name)
        .unwrap_or_else(|| panic!("the fake has no app named {name}"))
}

fn app_id(world: &World, name: &str) -> String {
    world
        .apps
        .iter()
        .find(|app| app.name == name)
        .unwrap_or_else(|| panic!("the fake has no app named {name}"))
        .id
        .clone()
}

/// A new app coupled to `pipeline_id` in `stage`.
fn add_app(world: &mut World, pipeline_id: &str, stage: &'static str, name: &str, owner: Owner) {
    assert!(
        world.apps.iter().all(|app| app.name != name),
        "the fake already has an app named {name}"
    );
    let (id, at) = (seeded_id(&format!("app:{name}")), now());
    let formation = [
        ("web", 2, "bundle exec puma -C config/puma.rb"),
        ("worker", 1, "bundle exec sidekiq -C config/sidekiq.yml"),
    ]
    .map(|(kind, quantity, command)| Formation {
        id: seeded_id(&format!("formation:{name}:{kind}")),
        kind: kind.into(),
        quantity,
        size: "Standard-1X".into(),
        command: command.into(),
        updated_at: at,
    });
    world.apps.push(App {
        id: id.clone(),
        name: name.into(),
        owner,
        collaborators: Vec::new(),
        members: Vec::new(),
        region: "us",
        language: Language::Ruby,
        requires_two_factor: false,
        release_command: None,
        formation: formation.to_vec(),
        created_at: at,
        behaviour: Behaviour {
            timings: Timings::SANDBOX,
            fail_next_build: None,
            fail_next_release: false,
            crash_next_restart: None,
        },
    });
    world.couplings.push(Coupling {
        id: seeded_id(&format!("coupling:{name}")),
        pipeline_id: pipeline_id.into(),
        app_id: id,
        stage,
        created_at: at,
    });
}

impl FakeHeroku {
    /// Adds pipeline `name`, owned by the `acme` team (so Alice can deploy it), with
    /// one new app per `(stage, app)`: a Ruby app in `us` running `web` x2 and
    /// `worker` x1 at the [`Timings::SANDBOX`] pace, without a release phase, and with
    /// no builds, releases or dynos yet (its first deploy makes them). For benchmarks
    /// that need more apps than the seeded world has; ids are derived from the names.
    ///
    /// # Panics
    /// If a stage is not a Heroku stage, or a pipeline or app of that name exists.
    pub fn add_pipeline(&self, name: &str, apps: &[(&str, &str)]) {
        self.with_world(|world| {
            assert!(
                world.pipelines.iter().all(|pipeline| pipeline.name != name),
                "the fake already has a pipeline named {name}"
            );
            let owner = Owner::Team(world.teams[0].id.clone());
            let pipeline_id = seeded_id(&format!("pipeline:{name}"));
            world.pipelines.push(Pipeline {
                id: pipeline_id.clone(),
                name: name.into(),
                owner: owner.clone(),
                created_at: now(),
            });
            for (stage, app) in apps {
                let stage = STAGES
                    .into_iter()
                    .find(|known| known == stage)
                    .unwrap_or_else(|| panic!("{stage} is not a Heroku pipeline stage"));
                add_app(world, &pipeline_id, stage, app, owner.clone());
            }
        });
    }

    /// A valid `global` access token for the seeded account `email`, living as long as
    /// [`FakeHeroku::set_token_lifetime`] says (8 hours unless changed).
    pub fn token_for(&self, email: &str) -> String {
        self.with_world(|world| {
            let user_id = world
                .user_by_email(email)
                .unwrap_or_else(|| panic!("the fake has no account {email}"))
                .id
                .clone();
            world.authorize(&user_id, "global", None, None)
        })
    }

    /// How many authorizations (live grants of access) the seeded account `email` has.
    pub fn authorization_count(&self, email: &str) -> usize {
        self.with_world(|world| {
            let user_id = world.user_by_email(email).map(|user| user.id.clone());
            world
                .authorizations
                .iter()
                .filter(|found| Some(&found.user_id) == user_id.as_ref())
                .count()
        })
    }

    /// Registers an OAuth client; its authorizations return to `redirect_uri`.
    pub fn register_oauth_client(&self, client_id: &str, client_secret: &str, redirect_uri: &str) {
        let client = OAuthClient {
            id: client_id.into(),
            secret: client_secret.into(),
            redirect_uri: redirect_uri.into(),
        };
        self.with_world(|world| world.oauth_clients.push(client));
    }

    /// How long access tokens issued from now on live (`Duration::ZERO`: expired at once).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.with_world(|world| world.token_lifetime = lifetime);
    }

    /// The account `email` changes its email address to `new` (Heroku lets people
    /// choose it; what it holds is theirs to say).
    pub fn change_email(&self, email: &str, new: &str) {
        self.with_world(|world| {
            let user = world.users.iter_mut().find(|user| user.email == email);
            user.unwrap_or_else(|| panic!("the fake has no account {email}"))
                .email = new.to_owned();
        });
    }

    /// Empties (or refills) an account's request budget.
    pub fn set_rate_limit_remaining(&self, email: &str, remaining: u32) {
        self.with_world(|world| {
            let user = world.users.iter_mut().find(|user| user.email == email);
            user.unwrap_or_else(|| panic!("the fake has no account {email}"))
                .budget
                .set(remaining);
        });
    }

    /// The same timings for every app (e.g. [`Timings::FAST`] in tests).
    pub fn set_timings(&self, timings: Timings) {
        self.with_world(|world| {
            world
                .apps
                .iter_mut()
                .for_each(|app| app.behaviour.timings = timings)
        });
    }

    /// How long `app`'s builds take.
    pub fn set_build_duration(&self, app: &str, duration: Duration) {
        self.with_world(|world| app_mut(world, app).behaviour.timings.build = duration);
    }

    /// How long `app`'s release phase runs.
    pub fn set_release_phase_duration(&self, app: &str, duration: Duration) {
        self.with_world(|world| app_mut(world, app).behaviour.timings.release_phase = duration);
    }

    /// How long `app`'s dynos take to come up after a release.
    pub fn set_restart_duration(&self, app: &str, duration: Duration) {
        self.with_world(|world| app_mut(world, app).behaviour.timings.restart = duration);
    }

    /// Gives `app` a release phase running `command`, or (with `None`) takes it away.
    pub fn set_release_command(&self, app: &str, command: Option<&str>) {
        self.with_world(|world| app_mut(world, app).release_command = command.map(str::to_owned));
    }

    /// `app`'s next build fails to compile, with the buildpack's failure output.
    pub fn fail_next_build(&self, app: &str) {
        self.fail_next_build_printing(app, &[]);
    }

    /// `app`'s next build fails, printing `lines` (the app's own build output, which
    /// says whatever its code makes it say) before the buildpack's failure output.
    pub fn fail_next_build_printing(&self, app: &str, lines: &[&str]) {
        let lines = lines.iter().map(|line| (*line).to_owned()).collect();
        self.with_world(|world| app_mut(world, app).behaviour.fail_next_build = Some(lines));
    }

    /// `app`'s next release phase fails (give the app one with
    /// [`FakeHeroku::set_release_command`] if it has none).
    pub fn fail_next_release(&self, app: &str) {
        self.with_world(|world| app_mut(world, app).behaviour.fail_next_release = true);
    }

    /// After `app`'s next restart, dyno `dyno` (e.g. `web.1`) crashes instead of coming up.
    pub fn crash_after_next_restart(&self, app: &str, dyno: &str) {
        self.with_world(|world| {
            app_mut(world, app).behaviour.crash_next_restart = Some(dyno.to_owned())
        });
    }

    /// The app named `name`.
    pub fn app(&self, name: &str) -> App {
        self.with_world(|world| app_mut(world, name).clone())
    }

    /// The pipeline named `name`.
    pub fn pipeline(&self, name: &str) -> Pipeline {
        self.with_world(|world| {
            let pipeline = world
                .pipelines
                .iter()
                .find(|pipeline| pipeline.name == name);
            pipeline
                .unwrap_or_else(|| panic!("the fake has no pipeline named {name}"))
                .clone()
        })
    }

    /// `app`'s builds, oldest first, with the source each was asked to build.
    pub fn builds(&self, app: &str) -> Vec<Build> {
        self.with_world(|world| {
            let id = app_id(world, app);
            world
                .builds
                .iter()
                .filter(|build| build.app_id == id)
                .cloned()
                .collect()
        })
    }

    /// `app`'s releases, oldest first.
    pub fn releases(&self, app: &str) -> Vec<Release> {
        self.with_world(|world| {
            let id = app_id(world, app);
            world
                .releases
                .iter()
                .filter(|release| release.app_id == id)
                .cloned()
                .collect()
        })
    }

    /// A slug by id.
    pub fn slug(&self, id: &str) -> Option<Slug> {
        self.with_world(|world| world.slug(id).cloned())
    }

    /// `app`'s dynos now.
    pub fn dynos(&self, app: &str) -> Vec<Dyno> {
        self.with_world(|world| {
            let id = app_id(world, app);
            world
                .dynos
                .iter()
                .filter(|dyno| dyno.app_id == id)
                .cloned()
                .collect()
        })
    }

    /// Every promotion, oldest first.
    pub fn promotions(&self) -> Vec<Promotion> {
        self.with_world(|world| world.promotions.clone())
    }

    /// `app`'s webhook subscriptions.
    pub fn webhooks(&self, app: &str) -> Vec<Webhook> {
        self.with_world(|world| {
            let id = app_id(world, app);
            world
                .webhooks
                .iter()
                .filter(|webhook| webhook.app_id == id)
                .cloned()
                .collect()
        })
    }

    /// Every webhook delivery and how it went.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.with_world(|world| world.deliveries.clone())
    }

    /// Every request received, in order, failed or not.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.with_world(|world| world.requests.iter().cloned().collect())
    }

    /// How many requests arrived in all, failed or not (the log of [`Self::requests`]
    /// keeps only the latest 10,000).
    pub fn requests_total(&self) -> u64 {
        self.with_world(|world| world.requests_total)
    }

    /// Every request let through, with the account it acted for, in order.
    pub fn admitted(&self) -> Vec<ActedRequest> {
        self.with_world(|world| world.admitted.iter().cloned().collect())
    }

    /// How many `method path` requests arrived.
    pub fn count_requests(&self, method: &str, path: &str) -> usize {
        self.with_world(|world| {
            world
                .requests
                .iter()
                .filter(|seen| seen.method == method && seen.path == path)
                .count()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_id(fake: &FakeHeroku, email: &str) -> String {
        fake.with_world(|world| world.user_by_email(email).expect("seeded").id.clone())
    }

    #[test]
    fn an_added_pipeline_is_the_teams_and_its_apps_are_ready_to_deploy() {
        let fake = FakeHeroku::seeded("http://127.0.0.1:9");
        fake.add_pipeline("bench-1", &[("staging", "bench-1-staging")]);
        let app = fake.app("bench-1-staging");
        let scale: Vec<_> = app
            .formation
            .iter()
            .map(|f| (f.kind.as_str(), f.quantity))
            .collect();
        assert_eq!(scale, [("web", 2), ("worker", 1)]);
        assert_eq!(app.release_command, None);
        assert!(fake.builds("bench-1-staging").is_empty());
        let (alice, bob) = (
            user_id(&fake, "alice@example.com"),
            user_id(&fake, "bob@example.com"),
        );
        fake.with_world(|world| {
            let pipeline = world
                .pipeline_for(&alice, "bench-1")
                .expect("alice sees it");
            let coupling = world
                .couplings
                .iter()
                .find(|c| c.pipeline_id == pipeline.id)
                .expect("coupled");
            assert_eq!(
                (coupling.stage, coupling.app_id.as_str()),
                ("staging", app.id.as_str())
            );
            assert!(world.app_for(&alice, "bench-1-staging").is_ok());
            assert!(
                world.pipeline_for(&bob, "bench-1").is_err(),
                "bob is not in acme"
            );
        });
    }

    #[test]
    #[should_panic(expected = "canary is not a Heroku pipeline stage")]
    fn an_unknown_stage_is_a_mistake() {
        FakeHeroku::seeded("http://127.0.0.1:9").add_pipeline("bench-2", &[("canary", "b")]);
    }
}
