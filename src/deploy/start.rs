//! requested -> building: find the app, refuse (or queue) a busy one, gate the
//! request, take the app's lock, record what the app runs, record the GitHub
//! deployment, start the Heroku build, then tell the channel, release notes first.
//! Each creating call first looks for what an interrupted attempt already created.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::gate::{self, Tokens};
use super::messages;
use super::notes::{self, Notes, SHORT_CHARS, capped};
use super::promote::current_commit;
use super::steps::{Outcome, enter, github_status};
use super::{StepError, confirm, queue};
use crate::bot::BotState;
use crate::github::{
    DeploymentOutcome, DeploymentSearch, DeploymentState, NewDeployment, RepoName,
};
use crate::heroku::NewSourceBlob;
use crate::store::{AppLock, DeployKind, DeployRow, DeployState, MessageKind};

/// How far GitHub's clock may be behind ours: a deployment's `created_at` is GitHub's.
const GITHUB_CLOCK_SKEW_MS: i64 = 10 * 60 * 1000;

/// requested -> building: find the app, wait in line or be refused if it is busy
/// ([`queue::hold`]), gate, take the app's lock, record the GitHub deployment, start
/// the Heroku build; then tell the channel.
pub(super) async fn start(
    app: &BotState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    now: i64,
) -> Result<Outcome, StepError> {
    let place = gate::place(app, request(d), tokens).await?;
    if let Some(held) = queue::hold(app, d, &place, now).await? {
        return Ok(held);
    }
    let request = request(d);
    let resolved = gate::gate(app, request, tokens, place.clone()).await?;
    if confirm::needed(app, d, &resolved.stage) {
        let running = current_commit(app, tokens, &resolved.app_name).await?;
        (d.stage, d.app_id, d.app_name) = (
            Some(resolved.stage.clone()),
            Some(resolved.app_id.clone()),
            Some(resolved.app_name.clone()),
        );
        let change = confirm::Change {
            repo: &resolved.repo,
            running: running.as_deref(),
            shipping: &resolved.sha,
        };
        let summary = confirm::changes(app, tokens, &change).await?;
        return Ok(confirm::ask(d, &summary, now));
    }
    let echo = gate::request_echo(request);
    let lock = (resolved.app_id.as_str(), resolved.app_name.as_str());
    match take_lock(app, d, lock, &resolved.sha, now).await {
        // Another deploy took the app after [`queue::hold`] found it free: this one is
        // held as if it had come a moment later (in line, or refused with Queue it).
        Err(refused @ StepError::Refused(_)) => {
            return queue::hold(app, d, &place, now).await?.ok_or(refused);
        }
        taken => taken?,
    }
    notes::record_base(app, d, tokens, &resolved.app_name).await?;
    let code = two_factor_code(app, d);
    let code = code.as_ref().map(|c| c.expose_secret());
    crate::webhooks::subscribe(app, tokens.heroku, &resolved.app_name, code).await;
    let ships = |sha| notes::ships(app, tokens, d, &resolved.repo, &resolved.app_name, sha);
    let mut notes = ships(&resolved.sha).await;
    // The GitHub deployment pins the commit: after a crash it may be an earlier run's,
    // made before someone pushed, and then its sha (not the branch's new head) is what
    // this deploy builds, and what the notes tell.
    let (deployment_id, sha) = github_deployment(app, d, tokens, &resolved, &notes).await?;
    if sha != resolved.sha {
        notes = ships(&sha).await;
    }
    (d.stage, d.app_id, d.app_name) = (
        Some(resolved.stage.clone()),
        Some(resolved.app_id.clone()),
        Some(resolved.app_name.clone()),
    );
    (d.repo, d.git_ref, d.sha) = (
        Some(resolved.repo.to_string()),
        Some(resolved.git_ref),
        Some(sha),
    );
    d.github_deployment_id = Some(deployment_id as i64);
    let source = (&resolved.repo, notes.short.as_str());
    d.build_id = Some(create_build(app, d, tokens, source, &echo).await?);
    d.two_factor_code = None;
    github_status(
        app,
        d,
        tokens,
        DeploymentState::InProgress,
        "Building on Heroku",
    )
    .await?;
    enter(d, DeployState::Building, now);
    let mut posts = messages::opening(d, notes.post(), now);
    posts.extend(queue::turn_came(d).map(|post| (MessageKind::Reply, post)));
    Ok(Outcome {
        posts,
        ..Outcome::default()
    })
}

/// What deploy `d` asks for, as the gate reads it.
pub(super) fn request(d: &DeployRow) -> gate::Request<'_> {
    gate::Request {
        command: "deploy",
        preposition: "to",
        team_id: &d.team_id,
        pipeline: &d.pipeline,
        branch: d.branch.as_deref(),
        stage: d.stage.as_deref(),
        app: d.app_name.as_deref(),
        forced: d.forced,
    }
}

/// Takes the deploy lock of `(app id, app name)` for `d`, or explains who holds it.
pub(super) async fn take_lock(
    app: &BotState,
    d: &DeployRow,
    (app_id, app_name): (&str, &str),
    sha: &str,
    now: i64,
) -> Result<(), StepError> {
    let wanted = AppLock {
        app_id: app_id.to_owned(),
        deploy_id: d.id,
        app_name: app_name.to_owned(),
        user_id: d.user_id.clone(),
        sha: sha.to_owned(),
        since: now,
    };
    let holder = app.store.take_app_lock(&wanted).await?;
    if holder.deploy_id == d.id {
        return Ok(());
    }
    Err(StepError::Refused(deploying(&holder)))
}

/// `<@U0BRUNO> is deploying paipu-app-staging (since 14:02 UTC, sha 576d16a9). ...`;
/// a queued deploy that just took its turn has no sha yet.
pub(super) fn deploying(holder: &AppLock) -> String {
    let sha = match holder.sha.as_str() {
        "" => "starting".to_owned(),
        sha => format!("sha {}", crate::chat::short_sha(sha)),
    };
    format!(
        "<@{}> is deploying {} (since {} UTC, {sha}). Try again when it is done.",
        holder.user_id,
        crate::chat::escape(&holder.app_name),
        crate::chat::clock_time(holder.since),
    )
}

/// The GitHub deployment of this deploy (or promotion): the one an interrupted run
/// created, or a new one, described by its release `notes`.
pub(super) async fn github_deployment(
    app: &BotState,
    d: &DeployRow,
    tokens: &Tokens<'_>,
    resolved: &gate::Resolved,
    notes: &Notes,
) -> Result<(u64, String), StepError> {
    // Other deploys of the repository may have pushed this one's far down the list,
    // but none can be older than the deploy itself.
    let search = DeploymentSearch {
        environment: &resolved.stage,
        task: d.kind.as_str(),
        since: d.created_at - GITHUB_CLOCK_SKEW_MS,
    };
    let key = deploy_key(d);
    let earlier = app
        .github
        .find_deployment(tokens.github, &resolved.repo, search, |dep| {
            dep.payload["chatops_deploy"] == key
        })
        .await
        .map_err(|e| StepError::from_github("list deployments", e))?;
    if let Some(found) = earlier {
        return Ok((found.id, found.sha));
    }
    let forced = d.forced;
    let request = NewDeployment {
        git_ref: resolved.sha.clone(),
        task: d.kind.as_str().into(),
        auto_merge: false,
        required_contexts: if forced {
            Vec::new()
        } else {
            resolved.required_contexts.clone()
        },
        environment: resolved.stage.clone(),
        description: capped(
            &format!(
                "{} from Slack by chatops to {}: {}",
                if d.kind == DeployKind::Promote {
                    "Promoted"
                } else {
                    "Deployed"
                },
                resolved.app_name,
                notes.short
            ),
            SHORT_CHARS,
        ),
        payload: json!({"chatops_deploy": deploy_key(d), "chatops_deploy_id": d.id, "app": resolved.app_name, "forced": forced, "release_notes": notes.payload}),
        transient_environment: false,
        production_environment: resolved.stage == "production",
    };
    match app
        .github
        .create_deployment(tokens.github, &resolved.repo, &request)
        .await
    {
        Ok(DeploymentOutcome::Created(deployment)) => Ok((deployment.id, deployment.sha)),
        Ok(DeploymentOutcome::ChecksFailed { contexts, .. }) => {
            let missing: Vec<_> = resolved
                .required_contexts
                .iter()
                .filter(|required| {
                    !contexts
                        .iter()
                        .any(|c| &c.context == *required && c.state == "success")
                })
                .map(String::as_str)
                .collect();
            Err(StepError::refused(format!(
                "GitHub refused the deployment: required checks are not green ({}). Go ahead anyway with `/h {}!`.",
                crate::chat::escape(&missing.join(", ")),
                d.kind.as_str()
            )))
        }
        Ok(
            DeploymentOutcome::AutoMerged { message }
            | DeploymentOutcome::MergeConflict { message },
        ) => Err(StepError::refused(format!(
            "GitHub did not create a deployment: {}",
            crate::chat::escape(&message)
        ))),
        Err(error) => Err(StepError::from_github("create the deployment", error)),
    }
}

/// Marks a build as this deploy's, so a repeated step recognises it.
fn build_marker(d: &DeployRow) -> String {
    format!("[{}.{}] chatops deploy #{}", d.team_id, d.created_at, d.id)
}

/// Names this deploy uniquely among every chatops install that deploys the same app
/// or repository: team, row id and creation time.
fn deploy_key(d: &DeployRow) -> String {
    format!("{}.{}.{}", d.team_id, d.id, d.created_at)
}

/// The build of this deploy: found by its marker, or created from the commit's
/// tarball of `repo`, its source described with the short release `notes` (a build
/// has no description of its own; its source's is what the dashboard shows).
async fn create_build(
    app: &BotState,
    d: &DeployRow,
    tokens: &Tokens<'_>,
    (repo, notes): (&RepoName, &str),
    echo: &str,
) -> Result<String, StepError> {
    let app_name = d.app_name.as_deref().unwrap_or_default();
    let sha = d.sha.clone().unwrap_or_default();
    let builds = app
        .heroku
        .builds(tokens.heroku, app_name)
        .await
        .map_err(|e| StepError::from_heroku("list builds", e))?;
    let marker = build_marker(d);
    if let Some(build) = builds.iter().find(|b| {
        b.source_blob
            .version_description
            .as_deref()
            .is_some_and(|v| v.ends_with(&marker))
    }) {
        return Ok(build.id.clone());
    }
    let url = app
        .github
        .tarball_url(tokens.github, repo, &sha)
        .await
        .map_err(|e| StepError::from_github("link the source tarball", e))?;
    let source = NewSourceBlob {
        url,
        version: sha.clone(),
        version_description: Some(format!(
            "{repo}@{}: {notes} {marker}",
            crate::chat::short_sha(&sha)
        )),
    };
    let code = two_factor_code(app, d);
    match app
        .heroku
        .create_build(
            tokens.heroku,
            app_name,
            &source,
            code.as_ref().map(|c| c.expose_secret()),
        )
        .await
    {
        Ok(build) => Ok(build.id),
        Err(error) if error.is_two_factor() => Err(two_factor_refusal(
            app_name,
            code.is_some(),
            &format!("/h deploy {echo}"),
        )),
        Err(error) => Err(StepError::from_heroku("create the build", error)),
    }
}

pub(super) fn two_factor_code(app: &BotState, d: &DeployRow) -> Option<SecretString> {
    let sealed = d.two_factor_code.as_deref()?;
    app.vault
        .open(sealed, &two_factor_context(d))
        .ok()
        .map(|opened| opened.secret)
}

/// Why Heroku refused a write to a 2FA-protected app, and the command to retry with.
pub(super) fn two_factor_refusal(apps: &str, code_given: bool, retry: &str) -> StepError {
    let rejected = if code_given {
        " and the code you gave was not accepted"
    } else {
        ""
    };
    StepError::refused(format!(
        "{apps} is protected by two-factor authentication{rejected}. Add a current code from your \
         authenticator app at the end of the command: `{retry} 123456`."
    ))
}

/// What binds a sealed 2FA code to its deploy.
pub fn two_factor_context(d: &DeployRow) -> String {
    format!(
        "two_factor_code:{}:{}:{}",
        d.team_id, d.user_id, d.created_at
    )
}
