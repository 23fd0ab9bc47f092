//! Text from outside is data, never markup (issue 14, section 3): a commit message, a
//! commit author, a build log line, a release log line, a release description, a
//! branch name and a Heroku email, each holding a `<!channel>`, a `<@U0ALICE>`
//! mention, a disguised link and a code fence, reach the fake Slack escaped, and the
//! log fence stays closed. Every text is checked exactly, on every backend.

use crate::common;

use chatops::store::DeployState;
use common::commands::{GENERAL, alice, channel_texts, wait_for_post, worlds};
use common::deploys::{
    ALICE, DeployWorld, assert_state, finished_deploy, normalized, settle_outbox,
    thread_of_last_deploy,
};
use common::{TestApp, TestClock};

/// Markup an attacker would like the bot to post for them.
const ATTACK: &str =
    "<!channel> <@U0ALICE> <https://evil.example/login|Click to approve the rollback> ```";
/// [`ATTACK`] as the bot must post it: shown, not obeyed.
const SHOWN: &str = "&lt;!channel&gt; &lt;@U0ALICE&gt; \
     &lt;https://evil.example/login|Click to approve the rollback&gt; ```";
/// [`ATTACK`] inside a log's fence: the backticks can no longer close it.
const IN_FENCE: &str = "&lt;!channel&gt; &lt;@U0ALICE&gt; \
     &lt;https://evil.example/login|Click to approve the rollback&gt; `\u{200B}`\u{200B}`";

const REPO: &str = "heroku/paipu-repo";
const STAGING: &str = "paipu-app-staging";

/// Releases the slug `app` runs now, as anyone with the app's Platform API access can
/// (`POST /apps/{app}/releases` with a `description` of their choosing), with `token`.
async fn release_with_description(
    world: &DeployWorld,
    token: &str,
    app: &str,
    description: &str,
) -> u64 {
    let sandbox = &world.app.sandbox;
    let current = sandbox.heroku.releases(app).into_iter().last().unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/apps/{app}/releases", sandbox.heroku_url))
        .bearer_auth(token)
        .header("Accept", "application/vnd.heroku+json; version=3")
        .json(&serde_json::json!({"slug": current.slug_id, "description": description}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: serde_json::Value = response.json().await.unwrap();
    created["version"].as_u64().unwrap()
}

/// The section text of a channel post with `text`, which must be the same words.
fn section_of(world: &DeployWorld, channel: &str, text: &str) -> String {
    let messages = world.app.sandbox.slack.channel_messages(channel);
    let message = messages.iter().find(|m| m.text == text).unwrap();
    message.blocks[0]["text"]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_reproduced_release_description_is_announced_as_text() {
    for (world, _) in worlds(common::now()).await {
        alice(&world, "route paipu to <#C0GENERAL|general>").await;
        let description =
            "Deploy <!channel> <https://evil.example/login|Click to approve the rollback>";
        let token = world.app.sandbox.heroku.token_for("alice@example.com");
        let version = release_with_description(&world, &token, STAGING, description).await;
        let expected = format!(
            "v{version} of paipu-app-staging released by alice@example.com: Deploy &lt;!channel&gt; \
             &lt;https://evil.example/login|Click to approve the rollback&gt;"
        );
        wait_for_post(&world, GENERAL, |posted| {
            posted.contains(&format!("v{version} "))
        })
        .await;
        assert_eq!(
            channel_texts(&world, GENERAL),
            std::slice::from_ref(&expected)
        );
        assert_eq!(section_of(&world, GENERAL, &expected), expected);
        world.finish().await;
    }
}

#[tokio::test]
async fn a_release_description_and_a_heroku_email_are_shown_not_obeyed() {
    for (world, _) in worlds(common::now()).await {
        alice(&world, "route paipu to <#C0GENERAL|general>").await;
        let email = format!("mallory+{ATTACK}@example.com");
        let heroku = &world.app.sandbox.heroku;
        let token = heroku.token_for("alice@example.com");
        heroku.change_email("alice@example.com", &email);
        let version = release_with_description(&world, &token, STAGING, ATTACK).await;
        let expected = format!(
            "v{version} of paipu-app-staging released by mallory+{SHOWN}@example.com: {SHOWN}"
        );
        wait_for_post(&world, GENERAL, |posted| {
            posted.contains(&format!("v{version} "))
        })
        .await;
        assert_eq!(
            channel_texts(&world, GENERAL),
            std::slice::from_ref(&expected)
        );
        assert_eq!(section_of(&world, GENERAL, &expected), expected);
        world.finish().await;
    }
}

/// The broadcast failure reply of the last deploy, its durations normalized.
async fn failure_reply(world: &DeployWorld) -> (String, String) {
    settle_outbox(&world.app).await;
    let (_, replies) = thread_of_last_deploy(&world.app);
    let last = replies.last().unwrap();
    assert!(last.reply_broadcast);
    let section = last.blocks[0]["text"]["text"].as_str().unwrap();
    (normalized(&last.text), normalized(section))
}

#[tokio::test]
async fn a_build_log_line_stays_inside_the_log_fence() {
    for (world, _) in worlds(common::now()).await {
        let lines = ["rake aborted!", ATTACK, "```"];
        world
            .app
            .sandbox
            .heroku
            .fail_next_build_printing(STAGING, &lines);
        alice(&world, "deploy paipu to staging").await;
        assert_state(&finished_deploy(&world.app).await, DeployState::Failed);
        let expected = format!(
            "<@U0ALICE> deploy of paipu-app-staging failed after Ns: the build failed\n```\n\
             -----&gt; Ruby app detected\n\
             -----&gt; Installing bundler 2.5.11\n\
             -----&gt; Using Ruby version: ruby-3.3.4\n\
             -----&gt; Installing dependencies using bundler 2.5.11\n       \
             Running: BUNDLE_WITHOUT='development:test' bundle install -j4\n       \
             Bundle complete! 37 Gemfile dependencies, 104 gems now installed.\n\
             -----&gt; Preparing app for Rails asset pipeline\n       \
             Running: rake assets:precompile\n       \
             Asset precompilation completed (3.84s)\n\
             rake aborted!\n\
             {IN_FENCE}\n\
             `\u{200B}`\u{200B}`\n       \
             Fetching gem metadata from https://rubygems.org/.........\n       \
             Could not find gem 'pg (~&gt; 1.6)' in rubygems repository https://rubygems.org/ or installed locally.\n       \
             Bundler Output: Could not find gem 'pg (~&gt; 1.6)' in locally installed gems.\n \
             !\n \
             !     Failed to install gems via Bundler.\n \
             !\n \
             !     Push rejected, failed to compile Ruby app.\n \
             !     Push failed\n```"
        );
        assert_eq!(failure_reply(&world).await, (expected.clone(), expected));
        world.finish().await;
    }
}

#[tokio::test]
async fn a_release_log_line_stays_inside_the_log_fence() {
    for (world, _) in worlds(common::now()).await {
        let heroku = &world.app.sandbox.heroku;
        heroku.set_release_command(STAGING, Some(ATTACK));
        heroku.fail_next_release(STAGING);
        alice(&world, "deploy paipu to staging").await;
        let deploy = finished_deploy(&world.app).await;
        assert_state(&deploy, DeployState::Failed);
        let reason = deploy.failure.unwrap();
        let expected = format!(
            "<@U0ALICE> deploy of paipu-app-staging failed after Ns: {reason}\n```\n\
             Running release command: {IN_FENCE}\n\
             == 20240612093011 AddDeployedShaToReleases: migrating ===========================\n\
             -- add_column(:releases, :deployed_sha, :string)\n   \
             -&gt; 0.0081s\n\
             == 20240612093011 AddDeployedShaToReleases: migrated (0.0082s) ==================\n\
             rake aborted!\n\
             StandardError: An error has occurred, this and all later migrations canceled:\n\
             PG::DuplicateColumn: ERROR:  column \"deployed_sha\" of relation \"releases\" already exists\n\
             Tasks: TOP =&gt; db:migrate\n\
             (See full trace by running task with --trace)\n\
             Release command failed: the release was not deployed and the previous one keeps running.\n```"
        );
        assert_eq!(failure_reply(&world).await, (expected.clone(), expected));
        world.finish().await;
    }
}

#[tokio::test]
async fn a_branch_name_from_github_is_shown_not_obeyed() {
    for (world, _) in worlds(common::now()).await {
        // Git refuses spaces in branch names, nothing else of the attack.
        let branch = "<!channel>-<@U0ALICE>-<https://evil.example/login|Approve>-```";
        let github = &world.app.sandbox.github;
        let master = github.head(REPO, "master").unwrap();
        github.rename_branch(REPO, "master", branch).unwrap();
        alice(&world, "deploy paipu to staging").await;
        assert_state(&finished_deploy(&world.app).await, DeployState::Deployed);
        settle_outbox(&world.app).await;
        let (parent, _) = thread_of_last_deploy(&world.app);
        let context: Vec<String> = parent.blocks[1]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|element| normalized(element["text"].as_str().unwrap()))
            .collect();
        assert_eq!(
            context,
            [
                format!(
                    "heroku/paipu-repo - ref: &lt;!channel&gt;-&lt;@U0ALICE&gt;-\
                     &lt;https://evil.example/login|Approve&gt;-``` - SHA: {} - duration: Ns",
                    &master[..8]
                ),
                "deployed by <@U0ALICE>".to_owned()
            ]
        );
        world.finish().await;
    }
}

#[tokio::test]
async fn a_commit_message_and_author_in_the_confirmation_are_shown_not_obeyed() {
    for db in common::databases().await {
        let clock = TestClock::default();
        let app = TestApp::spawn_with_clock(db, clock.clock()).await;
        let world = DeployWorld::new(app).await;
        let github = &world.app.sandbox.github;
        world.command(ALICE, "deploy paipu to production").await;
        world.answer_confirmation(1, ALICE, "confirm_go").await;
        assert_state(&finished_deploy(&world.app).await, DeployState::Deployed);
        let running = github.head(REPO, "master").unwrap();
        let message = format!("{ATTACK}\n\nmore words");
        let head = github
            .push_commit(REPO, "master", &message, ATTACK)
            .unwrap();
        world.command(ALICE, "deploy paipu to production").await;
        world.wait_for_state(2, DeployState::Confirming).await;
        settle_outbox(&world.app).await;
        let responses = world.app.sandbox.slack.responses();
        let question = responses.last().unwrap();
        assert_eq!(question.text, "Deploy paipu-app-production?");
        // An author's name is cut at 40 characters.
        let author = "&lt;!channel&gt; &lt;@U0ALICE&gt; &lt;https://evil.exa…";
        assert_eq!(
            question.blocks[0]["text"]["text"].as_str().unwrap(),
            format!(
                "*Deploy paipu-app-production?*\nRepository: heroku/paipu-repo\n1 commit from {} to {}, by {author}:\n• {SHOWN} ({author})",
                &running[..8],
                &head[..8]
            )
        );
        world.finish().await;
    }
}
