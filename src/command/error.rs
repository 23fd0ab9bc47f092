//! [`ParseError`] and the small text helpers every message is built from, so that all
//! replies quote words, list alternatives and show usage the same way.

use super::spec;

/// Why a `/h` text was not understood. `Display` is the whole reply for the user (Slack
/// mrkdwn): the offending word, what was expected, and usually the usage line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    message: String,
}

impl ParseError {
    pub(super) fn new(message: String) -> Self {
        ParseError { message }
    }

    /// A problem inside a known command: followed by its usage and its first help
    /// example (the spec's canonical one), if it has one beyond the usage.
    pub(super) fn with_usage(command: &str, problem: String) -> Self {
        let Some(spec) = spec::find(command) else {
            return ParseError::new(problem);
        };
        let usage: Vec<String> = spec.usage.iter().map(|line| format!("`{line}`")).collect();
        let mut message = format!("{problem}\nUsage: {}", alternatives(&usage));
        if let Some(example) = spec.help_examples().next() {
            message.push_str(&format!("\nExample: `{example}`"));
        }
        ParseError::new(message)
    }
}

/// A word from the user, in backticks, safe to echo: long words are cut, backticks
/// cannot end the code span early, and `<`/`>` are escaped so that Slack markup the
/// user's text carried (`<!channel>`, `<@U123>`) is shown instead of acted on.
pub(super) fn quote(word: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut shown: String = word.chars().take(MAX_CHARS).collect();
    if word.chars().nth(MAX_CHARS).is_some() {
        shown.push('…');
    }
    format!("`{}`", slack_escape(&shown.replace('`', "'")))
}

/// Escapes the characters that would make Slack read text as a mention or a link.
pub(super) fn slack_escape(text: &str) -> String {
    text.replace('<', "&lt;").replace('>', "&gt;")
}

/// `" Did you mean `x`?"`, or nothing.
pub(super) fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |word| format!(" Did you mean `{word}`?"))
}

/// `a`, `a or b`, `a, b or c`.
pub(super) fn alternatives(items: &[String]) -> String {
    join_last(items, "or")
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn all_of(items: &[String]) -> String {
    join_last(items, "and")
}

fn join_last(items: &[String], last: &str) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., tail] => format!("{} {last} {tail}", init.join(", ")),
    }
}
