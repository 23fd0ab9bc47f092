//! The command specs of `commands/*.toml`, embedded at build time, and the `/h help`
//! texts rendered from them.

use std::sync::LazyLock;

use serde::Deserialize;

use super::error::ParseError;
use super::grammar;

// `SPEC_FILES: &[(file name, contents)]`, one entry per `commands/*.toml`, by name.
include!(concat!(env!("OUT_DIR"), "/command_specs.rs"));

/// One command as `commands/<name>.toml` declares it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    pub name: String,
    /// One line, for the `/h help` index.
    pub summary: String,
    /// Each line a complete form, starting with `/h`.
    pub usage: Vec<String>,
    /// Slack mrkdwn, shown by `/h help <name>`.
    pub details: String,
    /// Not part of Heroku ChatOps itself.
    #[serde(default)]
    pub extension: bool,
    /// The first one shown in help is also the example in parse errors.
    #[serde(default, rename = "example")]
    pub examples: Vec<Example>,
    #[serde(default, rename = "reject")]
    pub rejects: Vec<Reject>,
}

/// A text that parses: `parsed` is the expected [`super::Command`] in its serde shape.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub text: String,
    pub parsed: toml::Table,
    /// `false` for examples that only test the parser (odd spacing, case, ...).
    #[serde(default = "shown")]
    pub in_help: bool,
}

fn shown() -> bool {
    true
}

/// A text that does not parse, with the exact error message it gets.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reject {
    pub text: String,
    pub error: String,
}

static SPECS: LazyLock<Vec<CommandSpec>> = LazyLock::new(|| {
    SPEC_FILES
        .iter()
        .map(|(file, text)| {
            // The files are compiled in, so a bad one is a build defect: fail loudly.
            toml::from_str(text).unwrap_or_else(|error| {
                panic!("commands/{file} is not a valid command spec: {error}")
            })
        })
        .collect()
});

/// Every command spec, in file-name order.
pub fn specs() -> &'static [CommandSpec] {
    &SPECS
}

pub(super) fn find(name: &str) -> Option<&'static CommandSpec> {
    specs().iter().find(|spec| spec.name == name)
}

/// `/h help`: one line per command, Heroku ChatOps' own commands first, then ours,
/// then the Home tab.
pub fn help_index() -> String {
    let mut ordered: Vec<&CommandSpec> = specs().iter().collect();
    ordered.sort_by_key(|spec| spec.extension);
    let mut text = String::from("*Commands* (type `/h <command>`)\n");
    for spec in ordered {
        text.push_str(&format!(
            "`/h {}` — {}{}\n",
            spec.name,
            spec.summary,
            extension_mark(spec)
        ));
    }
    text.push_str(HOME_TAB_LINE);
    text.push_str("Run `/h help <command>` for its usage and examples, like `/h help deploy`.");
    text
}

/// The App Home tab is not a command, but `/h help` is where people look.
const HOME_TAB_LINE: &str = "Open the bot's *Home* tab in Slack for your pipelines at a glance: what each stage runs, locks, running deploys, and Deploy and Promote buttons. _(extension)_\n";

/// `/h help <topic>`: usage, details and examples of one command. A blank topic gives
/// the index; an unknown one the same error as an unknown command.
pub fn help_for(topic: &str) -> Result<String, ParseError> {
    if topic.trim().is_empty() {
        return Ok(help_index());
    }
    let name = grammar::topic(topic)?;
    let Some(spec) = find(name) else {
        return Err(ParseError::new(format!("`{name}` has no help yet.")));
    };
    let mut text = format!(
        "`/h {}` — {}{}\n*Usage*\n",
        spec.name,
        spec.summary,
        extension_mark(spec)
    );
    for line in &spec.usage {
        text.push_str(&format!("`{line}`\n"));
    }
    text.push_str(spec.details.trim());
    let examples: Vec<String> = spec.help_examples().collect();
    if !examples.is_empty() {
        text.push_str("\n*Examples*");
        for example in examples {
            text.push_str(&format!("\n`{example}`"));
        }
    }
    Ok(text)
}

impl CommandSpec {
    /// The examples help shows, as typed (`/h ...`), leaving out those that only repeat
    /// a usage line (`/h login`).
    pub(super) fn help_examples(&self) -> impl Iterator<Item = String> + '_ {
        self.examples
            .iter()
            .filter(|example| example.in_help)
            .map(|example| format!("/h {}", example.text))
            .filter(|example| !self.usage.contains(example))
    }
}

fn extension_mark(spec: &CommandSpec) -> &'static str {
    if spec.extension { " _(extension)_" } else { "" }
}
