//! The word cursor the command parsers walk: splitting the text, required and optional
//! words, `<keyword> <value>` clauses, and the "unexpected word" error, which lists what
//! the optional parts tried at that position would have accepted.

use super::error::{ParseError, alternatives, did_you_mean, quote};
use super::suggest::closest;
use super::values::{self, Clause, Problem};

/// Splits on any whitespace, including the non-breaking spaces Slack may send, and on
/// the invisible zero-width characters that copy-paste brings along.
pub(super) fn split(text: &str) -> Vec<&str> {
    let separator =
        |c: char| c.is_whitespace() || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}');
    text.split(separator)
        .filter(|word| !word.is_empty())
        .collect()
}

/// The grammar's keywords. Where a pipeline or stage must come, one of them means the
/// value was left out (`deploy to staging`), so they cannot be pipeline names there
/// (`from` and `for` would otherwise be valid ones).
const KEYWORDS: [&str; 5] = ["to", "in", "on", "from", "for"];

/// Something the parser would have accepted at the current position.
#[derive(Debug, Clone, Copy)]
enum Expected {
    Clause(Clause),
    /// A word on its own, like the `queue` of `deploy`.
    Flag(&'static str),
    TwoFactorCode,
}

pub(super) struct Words<'a> {
    /// The command's canonical name, for messages and usage.
    command: &'static str,
    /// All words, the command word first.
    words: Vec<&'a str>,
    pos: usize,
    /// What optional parts looked for at `pos` and did not find.
    expected: Vec<Expected>,
}

impl<'a> Words<'a> {
    /// `words[0]` is the command word itself.
    pub fn new(command: &'static str, words: Vec<&'a str>) -> Self {
        Words {
            command,
            words,
            pos: 1,
            expected: Vec::new(),
        }
    }

    pub fn is_done(&self) -> bool {
        self.pos >= self.words.len()
    }

    /// The word `ahead` positions after the current one, without consuming anything.
    pub fn peek_at(&self, ahead: usize) -> Option<&'a str> {
        self.words.get(self.pos + ahead).copied()
    }

    /// Consumes and returns the next word.
    pub fn advance(&mut self) -> Option<&'a str> {
        let word = self.peek_at(0)?;
        self.pos += 1;
        self.expected.clear();
        Some(word)
    }

    /// The last consumed word (the command word when nothing else was).
    fn previous(&self) -> &'a str {
        self.words[self.pos - 1]
    }

    /// An error inside this command: the problem, then the command's usage.
    pub fn error(&self, problem: Problem) -> ParseError {
        ParseError::with_usage(self.command, problem)
    }

    /// The next word, which must be there and be `what` (e.g. "a pipeline name").
    pub fn required<T>(
        &mut self,
        what: &str,
        parse: fn(&str) -> Result<T, Problem>,
    ) -> Result<T, ParseError> {
        let Some(word) = self.peek_at(0) else {
            return Err(self.error(self.missing(what)));
        };
        // `deploy to staging`: the pipeline was left out, rather than named `to`.
        if is_one_of(word, &KEYWORDS) {
            return Err(self.error(format!(
                "`/h {}` needs {what} before {}.",
                self.command,
                quote(word)
            )));
        }
        let value = parse(word).map_err(|problem| self.error(problem))?;
        self.advance();
        Ok(value)
    }

    fn missing(&self, what: &str) -> Problem {
        if self.pos == 1 {
            format!("`/h {}` needs {what}.", self.command)
        } else {
            format!(
                "`/h {}` needs {what} after {}.",
                self.command,
                quote(self.previous())
            )
        }
    }

    /// The next word if there is one; it must then be valid.
    pub fn optional<T>(
        &mut self,
        parse: fn(&str) -> Result<T, Problem>,
    ) -> Result<Option<T>, ParseError> {
        let Some(word) = self.peek_at(0) else {
            return Ok(None);
        };
        let value = parse(word).map_err(|problem| self.error(problem))?;
        self.advance();
        Ok(Some(value))
    }

    /// Consumes the next word if it is one of `keywords` (noise words like the `in` of
    /// `lock paipu in production`).
    pub fn skip_keyword(&mut self, keywords: &[&str]) {
        if self
            .peek_at(0)
            .is_some_and(|word| is_one_of(word, keywords))
        {
            self.advance();
        }
    }

    /// `<keyword> <value>` if the next word is one of the clause's keywords.
    pub fn clause<T>(
        &mut self,
        clause: Clause,
        parse: fn(&str) -> Result<T, Problem>,
    ) -> Result<Option<T>, ParseError> {
        let Some(keyword) = self
            .peek_at(0)
            .filter(|word| is_one_of(word, clause.keywords))
        else {
            self.expected.push(Expected::Clause(clause));
            return Ok(None);
        };
        self.advance();
        let Some(word) = self.peek_at(0) else {
            let needs = clause.value.description();
            return Err(self.error(format!("{} must be followed by {needs}.", quote(keyword))));
        };
        let value = parse(word).map_err(|problem| self.error(problem))?;
        self.advance();
        Ok(Some(value))
    }

    /// A clause that must be there, like the `to #<channel>` of `route`.
    pub fn required_clause<T>(
        &mut self,
        clause: Clause,
        parse: fn(&str) -> Result<T, Problem>,
    ) -> Result<T, ParseError> {
        if let Some(value) = self.clause(clause, parse)? {
            return Ok(value);
        }
        let phrase = phrase(Expected::Clause(clause));
        Err(match self.peek_at(0) {
            None => self.error(self.missing(&phrase)),
            Some(word) => self.unexpected(word, &[phrase]),
        })
    }

    /// Whether the next word is `word` (consumed then), like the `queue` of `deploy`.
    pub fn flag(&mut self, word: &'static str) -> bool {
        if self
            .peek_at(0)
            .is_some_and(|next| next.eq_ignore_ascii_case(word))
        {
            self.advance();
            return true;
        }
        self.expected.push(Expected::Flag(word));
        false
    }

    /// A trailing 2FA code, if the next word is one.
    pub fn two_factor_code(&mut self) -> Option<String> {
        match self.peek_at(0).and_then(values::two_factor_code) {
            Some(code) => {
                self.advance();
                Some(code)
            }
            None => {
                self.expected.push(Expected::TwoFactorCode);
                None
            }
        }
    }

    /// All remaining words, as free text with single spaces (case kept).
    pub fn rest(&mut self) -> Option<String> {
        let rest = self
            .words
            .get(self.pos..)
            .filter(|rest| !rest.is_empty())?
            .join(" ");
        self.pos = self.words.len();
        Some(rest)
    }

    /// Succeeds only if every word was used.
    pub fn finish(&self) -> Result<(), ParseError> {
        let Some(word) = self.peek_at(0) else {
            return Ok(());
        };
        if self.expected.is_empty() {
            let problem = format!(
                "Unexpected {} after {}: `/h {}` takes nothing more.",
                quote(word),
                quote(self.previous()),
                self.command
            );
            return Err(self.error(problem));
        }
        let mut accepted: Vec<String> = self.expected.iter().map(|&e| phrase(e)).collect();
        accepted.push("nothing more".to_string());
        Err(self.unexpected(word, &accepted))
    }

    fn unexpected(&self, word: &str, accepted: &[String]) -> ParseError {
        self.error(format!(
            "Unexpected {} after {}: expected {}.{}",
            quote(word),
            quote(self.previous()),
            alternatives(accepted),
            self.hint(word)
        ))
    }

    /// Why `word` may have been meant as one of the expected parts.
    fn hint(&self, word: &str) -> String {
        let clauses = || {
            self.expected.iter().filter_map(|e| match e {
                Expected::Clause(clause) => Some(clause),
                Expected::Flag(_) | Expected::TwoFactorCode => None,
            })
        };
        let flags = || {
            self.expected.iter().filter_map(|e| match e {
                Expected::Flag(word) => Some(*word),
                _ => None,
            })
        };
        // A value without its keyword: `deploy paipu staging`.
        let value = clauses().find_map(|c| {
            c.value
                .suggest(word)
                .map(|v| format!("{} {v}", c.keywords[0]))
        });
        // A misspelt keyword: `deploy paipu ot staging`, `deploy paipu queu`.
        let keyword = || {
            let keywords = clauses().flat_map(|c| c.keywords.iter().copied());
            closest(word, keywords.chain(flags())).map(str::to_string)
        };
        if let Some(suggestion) = value.or_else(keyword) {
            return did_you_mean(Some(&suggestion));
        }
        let wants_code = self
            .expected
            .iter()
            .any(|e| matches!(e, Expected::TwoFactorCode));
        if wants_code && word.bytes().all(|b| b.is_ascii_digit()) {
            return " A 2FA code has exactly 6 digits.".to_string();
        }
        String::new()
    }
}

fn is_one_of(word: &str, keywords: &[&str]) -> bool {
    keywords
        .iter()
        .any(|keyword| keyword.eq_ignore_ascii_case(word))
}

fn phrase(expected: Expected) -> String {
    match expected {
        Expected::Clause(clause) => {
            format!("`{} {}`", clause.keywords[0], clause.value.placeholder())
        }
        Expected::Flag(word) => format!("`{word}`"),
        Expected::TwoFactorCode => "a 2FA code".to_string(),
    }
}
