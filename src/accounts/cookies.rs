//! The cookies that bind a sign-in to the browser that started it. A link's start page
//! sets the Sign in with Slack cookie (which provider, and the `nonce` the ID token must
//! carry); once Slack says this browser is the person the state is for, the provider
//! cookie is set to the state, and the provider's callback refuses a state without it.
//! A link or callback URL that leaks (sent on, history, a screenshot, a proxy log) then
//! cannot be finished from another browser. HttpOnly, `SameSite=Lax` (the redirects
//! back are top-level GETs, which still carry it), scoped to the narrowest path,
//! `Secure` behind https.

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

/// The Sign in with Slack cookie, and its path (covering only its callback).
const SIGN_IN: (&str, &str) = ("chatops_slack_sign_in", "/auth/slack");

/// The `Set-Cookie` that binds this browser to `state`.
pub fn bind(app: &Bot, purpose: Purpose, state: &str) -> HeaderValue {
    header_value(app, (name(purpose), path(purpose)), state, LIFETIME_SECS)
}

/// The `Set-Cookie` that forgets the binding once the state is used.
pub fn clear(app: &Bot, purpose: Purpose) -> HeaderValue {
    header_value(app, (name(purpose), path(purpose)), "", 0)
}

/// The `Set-Cookie` that remembers, until Slack sends the browser back, which
/// provider it is linking and the sign-in's nonce (both URL-safe).
pub fn bind_sign_in(app: &Bot, provider: Provider, nonce: &str) -> HeaderValue {
    let value = format!("{}.{nonce}", provider.key());
    header_value(app, SIGN_IN, &value, LIFETIME_SECS)
}

/// The PKCE verifier cookie of `provider`, and its path (the provider's callback).
fn pkce_cookie(provider: Provider) -> (&'static str, &'static str) {
    match provider {
        Provider::Heroku => ("chatops_pkce_heroku", "/auth/heroku"),
        Provider::GitHub => ("chatops_pkce_github", "/auth/github"),
    }
}

/// The `Set-Cookie` that keeps `provider`'s PKCE verifier in this browser until its
/// callback: a code leaked from the callback URL is useless without it.
pub fn bind_pkce(app: &Bot, provider: Provider, verifier: &str) -> HeaderValue {
    header_value(app, pkce_cookie(provider), verifier, LIFETIME_SECS)
}

/// The `Set-Cookie` that forgets the verifier once the code was exchanged.
pub fn clear_pkce(app: &Bot, provider: Provider) -> HeaderValue {
    header_value(app, pkce_cookie(provider), "", 0)
}

/// This browser's PKCE verifier for `provider`, if any.
pub fn pkce(headers: &HeaderMap, provider: Provider) -> Option<&str> {
    value(headers, pkce_cookie(provider).0).filter(|verifier| !verifier.is_empty())
}

/// The `Set-Cookie` that forgets the sign-in once it was used.
pub fn clear_sign_in(app: &Bot) -> HeaderValue {
    header_value(app, SIGN_IN, "", 0)
}

/// The provider and nonce this browser's sign-in was started for, if any.
pub fn sign_in(headers: &HeaderMap) -> Option<(Provider, &str)> {
    let (provider, nonce) = value(headers, SIGN_IN.0)?.split_once('.')?;
    let provider = Provider::ALL.into_iter().find(|p| p.key() == provider)?;
    (!nonce.is_empty()).then_some((provider, nonce))
}

fn header_value(app: &Bot, (name, path): (&str, &str), value: &str, max_age: i64) -> HeaderValue {
    let secure = if app.config.base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie =
        format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&cookie).expect("states and nonces are URL-safe base64")
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
