//! `chatops-sandbox sandbox`'s page in headless Chromium, started the way the command starts
//! it: type a deploy, watch the parent update in place and the four replies in the
//! thread, fail a build from the world panel and read the log tail, get help only you
//! can see; and the real binary printing the one URL. Screenshots go to
//! `$CARGO_TARGET_DIR/screenshots/` (or `target/screenshots/`).

use crate::common;
use crate::common::files::REPO_ROOT;

use std::path::PathBuf;

use chatops_fakes::slack::FakeSlack;
use common::browser::Browser;
use common::databases;
use common::deploys::normalized;
use common::sandbox::{CHANNEL, Started};

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(REPO_ROOT).join("target"), PathBuf::from);
    target.join("screenshots")
}

/// Saves a screenshot and says where.
pub(crate) fn save(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
    let dir = screenshots();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, png).unwrap();
    println!("screenshot: {}", path.display());
}

const PARENTS: &str = "#messages li.message:not(.ephemeral):not(:has(.broadcast-note))";
const REPLIES: &str = "#thread-replies li.message .content";

/// Waits until the fake Slack's #deploys has the parents `expected` (text, number of
/// replies), so the page is then only given [`common::browser::PATIENCE`] to show
/// what is there: a loaded machine slows the deploy, which is not the page's doing.
async fn slack_reaches(slack: &FakeSlack, expected: &[(&str, usize)]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let texts: Vec<(String, usize)> = slack
            .channel_messages(CHANNEL)
            .iter()
            .filter(|message| message.thread_ts.is_none())
            .map(|parent| (parent.text.clone(), slack.thread(CHANNEL, &parent.ts).len()))
            .collect();
        let reached = texts
            .iter()
            .map(|(text, replies)| (text.as_str(), *replies));
        if reached.eq(expected.iter().copied()) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "#deploys stayed at {texts:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn type_command(browser: &Browser, text: &str) {
    let input = browser.find("#message-input").await;
    browser.type_and_enter(&input, text).await;
}

#[tokio::test]
async fn a_deploy_typed_in_the_page_is_watched_to_deployed_then_a_failed_build_shows_its_log() {
    let browser = Browser::start().await;
    for db in databases().await {
        let backend = db.backend_name();
        let sandbox = Started::new(db).await;
        browser.goto(&sandbox.running.page_url).await;
        assert_eq!(browser.title().await, "#deploys · Sandbox · chatops");
        browser.wait_for_text("#connection", "live").await;
        // The seed's apps run commits of the Heroku seed's own history, which the
        // GitHub fake does not have: the first deploy's notes can't list commits.
        let heroku = &sandbox.running.fakes.heroku;
        let seeded = heroku
            .releases("paipu-app-staging")
            .into_iter()
            .find(|r| r.current)
            .and_then(|r| heroku.slug(r.slug_id.as_deref()?)?.commit)
            .expect("the seeded app runs a commit");

        type_command(&browser, "/h deploy paipu to staging").await;
        browser
            .wait_for_text(
                "#messages li.ephemeral .content",
                "On it: deploying paipu to staging. Progress will show in this channel.",
            )
            .await;
        let slack = &sandbox.running.fakes.slack;
        slack_reaches(slack, &[("Deployed paipu-app-staging", 5)]).await;
        let parents = browser
            .wait_for_texts(&format!("{PARENTS} .section"), |texts| {
                texts == ["Deployed paipu-app-staging"]
            })
            .await;
        assert_eq!(parents.len(), 1, "one parent, updated in place");
        let parent = &slack.channel_messages(CHANNEL)[0];
        let edits = slack.updates_of(CHANNEL, &parent.ts);
        assert_eq!(
            normalized(&edits.last().expect("the parent was updated").text),
            "Deployed paipu-app-staging",
            "the parent reached Deployed by chat.update, not by a new post"
        );
        let shown = browser.find(PARENTS).await;
        assert_eq!(
            browser.attribute(&shown, "data-ts").await,
            Some(parent.ts.clone())
        );
        let context = browser
            .text(&browser.find(&format!("{PARENTS} .context")).await)
            .await;
        let sha = sandbox
            .running
            .fakes
            .github
            .head("heroku/paipu-repo", "master")
            .unwrap();
        assert_eq!(
            normalized(&context),
            format!(
                "heroku/paipu-repo - ref: master - SHA: {} - duration: Ns\ndeployed by @alice",
                &sha[..8]
            )
        );

        browser
            .wait_for_text(&format!("{PARENTS} button.replies"), "5 replies")
            .await;
        browser.click_on(&format!("{PARENTS} button.replies")).await;
        let replies = browser
            .wait_for_texts(REPLIES, |texts| texts.len() == 5)
            .await;
        assert_eq!(
            replies
                .iter()
                .map(|reply| normalized(reply))
                .collect::<Vec<_>>(),
            [
                // The page shows `*bold*` bold, as Slack does.
                format!(
                    "What this ships to paipu-app-staging: release notes unavailable: GitHub \
                     can't compare {} with {} in heroku/paipu-repo (404 Not Found).",
                    &seeded[..8],
                    &sha[..8]
                )
                .as_str(),
                "Deploying paipu-app-staging ... duration: Ns",
                "Releasing paipu-app-staging ... duration: Ns",
                "Restarting paipu-app-staging ... duration: Ns",
                "Deployed paipu-app-staging ... duration: Ns",
            ]
        );
        save(
            &format!("sandbox-page-deployed-{backend}.png"),
            &browser.screenshot().await,
        );

        browser.click_on("button[data-play=fail_next_build]").await;
        browser
            .wait_for_text(
                "#world-status",
                "The next build of paipu-app-staging fails.",
            )
            .await;
        type_command(&browser, "/h deploy paipu to staging").await;
        let failed = "Failed to deploy paipu-app-staging: the build failed";
        slack_reaches(slack, &[("Deployed paipu-app-staging", 5), (failed, 3)]).await;
        browser
            .wait_for_texts(&format!("{PARENTS} .section"), |texts| {
                texts
                    == [
                        "Deployed paipu-app-staging",
                        "Failed to deploy paipu-app-staging: the build failed",
                    ]
            })
            .await;
        browser
            .wait_for_texts(&format!("{PARENTS} button.replies"), |texts| {
                texts == ["5 replies", "3 replies"]
            })
            .await;
        browser
            .click_nth(&format!("{PARENTS} button.replies"), 1)
            .await;
        let replies = browser
            .wait_for_texts(REPLIES, |texts| texts.len() == 3)
            .await;
        assert_eq!(
            replies[0],
            format!(
                "What this ships to paipu-app-staging: nothing: the release it replaces runs \
                 the same commit, {}.",
                &sha[..8]
            )
        );
        assert_eq!(
            normalized(&replies[1]),
            "Deploying paipu-app-staging ... duration: Ns"
        );
        assert_eq!(
            normalized(replies[2].lines().next().unwrap()),
            "@alice deploy of paipu-app-staging failed after Ns: the build failed"
        );
        let failed = &slack.channel_messages(CHANNEL)[1];
        let failure = slack.thread(CHANNEL, &failed.ts).pop().unwrap();
        // The bot escapes the log (`-----> ` is `-----&gt; `); the page shows it as Slack
        // does, decoded.
        let tail = failure.text.split("```").nth(1).unwrap().trim();
        let tail = tail
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        let log = browser
            .text(&browser.find("#thread-replies li.message pre").await)
            .await;
        assert_eq!(log, tail);
        assert!(
            log.ends_with(" !     Push rejected, failed to compile Ruby app.\n !     Push failed"),
            "{log}"
        );
        let broadcast = browser
            .find("#messages li.message:has(.broadcast-note) .content")
            .await;
        assert_eq!(
            browser.text(&broadcast).await,
            replies[2],
            "also sent to the channel"
        );
        save(
            &format!("sandbox-page-failed-build-{backend}.png"),
            &browser.screenshot().await,
        );

        browser.click_on("#thread-close").await;
        type_command(&browser, "/h help").await;
        let help = "#messages li.ephemeral:has(.typed) ";
        let typed = browser
            .wait_for_texts(&format!("{help}.typed"), |texts| texts.len() == 3)
            .await;
        assert_eq!(typed[2], "You typed /h help");
        let marks = browser
            .wait_for_texts(&format!("{help}.only-you"), |t| t.len() == 3)
            .await;
        assert_eq!(marks[2], "Only visible to you");
        save(
            &format!("sandbox-page-help-{backend}.png"),
            &browser.screenshot().await,
        );
        sandbox.finish().await;
    }
    browser.quit().await;
}

#[test]
fn chatops_sandbox_prints_one_url_and_the_page_answers_there() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatops-sandbox"))
        .arg("sandbox")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs([("PORT", "0"), ("SANDBOX_PAGE_PORT", "0")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    for _ in 0..2 {
        stdout.read_line(&mut printed).unwrap();
    }
    let urls: Vec<&str> = printed
        .split_whitespace()
        .filter(|word| word.starts_with("http://"))
        .collect();
    assert_eq!(urls.len(), 1, "one URL in {printed:?}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (status, page) = runtime.block_on(async {
        let response = reqwest::get(urls[0]).await.unwrap();
        (response.status(), response.text().await.unwrap())
    });
    assert_eq!(status, 200);
    assert!(
        page.contains("<title>#deploys · Sandbox · chatops</title>"),
        "{page}"
    );
    // Stopped as an operator (or Heroku) stops it: SIGTERM.
    let killed = Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success(), "a clean stop on SIGTERM");
}
