//! The plan of the fault suite: every app alice can deploy to, the command for each
//! and the channel it is typed in, and the faults armed on each fake so that every
//! kind of call a deploy makes meets 5xx, 429, hangs, drops and lost answers.
//! Included by `tests/deploy_faults.rs`.

use axum::http::Method;
use chatops::store::DeployRow;
use chatops_fakes::{Failure, Fakes, FaultRule, Faults};

/// Where a deploy goes and where it was asked for.
pub struct Target {
    pub pipeline: &'static str,
    pub stage: &'static str,
    pub app: &'static str,
    pub repo: &'static str,
    pub command: &'static str,
    pub channel: &'static str,
}

const fn target(
    (pipeline, stage, app, repo): (&'static str, &'static str, &'static str, &'static str),
    command: &'static str,
    channel: &'static str,
) -> Target {
    Target {
        pipeline,
        stage,
        app,
        repo,
        command,
        channel,
    }
}

/// Every app alice can deploy to, spread over the two channels the bot is in.
pub static TARGETS: [Target; 6] = [
    target(
        ("paipu", "staging", "paipu-app-staging", "heroku/paipu-repo"),
        "deploy paipu to staging",
        "C0DEPLOYS",
    ),
    target(
        (
            "paipu",
            "production",
            "paipu-app-production",
            "heroku/paipu-repo",
        ),
        "deploy paipu to production",
        "C0GENERAL",
    ),
    target(
        ("atlas", "staging", "atlas-staging", "acme/atlas"),
        "deploy atlas to staging",
        "C0DEPLOYS",
    ),
    target(
        ("atlas", "production", "atlas-eu", "acme/atlas"),
        "deploy atlas to production/atlas-eu",
        "C0GENERAL",
    ),
    target(
        ("atlas", "production", "atlas-us", "acme/atlas"),
        "deploy atlas to production/atlas-us",
        "C0DEPLOYS",
    ),
    target(
        ("vault", "production", "vault-app-production", "acme/vault"),
        "deploy vault to production 123456",
        "C0GENERAL",
    ),
];

/// Every repository the targets build from, once each.
pub fn repos() -> Vec<&'static str> {
    let mut repos: Vec<_> = TARGETS.iter().map(|t| t.repo).collect();
    repos.sort_unstable();
    repos.dedup();
    repos
}

impl Target {
    /// The target a deploy row was asked for.
    pub fn of(deploy: &DeployRow) -> &'static Target {
        TARGETS
            .iter()
            .find(|t| {
                t.pipeline == deploy.pipeline
                    && deploy.stage.as_deref() == Some(t.stage)
                    && deploy.app_name.as_deref().is_none_or(|app| app == t.app)
            })
            .unwrap_or_else(|| panic!("deploy {} matches no target", deploy.id))
    }
}

/// Injects, on every fake, faults that strike each kind of call a deploy makes;
/// returns how many rules were armed. Each strikes a bounded number of times, so
/// progress is certain, and few enough `response_url` posts fail that none is given
/// up on (the bot tries one 6 times).
pub fn arm_faults(sandbox: &Fakes) -> usize {
    use Failure::{Drop, Hang, RateLimited, Status};
    let limited = RateLimited {
        retry_after_secs: 1,
    };
    let rule = |faults: &Faults, method: Method, path: &str, failure: Failure, times: u32| {
        faults.inject(FaultRule::failing(method, path, failure, times));
    };
    let lost = |faults: &Faults, path: &str| {
        let answer_lost = FaultRule::failing(Method::POST, path, Status(503), 1);
        faults.inject(answer_lost.after_handling());
    };
    let heroku = &sandbox.heroku.faults;
    for t in &TARGETS {
        lost(heroku, &format!("/apps/{}/builds", t.app));
        let build = format!("/apps/{}/builds/", t.app);
        rule(heroku, Method::GET, &build, Status(503), 1);
        rule(heroku, Method::GET, &build, Drop, 1);
        let release = format!("/apps/{}/releases/", t.app);
        rule(heroku, Method::GET, &release, limited.clone(), 1);
        rule(heroku, Method::GET, &release, Status(500), 1);
        let dynos = format!("/apps/{}/dynos", t.app);
        rule(heroku, Method::GET, &dynos, Hang, 1);
        rule(heroku, Method::GET, &dynos, Status(503), 1);
    }
    rule(heroku, Method::GET, "/pipelines", Status(503), 5);
    rule(heroku, Method::GET, "/pipelines", limited.clone(), 3);
    rule(heroku, Method::GET, "/pipelines", Drop, 2);

    let github = &sandbox.github.faults;
    for repo in repos() {
        lost(github, &format!("/repos/{repo}/deployments"));
    }
    rule(github, Method::GET, "/repos/", Status(502), 8);
    rule(github, Method::GET, "/repos/", limited.clone(), 4);
    rule(github, Method::GET, "/repos/", Hang, 2);
    rule(github, Method::GET, "/repos/", Drop, 2);

    let slack = &sandbox.slack.faults;
    rule(slack, Method::POST, "/api/chat.postMessage", Status(503), 3);
    rule(
        slack,
        Method::POST,
        "/api/chat.postMessage",
        limited.clone(),
        2,
    );
    rule(slack, Method::POST, "/api/chat.postMessage", Hang, 1);
    rule(slack, Method::POST, "/api/chat.update", Status(500), 2);
    rule(slack, Method::POST, "/api/chat.update", limited, 1);
    rule(slack, Method::POST, "/response/", Status(503), 3);
    rule(slack, Method::POST, "/response/", Drop, 1);
    armed(heroku) + armed(github) + armed(slack)
}

/// How many rules `faults` still holds. `Faults` keeps its rules private; its debug
/// output is the one view of what is left.
pub fn armed(faults: &Faults) -> usize {
    faults.armed()
}
