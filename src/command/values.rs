//! The values inside commands: pipeline, branch, stage and app names, 2FA codes,
//! versions and durations (channels and repositories are in `links`). Each parser
//! takes one word and returns the value or the problem sentence of its error message.

use super::error::{all_of, alternatives, quote};
use super::links::{channel, channel_name, repo};
use super::suggest::closest;
use super::{STAGE_WORDS, Stage, Target};

/// A problem sentence; the caller adds the usage line.
pub(super) type Problem = String;

/// `<keyword> <value>`, e.g. `to <stage>[/<app>]`. The first keyword is the one shown.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clause {
    pub keywords: &'static [&'static str],
    pub value: Value,
}

/// What a clause's keyword is followed by.
#[derive(Debug, Clone, Copy)]
pub(super) enum Value {
    Target,
    Version,
    Duration,
    Channel,
    Repo,
}

impl Value {
    pub fn placeholder(self) -> &'static str {
        match self {
            Value::Target => "<stage>",
            Value::Version => "v<N>",
            Value::Duration => "<duration>",
            Value::Channel => "#<channel>",
            Value::Repo => "<owner>/<repo>",
        }
    }

    /// What the keyword needs after it, for "`to` needs ..." messages.
    pub fn description(self) -> String {
        match self {
            Value::Target => format!("a stage: {}", stage_list(alternatives)),
            Value::Version => "a release version, like `v42`".to_string(),
            Value::Duration => "a duration, like `30m`, `2h` or `1d`".to_string(),
            Value::Channel => "a channel, like `#deploys`".to_string(),
            Value::Repo => "a GitHub repository, like `heroku/paipu`".to_string(),
        }
    }

    /// `word` as this value, corrected if it is a near miss: what a forgotten keyword
    /// would have introduced (`deploy paipu staging` -> `to staging`).
    pub fn suggest(self, word: &str) -> Option<String> {
        match self {
            Value::Target => target(word)
                .ok()
                .map(|t| t.to_string())
                .or_else(|| closest_stage(word).map(|s| s.to_string())),
            Value::Version => version(word).ok().map(|v| format!("v{v}")),
            Value::Duration => duration(word).ok().map(|_| word.to_lowercase()),
            Value::Channel => match channel(word) {
                Ok(_) => Some(word.to_string()),
                Err(_) => channel_name(word).map(|name| format!("#{name}")),
            },
            Value::Repo => repo(word).ok(),
        }
    }
}

/// Heroku's pipeline name pattern `^[a-z][a-z0-9-]{2,29}$`, after lowercasing.
pub(super) fn pipeline(word: &str) -> Result<String, Problem> {
    let name = word.to_ascii_lowercase();
    if is_name(&name, 3, 30) {
        return Ok(name);
    }
    match word.split_once('/') {
        Some((head, _)) if is_name(&head.to_ascii_lowercase(), 3, 30) => Err(format!(
            "{} is not a pipeline name: only `/h deploy` takes a `<pipeline>/<branch>`.",
            quote(word)
        )),
        _ => Err(format!(
            "{} is not a pipeline name: pipeline names are 3 to 30 letters, digits and dashes, starting with a letter.",
            quote(word)
        )),
    }
}

/// `<pipeline>[/<branch>]`, split at the first `/`: branches may contain `/` themselves.
pub(super) fn pipeline_and_branch(word: &str) -> Result<(String, Option<String>), Problem> {
    let Some((name, branch)) = word.split_once('/') else {
        return Ok((pipeline(word)?, None));
    };
    let name = pipeline(name)?;
    if branch.is_empty() {
        return Err(format!("{} has no branch name after the `/`.", quote(word)));
    }
    if !is_branch(branch) {
        return Err(format!("{} is not a valid branch name.", quote(branch)));
    }
    Ok((name, Some(branch.to_string())))
}

/// `<stage>[/<app>]`.
pub(super) fn target(word: &str) -> Result<Target, Problem> {
    let Some((stage_word, app_word)) = word.split_once('/') else {
        return Ok(Target {
            stage: stage(word)?,
            app: None,
        });
    };
    let stage = stage(stage_word)?;
    if app_word.is_empty() {
        return Err(format!("{} has no app name after the `/`.", quote(word)));
    }
    Ok(Target {
        stage,
        app: Some(app(app_word)?),
    })
}

pub(super) fn stage(word: &str) -> Result<Stage, Problem> {
    if let Some(stage) = Stage::from_word(word) {
        return Ok(stage);
    }
    Err(match closest_stage(word) {
        Some(stage) => format!(
            "{} is not a pipeline stage. Did you mean `{stage}`?",
            quote(word)
        ),
        None => format!(
            "{} is not a pipeline stage. Stages are {}.",
            quote(word),
            stage_list(all_of)
        ),
    })
}

fn closest_stage(word: &str) -> Option<Stage> {
    let found = closest(word, STAGE_WORDS.iter().map(|&(name, _)| name))?;
    Stage::from_word(found)
}

/// The stage names in backticks, joined by `join` (`all_of` or `alternatives`).
fn stage_list(join: fn(&[String]) -> String) -> String {
    let names: Vec<String> = Stage::ALL
        .iter()
        .map(|stage| format!("`{stage}`"))
        .collect();
    join(&names)
}

/// Heroku's app name pattern `^[a-z][a-z0-9-]{1,28}[a-z0-9]$`, after lowercasing.
fn app(word: &str) -> Result<String, Problem> {
    let name = word.to_ascii_lowercase();
    if is_name(&name, 3, 30) && !name.ends_with('-') {
        return Ok(name);
    }
    Err(format!(
        "{} is not a Heroku app name: app names are 3 to 30 letters, digits and dashes, starting with a letter and not ending with a dash.",
        quote(word)
    ))
}

/// Lowercase ASCII letter first, then lowercase letters, digits and dashes.
fn is_name(name: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The rules of `git check-ref-format` that a typed branch name can break, and the
/// 255-byte limit refs have on GitHub. Also refused: `<` and `>`, which only reach us as
/// Slack markup (Slack escapes the ones people type), and backticks, which would break
/// the replies that show the branch.
fn is_branch(branch: &str) -> bool {
    const FORBIDDEN: &[char] = &[' ', '~', '^', ':', '?', '*', '[', '\\', '<', '>', '`'];
    branch.len() <= 255
        && !branch.starts_with(['-', '/'])
        && !branch.ends_with(['/', '.'])
        && !branch.ends_with(".lock")
        && branch != "@"
        && !branch.contains("..")
        && !branch.contains("//")
        && !branch.contains("@{")
        && !branch.contains("/.")
        && !branch.starts_with('.')
        && !branch
            .chars()
            .any(|c| c.is_control() || FORBIDDEN.contains(&c))
}

/// A Heroku 2FA code: 6 digits (TOTP), or a YubiKey OTP (32-64 modhex characters).
pub(super) fn two_factor_code(word: &str) -> Option<String> {
    const MODHEX: &str = "cbdefghijklnrtuv";
    let code = word.to_ascii_lowercase();
    let totp = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
    let yubikey = (32..=64).contains(&code.len()) && code.chars().all(|c| MODHEX.contains(c));
    (totp || yubikey).then_some(code)
}

/// A Heroku release version: `v42` or `42`. Versions start at 1.
pub(super) fn version(word: &str) -> Result<u32, Problem> {
    let digits = word.strip_prefix(['v', 'V']).unwrap_or(word);
    match digits.parse::<u32>() {
        Ok(version) if version > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(version),
        _ => Err(format!(
            "{} is not a release version. Write it like `v42`.",
            quote(word)
        )),
    }
}

const UNITS: [(char, u64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];

/// `30m`, `2h`, `1d`, `1h30m`: numbers with units, as seconds (more than zero).
pub(super) fn duration(word: &str) -> Result<u64, Problem> {
    let invalid = || {
        format!(
            "{} is not a duration. Write it like `30m`, `2h`, `1d` or `1h30m`.",
            quote(word)
        )
    };
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in word.to_ascii_lowercase().chars() {
        if let Some(digit) = c.to_digit(10) {
            let grown = number
                .unwrap_or(0)
                .checked_mul(10)
                .and_then(|n| n.checked_add(digit.into()));
            number = Some(grown.ok_or_else(invalid)?);
            continue;
        }
        let (_, unit) = UNITS
            .iter()
            .find(|(name, _)| *name == c)
            .ok_or_else(invalid)?;
        let seconds = number.take().ok_or_else(invalid)?.checked_mul(*unit);
        total = seconds
            .and_then(|s| total.checked_add(s))
            .ok_or_else(invalid)?;
    }
    // A trailing bare number (`30`) has no unit, and a lock must last some time.
    if number.is_some() || total == 0 {
        return Err(invalid());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_as_written() {
        for (text, seconds) in [
            ("30m", 1800),
            ("2h", 7200),
            ("1d", 86_400),
            ("1h30m", 5400),
            ("90s", 90),
        ] {
            assert_eq!(duration(text), Ok(seconds), "{text}");
        }
    }

    #[test]
    fn bad_durations_are_refused() {
        for text in [
            "30",
            "m",
            "0m",
            "2x",
            "1h30",
            "99999999999999999999d",
            "-1h",
        ] {
            assert!(duration(text).is_err(), "{text}");
        }
    }

    #[test]
    fn branch_names_follow_git_rules() {
        for good in ["main", "feature/x", "Fix-Bug_2", "v1.2.3", "a@b"] {
            assert!(is_branch(good), "{good}");
        }
        for bad in [
            "-x", "x/", "x.lock", "a..b", "a//b", "a@{1}", ".x", "a/.b", "a:b", "@",
        ] {
            assert!(!is_branch(bad), "{bad}");
        }
    }
}
