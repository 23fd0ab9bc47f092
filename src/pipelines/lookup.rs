//! A pipeline as one person sees it on Heroku: its stages and their apps, read with
//! that person's token; and the stage (or app) a command names. Every problem is the
//! complete sentence to answer with.

use secrecy::SecretString;

use crate::app::App;
use crate::command::Target;
use crate::heroku::{self, HerokuError, Pipeline, Stage};

/// A pipeline with the apps of each of its stages, in pipeline order (Heroku CI's
/// `test` stage left out: nothing is deployed there).
#[derive(Debug, Clone)]
pub struct Layout {
    pub pipeline: Pipeline,
    pub stages: Vec<StageApps>,
}

/// One stage and its apps, by name.
#[derive(Debug, Clone)]
pub struct StageApps {
    pub stage: Stage,
    pub apps: Vec<heroku::App>,
}

/// Stages in the order a change travels through a pipeline.
const ORDER: [Stage; 4] = [
    Stage::Review,
    Stage::Development,
    Stage::Staging,
    Stage::Production,
];

/// The pipeline called `name` as the token's owner sees it.
pub async fn layout(app: &App, token: &SecretString, name: &str) -> Result<Layout, String> {
    let pipeline = app.heroku.pipeline(token, name).await.map_err(|error| {
        if error.is_not_found() || error.is_forbidden() {
            not_found(name)
        } else {
            heroku_trouble(&error)
        }
    })?;
    let couplings = app
        .heroku
        .pipeline_couplings(token, &pipeline.id)
        .await
        .map_err(|error| heroku_trouble(&error))?;
    // The apps are read at once: a command has Slack's 3 seconds for all of this.
    let reads = couplings
        .iter()
        .filter(|c| ORDER.contains(&c.stage))
        .map(|c| async move { (c.stage, app.heroku.app(token, &c.app.id).await) });
    let mut stages: Vec<StageApps> = Vec::new();
    for (stage, found) in futures_util::future::join_all(reads).await {
        let found = found.map_err(|error| {
            if error.is_not_found() || error.is_forbidden() {
                format!(
                    "You don't have access to the {stage} apps of `{name}` on Heroku. Ask an \
                     owner of the pipeline to add you as a collaborator."
                )
            } else {
                heroku_trouble(&error)
            }
        })?;
        match stages.iter_mut().find(|s| s.stage == stage) {
            Some(known) => known.apps.push(found),
            None => stages.push(StageApps {
                stage,
                apps: vec![found],
            }),
        }
    }
    stages.sort_by_key(|s| ORDER.iter().position(|o| *o == s.stage));
    for stage in &mut stages {
        stage.apps.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(Layout { pipeline, stages })
}

impl Layout {
    /// The apps `target` names: the stage's, or the one app asked for.
    pub fn apps_of(&self, target: &Target) -> Result<Vec<&heroku::App>, String> {
        let name = &self.pipeline.name;
        let wanted = target.stage.as_str();
        let Some(stage) = self.stages.iter().find(|s| s.stage.as_str() == wanted) else {
            return Err(format!(
                "`{name}` has no app in its {wanted} stage. {}",
                self.stage_list()
            ));
        };
        let Some(app_name) = &target.app else {
            return Ok(stage.apps.iter().collect());
        };
        match stage.apps.iter().find(|app| &app.name == app_name) {
            Some(app) => Ok(vec![app]),
            None => Err(format!(
                "`{app_name}` is not an app of the {wanted} stage of `{name}`. Its apps there: {}.",
                app_names(&stage.apps)
            )),
        }
    }

    /// The one app `target` names; a stage of several apps needs the app named.
    pub fn one_app(&self, target: &Target, command: &str) -> Result<&heroku::App, String> {
        let apps = self.apps_of(target)?;
        match apps.as_slice() {
            [only] => Ok(only),
            several => Err(format!(
                "The {stage} stage of `{pipeline}` has several apps: {names}. Name one, e.g. \
                 `/h {command} {pipeline} in {stage}/{first}`.",
                stage = target.stage,
                pipeline = self.pipeline.name,
                names = several
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                first = several[0].name,
            )),
        }
    }

    /// `Its stages: staging, production.`
    fn stage_list(&self) -> String {
        if self.stages.is_empty() {
            return "It has no apps yet.".into();
        }
        let names: Vec<&str> = self.stages.iter().map(|s| s.stage.as_str()).collect();
        format!("Its stages: {}.", names.join(", "))
    }
}

/// `a, b, c`.
pub fn app_names(apps: &[heroku::App]) -> String {
    apps.iter()
        .map(|app| app.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The answer for a pipeline that does not exist or that the person cannot see.
pub fn not_found(name: &str) -> String {
    format!(
        "I can't find a pipeline called `{name}` on Heroku, or you can't see it. Run `/h pipelines` to list yours."
    )
}

/// The answer when Heroku failed us while reading.
pub fn heroku_trouble(error: &HerokuError) -> String {
    if error.is_unauthorized() {
        return "Heroku no longer accepts your login. Run `/h login` to link your account again."
            .into();
    }
    format!(
        "Heroku did not answer as expected ({error}). Nothing was changed; try again in a minute."
    )
}
