//! `/h deploy` and `/h connect`: what happens in the 3 seconds Slack gives a command.
//! A deploy is checked for linked accounts, stored as `requested` and acknowledged;
//! the worker does the rest and tells the channel.

use super::start::two_factor_context;
use super::state;
use crate::app::AppState;
use crate::command::Target;
use crate::dispatch::Invocation;
use crate::github::RepoName;
use crate::slack::reply::Reply;
use crate::store::DeployRow;

/// `/h deploy[!] <pipeline>[/<branch>] [to <stage>[/<app>]] [<2fa code>]`, as parsed.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub pipeline: String,
    pub branch: Option<String>,
    pub target: Option<Target>,
    pub two_factor_code: Option<String>,
    pub forced: bool,
}

/// Starts a deploy, or says why it cannot start.
pub async fn deploy(state: &AppState, invocation: &Invocation, request: DeployRequest) -> Reply {
    if let Err(not_linked) =
        crate::accounts::linked(state, &invocation.team_id, &invocation.user_id).await
    {
        return not_linked.reply(state, invocation).await;
    }
    let now = state.clock.now_millis();
    let mut row = new_row(invocation, &request, now);
    row.two_factor_code = request
        .two_factor_code
        .as_deref()
        .map(|code| state.vault.seal(code, &two_factor_context(&row)));
    match state.store.insert_deploy(&row).await {
        Ok(id) => {
            tracing::info!(deploy = id, pipeline = %request.pipeline, "deploy requested");
            state.wakeups.deploys.notify_one();
            Reply::ephemeral(acknowledgement(&request))
        }
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot store a deploy");
            Reply::ephemeral(
                "I could not record that deploy (the database did not answer), so nothing was started. Try again in a minute.",
            )
        }
    }
}

fn new_row(invocation: &Invocation, request: &DeployRequest, now: i64) -> DeployRow {
    DeployRow {
        id: 0,
        team_id: invocation.team_id.clone(),
        channel_id: invocation.channel_id.clone(),
        user_id: invocation.user_id.clone(),
        response_url: invocation.response_url.clone(),
        pipeline: request.pipeline.clone(),
        branch: request.branch.clone(),
        stage: request
            .target
            .as_ref()
            .map(|target| target.stage.as_str().to_owned()),
        app_name: request
            .target
            .as_ref()
            .and_then(|target| target.app.clone()),
        forced: i64::from(request.forced),
        two_factor_code: None,
        state: state::REQUESTED.into(),
        app_id: None,
        repo: None,
        git_ref: None,
        sha: None,
        github_deployment_id: None,
        build_id: None,
        release_id: None,
        failure: None,
        created_at: now,
        stage_started_at: now,
        finished_at: None,
        next_check_at: now,
    }
}

/// `On it: deploying paipu/feature-x to staging/app2. ...`
fn acknowledgement(request: &DeployRequest) -> String {
    let mut what = request.pipeline.clone();
    if let Some(branch) = &request.branch {
        what.push_str(&format!("/{branch}"));
    }
    match &request.target {
        Some(target) => what.push_str(&format!(" to {target}")),
        None => what.push_str(" to its default stage"),
    }
    let forced = if request.forced {
        " CI checks are skipped (forced)."
    } else {
        ""
    };
    format!("On it: deploying {what}.{forced} Progress will show in this channel.")
}

/// `/h connect <pipeline> to <owner>/<repo>`: remembers which repository a pipeline
/// builds from, once the person shows they can see both.
pub async fn connect(
    state: &AppState,
    invocation: &Invocation,
    pipeline: &str,
    repo: &str,
) -> Reply {
    let linked =
        match crate::accounts::linked(state, &invocation.team_id, &invocation.user_id).await {
            Ok(linked) => linked,
            Err(not_linked) => return not_linked.reply(state, invocation).await,
        };
    let Ok(repo_name) = repo.parse::<RepoName>() else {
        return Reply::ephemeral(format!(
            "`{repo}` is not a GitHub repository of the form owner/name, e.g. `heroku/paipu-repo`."
        ));
    };
    if let Err(error) = state.heroku.pipeline(&linked.heroku_token, pipeline).await {
        return Reply::ephemeral(if error.is_not_found() || error.is_forbidden() {
            format!(
                "I can't find a pipeline called `{pipeline}` on Heroku, or you can't see it. Run `/h pipelines` to list yours."
            )
        } else {
            format!("Heroku did not answer ({error}); nothing was changed. Try again in a minute.")
        });
    }
    let found = match state.github.repo(&linked.github_token, &repo_name).await {
        Ok(found) => found,
        Err(error) if error.is_not_found() => {
            return Reply::ephemeral(format!(
                "GitHub says {repo_name} does not exist or you can't see it, so nothing was changed."
            ));
        }
        Err(error) => {
            return Reply::ephemeral(format!(
                "GitHub did not answer ({error}); nothing was changed. Try again in a minute."
            ));
        }
    };
    let now = state.clock.now();
    if let Err(error) = state
        .store
        .set_pipeline_repo(
            &invocation.team_id,
            pipeline,
            &repo_name.to_string(),
            &invocation.user_id,
            now,
        )
        .await
    {
        tracing::error!(error = format!("{error:#}"), "cannot link a pipeline");
        return Reply::ephemeral(
            "I could not save that (the database did not answer); nothing was changed.",
        );
    }
    Reply::ephemeral(format!(
        "Connected `{pipeline}` to {repo_name}: `/h deploy {pipeline}` now builds its default branch ({}).",
        found.default_branch
    ))
}
