//! Picking what a command means among what a person can see: the stage it names (or
//! the pipeline's default one) and the app(s) of that stage it names. No I/O here.

use super::{Asking, Layout, ORDER, ResolveError, Seen, StageApps, StageList};
use crate::command::Target;
use crate::heroku::{self, Stage};

impl Seen {
    /// The stages with apps, in pipeline order.
    pub fn stages(&self) -> Vec<Stage> {
        ORDER
            .into_iter()
            .filter(|stage| self.couplings.iter().any(|c| c.stage == *stage))
            .collect()
    }

    /// The stage named `wanted`, or the default: the alphabetically last stage with
    /// apps (slash-heroku's rule; it is `staging` for the usual pipeline).
    pub fn stage(&self, wanted: Option<&str>) -> Result<Stage, ResolveError> {
        let stages = self.stages();
        let Some(wanted) = wanted else {
            return stages
                .into_iter()
                .max_by_key(|stage| stage.as_str())
                .ok_or_else(|| ResolveError::NoApps {
                    pipeline: self.pipeline.name.clone(),
                });
        };
        stages
            .into_iter()
            .find(|stage| stage.as_str() == wanted)
            .ok_or_else(|| no_such_stage(&self.pipeline.name, wanted, self.stage_list()))
    }

    /// The stages with apps, as refusals list them.
    pub fn stage_list(&self) -> StageList {
        listed(self.stages(), self.deploying)
    }
}

impl StageApps {
    /// The stage's apps, or the one named `wanted`.
    pub fn named(
        &self,
        pipeline: &str,
        wanted: Option<&str>,
    ) -> Result<Vec<&heroku::App>, ResolveError> {
        let Some(wanted) = wanted else {
            return Ok(self.apps.iter().collect());
        };
        match self.apps.iter().find(|app| app.name == wanted) {
            Some(app) => Ok(vec![app]),
            None => Err(ResolveError::UnknownApp {
                pipeline: pipeline.to_owned(),
                stage: self.stage,
                app: wanted.to_owned(),
                apps: self.names(),
            }),
        }
    }

    /// The one app meant: the named one, or the stage's only one.
    pub fn one(
        &self,
        pipeline: &str,
        wanted: Option<&str>,
        asking: Asking<'_>,
    ) -> Result<&heroku::App, ResolveError> {
        match self.named(pipeline, wanted)?.as_slice() {
            [only] => Ok(only),
            _ => Err(ResolveError::SeveralApps {
                pipeline: pipeline.to_owned(),
                stage: self.stage,
                apps: self.names(),
                command: asking.command.to_owned(),
                preposition: asking.preposition.to_owned(),
            }),
        }
    }

    fn names(&self) -> Vec<String> {
        self.apps.iter().map(|app| app.name.clone()).collect()
    }
}

impl Layout {
    /// `staging paipu-staging · production paipu-eu, paipu-us`
    pub fn summary(&self) -> String {
        self.stages
            .iter()
            .map(|s| format!("{} {}", s.stage, s.names().join(", ")))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The apps `target` names: the stage's, or the one app asked for.
    pub fn apps_of(&self, target: &Target) -> Result<Vec<&heroku::App>, ResolveError> {
        self.stage_of(target)?
            .named(&self.pipeline.name, target.app.as_deref())
    }

    /// The one app `target` names; a stage of several apps needs the app named.
    pub fn one_app(
        &self,
        target: &Target,
        asking: Asking<'_>,
    ) -> Result<&heroku::App, ResolveError> {
        self.stage_of(target)?
            .one(&self.pipeline.name, target.app.as_deref(), asking)
    }

    fn stage_of(&self, target: &Target) -> Result<&StageApps, ResolveError> {
        let wanted = target.stage.as_str();
        self.stages
            .iter()
            .find(|s| s.stage.as_str() == wanted)
            .ok_or_else(|| {
                let stages = self.stages.iter().map(|s| s.stage).collect();
                no_such_stage(&self.pipeline.name, wanted, listed(stages, self.deploying))
            })
    }
}

fn no_such_stage(pipeline: &str, stage: &str, stages: StageList) -> ResolveError {
    ResolveError::NoSuchStage {
        pipeline: pipeline.to_owned(),
        stage: stage.to_owned(),
        stages,
    }
}

/// `stages` (in pipeline order) as a refusal lists them.
fn listed(mut stages: Vec<Stage>, deploying: bool) -> StageList {
    if deploying {
        stages.sort_by_key(|stage| stage.as_str());
    }
    StageList(stages)
}
