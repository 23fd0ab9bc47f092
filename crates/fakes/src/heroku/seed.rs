//! The seeded world (described in the module doc of [`super`]): four accounts, the
//! `acme` team, pipelines `paipu`, `atlas` and `vault`, and each app's history of
//! builds, slugs and releases, its formation and its running dynos. Ids and shas are
//! derived from names, so they are the same on every run.

use super::activity::{Build, Dyno, DynoState, Release, Slug, SourceBlob, Status};
use super::buildpacks::Language;
use super::ids::{seeded_id, seeded_sha};
use super::oauth::DEFAULT_TOKEN_LIFETIME;
use super::world::{
    App, Behaviour, Budget, Coupling, Formation, Owner, Pipeline, Team, Timings, User, World,
};

/// 2024-03-01T09:00:00Z: the seeded history starts here.
const EPOCH: i64 = 1_709_283_600;
const HOUR: i64 = 3600;

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const ERIN: &str = "erin@example.com";
const BRUNO: &str = "bruno@example.com";

struct AppSpec {
    name: &'static str,
    pipeline: &'static str,
    stage: &'static str,
    language: Language,
    region: &'static str,
    release_command: Option<&'static str>,
    two_factor: bool,
    /// Deploys in its history (releases v3 onwards).
    deploys: u64,
}

const RAKE_MIGRATE: Option<&str> = Some("bundle exec rake db:migrate");

const APPS: &[AppSpec] = &[
    AppSpec {
        name: "paipu-app-test",
        pipeline: "paipu",
        stage: "test",
        language: Language::Ruby,
        region: "us",
        release_command: RAKE_MIGRATE,
        two_factor: false,
        deploys: 3,
    },
    AppSpec {
        name: "paipu-app-staging",
        pipeline: "paipu",
        stage: "staging",
        language: Language::Ruby,
        region: "us",
        release_command: RAKE_MIGRATE,
        two_factor: false,
        deploys: 228,
    },
    AppSpec {
        name: "paipu-app-production",
        pipeline: "paipu",
        stage: "production",
        language: Language::Ruby,
        region: "us",
        release_command: RAKE_MIGRATE,
        two_factor: false,
        deploys: 40,
    },
    AppSpec {
        name: "atlas-staging",
        pipeline: "atlas",
        stage: "staging",
        language: Language::Node,
        region: "us",
        release_command: None,
        two_factor: false,
        deploys: 12,
    },
    AppSpec {
        name: "atlas-eu",
        pipeline: "atlas",
        stage: "production",
        language: Language::Node,
        region: "eu",
        release_command: None,
        two_factor: false,
        deploys: 8,
    },
    AppSpec {
        name: "atlas-us",
        pipeline: "atlas",
        stage: "production",
        language: Language::Node,
        region: "us",
        release_command: None,
        two_factor: false,
        deploys: 8,
    },
    AppSpec {
        name: "vault-app-staging",
        pipeline: "vault",
        stage: "staging",
        language: Language::Python,
        region: "us",
        release_command: None,
        two_factor: false,
        deploys: 6,
    },
    AppSpec {
        name: "vault-app-production",
        pipeline: "vault",
        stage: "production",
        language: Language::Python,
        region: "us",
        release_command: None,
        two_factor: true,
        deploys: 5,
    },
];

/// The world `FakeHeroku::seeded` starts from.
pub(super) fn world(base_url: &str) -> World {
    let mut world = World {
        base_url: base_url.to_owned(),
        token_lifetime: DEFAULT_TOKEN_LIFETIME,
        ..World::default()
    };
    let acme = Team {
        id: seeded_id("team:acme"),
        name: "acme".into(),
    };
    world.users = vec![
        user(ALICE, "Alice Anders", true, vec![acme.id.clone()]),
        user(BOB, "Bob Brandt", false, Vec::new()),
        user(ERIN, "Erin Ekström", true, Vec::new()),
        // Alice's teammate: the same team, an account of his own.
        user(BRUNO, "Bruno Bianchi", true, vec![acme.id.clone()]),
    ];
    world.teams = vec![acme];
    for name in ["paipu", "atlas", "vault"] {
        let owner = owner_of(&world, name);
        world.pipelines.push(Pipeline {
            id: seeded_id(&format!("pipeline:{name}")),
            name: name.into(),
            owner,
            created_at: EPOCH - 30 * 24 * HOUR,
        });
    }
    for spec in APPS {
        seed_app(&mut world, spec);
    }
    world
}

fn user(email: &str, name: &str, two_factor: bool, teams: Vec<String>) -> User {
    User {
        id: seeded_id(&format!("user:{email}")),
        email: email.into(),
        name: name.into(),
        two_factor_authentication: two_factor,
        teams,
        created_at: EPOCH - 400 * 24 * HOUR,
        budget: Budget::full(),
    }
}

/// `paipu` and `atlas` belong to the acme team; `vault` is Erin's own.
fn owner_of(world: &World, pipeline: &str) -> Owner {
    match pipeline {
        "vault" => Owner::User(seeded_id(&format!("user:{ERIN}"))),
        _ => Owner::Team(world.teams[0].id.clone()),
    }
}

/// Who deploys an app's history: Alice for the team's apps, Erin for hers.
fn deployer(spec: &AppSpec) -> String {
    seeded_id(&format!(
        "user:{}",
        if spec.pipeline == "vault" {
            ERIN
        } else {
            ALICE
        }
    ))
}

fn seed_app(world: &mut World, spec: &AppSpec) {
    let app_id = seeded_id(&format!("app:{}", spec.name));
    let created_at = EPOCH - 7 * 24 * HOUR;
    let pipeline_id = seeded_id(&format!("pipeline:{}", spec.pipeline));
    // Alice can reach everything: she collaborates on Erin's vault apps.
    let collaborators = if spec.pipeline == "vault" {
        vec![seeded_id(&format!("user:{ALICE}"))]
    } else {
        Vec::new()
    };
    world.apps.push(App {
        id: app_id.clone(),
        name: spec.name.into(),
        owner: owner_of(world, spec.pipeline),
        collaborators,
        members: Vec::new(),
        region: spec.region,
        language: spec.language,
        requires_two_factor: spec.two_factor,
        release_command: spec.release_command.map(str::to_owned),
        formation: formation(spec, created_at),
        created_at,
        behaviour: Behaviour {
            timings: Timings::SANDBOX,
            fail_next_build: None,
            fail_next_release: false,
            crash_next_restart: None,
        },
    });
    world.couplings.push(Coupling {
        id: seeded_id(&format!("coupling:{}", spec.name)),
        pipeline_id,
        app_id: app_id.clone(),
        stage: spec.stage,
        created_at,
    });
    seed_history(world, spec, &app_id);
}

fn formation(spec: &AppSpec, at: i64) -> Vec<Formation> {
    let (web, worker, size) = match spec.language {
        Language::Ruby => (
            "bundle exec puma -C config/puma.rb",
            "bundle exec sidekiq -C config/sidekiq.yml",
            "Standard-1X",
        ),
        Language::Node => ("npm start", "node worker.js", "Standard-2X"),
        Language::Python => (
            "gunicorn vault.wsgi --log-file -",
            "celery -A vault worker",
            "Standard-1X",
        ),
    };
    [("web", 2, web), ("worker", 1, worker)]
        .into_iter()
        .map(|(kind, quantity, command)| Formation {
            id: seeded_id(&format!("formation:{}:{kind}", spec.name)),
            kind: kind.into(),
            quantity,
            size: size.into(),
            command: command.into(),
            updated_at: at,
        })
        .collect()
}

/// v1 "Initial release", v2 "Enable Logplex", then one build, slug and release per
/// deploy; the last one is current and the formation's dynos run it.
fn seed_history(world: &mut World, spec: &AppSpec, app_id: &str) {
    let user_id = deployer(spec);
    let release = |version: u64, description: String, slug_id: Option<String>, at: i64| Release {
        id: seeded_id(&format!("release:{}:{version}", spec.name)),
        app_id: app_id.to_owned(),
        version,
        status: Status::Succeeded,
        description,
        slug_id,
        user_id: user_id.clone(),
        current: false,
        release_phase: false,
        created_at: at,
        updated_at: at,
    };
    let start = EPOCH - 6 * 24 * HOUR;
    world
        .releases
        .push(release(1, "Initial release".into(), None, start));
    world
        .releases
        .push(release(2, "Enable Logplex".into(), None, start + 60));
    for deploy in 1..=spec.deploys {
        let version = deploy + 2;
        let at = start + (deploy as i64) * 2 * HOUR;
        let sha = seeded_sha(&format!("commit:{}:{deploy}", spec.pipeline));
        let slug_id = seeded_id(&format!("slug:{}:{version}", spec.name));
        world.builds.push(Build {
            id: seeded_id(&format!("build:{}:{version}", spec.name)),
            app_id: app_id.to_owned(),
            user_id: user_id.clone(),
            status: Status::Succeeded,
            source_blob: SourceBlob {
                url: format!(
                    "https://codeload.github.com/acme/{}/legacy.tar.gz/{sha}",
                    spec.pipeline
                ),
                version: Some(sha.clone()),
                version_description: Some(format!("acme/{}:{sha}", spec.pipeline)),
                checksum: None,
            },
            slug_id: Some(slug_id.clone()),
            release_id: Some(seeded_id(&format!("release:{}:{version}", spec.name))),
            created_at: at - 120,
            updated_at: at,
        });
        world.slugs.push(Slug {
            id: slug_id.clone(),
            app_id: app_id.to_owned(),
            commit: Some(sha.clone()),
            commit_description: Some(format!("acme/{}:{sha}", spec.pipeline)),
            size: 58_000_000 + deploy * 1_024,
            created_at: at - 10,
        });
        world.releases.push(release(
            version,
            format!("Deploy {}", &sha[..7]),
            Some(slug_id),
            at,
        ));
    }
    let current = world.releases.last_mut().expect("every app has releases");
    current.current = true;
    let (current_id, at) = (current.id.clone(), current.created_at);
    seed_dynos(world, spec, app_id, &current_id, at);
}

fn seed_dynos(world: &mut World, spec: &AppSpec, app_id: &str, release_id: &str, at: i64) {
    let formation = world
        .apps
        .last()
        .expect("the app was just seeded")
        .formation
        .clone();
    for process in &formation {
        for number in 1..=process.quantity {
            let name = format!("{}.{number}", process.kind);
            world.dynos.push(Dyno {
                id: seeded_id(&format!("dyno:{}:{name}", spec.name)),
                app_id: app_id.to_owned(),
                name,
                kind: process.kind.clone(),
                command: process.command.clone(),
                size: process.size.clone(),
                state: DynoState::Up,
                release_id: release_id.to_owned(),
                created_at: at + 30,
                updated_at: at + 45,
            });
        }
    }
    // Someone left a console open on production: a one-off dyno a deploy must ignore.
    if spec.name == "paipu-app-production" {
        world.dynos.push(Dyno {
            id: seeded_id("dyno:paipu-app-production:run.4821"),
            app_id: app_id.to_owned(),
            name: "run.4821".into(),
            kind: "run".into(),
            command: "bundle exec rails console".into(),
            size: "Standard-1X".into(),
            state: DynoState::Up,
            release_id: seeded_id(&format!("release:{}:{}", spec.name, spec.deploys + 1)),
            created_at: at - 3600,
            updated_at: at - 3600,
        });
    }
}
