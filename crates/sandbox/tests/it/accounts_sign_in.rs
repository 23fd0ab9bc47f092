//! Sign in with Slack in front of every link, attacked over HTTP on every backend:
//! someone else's link opened (both ways round), and ID tokens that are forged,
//! expired, for another app, for another sign-in, or replayed, and a replayed code;
//! and a second person linking a Heroku or GitHub account someone already linked.
//! Each is refused on a page and changes nothing; the link's owner can still use it.

use crate::common;

use chatops::accounts;
use chatops_fakes::slack::Tamper;
use common::accounts::*;
use common::walk::{Hop, Walker, button_url, link_both, split_url, walk_provider};
use common::{TestApp, databases, dump};

const CAROL: (&str, &str, &str) = (TEAM, "C0DEPLOYS", "U0CAROL");

/// The page a browser signed in to Slack as `who` gets for someone else's link.
fn assert_someone_else(page: &Hop, link_user: &str, who: &str) {
    assert_eq!(
        (page.status, page.heading().as_str()),
        (403, "This link is for someone else"),
        "{}",
        page.body
    );
    assert_eq!(
        page.paragraphs(),
        [
            format!(
                "This link was made for Slack user {link_user} in workspace {TEAM}; you are \
                 signed in to Slack as @{who} in Sandbox. Nothing was changed."
            ),
            "A link connects accounts only for the person who ran `/h login`. \
             Run `/h login` in Slack for a link of your own."
                .to_owned(),
        ]
    );
}

#[tokio::test]
async fn carols_link_opened_by_alice_links_nothing_and_still_works_for_carol() {
    for db in databases().await {
        let app = TestApp::spawn(db).await;
        let carols = button_url(&reply(&app, CAROL, "login").await);
        let before = dump(&app.db).await;

        // Alice opens the link Carol sent her: Slack says she is Alice.
        let mut alice = Walker::new();
        let page = alice.start(&carols).await;
        assert_someone_else(&page, "U0CAROL", "alice");
        assert!(
            !page
                .set_cookies
                .iter()
                .any(|c| c.starts_with("chatops_oauth_")),
            "no provider cookie: {:?}",
            page.set_cookies
        );
        assert_eq!(dump(&app.db).await, before);
        assert_eq!(app.sandbox.heroku.count_requests("POST", "/oauth/token"), 0);

        // Carol's own browser: the link was not used up.
        let mut carol = Walker::signed_in_as("carol (Sandbox)");
        let heroku = walk_provider(
            &mut carol,
            &carols,
            Some(("email", "erin@example.com")),
            "Allow",
        )
        .await;
        assert_eq!(heroku.heading(), "Heroku connected as erin@example.com");
        let carol_row = app.db.store.account(TEAM, "U0CAROL").await.unwrap();
        assert_eq!(
            carol_row.unwrap().heroku_email.as_deref(),
            Some("erin@example.com")
        );
        assert_eq!(app.db.store.account(TEAM, "U0ALICE").await.unwrap(), None);
        app.finish().await;
    }
}

#[tokio::test]
async fn alices_link_opened_by_carol_links_nothing_for_either_provider() {
    for db in databases().await {
        let app = TestApp::spawn(db).await;
        let mut alice = Walker::new();
        let heroku = walk_provider(
            &mut alice,
            &button_url(&reply(&app, ALICE, "login").await),
            Some(("email", "alice@example.com")),
            "Allow",
        )
        .await;
        let github_start = heroku.action().unwrap().1;
        let before = dump(&app.db).await;

        // Carol got hold of Alice's "Connect GitHub" link (GitHub would skip its consent
        // page for an app already authorized, so opening it used to be enough).
        let mut carol = Walker::signed_in_as("carol (Sandbox)");
        let page = carol.start(&github_start).await;
        assert_someone_else(&page, "U0ALICE", "carol");
        assert_eq!(dump(&app.db).await, before);

        let done = walk_provider(&mut alice, &github_start, None, "Authorize as alice").await;
        assert_eq!(done.heading(), "You're all set");
        let linked = accounts::linked(&app.state, TEAM, "U0ALICE").await.unwrap();
        assert_eq!(linked.github_login, "alice");
        app.finish().await;
    }
}

#[tokio::test]
async fn forged_expired_foreign_and_replayed_id_tokens_are_refused() {
    for db in databases().await {
        let app = TestApp::spawn(db).await;
        let start = button_url(&reply(&app, ALICE, "login").await);
        // A genuine sign-in first, so there is an ID token to replay.
        let mut alice = Walker::new();
        let to_heroku = alice.start(&start).await;
        assert_eq!(to_heroku.status, 302, "{}", to_heroku.body);
        let before = dump(&app.db).await;

        let cases = [
            (Tamper::OtherKey, "its signature is not by Slack's key"),
            (Tamper::Expired, "it has expired"),
            (Tamper::Audience, "it was issued to another app"),
            (
                Tamper::Nonce,
                "it was issued for another sign-in (its nonce differs)",
            ),
            (
                Tamper::Replay,
                "it was issued for another sign-in (its nonce differs)",
            ),
        ];
        for (tamper, why) in cases {
            app.sandbox.slack.tamper_next_id_token(tamper);
            let page = alice.start(&start).await;
            assert_eq!(
                (page.status, page.heading().as_str()),
                (400, "Slack did not accept this sign-in"),
                "{tamper:?}: {}",
                page.body
            );
            assert_eq!(
                page.paragraphs(),
                [
                    format!("Slack's ID token was refused: {why}. Nothing was stored."),
                    "Run `/h login` in Slack for a fresh link.".to_owned(),
                ],
                "{tamper:?}"
            );
            assert_eq!(dump(&app.db).await, before, "{tamper:?}");
        }

        // The sign-in's callback replayed: its code was used, and the cookie with it.
        let to_slack = alice.get(&start).await;
        let back = alice
            .authorize(to_slack.redirect(), None, "Continue as alice (Sandbox)")
            .await;
        assert_eq!(alice.get(&back).await.status, 302);
        refused(
            &mut alice,
            &[&back],
            403,
            "This sign-in was started in another browser",
        )
        .await;
        alice.get(&start).await;
        let replayed = alice.get(&back).await;
        assert_eq!(
            (replayed.status, replayed.paragraphs()[0].as_str()),
            (
                400,
                "Slack refused the sign-in: invalid_code. Nothing was stored."
            )
        );
        let (_, query) = split_url(&back);
        assert_eq!(query["state"], split_url(&start).1["state"]);
        assert_eq!(dump(&app.db).await, before);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_second_person_linking_the_same_heroku_or_github_account_is_refused() {
    for db in databases().await {
        let app = TestApp::spawn(db).await;
        link_both(&app, ALICE, "alice@example.com", "alice").await;

        // What Heroku and GitHub issue for a refused link is revoked, not just dropped.
        let alices_authorizations = app.sandbox.heroku.authorization_count("alice@example.com");
        let alices_tokens = app.sandbox.github.token_count("alice");

        let mut bob = Walker::signed_in_as("bob (Sandbox)");
        let start = button_url(&reply(&app, BOB, "login").await);
        let page = walk_provider(
            &mut bob,
            &start,
            Some(("email", "alice@example.com")),
            "Allow",
        )
        .await;
        assert_eq!(
            (page.status, page.heading().as_str()),
            (409, "This Heroku account is already linked")
        );
        assert_eq!(
            page.paragraphs(),
            [
                "This Heroku account (alice@example.com) is already linked to Slack user U0ALICE \
                 in this workspace: one account belongs to one person. Nothing was stored.",
                "Sign in to Heroku with your own account, or if this one is yours, have U0ALICE \
                 run `/h logout` first. Then run `/h login` in Slack.",
            ]
        );
        assert_eq!(app.db.store.account(TEAM, "U0BOB").await.unwrap(), None);
        assert_eq!(
            app.sandbox.heroku.authorization_count("alice@example.com"),
            alices_authorizations
        );

        let start = button_url(&reply(&app, BOB, "login").await);
        let heroku = walk_provider(
            &mut bob,
            &start,
            Some(("email", "bob@example.com")),
            "Allow",
        )
        .await;
        assert_eq!(heroku.heading(), "Heroku connected as bob@example.com");
        let github_start = heroku.action().unwrap().1;
        let page = walk_provider(&mut bob, &github_start, None, "Authorize as alice").await;
        assert_eq!(
            (page.status, page.heading().as_str()),
            (409, "This GitHub account is already linked")
        );
        assert!(
            page.paragraphs()[0]
                .starts_with("This GitHub account (alice) is already linked to Slack user U0ALICE")
        );
        assert_eq!(app.sandbox.github.token_count("alice"), alices_tokens);
        let bobs = app.db.store.account(TEAM, "U0BOB").await.unwrap().unwrap();
        assert_eq!(
            (bobs.heroku_email.as_deref(), bobs.github_login),
            (Some("bob@example.com"), None)
        );
        let alice = accounts::linked(&app.state, TEAM, "U0ALICE").await.unwrap();
        assert_eq!(
            (alice.heroku_email.as_str(), alice.github_login.as_str()),
            ("alice@example.com", "alice")
        );

        // Alice linking her own accounts again is no conflict.
        let row = app
            .db
            .store
            .account(TEAM, "U0ALICE")
            .await
            .unwrap()
            .unwrap();
        let again = chatops::store::GitHubLink {
            github_user_id: row.github_user_id.unwrap(),
            login: "alice".into(),
            token: row.github_token.clone().unwrap(),
        };
        app.db
            .store
            .link_github(TEAM, "U0ALICE", &again, 1)
            .await
            .unwrap();

        // The database itself refuses a second holder, whatever the code does.
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&app.db.url)
            .await
            .unwrap();
        for column in ["heroku_user_id", "github_user_id"] {
            let copied = format!(
                "UPDATE users SET {column} = (SELECT {column} FROM users WHERE user_id = 'U0ALICE') \
                 WHERE user_id = 'U0BOB'"
            );
            assert!(
                sqlx::query(&copied).execute(&pool).await.is_err(),
                "{column}"
            );
        }
        app.finish().await;
    }
}
