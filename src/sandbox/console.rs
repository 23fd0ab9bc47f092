//! The sandbox in a terminal: type `/h ...` lines, and watch what the fake Slack
//! receives (channel posts, thread replies, updates in place, ephemerals) as it
//! happens.

use tokio::io::{AsyncBufReadExt, BufReader};

use super::slack::{FakeSlack, SlackEvent};
use super::slash::{SlashSender, Typist};
use super::{SANDBOX_TEAM, Sandbox};

/// The channel and user the console types as.
pub const CHANNEL: &str = "C0DEPLOYS";
pub const USER: &str = "U0ALICE";

/// Prints every message the fake Slack records, until it goes away.
pub async fn print_slack(slack: FakeSlack) {
    let mut events = slack.subscribe();
    while let Ok(event) = events.recv().await {
        if let Some(line) = describe(&event) {
            println!("{line}");
        }
    }
}

/// One line per Slack event, the way a channel would show it.
fn describe(event: &SlackEvent) -> Option<String> {
    let first_line = |text: &str| text.lines().next().unwrap_or_default().to_owned();
    Some(match event {
        SlackEvent::Posted(message) if message.thread_ts.is_some() => {
            let broadcast = if message.reply_broadcast {
                " (also sent to the channel)"
            } else {
                ""
            };
            format!(
                "  #{} thread | {}{broadcast}",
                message.channel,
                indent(&message.text)
            )
        }
        SlackEvent::Posted(message) => {
            format!("#{} | {}", message.channel, first_line(&message.text))
        }
        SlackEvent::Updated(message) => format!(
            "#{} | (updated) {}",
            message.channel,
            first_line(&message.text)
        ),
        SlackEvent::Ephemeral(ephemeral) => {
            format!("(only visible to you) {}", indent(&ephemeral.text))
        }
        SlackEvent::Responded(response) => {
            format!("(only visible to you) {}", indent(&response.text))
        }
        SlackEvent::Installed { .. } => return None,
    })
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n    ")
}

/// Reads `/h ...` lines from stdin and sends each as the sandbox user typing in
/// #deploys; returns at end of input (the bot keeps serving).
pub async fn read_commands(fakes: &Sandbox, sender: SlashSender) {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let text = line.trim().trim_start_matches("/h").trim();
        if text.is_empty() && line.trim().is_empty() {
            continue;
        }
        let response_url = fakes.slack.response_url(SANDBOX_TEAM, CHANNEL, USER);
        let typist = Typist {
            team: SANDBOX_TEAM,
            channel: CHANNEL,
            user: USER,
            response_url: &response_url,
        };
        match sender.send(typist, text).await {
            Ok(reply) => println!("(only visible to you) {}", indent(&reply)),
            Err(error) => println!("error: {error:#}"),
        }
    }
}
