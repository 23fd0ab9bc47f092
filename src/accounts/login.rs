//! `/h login`, `/h logout` and `/h whoami`: what a person is linked to, a button to
//! link what is missing, and forgetting (and revoking, see [`revoke`]) their tokens.
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
use super::{Provider, forget, revoke};
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

/// `/h logout`: forgets the tokens whatever the providers answer, so a provider that
/// is down cannot keep a person linked; what it could not revoke is said, with where
/// to do it by hand.
pub async fn logout(state: &BotState, invocation: &Invocation) -> Reply {
    let (team, user) = (&invocation.team_id, &invocation.user_id);
    let opened = match opened(state, invocation).await {
        Ok(opened) => opened,
        Err(reply) => return reply,
    };
    let mut forgotten = Vec::new();
    let mut revocations = Vec::new();
    if let Some(heroku) = &opened.heroku {
        forgotten.push(format!("your Heroku account ({})", escape(&heroku.email)));
        revocations.push((
            Provider::Heroku,
            revoke_heroku(state, team, user, heroku).await,
        ));
    }
    if let Some(github) = &opened.github {
        forgotten.push(format!("your GitHub account ({})", escape(&github.login)));
        revocations.push((Provider::GitHub, revoke::github(state, &github.token).await));
    }
    if let Err(error) = state.store.forget_account(team, user).await {
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
    tracing::info!(team = %team, user = %user, "logged out");
    Reply::ephemeral(format!(
        "I forgot {}{}. `/h login` connects them again.",
        forgotten.join(" and "),
        revocation_text(&revocations)
    ))
}

/// What a grant is called at each provider.
fn grant(provider: Provider) -> &'static str {
    match provider {
        Provider::Heroku => "Heroku authorization",
        Provider::GitHub => "GitHub token",
    }
}

/// ", and revoked the Heroku authorization and the GitHub token", then a "; ..." for
/// each one the provider did not confirm.
fn revocation_text(revocations: &[(Provider, bool)]) -> String {
    let revoked: Vec<String> = revocations
        .iter()
        .filter(|(_, revoked)| *revoked)
        .map(|(provider, _)| format!("the {}", grant(*provider)))
        .collect();
    let mut text = String::new();
    if !revoked.is_empty() {
        text.push_str(&format!(", and revoked {}", revoked.join(" and ")));
    }
    for (provider, _) in revocations.iter().filter(|(_, revoked)| !*revoked) {
        let (what, page) = match provider {
            Provider::Heroku => ("authorization", revoke::HEROKU_APPLICATIONS),
            Provider::GitHub => ("token", revoke::GITHUB_APPLICATIONS),
        };
        text.push_str(&format!(
            "; {provider} did not confirm revoking the {what}, so revoke it at {page}"
        ));
    }
    text
}

/// Revokes the Heroku authorization with a token good enough to ask: a refresh Heroku
/// refuses means the authorization is already gone.
async fn revoke_heroku(state: &BotState, team: &str, user: &str, heroku: &HerokuTokens) -> bool {
    match fresh_heroku_token(state, team, user, heroku).await {
        Ok(access) => revoke::heroku(state, &access, &heroku.refresh).await,
        Err(RefreshError::Refused) => true,
        Err(error) => {
            tracing::warn!(%error, "no Heroku token to revoke the authorization with");
            false
        }
    }
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
