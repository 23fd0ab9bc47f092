//! `/h doctor [<pipeline>]`: checks what a deploy needs and says, line by line, `ok`
//! or what to fix: the person's Heroku and GitHub links (token works, GitHub scopes,
//! rate-limit headroom), and for a pipeline: that they can see it and its apps, its
//! repository mapping, branch protection, our webhook on every app, and its
//! notification channel. It only reads; it never fixes anything itself.

use secrecy::SecretString;

use crate::accounts::{LinkError, Linked};
use crate::bot::{Bot, BotState};
use crate::chat::Invocation;
use crate::chat::Reply;
use crate::chat::escape;
use crate::github::RepoName;
use crate::resolver::{Asking, Layout, Resolver};

/// The GitHub scopes deploys cannot do without: reading private repositories and
/// creating deployments (the login itself needs none).
const NEEDED_GITHUB_SCOPES: [&str; 1] = ["repo"];

/// Below this many requests left, the budget is reported as something to fix.
pub const LOW_RATE_LIMIT: u32 = 500;

/// One check's verdict.
fn ok(text: impl std::fmt::Display) -> String {
    format!("• ok: {text}")
}

fn fix(text: impl std::fmt::Display) -> String {
    format!("• fix: {text}")
}

/// Answers `/h doctor [<pipeline>]`.
pub async fn doctor(state: &BotState, invocation: &Invocation, pipeline: Option<&str>) -> Reply {
    let linked =
        match crate::accounts::linked(state, &invocation.team_id, &invocation.user_id).await {
            Ok(linked) => linked,
            Err(LinkError::NotLinked(not_linked)) => {
                let mut lines = vec!["Checks for your setup:".to_owned()];
                lines.extend(not_linked.missing.iter().map(|(provider, _)| {
                    fix(format!(
                        "your {provider} account is not linked: run `/h login`."
                    ))
                }));
                return Reply::ephemeral(lines.join("\n"));
            }
            Err(error) => return error.reply(state, invocation).await,
        };
    let mut lines = vec!["Checks for your setup:".to_owned()];
    lines.push(heroku_check(state, &linked).await);
    lines.push(github_check(state, &linked.github_token).await);
    if let Some(pipeline) = pipeline {
        lines.extend(pipeline_checks(state, invocation, &linked, pipeline).await);
    }
    Reply::ephemeral(lines.join("\n"))
}

async fn heroku_check(app: &Bot, linked: &Linked) -> String {
    match app.heroku.rate_limits(&linked.heroku_token).await {
        Ok(limit) if limit.remaining < LOW_RATE_LIMIT => fix(format!(
            "Heroku account {}: only {} API requests left (RateLimit-Remaining); deploys may stall until it refills.",
            escape(&linked.heroku_email),
            limit.remaining
        )),
        Ok(limit) => ok(format!(
            "Heroku account {}, token works; {} API requests left.",
            escape(&linked.heroku_email),
            limit.remaining
        )),
        Err(error) if error.is_unauthorized() => {
            fix("Heroku no longer accepts your token: run `/h login`.")
        }
        Err(error) => fix(format!(
            "Heroku did not answer ({}); try again in a minute.",
            escape(&error.to_string())
        )),
    }
}

async fn github_check(app: &Bot, token: &SecretString) -> String {
    let check = match app.github.token_check(token).await {
        Ok(check) => check,
        Err(error) if error.is_unauthorized() => {
            return fix("GitHub no longer accepts your token: run `/h login`.");
        }
        Err(error) => {
            return fix(format!(
                "GitHub did not answer ({}); try again in a minute.",
                escape(&error.to_string())
            ));
        }
    };
    let login = escape(&check.user.login);
    if let Some(scopes) = &check.scopes {
        let missing: Vec<&str> = NEEDED_GITHUB_SCOPES
            .into_iter()
            .filter(|wanted| !scopes.iter().any(|scope| scope == wanted))
            .collect();
        if !missing.is_empty() {
            return fix(format!(
                "GitHub account {login} lacks the {} scope (it has: {}): run `/h logout`, then `/h login`.",
                missing.join(", "),
                escape(&scopes.join(", "))
            ));
        }
    }
    match check.rate_remaining {
        Some(left) if left < LOW_RATE_LIMIT => fix(format!(
            "GitHub account {login}: only {left} API requests left this hour (X-RateLimit-Remaining)."
        )),
        Some(left) => ok(format!(
            "GitHub account {login}, token works; {left} API requests left this hour."
        )),
        None => ok(format!("GitHub account {login}, token works.")),
    }
}

async fn pipeline_checks(
    app: &Bot,
    invocation: &Invocation,
    linked: &Linked,
    pipeline: &str,
) -> Vec<String> {
    let resolver = Resolver {
        heroku: &app.heroku,
        token: &linked.heroku_token,
        asking: Asking {
            command: "doctor",
            preposition: "in",
        },
    };
    let layout = match resolver.layout(pipeline).await {
        Ok(layout) if layout.stages.is_empty() => {
            return vec![fix(format!(
                "`{pipeline}` has no apps: add some on Heroku."
            ))];
        }
        Ok(layout) => layout,
        Err(problem) => return vec![fix(problem)],
    };
    let mut lines = vec![ok(format!(
        "you can see `{pipeline}`: {}.",
        layout.summary()
    ))];
    lines.extend(repo_checks(app, invocation, &linked.github_token, pipeline).await);
    lines.push(webhook_check(app, &linked.heroku_token, &layout).await);
    lines.push(route_check(app, invocation, pipeline).await);
    lines
}

/// The repository mapping, the person's access, and the default branch's protection.
async fn repo_checks(
    app: &Bot,
    invocation: &Invocation,
    token: &SecretString,
    pipeline: &str,
) -> Vec<String> {
    let connect = format!("`/h connect {pipeline} to <owner>/<repo>`");
    let repo = match app.store.pipeline_repo(&invocation.team_id, pipeline).await {
        Ok(Some(repo)) => repo,
        Ok(None) => {
            return vec![fix(format!(
                "`{pipeline}` is not connected to a GitHub repository: {connect}."
            ))];
        }
        Err(_) => return vec![fix("the database did not answer; try again in a minute.")],
    };
    let Ok(name) = repo.parse::<RepoName>() else {
        return vec![fix(format!(
            "`{repo}` is not a repository name: {connect}."
        ))];
    };
    let found = match app.github.repo(token, &name).await {
        Ok(found) => found,
        Err(error) if error.is_not_found() => {
            return vec![fix(format!(
                "GitHub says {repo} does not exist or you can't see it: ask for access, or {connect}."
            ))];
        }
        Err(error) => {
            return vec![fix(format!(
                "GitHub did not answer about {repo} ({}).",
                escape(&error.to_string())
            ))];
        }
    };
    let push = found.permissions.is_some_and(|p| p.push);
    let default_branch = escape(&found.default_branch);
    let mut lines = vec![if push {
        ok(format!(
            "`{pipeline}` builds from {repo} (default branch {default_branch}), which you can push to."
        ))
    } else {
        fix(format!(
            "`{pipeline}` builds from {repo}, but you can't push to it, so GitHub will refuse your deployments: ask for write access."
        ))
    }];
    lines.push(match app.github.branch(token, &name, &found.default_branch).await {
        Ok(branch) if branch.required_contexts().is_empty() => fix(format!(
            "{default_branch} requires no status checks, so deploys are not gated by CI: protect it on GitHub and require your CI's check."
        )),
        Ok(branch) => ok(format!(
            "{default_branch} is protected; deploys wait for {}.",
            escape(&branch.required_contexts().join(", "))
        )),
        Err(error) => fix(format!(
            "GitHub did not answer about {default_branch} ({}).",
            escape(&error.to_string())
        )),
    });
    lines
}

/// Whether every app delivers release events to us.
async fn webhook_check(app: &Bot, token: &SecretString, layout: &Layout) -> String {
    let url = format!("{}{}", app.config.base_url, crate::webhooks::WEBHOOK_PATH);
    let mut missing = Vec::new();
    for found in layout.stages.iter().flat_map(|stage| &stage.apps) {
        let subscribed = match app.heroku.webhooks(token, &found.name).await {
            Ok(hooks) => hooks
                .iter()
                .any(|hook| hook.url == url && hook.include.iter().any(|i| i == "api:release")),
            Err(_) => false,
        };
        if !subscribed {
            missing.push(found.name.as_str());
        }
    }
    if missing.is_empty() {
        return ok("every app sends its releases to chatops (app webhooks).");
    }
    fix(format!(
        "no chatops webhook on {}: releases there are seen by polling only, minutes late. \
         Routing the pipeline (`/h route {} to #<channel>`) subscribes them; apps protected \
         by 2FA are subscribed by a deploy with a code.",
        missing.join(", "),
        layout.pipeline.name
    ))
}

async fn route_check(app: &Bot, invocation: &Invocation, pipeline: &str) -> String {
    match app.store.route(&invocation.team_id, pipeline).await {
        Ok(Some(route)) => ok(format!("notifications go to {}.", route.label)),
        Ok(None) => fix(format!(
            "no notification channel: releases made outside Slack are not announced. `/h route {pipeline} to #<channel>`."
        )),
        Err(_) => fix("the database did not answer; try again in a minute."),
    }
}
