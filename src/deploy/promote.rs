//! A promotion's first steps, both while `requested`. Planning resolves the pipeline,
//! the source app's current release and its commit, gates that commit, and saves the
//! target apps with the version each runs (and the first one's commit, for the release
//! notes), without creating anything. Launching then tells the release notes, records
//! the GitHub deployment and creates the Heroku promotion, unless an interrupted
//! launch already did: its releases on the targets are found by their description
//! (`Promote <source> v<N>`) and a version newer than the planned one. They appear a
//! little after the promotion is created and Heroku lists no promotions, so the time
//! of each request is saved before it is sent, and a launch that finds no release
//! within a minute of a request waits for them.

use super::gate::{self, Tokens};
use super::messages::{self, Chapter};
use super::notes;
use super::start::{github_deployment, two_factor_code, two_factor_refusal};
use super::steps::{Outcome, enter, github_status, refuse_if_locked, wait};
use super::{StepError, confirm};
use crate::bot::BotState;
use crate::github::{DeploymentState, RepoName};
use crate::heroku::{self, NewPromotion, Release, Stage};
use crate::resolver::{Asking, Seen};
use crate::store::{DeployRow, DeployState, DeployTarget, MessageKind};
use secrecy::ExposeSecret;

/// Releases read to find an app's current one (a pending release can be newer).
const RECENT_RELEASES: usize = 20;
/// How long after asking Heroku for a promotion its releases may take to show. A
/// launch interrupted after asking (a crash, an answer lost on the way) finds none at
/// first; asking again within this time could promote twice, so it waits.
const PROMOTION_SHOWS_WITHIN_MS: i64 = 60_000;

/// requested -> requested (planned) -> releasing.
pub(super) async fn start(
    app: &BotState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    now: i64,
) -> Result<Outcome, StepError> {
    let targets = app.store.deploy_targets(d.id).await?;
    if targets.is_empty() {
        plan(app, d, tokens, now).await
    } else {
        launch(app, d, tokens, targets, now).await
    }
}

fn request(d: &DeployRow) -> gate::Request<'_> {
    gate::Request {
        command: "promote",
        preposition: "to",
        team_id: &d.team_id,
        pipeline: &d.pipeline,
        branch: None,
        stage: d.stage.as_deref(),
        app: d.app_name.as_deref(),
        forced: d.forced,
    }
}

/// Resolves and gates the promotion and saves its targets; asks first for production.
async fn plan(
    app: &BotState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    now: i64,
) -> Result<Outcome, StepError> {
    let asking = request(d).asking();
    let resolver = gate::resolver(app, tokens, asking);
    let seen = resolver.pipeline(&d.pipeline).await?;
    let target_stage = seen.stage(Some(d.stage.as_deref().unwrap_or("production")))?;
    let source_stage = upstream(d, &seen, target_stage)?;
    let from = Asking {
        preposition: "from",
        ..asking
    };
    let source = (resolver.stage_apps(&seen, source_stage).await?)
        .one(&seen.pipeline.name, d.source_app.as_deref(), from)?
        .clone();
    let targets: Vec<heroku::App> = (resolver.stage_apps(&seen, target_stage).await?)
        .named(&seen.pipeline.name, d.app_name.as_deref())?
        .into_iter()
        .cloned()
        .collect();
    for target in &targets {
        refuse_if_locked(app, d, target_stage.as_str(), &target.name, now).await?;
    }
    let (source_id, source_name) = (source.id, source.name);
    let (version, sha) =
        source_release(app, tokens, &d.pipeline, source_stage, &source_name).await?;
    let repo = gate::connected_repo(app, request(d)).await?;
    if !d.forced {
        let (_, _, required) = gate::branch_head(app, request(d), tokens, &repo).await?;
        let at = format!(
            "{repo}@{} ({source_name} v{version})",
            crate::chat::short_sha(&sha)
        );
        let hint = format!("/h promote! {}", echo(d));
        gate::ci_gate(app, tokens, &repo, &sha, &required, &at, &hint).await?;
    }
    (d.stage, d.source_stage) = (
        Some(target_stage.as_str().into()),
        Some(source_stage.as_str().into()),
    );
    (d.app_id, d.source_app, d.source_version) =
        (Some(source_id), Some(source_name), Some(version));
    (d.repo, d.sha) = (Some(repo.to_string()), Some(sha.clone()));
    let mut planned = Vec::new();
    for target in targets {
        let previous = current_release(app, tokens, &target.name).await?;
        if planned.is_empty() {
            // What the first target runs is what the release notes compare with.
            d.replaced_sha = match &previous {
                Some(release) => slug_commit(app, tokens, &target.name, release).await?,
                None => None,
            };
            d.replaced_version = Some(previous.as_ref().map_or(0, |r| r.version as i64));
        }
        planned.push(DeployTarget {
            deploy_id: d.id,
            app_id: target.id,
            app_name: target.name,
            state: DeployState::Requested,
            previous_version: previous.map_or(0, |release| release.version as i64),
            release_id: None,
            failure: None,
        });
    }
    if confirm::needed(app, d, target_stage.as_str()) {
        let change = confirm::Change {
            repo: &repo,
            running: d.replaced_sha.as_deref(),
            shipping: &sha,
        };
        let summary = confirm::changes(app, tokens, &change).await?;
        return Ok(confirm::ask(d, &summary, now));
    }
    d.next_check_at = now;
    Ok(Outcome {
        targets: planned,
        ..Outcome::default()
    })
}

/// The stage asked for as the source, or the nearest one upstream of the target
/// that has apps.
fn upstream(d: &DeployRow, seen: &Seen, target: Stage) -> Result<Stage, StepError> {
    if let Some(asked) = d.source_stage.as_deref() {
        let stage = seen.stage(Some(asked))?;
        if stage == target {
            return Err(StepError::refused(format!(
                "A promotion copies one stage to another: {asked} to {asked} does nothing. \
                 Promote to the next stage, e.g. `/h promote {} from {asked} to production`.",
                d.pipeline
            )));
        }
        return Ok(stage);
    }
    // `target` is one of `stages` (it was resolved from them), which are in pipeline order.
    seen.stages()
        .into_iter()
        .take_while(|stage| *stage != target)
        .last()
        .ok_or_else(|| {
            StepError::refused(format!(
                "`{}` has no stage with apps upstream of {} to promote from. {}",
                d.pipeline,
                target.as_str(),
                seen.stage_list()
            ))
        })
}

/// The version and commit of the release `source` runs now.
async fn source_release(
    app: &BotState,
    tokens: &Tokens<'_>,
    pipeline: &str,
    stage: Stage,
    source: &str,
) -> Result<(i64, String), StepError> {
    let nothing = || {
        StepError::refused(format!(
            "{source} has no release to promote yet. Deploy to it first: `/h deploy {pipeline} to {}/{source}`.",
            stage.as_str()
        ))
    };
    let release = current_release(app, tokens, source)
        .await?
        .ok_or_else(nothing)?;
    let sha = slug_commit(app, tokens, source, &release)
        .await?
        .ok_or_else(nothing)?;
    Ok((release.version as i64, sha))
}

/// The release `app_name` runs now, if any.
pub(super) async fn current_release(
    app: &BotState,
    tokens: &Tokens<'_>,
    app_name: &str,
) -> Result<Option<Release>, StepError> {
    let releases = app
        .heroku
        .releases(tokens.heroku, app_name, RECENT_RELEASES)
        .await
        .map_err(|e| StepError::from_heroku("list releases", e))?;
    Ok(releases.into_iter().find(|release| release.current))
}

/// The commit a release's slug was built from, when it says.
pub(super) async fn slug_commit(
    app: &BotState,
    tokens: &Tokens<'_>,
    app_name: &str,
    release: &Release,
) -> Result<Option<String>, StepError> {
    let Some(slug) = &release.slug else {
        return Ok(None);
    };
    let slug = app
        .heroku
        .slug(tokens.heroku, app_name, &slug.id)
        .await
        .map_err(|e| StepError::from_heroku("read the slug", e))?;
    Ok(slug.commit)
}

/// The commit `app_name` runs now, if it can be told.
pub(super) async fn current_commit(
    app: &BotState,
    tokens: &Tokens<'_>,
    app_name: &str,
) -> Result<Option<String>, StepError> {
    match current_release(app, tokens, app_name).await? {
        Some(release) => slug_commit(app, tokens, app_name, &release).await,
        None => Ok(None),
    }
}

/// Records the GitHub deployment, creates the promotion (or finds the one an
/// interrupted launch created), then tells the channel.
async fn launch(
    app: &BotState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    mut targets: Vec<DeployTarget>,
    now: i64,
) -> Result<Outcome, StepError> {
    let repo: RepoName = d
        .repo
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(StepError::refused)?;
    let shipped = gate::Resolved {
        stage: d.stage.clone().unwrap_or_default(),
        app_id: d.app_id.clone().unwrap_or_default(),
        app_name: target_names(&targets),
        repo,
        git_ref: d.source_app.clone().unwrap_or_default(),
        sha: d.sha.clone().unwrap_or_default(),
        required_contexts: Vec::new(),
    };
    let first = targets.first().map_or("", |t| t.app_name.as_str());
    // Planned before release notes were: what the first target runs is read now.
    notes::record_base(app, d, tokens, first).await?;
    let notes = notes::ships(app, tokens, d, &shipped.repo, first, &shipped.sha).await;
    let (deployment_id, _) = github_deployment(app, d, tokens, &shipped, &notes).await?;
    d.github_deployment_id = Some(deployment_id as i64);
    let mut found_any = false;
    for target in &mut targets {
        target.release_id = promoted_release(app, d, tokens, target).await?;
        found_any |= target.release_id.is_some();
    }
    if !found_any {
        let asked_recently = d
            .promotion_requested_at
            .is_some_and(|at| now - at < PROMOTION_SHOWS_WITHIN_MS);
        if asked_recently {
            return wait(app, d, now, "the promotion Heroku was asked for");
        }
        // Written before asking, so whoever runs this step next knows it may exist.
        app.store.promotion_requested(d.id, now).await?;
        d.promotion_requested_at = Some(now);
        d.promotion_id = Some(create(app, d, tokens, &targets).await?);
    }
    d.two_factor_code = None;
    github_status(
        app,
        d,
        tokens,
        DeploymentState::InProgress,
        "Promoting on Heroku",
    )
    .await?;
    enter(d, DeployState::Releasing, now);
    let mut posts = messages::opening(d, notes.post(), now);
    for target in &mut targets {
        target.state = DeployState::Releasing;
        let told = messages::app_reply(d, &target.app_name, Chapter::Releasing, now);
        posts.push((MessageKind::Reply, told));
    }
    Ok(Outcome {
        posts,
        targets,
        ..Outcome::default()
    })
}

/// `atlas-eu, atlas-us`.
fn target_names(targets: &[DeployTarget]) -> String {
    let names: Vec<_> = targets.iter().map(|t| t.app_name.as_str()).collect();
    names.join(", ")
}

/// The release this promotion made on `target`, when it exists: newer than what the
/// target ran when planned, and described as this promotion's.
pub(super) async fn promoted_release(
    app: &BotState,
    d: &DeployRow,
    tokens: &Tokens<'_>,
    target: &DeployTarget,
) -> Result<Option<String>, StepError> {
    let releases = app
        .heroku
        .releases(tokens.heroku, &target.app_name, RECENT_RELEASES)
        .await
        .map_err(|e| StepError::from_heroku("list releases", e))?;
    let description = format!(
        "Promote {} v{} ",
        d.source_app.as_deref().unwrap_or_default(),
        d.source_version.unwrap_or_default()
    );
    Ok(releases
        .into_iter()
        .find(|r| {
            r.version as i64 > target.previous_version && r.description.starts_with(&description)
        })
        .map(|release| release.id))
}

/// `POST /pipeline-promotions` from the source app to every target.
async fn create(
    app: &BotState,
    d: &DeployRow,
    tokens: &Tokens<'_>,
    targets: &[DeployTarget],
) -> Result<String, StepError> {
    let asking = request(d).asking();
    let resolver = gate::resolver(app, tokens, asking);
    let pipeline_id = resolver.find_pipeline(&d.pipeline).await?.id;
    let promotion = NewPromotion {
        pipeline_id,
        source_app_id: d.app_id.clone().unwrap_or_default(),
        target_app_ids: targets.iter().map(|t| t.app_id.clone()).collect(),
    };
    let code = two_factor_code(app, d);
    match app
        .heroku
        .create_promotion(
            tokens.heroku,
            &promotion,
            code.as_ref().map(|c| c.expose_secret()),
        )
        .await
    {
        Ok(created) => Ok(created.id),
        Err(error) if error.is_two_factor() => Err(two_factor_refusal(
            &target_names(targets),
            code.is_some(),
            &format!("/h promote {}", echo(d)),
        )),
        Err(error) => Err(StepError::from_heroku("create the promotion", error)),
    }
}

/// The promotion as the user would type it again, e.g. `atlas from staging to production`.
fn echo(d: &DeployRow) -> String {
    let mut echo = d.pipeline.clone();
    if let Some(stage) = &d.source_stage {
        echo.push_str(&format!(" from {stage}"));
    }
    if let Some(stage) = &d.stage {
        echo.push_str(&format!(" to {stage}"));
        if let Some(app) = &d.app_name {
            echo.push_str(&format!("/{app}"));
        }
    }
    echo
}
