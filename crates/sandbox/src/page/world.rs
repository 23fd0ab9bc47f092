//! `POST /api/world`: the panel that plays the sandbox world through the fakes' own
//! controls: CI of a pipeline's default branch head, the next build or release of an
//! app failing, a dyno crashing on the next restart, and the platform's pace. Each
//! answer says what changed, in words, for the panel to show.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Page, PageError};
use crate::bot::CONNECTED_PIPELINES;
use chatops_fakes::github::CiState;
use chatops_fakes::heroku::Timings;

/// The pipelines the panel plays with, and their repositories.
pub(super) const PIPELINES: [(&str, &str); 2] = CONNECTED_PIPELINES;

/// The apps of those pipelines (the fake panics on an unknown name, so names are
/// checked against this first).
pub(super) const APPS: [&str; 6] = [
    "paipu-app-test",
    "paipu-app-staging",
    "paipu-app-production",
    "atlas-staging",
    "atlas-eu",
    "atlas-us",
];

/// What "slow the platform" means: long enough to watch each step.
const SLOW: Timings = Timings {
    build: Duration::from_secs(20),
    release_phase: Duration::from_secs(8),
    restart: Duration::from_secs(8),
    promotion: Duration::from_secs(3),
};

/// The release command an app without one gets, so its release can fail.
const RELEASE_COMMAND: &str = "bin/release";

#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub(super) enum Play {
    /// Sets every status and check run of the head of `pipeline`'s default branch.
    Ci {
        pipeline: String,
        state: Ci,
    },
    FailNextBuild {
        app: String,
    },
    FailNextRelease {
        app: String,
    },
    CrashDyno {
        app: String,
    },
    Pace {
        slow: bool,
    },
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Ci {
    Green,
    Pending,
    Red,
}

pub(super) async fn play(
    State(page): State<Page>,
    Json(play): Json<Play>,
) -> Result<Json<Value>, PageError> {
    let done = match play {
        Play::Ci { pipeline, state } => set_ci(&page, &pipeline, state)?,
        Play::FailNextBuild { app } => {
            page.heroku.fail_next_build(known_app(&app)?);
            format!("The next build of {app} fails.")
        }
        Play::FailNextRelease { app } => fail_next_release(&page, known_app(&app)?),
        Play::CrashDyno { app } => {
            page.heroku
                .crash_after_next_restart(known_app(&app)?, "web.1");
            format!("After its next restart, web.1 of {app} crashes.")
        }
        Play::Pace { slow } => set_pace(&page, slow),
    };
    Ok(Json(json!({ "done": done })))
}

fn known_app(app: &str) -> Result<&str, PageError> {
    APPS.iter()
        .copied()
        .find(|known| *known == app)
        .ok_or_else(|| {
            PageError::BadRequest(format!(
                "there is no app {app:?}: pick one of {}",
                APPS.join(", ")
            ))
        })
}

fn set_ci(page: &Page, pipeline: &str, state: Ci) -> Result<String, PageError> {
    let (_, repo) = PIPELINES
        .iter()
        .find(|(name, _)| *name == pipeline)
        .ok_or_else(|| {
            PageError::BadRequest(format!(
                "there is no pipeline {pipeline:?}: pick paipu or atlas"
            ))
        })?;
    let (ci, word) = match state {
        Ci::Green => (CiState::Green, "green"),
        Ci::Pending => (CiState::Pending, "pending"),
        Ci::Red => (CiState::Red, "red"),
    };
    let set = page.github.default_branch(repo).and_then(|branch| {
        let sha = page.github.set_ci(repo, &branch, ci)?;
        Ok(format!(
            "CI of {repo} {branch} ({}) is {word}.",
            chatops::chat::short_sha(&sha)
        ))
    });
    set.map_err(|error| PageError::BadRequest(format!("{error:#}")))
}

fn fail_next_release(page: &Page, app: &str) -> String {
    let had_release_phase = page.heroku.app(app).release_command.is_some();
    if !had_release_phase {
        page.heroku.set_release_command(app, Some(RELEASE_COMMAND));
    }
    page.heroku.fail_next_release(app);
    if had_release_phase {
        format!("The next release phase of {app} fails.")
    } else {
        format!(
            "The next release phase of {app} fails ({app} had none; it now runs {RELEASE_COMMAND})."
        )
    }
}

fn set_pace(page: &Page, slow: bool) -> String {
    let (timings, pace) = if slow {
        (SLOW, "slow")
    } else {
        (Timings::SANDBOX, "at the sandbox's pace")
    };
    page.heroku.set_timings(timings);
    format!(
        "The platform is {pace}: builds take {:?}, release phases {:?}, restarts {:?}.",
        timings.build, timings.release_phase, timings.restart
    )
}
