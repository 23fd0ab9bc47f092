//! The bot's half of the seeded world, for `chatops-sandbox sandbox` and the tests: a linked
//! person (through the same store and vault as a real OAuth link) and the seeded
//! pipelines connected to their repositories, so the first deploy needs no setup.

use std::time::Duration;

use anyhow::Context;
use secrecy::SecretString;

use chatops::bot::Bot;
use chatops::heroku::OAuthTokens;
use chatops_fakes::Fakes;

/// The seeded pipelines and the repositories they build from.
pub const CONNECTED_PIPELINES: [(&str, &str); 2] =
    [("paipu", "heroku/paipu-repo"), ("atlas", "acme/atlas")];

/// How long the access token of a sandbox link lives: a working day, like Heroku's.
const TOKEN_LIFETIME: Duration = Duration::from_secs(8 * 3600);

/// Links Slack user `user` of `team` to the fakes' `email` (Heroku) and `login`
/// (GitHub) accounts, as finishing both OAuth flows would.
pub async fn link_user(
    app: &Bot,
    sandbox: &Fakes,
    team: &str,
    user: &str,
    email: &str,
    login: &str,
) -> anyhow::Result<()> {
    let heroku_token: SecretString = sandbox.heroku.token_for(email).into();
    let account = app
        .heroku
        .account(&heroku_token)
        .await
        .context("the fake Heroku does not know the token")?;
    let tokens = OAuthTokens {
        access_token: heroku_token,
        // The fakes' direct tokens cannot be refreshed; a sandbox outlives 8 hours rarely.
        refresh_token: "sandbox-no-refresh-token".to_owned().into(),
        expires_in: TOKEN_LIFETIME.as_secs(),
        user_id: account.id.clone(),
        token_type: "Bearer".into(),
    };
    chatops::accounts::save_heroku(app, team, user, &account.id, &account.email, &tokens).await?;
    let github_token: SecretString = sandbox.github.token_for(login).into();
    let github_user = app
        .github
        .user(&github_token)
        .await
        .context("the fake GitHub does not know the token")?;
    chatops::accounts::save_github(
        app,
        team,
        user,
        github_user.id,
        &github_user.login,
        &github_token,
    )
    .await
}

/// Connects the seeded pipelines of `team` to their repositories, as `user` would with
/// `/h connect`.
pub async fn connect_pipelines(app: &Bot, team: &str, user: &str) -> anyhow::Result<()> {
    for (pipeline, repo) in CONNECTED_PIPELINES {
        app.store
            .set_pipeline_repo(team, pipeline, repo, user, app.clock.now())
            .await?;
    }
    Ok(())
}
