//! Text from outside (commit messages and authors, branch names, log lines, release
//! descriptions, emails and logins, other services' error bodies) is data, never
//! markup. Every such piece goes through [`escape`] (or [`code_block`] for a log tail)
//! before it joins a Slack message, so a `<!channel>`, a `<@U..>` mention or a
//! `<https://..|link>` in it shows as typed instead of notifying or disguising a link.

/// `text` with Slack's three control characters as the HTML entities Slack's
/// formatting rules ask for (`&` -> `&amp;`, `<` -> `&lt;`, `>` -> `&gt;`); nothing
/// else is touched, since Slack decodes only these three.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Zero-width space: invisible, and not a backtick.
const ZERO_WIDTH_SPACE: char = '\u{200B}';

/// `text` as a fenced preformatted block that nothing in it can close: escaped like
/// [`escape`], and with a zero-width space between any two backticks in a row, since
/// Slack ends a fence at the next three backticks wherever they are. A space that
/// cannot be seen keeps the log as readable as it was (a copy keeps the backticks),
/// where replacing the backticks would change what the log says; a rich-text block
/// would also hold, but the `text` fallback and notifications would still need this.
pub fn code_block(text: &str) -> String {
    let mut body = String::with_capacity(text.len() + 8);
    let mut after_backtick = false;
    for c in escape(text).chars() {
        if c == '`' && after_backtick {
            body.push(ZERO_WIDTH_SPACE);
        }
        after_backtick = c == '`';
        body.push(c);
    }
    // The fence's own backticks stand on their own lines, apart from the body's.
    format!("```\n{body}\n```")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTACK: &str = "Deploy <!channel> <@U0ALICE> <https://evil.example/login|Click to approve the rollback> & co";

    #[test]
    fn escape_turns_the_control_characters_into_entities() {
        assert_eq!(
            escape(ATTACK),
            "Deploy &lt;!channel&gt; &lt;@U0ALICE&gt; \
             &lt;https://evil.example/login|Click to approve the rollback&gt; &amp; co"
        );
    }

    #[test]
    fn escape_leaves_everything_else_alone_and_does_not_double_escape_once() {
        assert_eq!(
            escape("*bold* _it_ `code` ~x~ 日本 é"),
            "*bold* _it_ `code` ~x~ 日本 é"
        );
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn a_code_block_cannot_be_closed_from_inside() {
        let block = code_block("ok\n```\n<!here> free\n```");
        assert_eq!(
            block,
            "```\nok\n`\u{200B}`\u{200B}`\n&lt;!here&gt; free\n`\u{200B}`\u{200B}`\n```"
        );
        let inner = &block[3..block.len() - 3];
        assert!(!inner.contains("```"), "{inner:?}");
    }

    #[test]
    fn single_backticks_and_plain_lines_are_kept() {
        assert_eq!(code_block("`x` y"), "```\n`x` y\n```");
        assert_eq!(code_block("plain"), "```\nplain\n```");
    }
}
