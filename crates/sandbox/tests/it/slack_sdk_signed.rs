//! slack_sdk's `SignatureVerifier` signs slash commands for the real bot's
//! `/slack/commands` (`crates/fakes/tests/clients/slack_signed.py`): what Slack's own
//! SDK signs is taken, and a tampered body, a stale timestamp and a replay are refused,
//! on every backend.

use std::path::Path;

use crate::common::{self, SECRET, TestApp};

#[tokio::test]
async fn the_bot_takes_what_slack_sdk_signs_and_refuses_the_rest() {
    for db in common::databases().await {
        let app = TestApp::spawn(db).await;
        let help = chatops::command::help_index();
        let env = [
            ("BOT_URL", app.base_url.as_str()),
            ("SIGNING_SECRET", SECRET),
            ("HELP", help.as_str()),
        ];
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        match chatops_fakes::clients::run_script(root, "slack_signed.py", &env).await {
            Ok(output) => println!("{output}"),
            Err(error) => panic!("{error:#}"),
        }
        assert_eq!(app.rows().await, (1, 1));
        app.finish().await;
    }
}
