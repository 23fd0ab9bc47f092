//! `/h logout` end to end, on every backend: the tokens are forgotten and revoked at
//! both providers (the fakes then refuse them), and a provider that is down does not
//! keep anyone linked: the answer says what to revoke by hand.

use crate::common;

use axum::http::Method;
use chatops::accounts;
use chatops_fakes::{Failure, FaultRule};
use common::accounts::*;
use common::walk::link_both;
use common::{TestApp, databases};
use secrecy::{ExposeSecret, SecretString};

const BOTH_REVOKED: &str = "I forgot your Heroku account (alice@example.com) and your GitHub \
     account (alice), and revoked the Heroku authorization and the GitHub token. \
     `/h login` connects them again.";

/// Alice's stored tokens: Heroku access, Heroku refresh, GitHub.
async fn alices_tokens(app: &TestApp) -> [SecretString; 3] {
    let column = |name| async move { SecretString::from(stored_token(app, name).await) };
    [
        column("heroku_access_token").await,
        column("heroku_refresh_token").await,
        column("github_token").await,
    ]
}

#[tokio::test]
async fn logout_forgets_the_tokens_and_revokes_them_at_heroku_and_github() {
    for db in databases().await {
        let app = TestApp::spawn(db).await;
        link_both(&app, ALICE, "alice@example.com", "alice").await;
        let [access, refresh, github] = alices_tokens(&app).await;
        let authorizations = app.sandbox.heroku.authorization_count("alice@example.com");
        assert_eq!(text(&app, ALICE, "logout").await, BOTH_REVOKED);
        assert_eq!(app.db.store.account(TEAM, "U0ALICE").await.unwrap(), None);

        // Heroku refuses the access token and the refresh token; GitHub the token.
        let account = app.state.heroku.account(&access).await.unwrap_err();
        assert!(account.is_unauthorized(), "{account}");
        let refreshed = app.state.heroku_oauth.refresh(&refresh).await.unwrap_err();
        assert_eq!(refreshed.status(), Some(401), "{refreshed}");
        assert_eq!(
            app.sandbox.heroku.authorization_count("alice@example.com"),
            authorizations - 1
        );
        let user = app.state.github.user(&github).await.unwrap_err();
        assert!(user.is_unauthorized());

        assert_eq!(
            text(&app, ALICE, "logout").await,
            "You had no linked accounts: nothing to forget."
        );
        assert_eq!(
            not_linked(accounts::linked(&app.state, TEAM, "U0ALICE").await).len(),
            2
        );

        // Tokens their owner already revoked (GitHub's 404) count as revoked.
        link_both(&app, ALICE, "alice@example.com", "alice").await;
        let [_, _, github] = alices_tokens(&app).await;
        assert!(app.sandbox.github.revoke_token(github.expose_secret()));
        assert_eq!(text(&app, ALICE, "logout").await, BOTH_REVOKED);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_heroku_outage_at_logout_still_forgets_and_says_where_to_revoke() {
    for db in databases().await {
        let app = TestApp::spawn(db).await;
        link_both(&app, ALICE, "alice@example.com", "alice").await;
        let [access, _, _] = alices_tokens(&app).await;
        let down = FaultRule::failing(
            Method::GET,
            "/oauth/authorizations",
            Failure::Status(503),
            1,
        );
        app.sandbox.heroku.faults.inject(down.forever());
        assert_eq!(
            text(&app, ALICE, "logout").await,
            "I forgot your Heroku account (alice@example.com) and your GitHub account (alice), \
             and revoked the GitHub token; Heroku did not confirm revoking the authorization, \
             so revoke it at https://dashboard.heroku.com/account/applications. \
             `/h login` connects them again."
        );
        assert_eq!(app.db.store.account(TEAM, "U0ALICE").await.unwrap(), None);
        app.sandbox.heroku.faults.clear();
        // Honest: the authorization really is still alive at Heroku.
        app.state.heroku.account(&access).await.unwrap();
        app.finish().await;
    }
}
