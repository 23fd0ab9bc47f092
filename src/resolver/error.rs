//! [`ResolveError`]: every way naming a pipeline, a stage or an app can go wrong, each
//! with the complete sentence the person is answered with.

use std::fmt;

use crate::heroku::{HerokuError, Stage};

/// Why a pipeline, stage or app named in a command cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Heroku answers 404 or 403 alike: the pipeline is missing or hidden from them.
    #[error(
        "I can't find a pipeline called `{pipeline}` on Heroku, or you can't see it. Run \
         `/h pipelines` to list {}.",
        if *.deploying { "the ones you can deploy" } else { "yours" }
    )]
    PipelineNotFound { pipeline: String, deploying: bool },
    #[error("`{pipeline}` has no app in its {stage} stage. {stages}")]
    NoSuchStage {
        pipeline: String,
        stage: String,
        stages: StageList,
    },
    #[error("`{pipeline}` has no apps to deploy to.")]
    NoApps { pipeline: String },
    #[error(
        "You don't have access to the {stage} apps of `{pipeline}` on Heroku. Ask an owner of \
         the pipeline to add you as a collaborator."
    )]
    NoAccess { pipeline: String, stage: Stage },
    #[error("`{app}` is not an app of the {stage} stage of `{pipeline}`. Its apps there: {}.", apps.join(", "))]
    UnknownApp {
        pipeline: String,
        stage: Stage,
        app: String,
        apps: Vec<String>,
    },
    #[error(
        "The {stage} stage of `{pipeline}` has several apps: {}. Name one, e.g. `/h {command} \
         {pipeline} {preposition} {stage}/{}`.",
        apps.join(", "),
        apps.first().map_or("", String::as_str)
    )]
    SeveralApps {
        pipeline: String,
        stage: Stage,
        apps: Vec<String>,
        command: String,
        preposition: String,
    },
    /// Heroku failed us while we tried to `what` (e.g. `read the app`).
    #[error("{}", heroku_trouble(source))]
    Heroku {
        what: &'static str,
        source: HerokuError,
    },
}

impl ResolveError {
    pub fn heroku(what: &'static str, source: HerokuError) -> ResolveError {
        ResolveError::Heroku { what, source }
    }
}

fn heroku_trouble(error: &HerokuError) -> String {
    if error.is_unauthorized() {
        return "Heroku no longer accepts your login. Run `/h login` to link your account again."
            .into();
    }
    // Heroku's own words are in the error: data, not markup.
    format!(
        "Heroku did not answer as expected ({}). Nothing was changed; try again in a minute.",
        crate::chat::escape(&error.to_string())
    )
}

/// `Its stages: staging, production.`: the stages with apps, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageList(pub Vec<Stage>);

impl fmt::Display for StageList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("It has no apps yet.");
        }
        let names: Vec<&str> = self.0.iter().map(|stage| stage.as_str()).collect();
        write!(f, "Its stages: {}.", names.join(", "))
    }
}
