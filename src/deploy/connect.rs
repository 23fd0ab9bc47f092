//! `/h connect <pipeline> to <owner>/<repo>`: which repository a pipeline builds
//! from, for the whole team. It changes what everyone's next deploy ships, so it is a
//! write on both sides: the person needs push (or admin) access to the repository
//! on GitHub and the right to deploy every app of the pipeline on Heroku, each read
//! with their own token. A change of an existing mapping is announced once in the
//! pipeline's routed channel (or where the command was run), and every change is
//! recorded for `/h history`, in the transaction that makes it.

use crate::accounts::{Linked, seen_by};
use crate::bot::BotState;
use crate::chat::{Invocation, Reply, escape};
use crate::github::{RepoName, Repository};
use crate::resolver::{Asking, Layout, ResolveError};
use crate::store::{NewMessage, RepoChange};

const CONNECT: Asking = Asking {
    command: "connect",
    preposition: "to",
};

/// Answers `/h connect`.
pub async fn connect(
    state: &BotState,
    invocation: &Invocation,
    pipeline: &str,
    repo: &str,
) -> Reply {
    let Ok(repo_name) = repo.parse::<RepoName>() else {
        return Reply::ephemeral(format!(
            "`{}` is not a GitHub repository of the form owner/name, e.g. `heroku/paipu-repo`.",
            escape(repo)
        ));
    };
    let (linked, layout) = match seen_by(state, invocation, pipeline, CONNECT).await {
        Ok(seen) => seen,
        Err(reply) => return reply,
    };
    let found = match state.github.repo(&linked.github_token, &repo_name).await {
        Ok(found) => found,
        Err(error) if error.is_not_found() => {
            return Reply::ephemeral(format!(
                "GitHub says {repo_name} does not exist or you can't see it, so nothing was changed."
            ));
        }
        Err(error) => {
            return Reply::ephemeral(format!(
                "GitHub did not answer ({}); nothing was changed. Try again in a minute.",
                escape(&error.to_string())
            ));
        }
    };
    let missing = match missing_rights(state, &linked, &layout, &repo_name, &found).await {
        Ok(missing) => missing,
        Err(error) => return Reply::ephemeral(error.to_string()),
    };
    if !missing.is_empty() {
        return Reply::ephemeral(missing.join(" "));
    }
    save(state, invocation, pipeline, &repo_name, &found).await
}

/// What the person lacks to connect `layout`'s pipeline to `repo`, a sentence each;
/// empty when nothing is missing.
async fn missing_rights(
    state: &BotState,
    linked: &Linked,
    layout: &Layout,
    repo: &RepoName,
    found: &Repository,
) -> Result<Vec<String>, ResolveError> {
    let mut missing = Vec::new();
    let permissions = found.permissions;
    if !permissions.is_some_and(|p| p.push || p.admin) {
        let has = if permissions.is_some_and(|p| p.pull) {
            "read"
        } else {
            "no"
        };
        missing.push(format!(
            "You need push access to {repo} to connect it; you have {has} access."
        ));
    }
    let mut lacking = Vec::new();
    for app in layout.stages.iter().flat_map(|stage| &stage.apps) {
        let collaborators = (state
            .heroku
            .collaborators(&linked.heroku_token, &app.name)
            .await)
            .map_err(|error| ResolveError::heroku("list the app's collaborators", error))?;
        let you = collaborators
            .iter()
            .find(|c| c.user.email.eq_ignore_ascii_case(&linked.heroku_email));
        match you {
            Some(you) if you.can_deploy() => {}
            Some(you) => lacking.push(format!(
                "{} (you have: {})",
                escape(&app.name),
                you.permission_names()
            )),
            None => lacking.push(format!(
                "{} (you are not a collaborator)",
                escape(&app.name)
            )),
        }
    }
    if !lacking.is_empty() {
        missing.push(format!(
            "You need the deploy permission on every app of `{}` to connect it; you lack it on {}.",
            escape(&layout.pipeline.name),
            lacking.join(", ")
        ));
    }
    Ok(missing)
}

/// Makes the change (with its history row and announcement) and answers.
async fn save(
    state: &BotState,
    invocation: &Invocation,
    pipeline: &str,
    repo: &RepoName,
    found: &Repository,
) -> Reply {
    let change = RepoChange {
        team_id: invocation.team_id.clone(),
        pipeline: pipeline.into(),
        repo: repo.to_string(),
        previous_repo: None,
        set_by: invocation.user_id.clone(),
        at: state.clock.now_millis(),
    };
    let route = match state.store.route(&invocation.team_id, pipeline).await {
        Ok(route) => route,
        Err(error) => return database_trouble(&error),
    };
    let channel = route.map_or(invocation.channel_id.clone(), |route| route.channel);
    let announce = |previous: Option<&str>| announcement(&change, &channel, previous);
    let made = match state.store.change_pipeline_repo(&change, announce).await {
        Ok(made) => made,
        Err(error) => return database_trouble(&error),
    };
    let builds = format!(
        "`/h deploy {pipeline}` now builds its default branch ({}).",
        escape(&found.default_branch)
    );
    match made {
        None => Reply::ephemeral(format!(
            "`{pipeline}` already builds from {repo}; nothing was changed. {builds}"
        )),
        Some(_) => Reply::ephemeral(format!("Connected `{pipeline}` to {repo}: {builds}")),
    }
}

/// The channel's notice of a changed mapping; none for a first connection.
fn announcement(
    change: &RepoChange,
    channel: &str,
    previous: Option<&str>,
) -> anyhow::Result<Vec<NewMessage>> {
    let Some(previous) = previous else {
        return Ok(Vec::new());
    };
    let text = format!(
        "<@{}> connected `{}` to {}: its deploys now build {} instead of {}.",
        change.set_by,
        change.pipeline,
        change.repo,
        change.repo,
        escape(previous)
    );
    let key = format!(
        "connect:{}:{}:{}",
        change.team_id, change.pipeline, change.at
    );
    Ok(vec![crate::outbox::notice(
        &change.team_id,
        channel,
        &key,
        &text,
    )?])
}

fn database_trouble(error: &anyhow::Error) -> Reply {
    tracing::error!(error = format!("{error:#}"), "cannot connect a pipeline");
    Reply::ephemeral("I could not save that (the database did not answer); nothing was changed.")
}
