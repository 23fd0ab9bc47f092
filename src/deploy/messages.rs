//! The words of a deploy's story in Slack: the parent message (updated in place) and
//! one thread reply per stage, the way Heroku ChatOps tells it. Pure functions of the
//! deploy, so every text is tested exactly.

use crate::chat::ROLLBACK_ACTION;
use crate::chat::{code_block, duration, escape, short_sha};
use crate::outbox::Post;
use crate::slack::api::{Button, ButtonStyle, Message};
use crate::store::{DeployKind, DeployRow, MessageKind};

/// Lines of build or release output shown when a deploy fails.
pub const LOG_TAIL_LINES: usize = 20;

/// A stage of the story, as the thread tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chapter {
    /// Deploying, Promoting, Rolling back.
    Started,
    Releasing,
    Restarting,
    /// Deployed, Promoted, Rolled back.
    Done,
}

impl Chapter {
    fn word(self, kind: DeployKind) -> &'static str {
        match (self, kind) {
            (Chapter::Started, DeployKind::Deploy) => "Deploying",
            (Chapter::Started, DeployKind::Promote) => "Promoting",
            (Chapter::Started, DeployKind::Rollback) => "Rolling back",
            (Chapter::Releasing, _) => "Releasing",
            (Chapter::Restarting, _) => "Restarting",
            (Chapter::Done, DeployKind::Deploy) => "Deployed",
            (Chapter::Done, DeployKind::Promote) => "Promoted",
            (Chapter::Done, DeployKind::Rollback) => "Rolled back",
        }
    }
}

/// What the story is about: the app deployed, `atlas-staging to production` promoted,
/// `paipu-app-production to v41` rolled back. Names come from Heroku: escaped.
pub fn subject(deploy: &DeployRow) -> String {
    let app = escape(app_name(deploy));
    match deploy.kind {
        DeployKind::Deploy => app,
        DeployKind::Promote => {
            let source = escape(deploy.source_app.as_deref().unwrap_or("?"));
            let stage = escape(deploy.stage.as_deref().unwrap_or("production"));
            match &deploy.app_name {
                Some(target) => format!("{source} to {stage}/{}", escape(target)),
                None => format!("{source} to {stage}"),
            }
        }
        DeployKind::Rollback => match deploy.source_version {
            Some(version) => format!("{app} to v{version}"),
            None => app,
        },
    }
}

/// `heroku/paipu-repo - ref: master - SHA: 576d16a9 - duration: 43s`, and the same
/// with the promoted release or the versions of a rollback instead of the ref.
fn summary_line(deploy: &DeployRow, now: i64) -> String {
    let sha = short_sha(deploy.sha.as_deref().unwrap_or("?"));
    let took = duration(deploy.created_at, now);
    let repo = escape(deploy.repo.as_deref().unwrap_or("?"));
    let version = |v: Option<i64>| v.map_or("?".to_owned(), |v| format!("v{v}"));
    match deploy.kind {
        DeployKind::Deploy => format!(
            "{repo} - ref: {} - SHA: {sha} - duration: {took}",
            escape(deploy.git_ref.as_deref().unwrap_or("?"))
        ),
        DeployKind::Promote => format!(
            "{repo} - release: {} {} - SHA: {sha} - duration: {took}",
            escape(deploy.source_app.as_deref().unwrap_or("?")),
            version(deploy.source_version)
        ),
        DeployKind::Rollback => format!(
            "{} - from {} to {} - SHA: {sha} - duration: {took}",
            escape(app_name(deploy)),
            version(deploy.replaced_version),
            version(deploy.source_version)
        ),
    }
}

/// `deployed by <@U0ALICE>`.
fn requested_by(deploy: &DeployRow) -> String {
    let done = match deploy.kind {
        DeployKind::Deploy => "deployed",
        DeployKind::Promote => "promoted",
        DeployKind::Rollback => "rolled back",
    };
    format!("{done} by <@{}>", deploy.user_id)
}

/// The parent message at `chapter`.
pub fn parent(deploy: &DeployRow, chapter: Chapter, now: i64) -> Post {
    let (word, subject) = (chapter.word(deploy.kind), subject(deploy));
    Post {
        message: Message::text(format!("{word} {subject}"))
            .section(format!("*{word}* {subject}"))
            .context([summary_line(deploy, now), requested_by(deploy)]),
        broadcast: false,
        response_url: None,
        ephemeral_to: None,
    }
}

/// The parent once the deploy failed; `reason` is mrkdwn, its outside parts escaped
/// where it was worded.
pub fn failed_parent(deploy: &DeployRow, reason: &str, now: i64) -> Post {
    let verb = match deploy.kind {
        DeployKind::Deploy => "deploy",
        DeployKind::Promote => "promote",
        DeployKind::Rollback => "roll back",
    };
    let subject = subject(deploy);
    Post {
        message: Message::text(format!("Failed to {verb} {subject}: {reason}"))
            .section(format!("*Failed* to {verb} {subject}: {reason}"))
            .context([summary_line(deploy, now), requested_by(deploy)]),
        broadcast: false,
        response_url: None,
        ephemeral_to: None,
    }
}

/// A thread's first posts: its parent, what it ships (`notes`), then its first step.
pub fn opening(deploy: &DeployRow, notes: Post, now: i64) -> Vec<(MessageKind, Post)> {
    vec![
        (MessageKind::Parent, parent(deploy, Chapter::Started, now)),
        (MessageKind::Reply, notes),
        (MessageKind::Reply, reply(deploy, Chapter::Started, now)),
    ]
}

/// The thread reply for `chapter`: the subject when it starts and ends, the app in
/// between.
pub fn reply(deploy: &DeployRow, chapter: Chapter, now: i64) -> Post {
    let name = match chapter {
        Chapter::Started | Chapter::Done => subject(deploy),
        Chapter::Releasing | Chapter::Restarting => escape(app_name(deploy)),
    };
    told(deploy, &name, chapter, now)
}

/// A thread reply about one app of the story (a promotion's target).
pub fn app_reply(deploy: &DeployRow, app: &str, chapter: Chapter, now: i64) -> Post {
    told(deploy, &escape(app), chapter, now)
}

/// `Deploying paipu-app-staging ... duration: 1s`, about `name` (mrkdwn).
fn told(deploy: &DeployRow, name: &str, chapter: Chapter, now: i64) -> Post {
    let text = format!(
        "{} {name} ... duration: {}",
        chapter.word(deploy.kind),
        duration(deploy.created_at, now)
    );
    Post {
        message: Message::text(text.clone()).section(text),
        broadcast: false,
        response_url: None,
        ephemeral_to: None,
    }
}

/// The failure reply: the reason, the log tail (in a block nothing in the log can
/// close), and the deployer mentioned, broadcast to the channel because edits do not
/// notify anyone.
pub fn failure_reply(deploy: &DeployRow, reason: &str, log_tail: Option<&str>, now: i64) -> Post {
    let noun = match deploy.kind {
        DeployKind::Deploy => "deploy",
        DeployKind::Promote => "promotion",
        DeployKind::Rollback => "rollback",
    };
    let mut text = format!(
        "<@{}> {noun} of {} failed after {}: {reason}",
        deploy.user_id,
        subject(deploy),
        duration(deploy.created_at, now)
    );
    if let Some(tail) = log_tail.filter(|tail| !tail.trim().is_empty()) {
        text.push('\n');
        text.push_str(&code_block(tail.trim_end()));
    }
    let mut message = Message::text(text.clone()).section(text);
    // A failed deploy may have left the app on a broken release: one press undoes it.
    if deploy.kind == DeployKind::Deploy {
        let rollback = Button::new(ROLLBACK_ACTION, "Rollback", deploy.id.to_string())
            .style(ButtonStyle::Danger);
        message = message.actions(format!("deploy:{}", deploy.id), vec![rollback]);
    }
    Post {
        message,
        broadcast: true,
        response_url: None,
        ephemeral_to: None,
    }
}

/// An ephemeral answer to the person who typed the command.
pub fn response(deploy: &DeployRow, text: &str) -> Post {
    Post {
        message: Message::text(text),
        broadcast: false,
        response_url: Some(deploy.response_url.clone()),
        ephemeral_to: Some(deploy.user_id.clone()),
    }
}

fn app_name(deploy: &DeployRow) -> &str {
    deploy.app_name.as_deref().unwrap_or(&deploy.pipeline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DeployState;

    fn deploy() -> DeployRow {
        DeployRow {
            id: 7,
            team_id: "T1".into(),
            channel_id: "C1".into(),
            user_id: "U0ALICE".into(),
            response_url: "http://slack/response/1".into(),
            pipeline: "paipu".into(),
            branch: None,
            stage: Some("staging".into()),
            app_name: Some("paipu-app-staging".into()),
            forced: false,
            two_factor_code: None,
            state: DeployState::Building,
            app_id: Some("app-1".into()),
            repo: Some("heroku/paipu-repo".into()),
            git_ref: Some("master".into()),
            sha: Some("576d16a9e0c4b3f7a8d2e1c0b9a8f7e6d5c4b3a2".into()),
            github_deployment_id: Some(1),
            build_id: None,
            release_id: None,
            failure: None,
            created_at: 1_000_000,
            stage_started_at: 1_000_000,
            finished_at: None,
            next_check_at: 0,
            kind: DeployKind::Deploy,
            source_stage: None,
            source_app: None,
            source_version: None,
            replaced_version: None,
            replaced_sha: None,
            promotion_id: None,
            confirmed: false,
            confirm_expires_at: None,
            promotion_requested_at: None,
            queue_if_busy: false,
            queued_at: None,
        }
    }

    #[test]
    fn the_parent_names_app_repo_ref_sha_duration_and_deployer() {
        let post = parent(&deploy(), Chapter::Releasing, 1_040_500);
        assert_eq!(post.message.text, "Releasing paipu-app-staging");
        assert_eq!(
            post.message,
            Message::text("Releasing paipu-app-staging")
                .section("*Releasing* paipu-app-staging")
                .context([
                    "heroku/paipu-repo - ref: master - SHA: 576d16a9 - duration: 40s",
                    "deployed by <@U0ALICE>"
                ])
        );
    }

    #[test]
    fn thread_replies_read_like_heroku_chatops() {
        let texts: Vec<_> = [
            (Chapter::Started, 1_001_000),
            (Chapter::Releasing, 1_040_000),
            (Chapter::Restarting, 1_042_000),
            (Chapter::Done, 1_043_999),
        ]
        .map(|(chapter, now)| reply(&deploy(), chapter, now).message.text)
        .into();
        assert_eq!(
            texts,
            [
                "Deploying paipu-app-staging ... duration: 1s",
                "Releasing paipu-app-staging ... duration: 40s",
                "Restarting paipu-app-staging ... duration: 42s",
                "Deployed paipu-app-staging ... duration: 43s",
            ]
        );
    }

    #[test]
    fn a_failure_mentions_the_deployer_shows_the_log_and_is_broadcast() {
        let post = failure_reply(
            &deploy(),
            "the build failed",
            Some("-----> Building\n !     Push rejected\n"),
            1_125_000,
        );
        assert!(post.broadcast);
        assert_eq!(
            post.message.text,
            "<@U0ALICE> deploy of paipu-app-staging failed after 2m 5s: the build failed\n\
             ```\n-----&gt; Building\n !     Push rejected\n```"
        );
    }

    #[test]
    fn outside_text_in_a_story_is_shown_not_obeyed() {
        let mut d = deploy();
        d.git_ref = Some("<!channel>".into());
        d.repo = Some("acme/<@U0ALICE>".into());
        let post = failure_reply(&d, "the build failed", Some("```\n<!here>"), 1_125_000);
        assert_eq!(
            post.message.text,
            "<@U0ALICE> deploy of paipu-app-staging failed after 2m 5s: the build failed\n\
             ```\n`\u{200B}`\u{200B}`\n&lt;!here&gt;\n```"
        );
        let post = parent(&d, Chapter::Started, 1_000_000);
        assert_eq!(
            post.message.blocks[1],
            crate::slack::api::Block::Context(vec![
                "acme/&lt;@U0ALICE&gt; - ref: &lt;!channel&gt; - SHA: 576d16a9 - duration: 0s"
                    .into(),
                "deployed by <@U0ALICE>".into()
            ])
        );
    }
}
