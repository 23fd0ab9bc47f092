//! The values people paste as Slack links or URLs: channels (`<#C123|deploys>`) and
//! GitHub repositories (`<https://github.com/o/r>`), next to the plain forms they type.

use super::Channel;
use super::error::quote;
use super::values::Problem;

/// `<#C123|deploys>`, `<#C123|>` or `<#C123>` as Slack sends a channel link, or `#deploys`.
pub(super) fn channel(word: &str) -> Result<Channel, Problem> {
    let invalid = || {
        format!(
            "{} is not a Slack channel. Write it like `#deploys`.",
            quote(word)
        )
    };
    if let Some(link) = word
        .strip_prefix("<#")
        .and_then(|rest| rest.strip_suffix('>'))
    {
        let (id, name) = link.split_once('|').unwrap_or((link, ""));
        let is_id = id.len() >= 2
            && id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let name = match name {
            "" => None,
            name => Some(channel_name(name).ok_or_else(invalid)?),
        };
        return if is_id {
            Ok(Channel {
                id: Some(id.to_string()),
                name,
            })
        } else {
            Err(invalid())
        };
    }
    if let Some(name) = word.strip_prefix('#') {
        let name = channel_name(name).ok_or_else(invalid)?;
        return Ok(Channel {
            id: None,
            name: Some(name),
        });
    }
    match channel_name(word) {
        Some(name) => Err(format!(
            "{} is not a channel. Write it as `#{name}`.",
            quote(word)
        )),
        None => Err(invalid()),
    }
}

/// Slack channel names: up to 80 letters, digits, dashes and underscores, lowercased.
pub(super) fn channel_name(name: &str) -> Option<String> {
    let name = name.to_lowercase();
    let valid = (1..=80).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    valid.then_some(name)
}

/// `owner/repo`, also pasted as a GitHub URL (Slack turns `github.com/o/r` into
/// `<http://github.com/o/r|github.com/o/r>`). Case is kept: GitHub shows it as created.
pub(super) fn repo(word: &str) -> Result<String, Problem> {
    let unlinked = word
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
        .map_or(word, |link| {
            link.split_once('|').map_or(link, |(url, _)| url)
        });
    let path = ["https://", "http://"]
        .iter()
        .find_map(|scheme| unlinked.strip_prefix(scheme))
        .unwrap_or(unlinked);
    let path = path.strip_prefix("www.").unwrap_or(path);
    let path = path.strip_prefix("github.com/").unwrap_or(path);
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    match path.split_once('/') {
        Some((owner, name)) if is_github_owner(owner) && is_github_repo(name) => {
            Ok(format!("{owner}/{name}"))
        }
        _ => Err(format!(
            "{} is not a GitHub repository. Write it as `<owner>/<repo>`, like `heroku/paipu`.",
            quote(word)
        )),
    }
}

/// GitHub user and organization names: 1-39 letters, digits and inner dashes.
fn is_github_owner(owner: &str) -> bool {
    (1..=39).contains(&owner.len())
        && !owner.starts_with('-')
        && !owner.ends_with('-')
        && owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// GitHub repository names: up to 100 letters, digits, `.`, `-` and `_`, but not `.`/`..`.
fn is_github_repo(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}
