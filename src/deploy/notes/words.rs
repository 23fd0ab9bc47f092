//! The words of the release notes: the commits as the thread lists them, their short
//! form for GitHub and Heroku, and the one line said instead when there is nothing to
//! list. Pure functions, so every text is tested exactly; outside text (messages,
//! names, GitHub's answers) is escaped for Slack and left as typed for the others.

use serde_json::json;

use super::{Direction, Notes};
use crate::chat::{escape, short_sha};
use crate::github::{Comparison, GitHubError};

/// Commits listed; the rest are counted.
const LISTED_COMMITS: usize = 10;
/// Characters of a commit's first line shown: ten long ones must still fit in one
/// Slack section (3,000 characters).
const SUBJECT_CHARS: usize = 100;

/// The notes of a deploy of `sha` into an app whose release `version` (0: none yet)
/// has no known commit: said plainly, not guessed.
pub(super) fn untraceable(version: i64, app_name: &str, sha: &str) -> Notes {
    let shipping = short_sha(sha);
    let (line, short) = if version == 0 {
        (
            format!("{shipping}, its first release: there is nothing earlier to compare with."),
            format!("{shipping}, the first release"),
        )
    } else {
        (
            format!(
                "{shipping}. It runs v{version} now, which has no known commit (made outside \
                 a build from a commit), so I can't tell what changes."
            ),
            format!("{shipping}; the release it replaces (v{version}) has no known commit"),
        )
    };
    let payload = json!({"summary": short, "from": null, "to": sha});
    Notes::said(Direction::Ships, app_name, &line, short, payload)
}

/// Why GitHub could not answer, in a few words: its status and its own message when
/// that says more, or what went wrong on the way.
pub(super) fn why(error: &GitHubError) -> String {
    let Some(status) = error.status() else {
        return error.to_string();
    };
    let message = error.body().map_or("", |body| body.message.trim());
    if message.is_empty() || Some(message) == status.canonical_reason() {
        status.to_string()
    } else {
        format!("{status}: {message}")
    }
}

/// The reply's line and the short form of a comparison.
pub(super) fn described(comparison: &Comparison, from: &str, to: &str) -> (String, String) {
    let total = comparison.total_commits;
    let mut line = if total == 0 {
        format!("no new commits from {from} to {to}.")
    } else {
        listed(comparison, from, to)
    };
    let behind = comparison.behind_by;
    if behind > 0 {
        let plural = if behind == 1 { "" } else { "s" };
        line.push_str(&format!(
            "\nIt also leaves out {behind} commit{plural} that ran before, not in {to}."
        ));
    }
    line.push_str(&format!("\n{}", compare_link(&comparison.html_url)));
    let plural = if total == 1 { "" } else { "s" };
    let short = match total {
        0 => format!("no new commits ({from}...{to})"),
        _ => format!(
            "{total} commit{plural} by {} ({from}...{to})",
            authors(comparison).join(", ")
        ),
    };
    (line, short)
}

/// `<url|Compare on GitHub>`, for a URL that can be a Slack link target as it is;
/// otherwise (it comes from outside) the URL shown as text.
fn compare_link(url: &str) -> String {
    let plain = url.starts_with("https://")
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>|&\"'".contains(c));
    if plain {
        format!("<{url}|Compare on GitHub>")
    } else {
        format!("Compare on GitHub: {}", escape(url))
    }
}

/// The commits' authors, each once, in the order they first appear, as GitHub names
/// them (not escaped).
fn authors(comparison: &Comparison) -> Vec<&str> {
    let mut authors: Vec<&str> = Vec::new();
    for commit in &comparison.commits {
        let author = commit
            .commit
            .author
            .as_ref()
            .map_or("someone", |a| a.name.as_str());
        if !authors.contains(&author) {
            authors.push(author);
        }
    }
    authors
}

/// `2 commits from 1a2b3c4d to 5e6f7a8b, by Alice Anders:` and a line per commit (its
/// first line and author), at most [`LISTED_COMMITS`]; messages and names are the
/// committers' words, escaped.
pub(in crate::deploy) fn listed(comparison: &Comparison, from: &str, to: &str) -> String {
    let mut lines: Vec<String> = comparison
        .commits
        .iter()
        .take(LISTED_COMMITS)
        .map(|commit| {
            let author = commit
                .commit
                .author
                .as_ref()
                .map_or("someone", |a| a.name.as_str());
            let first = commit.commit.message.lines().next().unwrap_or_default();
            format!(
                "• {} ({})",
                escape(&capped(first, SUBJECT_CHARS)),
                escape(author)
            )
        })
        .collect();
    let total = comparison.total_commits as usize;
    if total > lines.len() {
        lines.push(format!("• … and {} more", total - lines.len()));
    }
    let authors: Vec<String> = authors(comparison).into_iter().map(escape).collect();
    let plural = if total == 1 { "" } else { "s" };
    format!(
        "{total} commit{plural} from {from} to {to}, by {}:\n{}",
        authors.join(", "),
        lines.join("\n")
    )
}

/// `text`, cut to `max` characters with an ellipsis when longer.
pub(in crate::deploy) fn capped(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::notes::SHORT_CHARS;
    use serde_json::Value;

    /// A comparison of `commits` (message, author), as GitHub answers it.
    fn comparison(commits: &[(&str, &str)], behind_by: u64) -> Comparison {
        let commits: Vec<Value> = commits
            .iter()
            .enumerate()
            .map(|(i, (message, author))| {
                json!({"sha": format!("{i:040}"), "author": null, "commit": {
                    "message": message,
                    "author": {"name": author, "email": "a@example.com", "date": "2026-12-06T09:00:00Z"},
                }})
            })
            .collect();
        serde_json::from_value(json!({
            "html_url": "https://github.com/heroku/paipu-repo/compare/1a2b3c4d...576d16a9",
            "status": "ahead", "ahead_by": commits.len(), "behind_by": behind_by,
            "total_commits": commits.len(), "commits": commits,
        }))
        .unwrap()
    }

    #[test]
    fn ten_commits_are_listed_and_the_rest_counted_with_a_link_to_all() {
        let messages: Vec<String> = (1..=12).map(|i| format!("Change {i}")).collect();
        let commits: Vec<(&str, &str)> = messages
            .iter()
            .map(|m| (m.as_str(), "Alice Admin"))
            .collect();
        let (line, short) = described(&comparison(&commits, 0), "1a2b3c4d", "576d16a9");
        let listed: Vec<String> = (1..=10)
            .map(|i| format!("• Change {i} (Alice Admin)"))
            .collect();
        assert_eq!(
            line,
            format!(
                "12 commits from 1a2b3c4d to 576d16a9, by Alice Admin:\n{}\n• … and 2 more\n\
                 <https://github.com/heroku/paipu-repo/compare/1a2b3c4d...576d16a9|Compare on GitHub>",
                listed.join("\n")
            )
        );
        assert_eq!(short, "12 commits by Alice Admin (1a2b3c4d...576d16a9)");
    }

    #[test]
    fn a_commit_shows_its_first_line_escaped_and_its_author_escaped() {
        let commits = [(
            "Fix <!channel> <https://evil.example|x>\n\n<@U0ALICE> body",
            "Mallory <!here>",
        )];
        let (line, short) = described(&comparison(&commits, 1), "1a2b3c4d", "576d16a9");
        assert_eq!(
            line,
            "1 commit from 1a2b3c4d to 576d16a9, by Mallory &lt;!here&gt;:\n\
             • Fix &lt;!channel&gt; &lt;https://evil.example|x&gt; (Mallory &lt;!here&gt;)\n\
             It also leaves out 1 commit that ran before, not in 576d16a9.\n\
             <https://github.com/heroku/paipu-repo/compare/1a2b3c4d...576d16a9|Compare on GitHub>"
        );
        // GitHub and Heroku show the short form as typed: no Slack escaping there.
        assert_eq!(short, "1 commit by Mallory <!here> (1a2b3c4d...576d16a9)");
    }

    #[test]
    fn a_long_first_line_is_cut_and_a_strange_compare_url_is_only_shown() {
        let long = "x".repeat(150);
        let mut compared = comparison(&[(&long, "Al")], 0);
        compared.html_url = "https://github.com/a|<!channel>".into();
        let (line, _) = described(&compared, "1a2b3c4d", "576d16a9");
        assert_eq!(
            line,
            format!(
                "1 commit from 1a2b3c4d to 576d16a9, by Al:\n• {}… (Al)\n\
                 Compare on GitHub: https://github.com/a|&lt;!channel&gt;",
                "x".repeat(99)
            )
        );
    }

    #[test]
    fn an_app_with_no_known_commit_is_said_so_not_guessed() {
        let sha = "576d16a9e0c4b3f7a8d2e1c0b9a8f7e6d5c4b3a2";
        let first = untraceable(0, "paipu-app-staging", sha);
        assert_eq!(
            first.text,
            "*What this ships to paipu-app-staging:* 576d16a9, its first release: there is \
             nothing earlier to compare with."
        );
        assert_eq!(first.short, "576d16a9, the first release");
        let outside = untraceable(12, "paipu-app-staging", sha);
        assert_eq!(
            outside.text,
            "*What this ships to paipu-app-staging:* 576d16a9. It runs v12 now, which has no \
             known commit (made outside a build from a commit), so I can't tell what changes."
        );
        assert_eq!(
            outside.payload,
            json!({"summary": "576d16a9; the release it replaces (v12) has no known commit", "from": null, "to": sha})
        );
    }

    #[test]
    fn capped_counts_characters_not_bytes() {
        assert_eq!(capped("déjà vu", 7), "déjà vu");
        assert_eq!(capped("déjà vu", 5), "déjà…");
        assert_eq!(capped(&"é".repeat(200), SHORT_CHARS).chars().count(), 140);
    }
}
