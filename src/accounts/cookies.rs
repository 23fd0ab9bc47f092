//! The cookie that binds a sign-in to the browser that started it: the start page sets
//! it to the state, and the callback refuses a state without it. A callback URL that
//! leaks (history, a screenshot, a proxy log) then cannot be finished from another
//! browser. HttpOnly, `SameSite=Lax` (the provider's redirect back is a top-level GET,
//! which still carries it), scoped to the provider's paths, `Secure` behind https.

use axum::http::{HeaderMap, HeaderValue, header};

use super::Provider;
use super::states::{LIFETIME_SECS, Purpose};
use crate::bot::Bot;

fn name(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Link(Provider::Heroku) => "chatops_oauth_heroku",
        Purpose::Link(Provider::GitHub) => "chatops_oauth_github",
        Purpose::Install => "chatops_oauth_slack",
    }
}

/// The narrowest path covering both the start and the callback.
fn path(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Link(Provider::Heroku) => "/auth/heroku",
        Purpose::Link(Provider::GitHub) => "/auth/github",
        Purpose::Install => "/slack",
    }
}

/// The `Set-Cookie` that binds this browser to `state`.
pub fn bind(app: &Bot, purpose: Purpose, state: &str) -> HeaderValue {
    header_value(app, purpose, state, LIFETIME_SECS)
}

/// The `Set-Cookie` that forgets the binding once the state is used.
pub fn clear(app: &Bot, purpose: Purpose) -> HeaderValue {
    header_value(app, purpose, "", 0)
}

fn header_value(app: &Bot, purpose: Purpose, value: &str, max_age: i64) -> HeaderValue {
    let secure = if app.config.base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={value}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        name(purpose),
        path(purpose)
    );
    HeaderValue::from_str(&cookie).expect("states are URL-safe base64")
}

/// The state this browser was bound to for `purpose`, if any.
pub fn bound(headers: &HeaderMap, purpose: Purpose) -> Option<&str> {
    value(headers, name(purpose))
}

fn value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; chatops_oauth_github=xyz"),
        );
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("chatops_oauth_heroku=abc"),
        );
        assert_eq!(value(&headers, "chatops_oauth_heroku"), Some("abc"));
        assert_eq!(value(&headers, "chatops_oauth_github"), Some("xyz"));
        assert_eq!(value(&headers, "chatops_oauth_slack"), None);
    }
}
