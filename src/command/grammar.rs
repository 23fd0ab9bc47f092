//! One parser per command, and the table that maps command words to them. The table's
//! names are exactly the spec files' names (a unit test holds them together).

use super::error::{ParseError, all_of, did_you_mean, quote};
use super::links;
use super::suggest::closest;
use super::values::{self, Clause, Value};
use super::words::{Words, split};
use super::{Command, DeployRequest, LockRequest, PromoteRequest, RollbackRequest, Target};

type Parse = fn(&mut Words) -> Result<Command, ParseError>;
type ParseForced = fn(&mut Words, bool) -> Result<Command, ParseError>;

/// How a command's arguments are read; `Forceable` commands also have a `name!` form.
enum Parser {
    Plain(Parse),
    Forceable(ParseForced),
}

pub(super) struct Grammar {
    pub name: &'static str,
    parser: Parser,
}

pub(super) const GRAMMARS: &[Grammar] = &[
    forceable("deploy", deploy),
    forceable("promote", promote),
    plain("login", |w| w.finish().map(|()| Command::Login)),
    plain("logout", |w| w.finish().map(|()| Command::Logout)),
    plain("whoami", |w| w.finish().map(|()| Command::Whoami)),
    plain("pipelines", |w| w.finish().map(|()| Command::Pipelines)),
    plain("info", info),
    plain("releases", releases),
    plain("route", route),
    forceable("rollback", rollback),
    plain("lock", lock),
    forceable("unlock", unlock),
    plain("history", history),
    plain("queue", queue),
    plain("dequeue", dequeue),
    plain("connect", connect),
    plain("doctor", doctor),
    plain("help", help),
];

const fn plain(name: &'static str, parse: Parse) -> Grammar {
    Grammar {
        name,
        parser: Parser::Plain(parse),
    }
}

const fn forceable(name: &'static str, parse: ParseForced) -> Grammar {
    Grammar {
        name,
        parser: Parser::Forceable(parse),
    }
}

const PIPELINE: &str = "a pipeline name";
const DEPLOY_TO: Clause = Clause {
    keywords: &["to", "in", "on"],
    value: Value::Target,
};
const FROM: Clause = Clause {
    keywords: &["from"],
    value: Value::Target,
};
const TO: Clause = Clause {
    keywords: &["to"],
    value: Value::Target,
};
const IN: Clause = Clause {
    keywords: &["in", "on"],
    value: Value::Target,
};
const TO_VERSION: Clause = Clause {
    keywords: &["to"],
    value: Value::Version,
};
const FOR: Clause = Clause {
    keywords: &["for"],
    value: Value::Duration,
};
const TO_CHANNEL: Clause = Clause {
    keywords: &["to"],
    value: Value::Channel,
};
const TO_REPO: Clause = Clause {
    keywords: &["to"],
    value: Value::Repo,
};

pub(super) fn parse(text: &str) -> Result<Command, ParseError> {
    let words = split(text);
    let Some(&first) = words.first() else {
        return Ok(Command::Help { topic: None });
    };
    let word = first.to_lowercase();
    let (name, forced) = word
        .strip_suffix('!')
        .map_or((word.as_str(), false), |name| (name, true));
    let grammar = find(name).ok_or_else(|| unknown_command(first))?;
    let mut words = Words::new(grammar.name, words);
    match grammar.parser {
        Parser::Forceable(parse) => parse(&mut words, forced),
        Parser::Plain(_) if forced => Err(words.error(not_forceable(grammar.name))),
        Parser::Plain(parse) => parse(&mut words),
    }
}

fn find(name: &str) -> Option<&'static Grammar> {
    GRAMMARS.iter().find(|grammar| grammar.name == name)
}

/// The command a help topic names (`deploy`, `Deploy!`), or the unknown-command error.
pub(super) fn topic(word: &str) -> Result<&'static str, ParseError> {
    let name = word.trim().to_lowercase();
    let name = name.strip_suffix('!').unwrap_or(&name);
    find(name)
        .map(|grammar| grammar.name)
        .ok_or_else(|| unknown_command(word.trim()))
}

fn unknown_command(word: &str) -> ParseError {
    let suggestion = closest(word, GRAMMARS.iter().map(|grammar| grammar.name));
    ParseError::new(format!(
        "{} is not a /h command.{}\nRun `/h help` to see every command.",
        quote(word),
        did_you_mean(suggestion)
    ))
}

fn not_forceable(name: &str) -> String {
    let forceable: Vec<String> = GRAMMARS
        .iter()
        .filter(|grammar| matches!(grammar.parser, Parser::Forceable(_)))
        .map(|grammar| format!("`{}`", grammar.name))
        .collect();
    format!(
        "There is no `{name}!`: only {} can be forced with `!`.",
        all_of(&forceable)
    )
}

fn deploy(w: &mut Words, forced: bool) -> Result<Command, ParseError> {
    let (pipeline, branch) = w.required(PIPELINE, values::pipeline_and_branch)?;
    let target = w.clause(DEPLOY_TO, values::target)?;
    let queue = w.flag("queue");
    let two_factor_code = w.two_factor_code();
    w.finish()?;
    Ok(Command::Deploy(DeployRequest {
        pipeline,
        branch,
        target,
        two_factor_code,
        forced,
        queue,
    }))
}

fn promote(w: &mut Words, forced: bool) -> Result<Command, ParseError> {
    let pipeline = w.required(PIPELINE, values::pipeline)?;
    let from = w.clause(FROM, values::target)?;
    let to = w.clause(TO, values::target)?;
    // `to production from staging` reads as naturally as the documented order.
    let from = if from.is_none() && to.is_some() {
        w.clause(FROM, values::target)?
    } else {
        from
    };
    let two_factor_code = w.two_factor_code();
    w.finish()?;
    Ok(Command::Promote(PromoteRequest {
        pipeline,
        from,
        to,
        two_factor_code,
        forced,
    }))
}

fn info(w: &mut Words) -> Result<Command, ParseError> {
    let pipeline = w.required(PIPELINE, values::pipeline)?;
    w.finish()?;
    Ok(Command::Info { pipeline })
}

fn releases(w: &mut Words) -> Result<Command, ParseError> {
    let (pipeline, target) = pipeline_in_stage(w)?;
    Ok(Command::Releases { pipeline, target })
}

fn history(w: &mut Words) -> Result<Command, ParseError> {
    let (pipeline, target) = pipeline_in_stage(w)?;
    Ok(Command::History { pipeline, target })
}

fn queue(w: &mut Words) -> Result<Command, ParseError> {
    let (pipeline, target) = pipeline_in_stage(w)?;
    Ok(Command::Queue { pipeline, target })
}

fn dequeue(w: &mut Words) -> Result<Command, ParseError> {
    let (pipeline, target) = pipeline_in_stage(w)?;
    Ok(Command::Dequeue { pipeline, target })
}

/// `<pipeline> [in <stage>[/<app>]]`, the whole of `releases`, `history`, `queue` and
/// `dequeue`.
fn pipeline_in_stage(w: &mut Words) -> Result<(String, Option<Target>), ParseError> {
    let pipeline = w.required(PIPELINE, values::pipeline)?;
    let target = w.clause(IN, values::target)?;
    w.finish()?;
    Ok((pipeline, target))
}

fn route(w: &mut Words) -> Result<Command, ParseError> {
    if w.is_done() {
        return Ok(Command::Route {
            pipeline: None,
            channel: None,
        });
    }
    let pipeline = w.required(PIPELINE, values::pipeline)?;
    let channel = w.required_clause(TO_CHANNEL, links::channel)?;
    w.finish()?;
    Ok(Command::Route {
        pipeline: Some(pipeline),
        channel: Some(channel),
    })
}

fn rollback(w: &mut Words, forced: bool) -> Result<Command, ParseError> {
    let pipeline = w.required(PIPELINE, values::pipeline)?;
    let target = w.clause(IN, values::target)?;
    let version = w.clause(TO_VERSION, values::version)?;
    let two_factor_code = w.two_factor_code();
    w.finish()?;
    Ok(Command::Rollback(RollbackRequest {
        pipeline,
        target,
        version,
        two_factor_code,
        forced,
    }))
}

fn lock(w: &mut Words) -> Result<Command, ParseError> {
    let (pipeline, target) = pipeline_and_stage(w)?;
    // `for 2h` is a duration but `for the release` starts the reason: a number decides.
    let timed = w
        .peek_at(1)
        .is_none_or(|word| word.starts_with(|c: char| c.is_ascii_digit()));
    let duration_secs = if timed {
        w.clause(FOR, values::duration)?
    } else {
        None
    };
    let reason = w.rest();
    Ok(Command::Lock(LockRequest {
        pipeline,
        target,
        duration_secs,
        reason,
    }))
}

fn unlock(w: &mut Words, forced: bool) -> Result<Command, ParseError> {
    let (pipeline, target) = pipeline_and_stage(w)?;
    w.finish()?;
    Ok(Command::Unlock {
        pipeline,
        target,
        forced,
    })
}

/// `<pipeline> [in] <stage>[/<app>]` of `lock` and `unlock`; the `in` is optional
/// because people write it either way.
fn pipeline_and_stage(w: &mut Words) -> Result<(String, Target), ParseError> {
    let pipeline = w.required(PIPELINE, values::pipeline)?;
    w.skip_keyword(IN.keywords);
    let target = w.required("a stage", values::target)?;
    Ok((pipeline, target))
}

fn connect(w: &mut Words) -> Result<Command, ParseError> {
    let pipeline = w.required(PIPELINE, values::pipeline)?;
    let repo = w.required_clause(TO_REPO, links::repo)?;
    w.finish()?;
    Ok(Command::Connect { pipeline, repo })
}

fn doctor(w: &mut Words) -> Result<Command, ParseError> {
    let pipeline = w.optional(values::pipeline)?;
    w.finish()?;
    Ok(Command::Doctor { pipeline })
}

fn help(w: &mut Words) -> Result<Command, ParseError> {
    let topic = w.advance().map(topic).transpose()?;
    w.finish()?;
    Ok(Command::Help {
        topic: topic.map(str::to_string),
    })
}
