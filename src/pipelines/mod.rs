//! The read-only pipeline commands: `/h pipelines` (what the person can see), `/h info`
//! (stages, apps, repository, checks and what each stage runs) and `/h releases` (the
//! last releases of a stage). Everything is read with the person's own tokens, so
//! nobody sees through the bot what Heroku or GitHub would not show them.
//!
//! Pipelines are resolved with [`crate::accounts::seen_by`], as every command does.

mod info;
mod releases;

use secrecy::SecretString;

use crate::accounts::acting_as;
use crate::bot::{Bot, BotState};
use crate::chat::Invocation;
use crate::chat::Reply;
use crate::chat::escape;
use crate::heroku::{self, Release};
use crate::resolver::{Asking, ResolveError, Resolver};

pub use info::info;
pub use releases::releases;

/// How many releases `/h releases` lists.
pub const RELEASES_SHOWN: usize = 10;

/// `/h pipelines`: each pipeline the person can see, its repository and its apps.
pub async fn pipelines(state: &BotState, invocation: &Invocation) -> Reply {
    let linked = match acting_as(state, invocation).await {
        Ok(linked) => linked,
        Err(reply) => return reply,
    };
    let token = &linked.heroku_token;
    let mut found = match state.heroku.pipelines(token).await {
        Ok(found) => found,
        Err(error) => {
            return Reply::ephemeral(ResolveError::heroku("list pipelines", error).to_string());
        }
    };
    if found.is_empty() {
        return Reply::ephemeral(format!(
            "Your Heroku account ({}) can't see any pipelines. Ask a pipeline's owner to add you to its team or apps.",
            escape(&linked.heroku_email)
        ));
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    let mut lines = vec![format!(
        "Pipelines {} can see:",
        escape(&linked.heroku_email)
    )];
    let reads = found
        .iter()
        .map(|pipeline| pipeline_line(state, invocation, token, &pipeline.name));
    lines.extend(futures_util::future::join_all(reads).await);
    Reply::ephemeral(lines.join("\n"))
}

/// `• *paipu* (heroku/paipu-repo): staging paipu-app-staging · production paipu-app-production`
async fn pipeline_line(
    app: &Bot,
    invocation: &Invocation,
    token: &SecretString,
    name: &str,
) -> String {
    let repo = match app.store.pipeline_repo(&invocation.team_id, name).await {
        Ok(Some(repo)) => repo,
        Ok(None) => format!("not connected: `/h connect {name} to <owner>/<repo>`"),
        Err(error) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "cannot read a pipeline's repository"
            );
            "repository unknown".into()
        }
    };
    let resolver = Resolver {
        heroku: &app.heroku,
        token,
        asking: Asking {
            command: "pipelines",
            preposition: "in",
        },
    };
    let stages = match resolver.layout(name).await {
        Ok(layout) if layout.stages.is_empty() => "no apps yet".to_owned(),
        Ok(layout) => layout.summary(),
        Err(problem) => problem.to_string(),
    };
    format!("• *{name}* ({repo}): {stages}")
}

/// The release an app runs now (the newest `current` one), among its latest.
pub async fn current_release(
    app: &Bot,
    token: &SecretString,
    app_name: &str,
) -> Result<Option<Release>, heroku::HerokuError> {
    let latest = app.heroku.releases(token, app_name, 5).await?;
    Ok(latest.into_iter().find(|release| release.current))
}

/// The commit a release runs, from its slug; `None` for releases without one (config
/// changes on a fresh app) or slugs that do not say.
pub async fn release_sha(app: &Bot, token: &SecretString, release: &Release) -> Option<String> {
    let slug = release.slug.as_ref()?;
    match app.heroku.slug(token, &release.app.name, &slug.id).await {
        Ok(slug) => slug.commit,
        Err(error) => {
            tracing::info!(%error, app = %release.app.name, "cannot read a release's slug");
            None
        }
    }
}
