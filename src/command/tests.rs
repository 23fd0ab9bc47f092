//! Properties of the whole grammar that the table tests in `commands/*.toml` cannot
//! state: every input gets an answer without panicking, and the parser table and the
//! spec files name the same commands.

use super::grammar::GRAMMARS;
use super::{Command, parse, specs};

#[test]
fn parser_table_and_spec_files_name_the_same_commands() {
    let mut parsers: Vec<&str> = GRAMMARS.iter().map(|grammar| grammar.name).collect();
    let mut spec_names: Vec<&str> = specs().iter().map(|spec| spec.name.as_str()).collect();
    parsers.sort_unstable();
    spec_names.sort_unstable();
    assert_eq!(
        parsers, spec_names,
        "every commands/*.toml needs a parser and every parser a spec file"
    );
}

/// Words that reach deep into the grammar, plus the awkward characters Slack can send.
const PIECES: &[&str] = &[
    "deploy",
    "deploy!",
    "promote!",
    "rollback",
    "lock",
    "unlock!",
    "route",
    "connect",
    "help",
    "doctor",
    "releases",
    "history",
    "info",
    "paipu",
    "paipu/feature/x",
    "to",
    "in",
    "on",
    "from",
    "for",
    "staging",
    "prod/app-2",
    "stg/",
    "/",
    "!",
    "123456",
    "12345",
    "v42",
    "v0",
    "30m",
    "1h30m",
    "0s",
    "<#C123|deploys>",
    "<#C1|>",
    "<#>",
    "#deploys",
    "#",
    "heroku/paipu",
    "<https://github.com/a/b|github.com/a/b>",
    "<!channel>",
    "`",
    "ünïcödé",
    "日本語",
    "🚀",
    "e\u{301}",
    "\u{a0}",
    "\t",
    "\u{200b}",
    "\n",
    "İ",
    "ß",
    "\u{0}",
    "cbdefghijklnrtuvcbdefghijklnrtuv",
];

/// A small deterministic generator (xorshift64*), so failures are reproducible
/// without a random-number dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn text(&mut self) -> String {
        let mut text = String::new();
        for _ in 0..self.below(9) {
            if self.below(4) == 0 {
                // A random character from anywhere in Unicode, if it is one.
                text.extend(char::from_u32((self.next() % 0x11_0000) as u32));
            } else {
                text.push_str(PIECES[self.below(PIECES.len())]);
            }
            text.push_str([" ", "", "  ", "/", "\u{a0}"][self.below(5)]);
        }
        text
    }
}

/// What must hold for any input: an answer, never a panic, and a readable one.
/// Returns whether the text parsed.
fn check(text: &str) -> bool {
    match parse(text) {
        Ok(command) => {
            assert!(!command.name().is_empty(), "{text:?}");
            let json = serde_json::to_string(&command).expect("commands serialize");
            let back: Command = serde_json::from_str(&json).expect("commands deserialize");
            assert_eq!(back, command, "{text:?} does not round-trip through serde");
            true
        }
        Err(error) => {
            let message = error.to_string();
            assert!(!message.trim().is_empty(), "{text:?} got an empty error");
            // Echoed words are cut short, so a huge input cannot make a huge reply.
            assert!(
                message.chars().count() < 1500,
                "{text:?} got a {} char error",
                message.len()
            );
            false
        }
    }
}

#[test]
fn generated_input_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let parsed = (0..5000).filter(|_| check(&rng.text())).count();
    // The generator must reach both sides, or it is not testing much.
    assert!((100..4900).contains(&parsed), "{parsed} of 5000 parsed");
}

#[test]
fn very_long_input_gets_a_short_answer() {
    assert!(!check(&"deploy ".repeat(20_000)));
    assert!(!check(&format!("deploy {}", "a".repeat(100_000))));
    assert!(!check(&format!(
        "deploy paipu/{} to staging",
        "ü".repeat(50_000)
    )));
    assert!(!check(&"🚀".repeat(100_000)));
    assert!(check(&format!(
        "lock paipu staging {}",
        "why ".repeat(10_000)
    )));
}

/// Found by `fuzz/ci.sh` (grammar; `fuzz/regressions/grammar/`): a YubiKey OTP typed in
/// capitals parses lowercased, and the audit text must still mask it.
#[test]
fn a_two_factor_code_in_capitals_is_masked_in_the_recorded_text() {
    let otp = format!("r{}e", "U".repeat(33));
    let text = format!("promote pcrote {otp}");
    let command = parse(&text).expect("a promotion with a YubiKey OTP");
    assert_eq!(command.two_factor_code(), Some(otp.to_lowercase().as_str()));
    assert_eq!(command.redacted_text(&text), "promote pcrote ******");

    let text = "deploy\u{a0}vault to production 123456";
    let command = parse(text).expect("a deploy with a TOTP code");
    assert_eq!(
        command.redacted_text(text),
        "deploy\u{a0}vault to production ******"
    );
    let text = "info vault";
    assert_eq!(parse(text).unwrap().redacted_text(text), text);
}
