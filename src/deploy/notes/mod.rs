//! Release notes: what a deploy or promotion ships, and what a rollback takes out.
//! GitHub's compare between what the app ran before (read once, before anything is
//! created, and kept in the row as `replaced_version`/`replaced_sha`) and what it will
//! run gives the commits. The notes are the first reply of the deploy's thread, queued
//! with the step that starts the deploy, so once; in short they are also the GitHub
//! deployment's description and payload and part of the Heroku build's source
//! description. With nothing to compare with, or a compare GitHub cannot make, they
//! say so in one line, and the deploy goes on.

mod words;

pub(super) use words::{capped, listed};

use serde_json::{Value, json};

use super::StepError;
use super::gate::Tokens;
use super::promote::{current_release, slug_commit};
use crate::bot::BotState;
use crate::chat::{escape, short_sha};
use crate::github::{Comparison, RepoName};
use crate::outbox::Post;
use crate::slack::api::Message;
use crate::store::DeployRow;
use words::{described, missing_commit, not_connected, same_commit, unavailable, untraceable};

/// GitHub caps a deployment status description at 140 characters; the short notes
/// keep to it wherever they go.
pub(super) const SHORT_CHARS: usize = 140;

/// Which way the commits go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    /// A deploy or promotion: the commits from what ran to what will run.
    Ships,
    /// A rollback: the commits from the restored release to what ran.
    TakesOut,
}

/// The notes of one deploy, promotion or rollback.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Notes {
    /// The thread reply, mrkdwn with every outside piece escaped.
    pub text: String,
    /// Plain text for GitHub and Heroku, which show it as typed; at most
    /// [`SHORT_CHARS`].
    pub short: String,
    /// What the GitHub deployment's payload says of them.
    pub payload: Value,
}

impl Notes {
    /// The thread reply.
    pub fn post(&self) -> Post {
        Post {
            message: Message::text(self.text.clone()).section(self.text.clone()),
            broadcast: false,
            response_url: None,
            ephemeral_to: None,
        }
    }

    fn said(direction: Direction, app: &str, line: &str, short: String, payload: Value) -> Notes {
        let title = match direction {
            Direction::Ships => format!("*What this ships to {}:*", escape(app)),
            Direction::TakesOut => format!("*What this takes out of {}:*", escape(app)),
        };
        Notes {
            text: format!("{title} {line}"),
            short: capped(&short, SHORT_CHARS),
            payload,
        }
    }
}

/// Reads and records, once, what `app_name` runs before deploy `d` changes it: before
/// the deploy creates anything, so a step repeated after a crash compares with what
/// ran before, not with what the interrupted run already released.
pub(super) async fn record_base(
    app: &BotState,
    d: &mut DeployRow,
    tokens: &Tokens<'_>,
    app_name: &str,
) -> Result<(), StepError> {
    if d.replaced_version.is_some() {
        return Ok(());
    }
    let (version, sha) = running(app, tokens, app_name).await?;
    app.store
        .record_replaced(d.id, version, sha.as_deref())
        .await?;
    (d.replaced_version, d.replaced_sha) = (Some(version), sha);
    Ok(())
}

/// The version `app_name` runs (0: none yet) and its commit, when its slug says.
pub(super) async fn running(
    app: &BotState,
    tokens: &Tokens<'_>,
    app_name: &str,
) -> Result<(i64, Option<String>), StepError> {
    let Some(release) = current_release(app, tokens, app_name).await? else {
        return Ok((0, None));
    };
    let sha = slug_commit(app, tokens, app_name, &release).await?;
    Ok((release.version as i64, sha))
}

/// What deploy or promotion `d` ships to `app_name` (for a promotion to several
/// apps, the first one's, whose release was recorded) when it releases `sha`.
pub(super) async fn ships(
    app: &BotState,
    tokens: &Tokens<'_>,
    d: &DeployRow,
    repo: &RepoName,
    app_name: &str,
    sha: &str,
) -> Notes {
    match d.replaced_sha.as_deref() {
        None => {
            let (line, short) = untraceable(d.replaced_version.unwrap_or_default(), sha);
            let payload = json!({"summary": short, "from": null, "to": sha});
            Notes::said(Direction::Ships, app_name, &line, short, payload)
        }
        Some(ran) => {
            let span = Span {
                repo,
                from: ran,
                to: sha,
                direction: Direction::Ships,
                app: app_name,
            };
            span.notes(app, tokens).await
        }
    }
}

/// What rollback `d` takes out of its app: the commits between the restored release
/// and the one it replaces.
pub(super) async fn takes_out(
    app: &BotState,
    tokens: &Tokens<'_>,
    d: &DeployRow,
    repo: Option<&RepoName>,
) -> Notes {
    let app_name = d.app_name.as_deref().unwrap_or_default();
    let (restored, replaced) = (
        d.source_version.unwrap_or_default(),
        d.replaced_version.unwrap_or_default(),
    );
    let unknown = |(line, short): (String, String)| {
        let payload = json!({"summary": short, "from": d.sha, "to": d.replaced_sha});
        Notes::said(Direction::TakesOut, app_name, &line, short, payload)
    };
    let Some(repo) = repo else {
        return unknown(not_connected());
    };
    match (d.sha.as_deref(), d.replaced_sha.as_deref()) {
        (None, _) => unknown(missing_commit(restored, "which this restores")),
        (_, None) => unknown(missing_commit(replaced, "which runs now")),
        (Some(from), Some(to)) => {
            let span = Span {
                repo,
                from,
                to,
                direction: Direction::TakesOut,
                app: app_name,
            };
            span.notes(app, tokens).await
        }
    }
}

/// Two known commits to compare.
struct Span<'a> {
    repo: &'a RepoName,
    /// The older end: what ran (a rollback: what it restores).
    from: &'a str,
    /// The newer end: what will run (a rollback: what ran).
    to: &'a str,
    direction: Direction,
    app: &'a str,
}

impl Span<'_> {
    async fn notes(&self, app: &BotState, tokens: &Tokens<'_>) -> Notes {
        let (from, to) = (short_sha(self.from), short_sha(self.to));
        let payload = |short: &str, compared: Option<&Comparison>| {
            json!({
                "summary": short,
                "from": self.from,
                "to": self.to,
                "total_commits": compared.map(|c| c.total_commits),
                "compare_url": compared.map(|c| c.html_url.as_str()),
            })
        };
        let say = |(line, short): (String, String), compared: Option<&Comparison>| {
            let payload = payload(&short, compared);
            Notes::said(self.direction, self.app, &line, short, payload)
        };
        if self.from == self.to {
            return say(same_commit(to), None);
        }
        let compared = app
            .github
            .compare(tokens.github, self.repo, self.from, self.to)
            .await;
        match compared {
            Ok(comparison) => say(described(&comparison, from, to), Some(&comparison)),
            // A service being down is no reason to hold a deploy: the notes say why.
            Err(error) => say(unavailable((from, to), self.repo, &error), None),
        }
    }
}
