//! Linking in a real browser: headless Chromium, driven over WebDriver, goes from the
//! `/h login` button's URL through the sandbox Heroku and GitHub authorize pages to
//! "You're all set", cookies, redirects and forms handled by the browser itself. The
//! pages are saved as `target/artifacts/accounts-heroku-connected.png` and
//! `target/artifacts/accounts-all-set.png`.

use crate::common;
use crate::common::files::REPO_ROOT;

use std::path::Path;

use common::browser::Browser;
use common::walk::button_url;
use common::{TestApp, databases};

/// Saves a screenshot under `target/artifacts/`.
fn save(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
    let artifacts = Path::new(REPO_ROOT).join("target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join(name), png).unwrap();
}

#[tokio::test]
async fn a_browser_goes_from_the_slack_button_to_all_set() {
    let browser = Browser::start().await;
    let app = TestApp::spawn(databases().await.remove(0)).await;
    let (status, body) = app
        .command_as("T0SANDBOX", "C0DEPLOYS", "U0ALICE", "login")
        .await;
    assert_eq!(status, 200, "{body}");
    let start = button_url(&serde_json::from_str(&body).unwrap());

    browser.goto(&start).await;
    assert_eq!(browser.title().await, "Heroku | Authorize");
    assert!(
        browser
            .url()
            .await
            .starts_with(&format!("{}/oauth/authorize?", app.sandbox.heroku_url))
    );
    browser
        .click(&browser.find("button[value=allow]").await)
        .await;
    browser
        .wait_for_text("h1", "Heroku connected as alice@example.com")
        .await;
    let connect = browser.find("a.button").await;
    assert_eq!(browser.text(&connect).await, "Connect GitHub");
    save("accounts-heroku-connected.png", &browser.screenshot().await);
    browser.click(&connect).await;

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
