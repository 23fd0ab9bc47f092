//! The sandbox page's Home tab in headless Chromium, started as `chatops-sandbox
//! sandbox` starts it: opening it sends the bot a signed `app_home_opened` and shows
//! the view it publishes; after a deploy typed in #deploys the view has its buttons,
//! and Deploy to staging presses through the same path as the page's other buttons.
//! Screenshots go to `$CARGO_TARGET_DIR/screenshots/` (or `target/screenshots/`).

use std::time::{Duration, Instant};

use crate::common;
use crate::sandbox_page::save;

use chatops_fakes::slack::FakeSlack;
use common::browser::Browser;
use common::databases;
use common::sandbox::{CHANNEL, Started};

const ACK: &str = "On it: deploying paipu to staging. Progress will show in this channel.";

/// Waits until #deploys has `count` parents that say the deploy is done, each with its
/// five replies (what it ships, then four steps): the machine's speed is not the page's business.
async fn deployed(slack: &FakeSlack, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = (slack.channel_messages(CHANNEL).iter())
            .filter(|m| m.thread_ts.is_none() && m.text == "Deployed paipu-app-staging")
            .filter(|m| slack.thread(CHANNEL, &m.ts).len() == 5)
            .count();
        if done == count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{done} deploys done, not {count}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_home_tab_shows_the_published_view_and_its_buttons_deploy() {
    let browser = Browser::start().await;
    for db in databases().await {
        let backend = db.backend_name();
        let sandbox = Started::new(db).await;
        let slack = &sandbox.running.fakes.slack;
        browser.goto(&sandbox.running.page_url).await;
        browser.wait_for_text("#connection", "live").await;

        browser.click_on("#home-link").await;
        browser
            .wait_for_text("#home-view .section", "Pipelines alice@example.com can see")
            .await;
        let notes = browser
            .wait_for_texts("#home-view .context", |texts| texts.len() == 4)
            .await;
        assert_eq!(
            notes,
            [
                "Deploy it once with /h deploy atlas in a channel; its buttons then post there.",
                "Deploy it once with /h deploy paipu in a channel; its buttons then post there.",
                "Deploy it once with /h deploy vault in a channel; its buttons then post there.",
                "Kept up to date while you look at it. /h help lists every command.",
            ]
        );
        save(
            &format!("sandbox-home-{backend}.png"),
            &browser.screenshot().await,
        );

        browser.click_on("#channel-link").await;
        let input = browser.find("#message-input").await;
        browser
            .type_and_enter(&input, "/h deploy paipu to staging")
            .await;
        deployed(slack, 1).await;
        browser.click_on("#home-link").await;
        let buttons = "#home-view .actions button";
        let labels = browser
            .wait_for_texts(buttons, |texts| texts.len() == 3)
            .await;
        assert_eq!(
            labels,
            [
                "Deploy to staging",
                "Promote to production",
                "Deploy to production"
            ],
            "paipu, deployed in #deploys, has buttons; atlas and vault have none yet"
        );
        browser.click_nth(buttons, 0).await;
        browser
            .wait_for_text("#home-status", "Sent: the answer shows in #deploys.")
            .await;
        deployed(slack, 2).await;
        save(
            &format!("sandbox-home-buttons-{backend}.png"),
            &browser.screenshot().await,
        );

        browser.click_on("#channel-link").await;
        browser
            .wait_for_texts("#messages li.ephemeral .content", |texts| {
                texts.iter().filter(|text| *text == ACK).count() == 2
            })
            .await;
        sandbox.finish().await;
    }
    browser.quit().await;
}

/// A deploy typed while another runs waits in line: its requester sees where, with a
/// Cancel button, in #deploys, and the Home tab lists it under its stage.
#[tokio::test]
async fn a_queued_deploy_shows_in_the_channel_and_on_the_home_tab() {
    let browser = Browser::start().await;
    for db in databases().await {
        let backend = db.backend_name();
        let sandbox = Started::new(db).await;
        // The first deploy builds for the whole test, so the second stays in line.
        let heroku = &sandbox.running.fakes.heroku;
        heroku.set_timings(chatops_fakes::heroku::Timings {
            build: Duration::from_secs(120),
            ..chatops_fakes::heroku::Timings::SANDBOX
        });
        browser.goto(&sandbox.running.page_url).await;
        browser.wait_for_text("#connection", "live").await;
        let input = browser.find("#message-input").await;
        browser
            .type_and_enter(&input, "/h deploy paipu to staging")
            .await;
        browser
            .type_and_enter(&input, "/h deploy paipu/feature-x to staging queue")
            .await;
        let in_line = |texts: &[String]| texts.iter().any(|t| t.starts_with("1st in line for"));
        browser
            .wait_for_texts("#messages li.ephemeral .content", in_line)
            .await;
        save(
            &format!("sandbox-queued-{backend}.png"),
            &browser.screenshot().await,
        );

        browser.click_on("#home-link").await;
        let queued = browser
            .wait_for_texts("#home-view .section", |texts| {
                texts
                    .iter()
                    .any(|t| t.contains("in line for paipu-app-staging"))
            })
            .await;
        let staging = queued.iter().find(|t| t.contains("in line for")).unwrap();
        assert!(
            staging
                .contains("1st in line for paipu-app-staging: @alice's deploy of paipu/feature-x"),
            "{staging}"
        );
        save(
            &format!("sandbox-home-queue-{backend}.png"),
            &browser.screenshot().await,
        );
        sandbox.finish().await;
    }
    browser.quit().await;
}
