//! `/h login`, `/h logout` and `/h whoami`: what a person is linked to, a button to
//! link what is missing, and forgetting (and revoking) their tokens.
//!
//! `login` answers from the store alone (fast, inside Slack's 3 s). `whoami` asks
//! Heroku and GitHub who the tokens belong to, within [`CHECK_BUDGET`]: a token they
//! refuse (revoked) is forgotten on the spot and the person told to link again.

use std::time::Duration;

use super::connect;
use super::states::Origin;
use super::tokens::{
    GitHubTokens, HerokuTokens, OpenedAccount, RefreshError, fresh_heroku_token, open_account,
};
use super::{Provider, forget};
use crate::bot::BotState;
use crate::chat::Invocation;
use crate::chat::Reply;
use crate::chat::escape;

/// How long `whoami` waits for Heroku and GitHub before answering with what it knew.
pub const CHECK_BUDGET: Duration = Duration::from_millis(2000);

/// What `whoami` learnt about one account.
enum Check {
    Confirmed(String),
    /// The provider did not answer in time; the stored identity is shown.
    Unchecked(String),
    /// The provider refused the token: the link was forgotten.
    StoppedWorking,
    NotConnected,
}

/// `/h login`
pub async fn login(state: &BotState, invocation: &Invocation) -> Reply {
    let opened = match opened(state, invocation).await {
        Ok(opened) => opened,
        Err(reply) => return reply,
    };
    let lines = vec![
        opened
            .heroku
            .as_ref()
            .map_or("Heroku: not connected yet.".to_owned(), |h| {
                you_are(&h.email, Provider::Heroku)
            }),
        opened
            .github
            .as_ref()
            .map_or("GitHub: not connected yet.".to_owned(), |g| {
                you_are(&g.login, Provider::GitHub)
            }),
    ];
    let missing: Vec<Provider> = [
        (Provider::Heroku, opened.heroku.is_none()),
        (Provider::GitHub, opened.github.is_none()),
    ]
    .into_iter()
    .filter_map(|(provider, missing)| missing.then_some(provider))
    .collect();
    if missing.is_empty() {
        return Reply::ephemeral(format!(
            "{}\nNothing to connect. `/h logout` forgets both.",
            lines.join("\n")
        ));
    }
    connect::prompt(state, &Origin::of(invocation, None), &missing, &lines).await
}

/// `/h whoami`
pub async fn whoami(state: &BotState, invocation: &Invocation) -> Reply {
    let opened = match opened(state, invocation).await {
        Ok(opened) => opened,
        Err(reply) => return reply,
    };
    let (team, user) = (&invocation.team_id, &invocation.user_id);
    let (heroku, github) = tokio::join!(
        check_heroku(state, team, user, opened.heroku),
        check_github(state, team, user, opened.github),
    );
    let line = |check: Check, provider: Provider| match check {
        Check::Confirmed(name) => you_are(&name, provider),
        Check::Unchecked(name) => format!(
            "You're {} on {provider} ({provider} did not answer, so this is what I knew last).",
            escape(&name)
        ),
        Check::StoppedWorking => format!(
            "Your {provider} sign-in stopped working (revoked or expired), so I forgot it: \
             run `/h login` to connect {provider} again."
        ),
        Check::NotConnected => {
            format!("You're not connected to {provider}: run `/h login` to connect it.")
        }
    };
    Reply::ephemeral(format!(
        "{}\n{}",
        line(heroku, Provider::Heroku),
        line(github, Provider::GitHub)
    ))
}

/// `/h logout`
pub async fn logout(state: &BotState, invocation: &Invocation) -> Reply {
    let opened = match opened(state, invocation).await {
        Ok(opened) => opened,
        Err(reply) => return reply,
    };
    let mut forgotten = Vec::new();
    if let Some(heroku) = &opened.heroku {
        forgotten.push(format!("your Heroku account ({})", escape(&heroku.email)));
    }
    let revoked = match &opened.github {
        Some(github) => {
            forgotten.push(format!("your GitHub account ({})", escape(&github.login)));
            Some(revoke(state, github).await)
        }
        None => None,
    };
    if let Err(error) = state
        .store
        .forget_account(&invocation.team_id, &invocation.user_id)
        .await
    {
        tracing::error!(
            error = format!("{error:#}"),
            "cannot forget linked accounts"
        );
        return Reply::ephemeral(
            "I could not forget your accounts just now (the database did not answer). Try again in a minute.",
        );
    }
    if forgotten.is_empty() {
        return Reply::ephemeral("You had no linked accounts: nothing to forget.");
    }
    let revocation = match revoked {
        Some(true) => ", and revoked the GitHub token",
        Some(false) => {
            "; GitHub did not confirm revoking the token, so revoke it at \
             https://github.com/settings/applications"
        }
        None => "",
    };
    tracing::info!(team = %invocation.team_id, user = %invocation.user_id, "logged out");
    Reply::ephemeral(format!(
        "I forgot {}{revocation}. `/h login` connects them again.",
        forgotten.join(" and ")
    ))
}

/// `name` is the provider's: an email or login, escaped.
fn you_are(name: &str, provider: Provider) -> String {
    format!("You're {} on {provider}.", escape(name))
}

async fn opened(state: &BotState, invocation: &Invocation) -> Result<OpenedAccount, Reply> {
    open_account(state, &invocation.team_id, &invocation.user_id)
        .await
        .map_err(|error| {
            tracing::error!(error = format!("{error:#}"), "cannot read linked accounts");
            Reply::ephemeral(
                "I could not read your linked accounts just now (the database did not answer). \
                 Try again in a minute.",
            )
        })
}

/// Whether GitHub no longer accepts the token (revoked now, or already gone: 404).
async fn revoke(state: &BotState, github: &GitHubTokens) -> bool {
    match state.github_oauth.revoke(&github.token).await {
        Ok(()) => true,
        Err(error) if error.is_not_found() => true,
        Err(error) => {
            tracing::warn!(%error, "revoking a GitHub token failed");
            false
        }
    }
}

async fn check_heroku(
    state: &BotState,
    team: &str,
    user: &str,
    heroku: Option<HerokuTokens>,
) -> Check {
    let Some(heroku) = heroku else {
        return Check::NotConnected;
    };
    let checked = tokio::time::timeout(CHECK_BUDGET, async {
        let token = match fresh_heroku_token(state, team, user, &heroku).await {
            Ok(token) => token,
            Err(RefreshError::Refused) => return Some(Check::StoppedWorking),
            Err(_) => return None,
        };
        match state.heroku.account(&token).await {
            Ok(account) => Some(Check::Confirmed(account.email)),
            Err(error) if error.is_unauthorized() => {
                forgotten(forget(state, team, user, Provider::Heroku).await)
            }
            Err(_) => None,
        }
    });
    checked
        .await
        .ok()
        .flatten()
        .unwrap_or(Check::Unchecked(heroku.email))
}

async fn check_github(
    state: &BotState,
    team: &str,
    user: &str,
    github: Option<GitHubTokens>,
) -> Check {
    let Some(github) = github else {
        return Check::NotConnected;
    };
    let checked = tokio::time::timeout(CHECK_BUDGET, async {
        match state.github.user(&github.token).await {
            Ok(user) => Some(Check::Confirmed(user.login)),
            Err(error) if error.is_unauthorized() => {
                forgotten(forget(state, team, user, Provider::GitHub).await)
            }
            Err(_) => None,
        }
    });
    checked
        .await
        .ok()
        .flatten()
        .unwrap_or(Check::Unchecked(github.login))
}

/// `StoppedWorking` once the dead link is forgotten; unchecked if even that failed.
fn forgotten(result: anyhow::Result<()>) -> Option<Check> {
    match result {
        Ok(()) => Some(Check::StoppedWorking),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot forget a dead link");
            None
        }
    }
}
