//! Account linking end to end, on every backend: `/h login`, both providers' sandbox
//! authorize pages walked hop by hop over HTTP, the callbacks and their pages, the
//! Slack follow-up, `whoami`, `logout`, token refresh, revoked tokens, every bad
//! state, the workspace install, key rotation, and what ends up in the database and
//! the logs.

use crate::common;

use std::time::Duration;

use axum::http::Method;
use chatops::accounts::{self, LinkError, MissingReason, Provider};
use chatops::bot::{Bot, BotState};
use chatops_fakes::github::OAUTH_CLIENT_ID;
use chatops_fakes::slack::ResponseType;
use chatops_fakes::{Failure, FaultRule};
use common::accounts::*;
use common::walk::{Walker, button_url, link_both, split_url, walk_provider};
use common::{
    PATIENCE, SECRET, TestApp, TestClock, databases, dump, signed_headers, slash_body_as,
};
use secrecy::{ExposeSecret, SecretString};

#[tokio::test]
async fn linking_walks_heroku_then_github_and_says_so_in_slack() {
    for db in databases().await {
        let app = TestApp::spawn(db).await;
        let login = reply(&app, ALICE, "login").await;
        let start = button_url(&login);
        let (start_page, query) = split_url(&start);
        assert_eq!(start_page, format!("{}/auth/heroku/start", app.base_url));
        let state = query["state"].clone();
        assert_eq!(state.len(), 43, "256 random bits, URL-safe base64");
        assert_eq!(login["response_type"], "ephemeral");
        assert_eq!(
            login["text"],
            format!(
                "Heroku: not connected yet.\nGitHub: not connected yet.\n\
                 Connect your Heroku account, then GitHub: <{start}|Connect Heroku>\n{LINK_NOTE}"
            )
        );
        assert_eq!(
            login["blocks"][0]["text"]["text"],
            "Heroku: not connected yet.\nGitHub: not connected yet.\nConnect your Heroku account, then GitHub."
        );
        assert_eq!(
            login["blocks"][1]["elements"][0]["text"]["text"],
            "Connect Heroku"
        );

        let mut browser = Walker::new();
        let to_slack = browser.get(&start).await;
        let (sign_in, query) = split_url(to_slack.redirect());
        assert_eq!(
            sign_in,
            format!("{}/openid/connect/authorize", app.sandbox.slack_url)
        );
        let nonce = query["nonce"].clone();
        assert_eq!(nonce.len(), 43, "256 random bits, URL-safe base64");
        let slack_callback = format!("{}/auth/slack/callback", app.base_url);
        let expected = [
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("client_id", &app.sandbox.slack.app().client_id),
            ("state", &state),
            ("team", TEAM),
            ("nonce", &nonce),
            ("redirect_uri", &slack_callback),
        ];
        assert_eq!(query, params(&expected));
        assert_eq!(
            to_slack.set_cookies,
            [format!(
                "chatops_slack_sign_in=heroku.{nonce}; Path=/auth/slack; Max-Age=600; HttpOnly; SameSite=Lax"
            )]
        );
        let back = browser
            .authorize(to_slack.redirect(), None, "Continue as alice (Sandbox)")
            .await;
        let (callback, query) = split_url(&back);
        assert_eq!(callback, slack_callback);
        assert_eq!(query["state"], state);
        let to_heroku = browser.get(&back).await;
        let (authorize, query) = split_url(to_heroku.redirect());
        assert_eq!(
            authorize,
            format!("{}/oauth/authorize", app.sandbox.heroku_url)
        );
        let expected = [
            ("client_id", "sandbox-heroku-client"),
            ("response_type", "code"),
            ("scope", "global"),
            ("state", &state),
        ];
        assert_eq!(query, params(&expected));
        assert_eq!(
            to_heroku.set_cookies,
            [
                format!(
                    "chatops_oauth_heroku={state}; Path=/auth/heroku; Max-Age=600; HttpOnly; SameSite=Lax"
                ),
                "chatops_slack_sign_in=; Path=/auth/slack; Max-Age=0; HttpOnly; SameSite=Lax"
                    .to_owned()
            ]
        );
        let back = browser
            .authorize(
                to_heroku.redirect(),
                Some(("email", "alice@example.com")),
                "Allow",
            )
            .await;
        let (callback, query) = split_url(&back);
        assert_eq!(callback, format!("{}/auth/heroku/callback", app.base_url));
        assert_eq!(query["state"], state);
        let heroku_page = browser.get(&back).await;
        assert_eq!(heroku_page.status, 200, "{}", heroku_page.body);
        assert_eq!(
            heroku_page.heading(),
            "Heroku connected as alice@example.com"
        );
        assert_eq!(
            heroku_page.paragraphs(),
            [
                "Next: connect GitHub, so deploys can read your repositories and record GitHub deployments."
            ]
        );
        assert!(
            heroku_page.set_cookies.contains(
                &"chatops_oauth_heroku=; Path=/auth/heroku; Max-Age=0; HttpOnly; SameSite=Lax"
                    .to_owned()
            )
        );
        let (label, github_start) = heroku_page.action().unwrap();
        assert_eq!(label, "Connect GitHub");
        let github_state = split_url(&github_start).1["state"].clone();
        assert_ne!(github_state, state);

        let to_github = browser.start(&github_start).await;
        let (authorize, query) = split_url(to_github.redirect());
        assert_eq!(
            authorize,
            format!("{}/login/oauth/authorize", app.sandbox.github_url)
        );
        let redirect_uri = format!("{}/auth/github/callback", app.base_url);
        let challenge = query["code_challenge"].clone();
        assert_eq!(challenge.len(), 43, "an S256 challenge");
        let expected = [
            ("client_id", OAUTH_CLIENT_ID),
            ("redirect_uri", &redirect_uri),
            ("scope", "repo read:user"),
            ("state", &github_state),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ];
        assert_eq!(query, params(&expected));
        let verifier = to_github
            .set_cookies
            .iter()
            .find_map(|cookie| cookie.strip_prefix("chatops_pkce_github="))
            .and_then(|cookie| cookie.split(';').next())
            .expect("the PKCE verifier cookie");
        use base64::Engine;
        use sha2::Digest;
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier)),
            challenge
        );
        let back = browser
            .authorize(to_github.redirect(), None, "Authorize as alice")
            .await;
        let done = browser.get(&back).await;
        assert_eq!(
            (done.status, done.heading().as_str()),
            (200, "You're all set")
        );
        assert_eq!(
            done.paragraphs(),
            [
                "Go back to Slack: your commands now act as alice@example.com on Heroku and alice on GitHub.",
                "You can close this tab.",
            ]
        );

        let told = eventually("the follow-up", || {
            app.sandbox.slack.responses().into_iter().next()
        })
        .await;
        assert_eq!(
            (
                told.team.as_str(),
                told.channel.as_str(),
                told.user.as_str()
            ),
            ALICE
        );
        assert_eq!(told.response_type, ResponseType::Ephemeral);
        assert_eq!(
            told.text,
            "You're all set: you're alice@example.com on Heroku and alice on GitHub."
        );

        assert_eq!(
            text(&app, ALICE, "whoami").await,
            "You're alice@example.com on Heroku.\nYou're alice on GitHub."
        );
        assert_eq!(
            text(&app, ALICE, "login").await,
            "You're alice@example.com on Heroku.\nYou're alice on GitHub.\nNothing to connect. `/h logout` forgets both."
        );
        let linked = accounts::linked(&app.state, TEAM, "U0ALICE").await.unwrap();
        assert_eq!(
            (linked.heroku_email.as_str(), linked.github_login.as_str()),
            ("alice@example.com", "alice")
        );
        assert_eq!(
            app.state
                .heroku
                .account(&linked.heroku_token)
                .await
                .unwrap()
                .email,
            "alice@example.com"
        );
        assert_eq!(
            app.state
                .github
                .user(&linked.github_token)
                .await
                .unwrap()
                .login,
            "alice"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_command_that_needed_the_accounts_is_offered_again_and_identities_are_per_team() {
    for db in databases().await {
        let app = TestApp::spawn(db).await;
        // From a team the bot has no install row for, through a response_url that no
        // longer answers: the note goes out with SLACK_BOT_TOKEN instead.
        let who = BOB;
        let asked = invocation(
            who,
            "http://127.0.0.1:9/expired",
            "deploy  paipu to production 123456",
        );
        let error = accounts::linked(&app.state, TEAM, "U0BOB")
            .await
            .unwrap_err();
        let answer = error.reply(&app.state, &asked).await;
        assert_eq!(
            not_linked(Err(error)),
            [
                (Provider::Heroku, MissingReason::NotConnected),
                (Provider::GitHub, MissingReason::NotConnected)
            ]
        );
        let start = button_url(&serde_json::to_value(&answer).unwrap());
        let rerun = "`/h deploy paipu to production <2FA code>`";
        assert_eq!(
            answer.text,
            format!(
                "To run {rerun} I act as you on Heroku and GitHub, with your own permissions.\n\
                 Your Heroku account is not connected yet.\nYour GitHub account is not connected yet.\n\
                 When you're done, I'll remind you to run {rerun} again.\n\
                 Connect your Heroku account, then GitHub: <{start}|Connect Heroku>\n{LINK_NOTE}"
            )
        );
        let mut browser = Walker::signed_in_as("bob (Sandbox)");
        let heroku = walk_provider(
            &mut browser,
            &start,
            Some(("email", "erin@example.com")),
            "Allow",
        )
        .await;
        let done = walk_provider(
            &mut browser,
            &heroku.action().unwrap().1,
            None,
            "Authorize as erin",
        )
        .await;
        assert_eq!(done.heading(), "You're all set");
        let told = eventually("the ephemeral", || {
            app.sandbox
                .slack
                .ephemerals("C0DEPLOYS", "U0BOB")
                .into_iter()
                .next()
        })
        .await;
        assert_eq!(
            told.text,
            format!(
                "You're all set: you're erin@example.com on Heroku and erin on GitHub.\nRun {rerun} again to do what you asked."
            )
        );
        assert!(
            dump(&app.db)
                .await
                .iter()
                .all(|(_, _, value)| !value.contains("123456"))
        );

        // The same Slack user id in another workspace is another person: Bob's link
        // for a workspace T0TEST is refused to Bob signed in to Sandbox.
        assert_eq!(
            not_linked(accounts::linked(&app.state, "T0TEST", "U0BOB").await).len(),
            2
        );
        let elsewhere = ("T0TEST", "C0DEPLOYS", "U0BOB");
        let asked = invocation(elsewhere, "http://127.0.0.1:9/expired", "login");
        let error = accounts::linked(&app.state, "T0TEST", "U0BOB")
            .await
            .unwrap_err();
        let start =
            button_url(&serde_json::to_value(error.reply(&app.state, &asked).await).unwrap());
        let page = browser.start(&start).await;
        assert_eq!(
            (page.status, page.heading().as_str()),
            (403, "This link is for someone else")
        );
        assert_eq!(
            page.paragraphs()[0],
            "This link was made for Slack user U0BOB in workspace T0TEST; you are signed in \
             to Slack as @bob in Sandbox. Nothing was changed."
        );
        assert_eq!(
            not_linked(accounts::linked(&app.state, "T0TEST", "U0BOB").await).len(),
            2
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn an_expiring_heroku_token_is_refreshed_before_use() {
    for db in databases().await {
        let clock = TestClock::default();
        let app = TestApp::spawn_with_clock(db, clock.clock()).await;
        let token_calls = || app.sandbox.heroku.count_requests("POST", "/oauth/token");
        app.sandbox
            .heroku
            .set_token_lifetime(Duration::from_secs(60));
        link_both(&app, ALICE, "alice@example.com", "alice").await;
        app.sandbox
            .heroku
            .set_token_lifetime(Duration::from_secs(HOURS_8 as u64));
        let expiry = || async {
            let row = app
                .db
                .store
                .account(TEAM, "U0ALICE")
                .await
                .unwrap()
                .unwrap();
            row.heroku_expires_at.unwrap() - app.state.clock.now()
        };
        assert!((55..=60).contains(&expiry().await));
        let old = stored_token(&app, "heroku_access_token").await;
        assert_eq!(token_calls(), 1);

        let linked = accounts::linked(&app.state, TEAM, "U0ALICE").await.unwrap();
        assert_eq!(token_calls(), 2, "one refresh");
        assert_ne!(linked.heroku_token.expose_secret(), old);
        assert_eq!(
            stored_token(&app, "heroku_access_token").await,
            linked.heroku_token.expose_secret()
        );
        assert!((HOURS_8 - 5..=HOURS_8).contains(&expiry().await));
        assert_eq!(
            app.state
                .heroku
                .account(&linked.heroku_token)
                .await
                .unwrap()
                .email,
            "alice@example.com"
        );
        accounts::linked(&app.state, TEAM, "U0ALICE").await.unwrap();
        assert_eq!(token_calls(), 2, "a fresh token is not refreshed again");

        // Heroku fails (5xx) when the next refresh is due: retried, then reported as
        // unavailable, and nothing is forgotten.
        clock.advance(HOURS_8 - 60);
        let failing = FaultRule::failing(Method::POST, "/oauth/token", Failure::Status(503), 1);
        app.sandbox.heroku.faults.inject(failing.forever());
        let before = app.db.store.account(TEAM, "U0ALICE").await.unwrap();
        match accounts::linked(&app.state, TEAM, "U0ALICE").await {
            Err(LinkError::Unavailable(error)) => assert_eq!(error.status(), Some(503)),
            other => panic!("expected Unavailable, got {other:?}"),
        }
        assert_eq!(token_calls(), 2 + PATIENCE.retry.attempts as usize);
        assert_eq!(app.db.store.account(TEAM, "U0ALICE").await.unwrap(), before);
        app.sandbox.heroku.faults.clear();
        accounts::linked(&app.state, TEAM, "U0ALICE").await.unwrap();
        app.finish().await;
    }
}

#[tokio::test]
async fn revoked_tokens_are_forgotten_and_the_person_asked_to_link_again() {
    for db in databases().await {
        let clock = TestClock::default();
        let app = TestApp::spawn_with_clock(db, clock.clock()).await;
        link_both(&app, ALICE, "alice@example.com", "alice").await;

        // GitHub failing says what was known, and forgets nothing.
        let failing = FaultRule::failing(Method::GET, "/user", Failure::Status(503), 1);
        app.sandbox.github.faults.inject(failing.forever());
        assert_eq!(
            text(&app, ALICE, "whoami").await,
            "You're alice@example.com on Heroku.\n\
             You're alice on GitHub (GitHub did not answer, so this is what I knew last)."
        );
        app.sandbox.github.faults.clear();

        assert!(
            app.sandbox
                .github
                .revoke_token(&stored_token(&app, "github_token").await)
        );
        assert_eq!(
            text(&app, ALICE, "whoami").await,
            "You're alice@example.com on Heroku.\nYour GitHub sign-in stopped working (revoked or expired), \
             so I forgot it: run `/h login` to connect GitHub again."
        );
        let row = app
            .db
            .store
            .account(TEAM, "U0ALICE")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.github_token, row.github_login), (None, None));

        // Heroku refuses the refresh token once the access token is about to expire.
        clock.advance(HOURS_8 - 60);
        let refused = FaultRule::failing(Method::POST, "/oauth/token", Failure::Status(401), 1);
        app.sandbox.heroku.faults.inject(refused);
        let error = accounts::linked(&app.state, TEAM, "U0ALICE")
            .await
            .unwrap_err();
        let answer = error
            .reply(
                &app.state,
                &invocation(ALICE, "", "deploy paipu to staging"),
            )
            .await;
        assert_eq!(
            not_linked(Err(error)),
            [
                (Provider::Heroku, MissingReason::StoppedWorking),
                (Provider::GitHub, MissingReason::NotConnected)
            ]
        );
        let start = button_url(&serde_json::to_value(&answer).unwrap());
        assert_eq!(
            answer.text,
            format!(
                "To run `/h deploy paipu to staging` I act as you on Heroku and GitHub, with your own permissions.\n\
                 Your Heroku sign-in stopped working (revoked or expired), so I forgot it.\n\
                 Your GitHub account is not connected yet.\n\
                 When you're done, I'll remind you to run `/h deploy paipu to staging` again.\n\
                 Connect your Heroku account, then GitHub: <{start}|Connect Heroku>\n{LINK_NOTE}"
            )
        );
        assert_eq!(
            app.db
                .store
                .account(TEAM, "U0ALICE")
                .await
                .unwrap()
                .unwrap()
                .heroku_access_token,
            None
        );

        // Linking again works, and a 401 on the access token is forgotten too.
        assert_eq!(
            link_both(&app, ALICE, "alice@example.com", "alice")
                .await
                .heading(),
            "You're all set"
        );
        let unauthorized = FaultRule::failing(Method::GET, "/account", Failure::Status(401), 1);
        app.sandbox.heroku.faults.inject(unauthorized);
        assert_eq!(
            text(&app, ALICE, "whoami").await,
            "Your Heroku sign-in stopped working (revoked or expired), so I forgot it: \
             run `/h login` to connect Heroku again.\nYou're alice on GitHub."
        );
        assert_eq!(
            not_linked(accounts::linked(&app.state, TEAM, "U0ALICE").await),
            [(Provider::Heroku, MissingReason::NotConnected)]
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn bad_states_get_a_clear_page_and_change_nothing() {
    for db in databases().await {
        let clock = TestClock::default();
        let app = TestApp::spawn_with_clock(db, clock.clock()).await;
        let alice_start = button_url(&reply(&app, ALICE, "login").await);
        let alice_state = split_url(&alice_start).1["state"].clone();
        let bob_start = button_url(&reply(&app, BOB, "login").await);
        let at = |path: &str| format!("{}/auth/{path}", app.base_url);
        let before = dump(&app.db).await;

        let mut stranger = Walker::new();
        let forged = [
            format!("{}?state=forged", at("heroku/start")),
            format!("{}?code=c&state=forged", at("heroku/callback")),
        ];
        refused(
            &mut stranger,
            &forged,
            400,
            "This sign-in link is not valid",
        )
        .await;
        let incomplete = [
            at("heroku/start"),
            format!("{}?code=c", at("heroku/callback")),
        ];
        refused(&mut stranger, &incomplete, 400, "This link is incomplete").await;
        let other_provider = [
            format!("{}?state={alice_state}", at("github/start")),
            format!("{}?code=c&state={alice_state}", at("github/callback")),
        ];
        refused(
            &mut stranger,
            &other_provider,
            400,
            "This link is for Heroku, not GitHub",
        )
        .await;
        let no_cookie = [format!(
            "{}?code=c&state={alice_state}",
            at("heroku/callback")
        )];
        refused(
            &mut stranger,
            &no_cookie,
            403,
            "This sign-in was started in another browser",
        )
        .await;
        assert_eq!(dump(&app.db).await, before);

        // Bob's authorized callback, opened in the browser where Alice started hers.
        let (mut alice, mut bob) = (Walker::new(), Walker::signed_in_as("bob (Sandbox)"));
        let alice_authorize = alice.start(&alice_start).await.redirect().to_owned();
        let bob_authorize = bob.start(&bob_start).await.redirect().to_owned();
        let bob_back = bob
            .authorize(&bob_authorize, Some(("email", "bob@example.com")), "Allow")
            .await;
        refused(
            &mut alice,
            &[&bob_back],
            403,
            "This sign-in was started in another browser",
        )
        .await;
        assert_eq!(dump(&app.db).await, before);
        assert_eq!(
            bob.get(&bob_back).await.heading(),
            "Heroku connected as bob@example.com"
        );
        let bob_row = app.db.store.account(TEAM, "U0BOB").await.unwrap().unwrap();
        assert_eq!(bob_row.heroku_email.as_deref(), Some("bob@example.com"));
        assert_eq!(app.db.store.account(TEAM, "U0ALICE").await.unwrap(), None);

        // Used once, refused after: the callback replayed, the start link clicked again.
        let alice_back = alice
            .authorize(
                &alice_authorize,
                Some(("email", "alice@example.com")),
                "Allow",
            )
            .await;
        let alice_page = alice.get(&alice_back).await;
        assert_eq!(
            alice_page.heading(),
            "Heroku connected as alice@example.com"
        );
        let linked = dump(&app.db).await;
        refused(
            &mut alice,
            &[alice_back, alice_start],
            410,
            "This sign-in link was already used",
        )
        .await;
        assert_eq!(dump(&app.db).await, linked);

        // Expired: the GitHub link left alone for more than ten minutes.
        let github_start = alice_page.action().unwrap().1;
        let github_state = split_url(&github_start).1["state"].clone();
        clock.advance(accounts::STATE_LIFETIME_SECS + 1);
        let late = [
            github_start,
            format!("{}?code=c&state={github_state}", at("github/callback")),
        ];
        refused(&mut alice, &late, 410, "This sign-in link expired").await;
        assert_eq!(dump(&app.db).await, linked);
        app.finish().await;
    }
}

#[tokio::test]
async fn provider_refusals_and_failures_during_a_callback_are_explained() {
    for db in databases().await {
        let app = TestApp::spawn(db).await;
        let start = button_url(&reply(&app, ALICE, "login").await);
        let mut browser = Walker::new();
        let authorize = browser.start(&start).await.redirect().to_owned();
        let before = dump(&app.db).await;
        let denied = browser.authorize(&authorize, None, "Deny").await;
        let page = browser.get(&denied).await;
        assert_eq!(
            (page.status, page.heading().as_str()),
            (200, "Access was not allowed")
        );
        assert_eq!(dump(&app.db).await, before);

        // Heroku's token endpoint fails: the single-use code is not sent twice.
        let failing = FaultRule::failing(Method::POST, "/oauth/token", Failure::Status(503), 1);
        app.sandbox.heroku.faults.inject(failing);
        let back = browser
            .authorize(&authorize, Some(("email", "alice@example.com")), "Allow")
            .await;
        let page = browser.get(&back).await;
        assert_eq!(
            (page.status, page.heading().as_str()),
            (502, "Heroku did not answer")
        );
        assert_eq!(app.sandbox.heroku.count_requests("POST", "/oauth/token"), 1);
        assert_eq!(app.db.store.account(TEAM, "U0ALICE").await.unwrap(), None);

        // GitHub refuses a code that is not one it issued.
        let mut browser = Walker::new();
        let start = button_url(&reply(&app, ALICE, "login").await);
        let heroku = walk_provider(&mut browser, &start, None, "Allow").await;
        let github_start = heroku.action().unwrap().1;
        let authorize = browser.start(&github_start).await.redirect().to_owned();
        let back = browser
            .authorize(&authorize, None, "Authorize as alice")
            .await;
        let (callback, query) = split_url(&back);
        let page = browser
            .get(&format!(
                "{callback}?code=not-issued&state={}",
                query["state"]
            ))
            .await;
        assert_eq!(
            (page.status, page.heading().as_str()),
            (400, "GitHub did not accept this sign-in")
        );
        assert_eq!(
            page.paragraphs()[0],
            "GitHub refused the OAuth exchange: bad_verification_code: The code passed is incorrect or expired. \
             Nothing was stored."
        );
        assert_eq!(
            app.db
                .store
                .account(TEAM, "U0ALICE")
                .await
                .unwrap()
                .unwrap()
                .github_token,
            None
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_workspace_install_keeps_its_bot_token_sealed_and_posts_with_it() {
    for db in databases().await {
        let app = TestApp::spawn(db).await;
        let mut browser = Walker::new();
        let to_slack = browser
            .get(&format!("{}/slack/install", app.base_url))
            .await;
        let (authorize, query) = split_url(to_slack.redirect());
        assert_eq!(
            authorize,
            format!("{}/oauth/v2/authorize", app.sandbox.slack_url)
        );
        let state = query["state"].clone();
        let (client_id, redirect_uri) = (
            app.sandbox.slack.app().client_id,
            format!("{}/slack/oauth/callback", app.base_url),
        );
        let expected = [
            ("client_id", client_id.as_str()),
            ("redirect_uri", &redirect_uri),
            (
                "scope",
                "commands,chat:write,channels:history,groups:history",
            ),
            ("state", &state),
        ];
        assert_eq!(query, params(&expected));
        assert_eq!(
            to_slack.set_cookies,
            [format!(
                "chatops_oauth_slack={state}; Path=/slack; Max-Age=600; HttpOnly; SameSite=Lax"
            )]
        );
        let back = browser
            .authorize(
                to_slack.redirect(),
                Some(("install_as", "T0OTHER/U0DAVE")),
                "Allow",
            )
            .await;
        let page = browser.get(&back).await;
        assert_eq!(
            (page.status, page.heading().as_str()),
            (200, "Installed in Other Workspace")
        );
        // The install state is signed, not stored: the cookie it was bound to is gone,
        // and Slack's code works once.
        assert_eq!(browser.get(&back).await.status, 403, "the state works once");

        let workspace = app.db.store.workspace("T0OTHER").await.unwrap().unwrap();
        let live = app.sandbox.slack.token_for_team("T0OTHER");
        assert_eq!(
            (
                workspace.bot_user_id.as_str(),
                workspace.installer_user_id.as_str()
            ),
            ("U0BOTOTHER", "U0DAVE")
        );
        assert_eq!(workspace.team_name.as_deref(), Some("Other Workspace"));
        assert!(workspace.bot_token.starts_with("v1:") && !workspace.bot_token.contains(&live));
        let state = &app.state;
        let bot_token = |team: &'static str| async move {
            chatops::workspaces::bot_token(state, team)
                .await
                .unwrap()
                .expose_secret()
                .to_owned()
        };
        assert_eq!(bot_token("T0OTHER").await, live);
        assert_eq!(
            bot_token("T0ELSEWHERE").await,
            app.sandbox.slack.token_for_team(TEAM),
            "SLACK_BOT_TOKEN otherwise"
        );

        // Dave's follow-up can only reach his channel with that workspace's token (his
        // response_url is a dead one of the fake Slack's).
        let dead = format!("{}/response/expired", app.sandbox.slack_url);
        let body = slash_body_as("T0OTHER", "C0OTHERGEN", "U0DAVE", &dead, "login");
        let (_, answer) = app
            .post(
                "/slack/commands",
                &signed_headers(SECRET, common::now(), &body),
                body,
            )
            .await;
        let start = button_url(&serde_json::from_str(&answer).unwrap());
        let mut dave = Walker::signed_in_as("dave (Other Workspace)");
        let heroku = walk_provider(
            &mut dave,
            &start,
            Some(("email", "erin@example.com")),
            "Allow",
        )
        .await;
        walk_provider(
            &mut dave,
            &heroku.action().unwrap().1,
            None,
            "Authorize as erin",
        )
        .await;
        let told = eventually("Dave's ephemeral", || {
            app.sandbox
                .slack
                .ephemerals("C0OTHERGEN", "U0DAVE")
                .into_iter()
                .next()
        })
        .await;
        assert_eq!(
            told.text,
            "You're all set: you're erin@example.com on Heroku and erin on GitHub."
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_database_dump_holds_no_token_in_clear_and_a_rotated_key_reseals() {
    for db in databases().await {
        let app = TestApp::spawn(db).await;
        link_both(&app, ALICE, "alice@example.com", "alice").await;
        let mut browser = Walker::new();
        let to_slack = browser
            .get(&format!("{}/slack/install", app.base_url))
            .await;
        let back = browser
            .authorize(
                to_slack.redirect(),
                Some(("install_as", "T0OTHER/U0DAVE")),
                "Allow",
            )
            .await;
        browser.get(&back).await;

        let (access, refresh) = (
            stored_token(&app, "heroku_access_token").await,
            stored_token(&app, "heroku_refresh_token").await,
        );
        let (github, slack) = (
            stored_token(&app, "github_token").await,
            app.sandbox.slack.token_for_team("T0OTHER"),
        );
        // They are the live tokens the fakes issued, so the scan below looks for the real thing.
        assert_eq!(
            app.state
                .heroku
                .account(&access.clone().into())
                .await
                .unwrap()
                .email,
            "alice@example.com"
        );
        assert_eq!(
            app.state
                .github
                .user(&github.clone().into())
                .await
                .unwrap()
                .login,
            "alice"
        );
        app.state
            .heroku_oauth
            .refresh(&refresh.clone().into())
            .await
            .unwrap();
        assert!(access.starts_with("HRKU-") && slack.starts_with("xoxb-"));
        let cells = dump(&app.db).await;
        let sealed: Vec<_> = cells
            .iter()
            .filter(|(_, c, _)| c.ends_with("_token"))
            .collect();
        assert_eq!(sealed.len(), 4, "{sealed:?}");
        assert!(sealed.iter().all(|(_, _, value)| value.starts_with("v1:")));
        for (table, column, value) in &cells {
            for token in [&access, &refresh, &github, &slack] {
                assert!(
                    !value.contains(token.as_str()),
                    "{table}.{column} holds a token in clear"
                );
            }
        }

        // The same database under a new ENCRYPTION_KEY, the old one as previous.
        let mut config = chatops_sandbox::bot_config(&app.sandbox, 0, &app.base_url, &app.db.url);
        let new_key = SecretString::from("e7".repeat(32));
        config.encryption_key_previous = Some(std::mem::replace(
            &mut config.encryption_key,
            new_key.clone(),
        ));
        let rotated = BotState::new(
            Bot::new(
                config,
                app.db.store.clone(),
                app.state.clock.clone(),
                PATIENCE,
            )
            .unwrap(),
        );
        let linked = accounts::linked(&rotated, TEAM, "U0ALICE").await.unwrap();
        assert_eq!(linked.github_token.expose_secret(), github);
        assert_eq!(
            chatops::workspaces::bot_token(&rotated, "T0OTHER")
                .await
                .unwrap()
                .expose_secret(),
            slack
        );
        let only_new = chatops::vault::Vault::new(&new_key, None);
        let row = app
            .db
            .store
            .account(TEAM, "U0ALICE")
            .await
            .unwrap()
            .unwrap();
        for (column, sealed) in [
            ("heroku_access_token", row.heroku_access_token),
            ("heroku_refresh_token", row.heroku_refresh_token),
            ("github_token", row.github_token),
        ] {
            only_new
                .open(&sealed.unwrap(), &format!("{column}:{TEAM}:U0ALICE"))
                .expect("re-sealed with the new key");
        }
        let workspace = app.db.store.workspace("T0OTHER").await.unwrap().unwrap();
        only_new
            .open(&workspace.bot_token, "slack_bot_token:T0OTHER")
            .expect("re-sealed with the new key");
        app.finish().await;
    }
}

#[tokio::test]
async fn the_logs_hold_no_token_code_or_state() {
    let logs = Logs::default();
    let writer = logs.clone();
    // The fakes are not the bot; tower_http's request span is app.rs's (see the report).
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("chatops=trace,chatops::sandbox=off")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // Global, not scoped: callsites first reached on another test's thread would
    // otherwise be cached as disabled (tracing keeps one interest per callsite).
    tracing::subscriber::set_global_default(subscriber).expect("no other test sets one");
    let app = TestApp::spawn(databases().await.remove(0)).await;
    let mut browser = Walker::new();
    let start = button_url(&reply(&app, ALICE, "login").await);
    let authorize = browser.start(&start).await.redirect().to_owned();
    let heroku_back = browser.authorize(&authorize, None, "Allow").await;
    let github_start = browser.get(&heroku_back).await.action().unwrap().1;
    let authorize = browser.start(&github_start).await.redirect().to_owned();
    let github_back = browser
        .authorize(&authorize, None, "Authorize as alice")
        .await;
    browser.get(&github_back).await;
    eventually("the follow-up", || {
        app.sandbox.slack.responses().into_iter().next()
    })
    .await;
    let mut secrets = vec![
        stored_token(&app, "heroku_access_token").await,
        stored_token(&app, "heroku_refresh_token").await,
        stored_token(&app, "github_token").await,
    ];
    for url in [&start, &heroku_back, &github_start, &github_back] {
        secrets.extend(
            split_url(url)
                .1
                .into_iter()
                .filter(|(k, _)| k == "code" || k == "state")
                .map(|(_, v)| v),
        );
    }
    text(&app, ALICE, "whoami").await;
    text(&app, ALICE, "logout").await;
    let written = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        written.contains("linked a GitHub account") && written.contains("logged out"),
        "{written}"
    );
    assert_eq!(secrets.len(), 3 + 6);
    for secret in &secrets {
        assert!(
            !written.contains(secret.as_str()),
            "a secret was logged:\n{written}"
        );
    }
    app.finish().await;
}
