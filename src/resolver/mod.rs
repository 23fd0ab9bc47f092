//! From a pipeline's name to the stage and app(s) a command means: pipeline ->
//! couplings -> stage -> apps, read on Heroku with the asking person's own token, so
//! nobody reaches through the bot what Heroku would not show them. Every feature
//! (deploys, pipelines, locks, routes, history, doctor) resolves names here, and every
//! way it can fail is a [`ResolveError`] whose text is the reply.

mod choose;
mod error;

use secrecy::SecretString;

use crate::heroku::{self, HerokuClient, PipelineCoupling, Stage};

pub use error::{ResolveError, StageList};

/// Who is asking, for the hints in a refusal: the command as typed (`deploy`,
/// `releases`, ...) and the word it puts before a stage (`to`, `in`, `from`).
#[derive(Debug, Clone, Copy)]
pub struct Asking<'a> {
    pub command: &'a str,
    pub preposition: &'a str,
}

impl Asking<'_> {
    /// Deploy, promote and rollback word their refusals as they always have: a missing
    /// pipeline points to "the ones you can deploy", and stages are listed
    /// alphabetically, the order their default-stage rule reads them in.
    fn deploying(self) -> bool {
        matches!(self.command, "deploy" | "promote" | "rollback")
    }
}

/// Stages in the order a change travels through a pipeline (Heroku CI's `test` stage
/// is left out: nothing is deployed there).
const ORDER: [Stage; 4] = [
    Stage::Review,
    Stage::Development,
    Stage::Staging,
    Stage::Production,
];

/// A pipeline and its couplings, as one person sees them; apps are read on demand.
#[derive(Debug, Clone)]
pub struct Seen {
    pub pipeline: heroku::Pipeline,
    couplings: Vec<PipelineCoupling>,
    deploying: bool,
}

/// One stage and its apps, sorted by name.
#[derive(Debug, Clone)]
pub struct StageApps {
    pub stage: Stage,
    pub apps: Vec<heroku::App>,
}

/// A pipeline with the apps of each of its stages, in pipeline order.
#[derive(Debug, Clone)]
pub struct Layout {
    pub pipeline: heroku::Pipeline,
    pub stages: Vec<StageApps>,
    deploying: bool,
}

/// Reads pipelines and apps as one person (their token) for one command.
#[derive(Clone, Copy)]
pub struct Resolver<'a> {
    pub heroku: &'a HerokuClient,
    pub token: &'a SecretString,
    pub asking: Asking<'a>,
}

impl Resolver<'_> {
    /// The pipeline called `name` (or with that id), without its couplings.
    pub async fn find_pipeline(self, name: &str) -> Result<heroku::Pipeline, ResolveError> {
        self.heroku
            .pipeline(self.token, name)
            .await
            .map_err(|error| {
                if error.is_not_found() || error.is_forbidden() {
                    ResolveError::PipelineNotFound {
                        pipeline: name.to_owned(),
                        deploying: self.asking.deploying(),
                    }
                } else {
                    ResolveError::heroku("read the pipeline", error)
                }
            })
    }

    /// The pipeline called `name` and where its apps are coupled.
    pub async fn pipeline(self, name: &str) -> Result<Seen, ResolveError> {
        let pipeline = self.find_pipeline(name).await?;
        let couplings = (self.heroku)
            .pipeline_couplings(self.token, &pipeline.id)
            .await
            .map_err(|error| ResolveError::heroku("read the pipeline's apps", error))?;
        Ok(Seen {
            pipeline,
            couplings,
            deploying: self.asking.deploying(),
        })
    }

    /// The pipeline called `name` with every stage's apps, in pipeline order.
    pub async fn layout(self, name: &str) -> Result<Layout, ResolveError> {
        let seen = self.pipeline(name).await?;
        let apps = self.read_apps(&seen, |s| ORDER.contains(&s)).await?;
        let stages = seen
            .stages()
            .into_iter()
            .map(|stage| StageApps {
                stage,
                apps: apps
                    .iter()
                    .filter(|(s, _)| *s == stage)
                    .map(|(_, app)| app.clone())
                    .collect(),
            })
            .collect();
        Ok(Layout {
            pipeline: seen.pipeline,
            stages,
            deploying: seen.deploying,
        })
    }

    /// The apps of `seen`'s `stage`, once the person shows they can see each.
    pub async fn stage_apps(self, seen: &Seen, stage: Stage) -> Result<StageApps, ResolveError> {
        let apps = self.read_apps(seen, |s| s == stage).await?;
        Ok(StageApps {
            stage,
            apps: apps.into_iter().map(|(_, app)| app).collect(),
        })
    }

    /// The apps coupled in the stages `wanted` picks, sorted by name. They are read at
    /// once: a command has Slack's 3 seconds for all of this.
    async fn read_apps(
        self,
        seen: &Seen,
        wanted: impl Fn(Stage) -> bool,
    ) -> Result<Vec<(Stage, heroku::App)>, ResolveError> {
        let reads = (seen.couplings.iter())
            .filter(|c| wanted(c.stage))
            .map(|c| async move { (c.stage, self.heroku.app(self.token, &c.app.id).await) });
        let mut apps = Vec::new();
        for (stage, found) in futures_util::future::join_all(reads).await {
            let app = found.map_err(|error| {
                if error.is_not_found() || error.is_forbidden() {
                    ResolveError::NoAccess {
                        pipeline: seen.pipeline.name.clone(),
                        stage,
                    }
                } else {
                    ResolveError::heroku("read the app", error)
                }
            })?;
            apps.push((stage, app));
        }
        apps.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        Ok(apps)
    }
}
