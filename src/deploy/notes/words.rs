//! The words of the release notes: the commits as the thread lists them, their short
//! form for GitHub and Heroku, and the one line said instead when there is nothing to
//! list. Pure functions, so every text is tested exactly; outside text (messages,
//! names, GitHub's answers) is escaped for Slack and left as typed for the others.

use crate::chat::{escape, short_sha};
use crate::github::{CommitSummary, Comparison, GitHubError, RepoName};

/// Commits listed; the rest are counted.
const LISTED_COMMITS: usize = 10;
/// Characters of a commit's first line shown.
const SUBJECT_CHARS: usize = 100;
/// Characters of the listed lines, escaped, at most: they must fit in one Slack
/// section (3,000 characters) beside the title and five authors' names (up to 200
/// characters each once escaped: `&` is five), however many `&`s the messages hold.
const LISTED_CHARS: usize = 1_600;
/// Authors named; the rest are counted.
const NAMED_AUTHORS: usize = 5;
/// Characters of an author's name shown.
const AUTHOR_CHARS: usize = 40;

/// The line and short form of a deploy of `sha` into an app whose release `version`
/// (0: none yet) has no known commit: said plainly, not guessed.
pub(super) fn untraceable(version: i64, sha: &str) -> (String, String) {
    let shipping = short_sha(sha);
    if version == 0 {
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
    }
}

/// A rollback's release `version` (`which` one it is) has no known commit.
pub(super) fn missing_commit(version: i64, which: &str) -> (String, String) {
    (
        format!("unknown: v{version}, {which}, has no known commit."),
        format!("unknown: v{version} has no known commit"),
    )
}

/// A rollback in a pipeline with no repository to compare in.
pub(super) fn not_connected() -> (String, String) {
    (
        "unknown: the pipeline is not connected to a GitHub repository (`/h connect`).".into(),
        "unknown: no repository connected".into(),
    )
}

/// Both ends are the same commit (`to`, short).
pub(super) fn same_commit(to: &str) -> (String, String) {
    (
        format!("nothing: the release it replaces runs the same commit, {to}."),
        format!("no new commits ({to})"),
    )
}

/// GitHub could not compare `from` with `to` (short) in `repo`: why, in one line.
pub(super) fn unavailable(
    (from, to): (&str, &str),
    repo: &RepoName,
    error: &GitHubError,
) -> (String, String) {
    (
        format!(
            "release notes unavailable: GitHub can't compare {from} with {to} in {} ({}).",
            escape(&repo.to_string()),
            escape(&why(error))
        ),
        format!("release notes unavailable: GitHub can't compare {from} with {to}"),
    )
}

/// Why GitHub could not answer, in a few words: its status and its own message when
/// that says more, or what went wrong on the way.
fn why(error: &GitHubError) -> String {
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
            named(comparison, str::to_owned)
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
/// them (not escaped), at most [`NAMED_AUTHORS`]; and how many more there are.
fn authors(comparison: &Comparison) -> (Vec<String>, usize) {
    let mut authors: Vec<String> = Vec::new();
    for commit in &comparison.commits {
        let author = author(commit);
        if !authors.contains(&author) {
            authors.push(author);
        }
    }
    let others = authors.len().saturating_sub(NAMED_AUTHORS);
    authors.truncate(NAMED_AUTHORS);
    (authors, others)
}

/// `Alice Admin, Erin Engineer` (and `and 3 others`), each name through `name`.
fn named(comparison: &Comparison, name: impl Fn(&str) -> String) -> String {
    let (authors, others) = authors(comparison);
    let mut named: Vec<String> = authors.iter().map(|a| name(a)).collect();
    if others > 0 {
        named.push(format!(
            "and {others} other{}",
            if others == 1 { "" } else { "s" }
        ));
    }
    named.join(", ")
}

/// Who wrote `commit`, as git says, cut to [`AUTHOR_CHARS`].
fn author(commit: &CommitSummary) -> String {
    let name = commit
        .commit
        .author
        .as_ref()
        .map_or("someone", |a| a.name.as_str());
    capped(name, AUTHOR_CHARS)
}

/// `2 commits from 1a2b3c4d to 5e6f7a8b, by Alice Anders:` and a line per commit (its
/// first line and author), at most [`LISTED_COMMITS`] and [`LISTED_CHARS`], the rest
/// counted; messages and names are the committers' words, escaped.
pub(in crate::deploy) fn listed(comparison: &Comparison, from: &str, to: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut length = 0;
    for commit in comparison.commits.iter().take(LISTED_COMMITS) {
        let first = commit.commit.message.lines().next().unwrap_or_default();
        let line = format!(
            "• {} ({})",
            escape(&capped(first, SUBJECT_CHARS)),
            escape(&author(commit))
        );
        length += line.chars().count();
        if length > LISTED_CHARS {
            break;
        }
        lines.push(line);
    }
    let total = comparison.total_commits as usize;
    if total > lines.len() {
        lines.push(format!("• … and {} more", total - lines.len()));
    }
    let plural = if total == 1 { "" } else { "s" };
    format!(
        "{total} commit{plural} from {from} to {to}, by {}:\n{}",
        named(comparison, escape),
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
    use serde_json::{Value, json};

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
        assert_eq!(
            untraceable(0, sha),
            (
                "576d16a9, its first release: there is nothing earlier to compare with.".into(),
                "576d16a9, the first release".into()
            )
        );
        assert_eq!(
            untraceable(12, sha),
            (
                "576d16a9. It runs v12 now, which has no known commit (made outside a build \
                 from a commit), so I can't tell what changes."
                    .into(),
                "576d16a9; the release it replaces (v12) has no known commit".into()
            )
        );
    }

    #[test]
    fn escaped_lines_stay_within_one_section_and_many_authors_are_counted() {
        let ampersands = "&".repeat(100);
        let names: Vec<String> = (1..=7).map(|n| format!("Dev {n}")).collect();
        let commits: Vec<(&str, &str)> = names
            .iter()
            .map(|name| (ampersands.as_str(), name.as_str()))
            .collect();
        let text = listed(&comparison(&commits, 0), "1a2b3c4d", "576d16a9");
        let line = |n: usize| format!("• {} (Dev {n})", "&amp;".repeat(100));
        assert_eq!(
            text,
            format!(
                "7 commits from 1a2b3c4d to 576d16a9, by Dev 1, Dev 2, Dev 3, Dev 4, Dev 5, \
                 and 2 others:\n{}\n{}\n{}\n• … and 4 more",
                line(1),
                line(2),
                line(3)
            )
        );
        assert!(text.chars().count() < 3_000);
    }

    #[test]
    fn capped_counts_characters_not_bytes() {
        assert_eq!(capped("déjà vu", 7), "déjà vu");
        assert_eq!(capped("déjà vu", 5), "déjà…");
        assert_eq!(capped(&"é".repeat(200), SHORT_CHARS).chars().count(), 140);
    }
}
