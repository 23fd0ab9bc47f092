//! Linking in a real browser: headless Chromium, driven over WebDriver, goes from the
//! `/h login` button's URL through the sandbox Slack's sign-in page and the Heroku and
//! GitHub authorize pages to "You're all set", cookies, redirects and forms handled by
//! the browser itself; and someone else's link, opened in it, ends on a refusal. The
//! pages are saved as `target/artifacts/accounts-heroku-connected.png`,
//! `target/artifacts/accounts-all-set.png` and `target/artifacts/accounts-someone-else.png`.

use crate::common;
use crate::common::files::REPO_ROOT;

use std::path::Path;

use common::browser::Browser;
use common::walk::button_url;
use common::{TestApp, databases, dump};

/// Saves a screenshot under `target/artifacts/`.
fn save(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
    let artifacts = Path::new(REPO_ROOT).join("target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join(name), png).unwrap();
}

/// On the sandbox Slack's sign-in page: one click on `user` of the Sandbox workspace.
async fn sign_in_with_slack(browser: &Browser, app: &TestApp, user: &str) {
    assert_eq!(browser.title().await, "Sign in with Slack");
    assert!(browser.url().await.starts_with(&format!(
        "{}/openid/connect/authorize?",
        app.sandbox.slack_url
    )));
    let button = format!("button[value=\"T0SANDBOX/{user}\"]");
    browser.click_on(&button).await;
}

/// The "Connect Heroku" link of `/h login` run by `user`.
async fn login_link(app: &TestApp, user: &str) -> String {
    let (status, body) = app
        .command_as("T0SANDBOX", "C0DEPLOYS", user, "login")
        .await;
    assert_eq!(status, 200, "{body}");
    button_url(&serde_json::from_str(&body).unwrap())
}

#[tokio::test]
async fn someone_elses_link_opened_in_a_browser_links_nothing_either_way() {
    let browser = Browser::start().await;
    let app = TestApp::spawn(databases().await.remove(0)).await;
    let ways = [
        ("U0CAROL", "U0ALICE", "alice"),
        ("U0ALICE", "U0CAROL", "carol"),
    ];
    for (owner, opener, name) in ways {
        browser.goto(&login_link(&app, owner).await).await;
        sign_in_with_slack(&browser, &app, opener).await;
        browser
            .wait_for_text("h1", "This link is for someone else")
            .await;
        assert_eq!(
            browser.text(&browser.find("main p").await).await,
            format!(
                "This link was made for Slack user {owner} in workspace T0SANDBOX; you are \
                 signed in to Slack as @{name} in Sandbox. Nothing was changed."
            )
        );
        save("accounts-someone-else.png", &browser.screenshot().await);
    }
    for user in ["U0ALICE", "U0CAROL"] {
        assert_eq!(app.db.store.account("T0SANDBOX", user).await.unwrap(), None);
    }
    assert!(
        dump(&app.db)
            .await
            .iter()
            .all(|(table, column, _)| (table.as_str(), column.as_str())
                != ("oauth_states", "used_at")),
        "no state was used up"
    );
    browser.quit().await;
    app.finish().await;
}

#[tokio::test]
async fn a_browser_goes_from_the_slack_button_to_all_set() {
    let browser = Browser::start().await;
    let app = TestApp::spawn(databases().await.remove(0)).await;
    let start = login_link(&app, "U0ALICE").await;

    browser.goto(&start).await;
    sign_in_with_slack(&browser, &app, "U0ALICE").await;
    browser
        .wait_for_text("h1", "Authorize sandbox-heroku-client")
        .await;
    assert_eq!(browser.title().await, "Heroku | Authorize");
    assert!(
        browser
            .url()
            .await
            .starts_with(&format!("{}/oauth/authorize?", app.sandbox.heroku_url))
    );
    browser.click_on("button[value=allow]").await;
    browser
        .wait_for_text("h1", "Heroku connected as alice@example.com")
        .await;
    let connect = browser.find("a.button").await;
    assert_eq!(browser.text(&connect).await, "Connect GitHub");
    save("accounts-heroku-connected.png", &browser.screenshot().await);
    browser.click(&connect).await;
    sign_in_with_slack(&browser, &app, "U0ALICE").await;

    let authorize = browser.find("button[value=alice]").await;
    assert_eq!(browser.text(&authorize).await, "Authorize as alice");
    browser.click(&authorize).await;
    browser.wait_for_text("h1", "You're all set").await;
    assert_eq!(
        browser.text(&browser.find("main p").await).await,
        "Go back to Slack: your commands now act as alice@example.com on Heroku and alice on GitHub."
    );
    assert_eq!(browser.title().await, "You're all set · chatops");

    save("accounts-all-set.png", &browser.screenshot().await);

    let linked = chatops::accounts::linked(&app.state, "T0SANDBOX", "U0ALICE")
        .await
        .unwrap();
    assert_eq!(
        (linked.heroku_email.as_str(), linked.github_login.as_str()),
        ("alice@example.com", "alice")
    );
    browser.quit().await;
    app.finish().await;
}
