//! The OAuth `state` of a workspace install: signed, never stored.
//!
//! `GET /slack/install` is open to anyone, so a state row per request let anonymous
//! clients grow the database at will. An install state is instead
//! `i1.<expires>.<nonce>.<tag>`: when it stops working, 128 random bits, and the
//! vault's HMAC over both ([`crate::vault::Vault::sign`], keyed from
//! `ENCRYPTION_KEY`). The callback recomputes the tag, checks the time and insists on
//! the cookie the start page set to the same value ([`cookies`]), so a forged,
//! tampered, expired or leaked state is refused with nothing written. It is not
//! single-use: Slack's code is, and the cookie binds the state to one browser.

use aes_gcm::aead::OsRng;
use aes_gcm::aead::rand_core::RngCore;
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::cookies;
use super::states::{self, LIFETIME_SECS, Purpose, StateError};
use crate::bot::Bot;

const VERSION: &str = "i1";
const NONCE_BYTES: usize = 16;

/// A fresh install state, good for [`LIFETIME_SECS`].
pub fn issue(app: &Bot) -> String {
    let mut nonce = [0u8; NONCE_BYTES];
    OsRng.fill_bytes(&mut nonce);
    let signed = format!(
        "{VERSION}.{}.{}",
        app.clock.now() + LIFETIME_SECS,
        URL_SAFE_NO_PAD.encode(nonce)
    );
    let tag = app.vault.sign(&message(&signed));
    format!("{signed}.{tag}")
}

/// Checks `state` at the install callback: made by this bot, unchanged, in time, and
/// started in this browser. A state of another shape may be a sign-in's: the stored
/// states say which, so the page can name it (a stored install state, from before
/// they were signed, is refused).
pub async fn verify(app: &Bot, state: Option<&str>, headers: &HeaderMap) -> Result<(), StateError> {
    let state = state
        .filter(|state| !state.is_empty())
        .ok_or(StateError::Missing)?;
    let Some((signed, tag)) = state
        .rsplit_once('.')
        .filter(|(signed, _)| signed.starts_with(VERSION))
    else {
        let stored = states::check(app, Purpose::Install, Some(state)).await;
        return Err(stored.err().unwrap_or(StateError::Unknown));
    };
    if !app.vault.verify(&message(signed), tag) {
        return Err(StateError::Unknown);
    }
    let expires: i64 = signed
        .split('.')
        .nth(1)
        .and_then(|at| at.parse().ok())
        .ok_or(StateError::Unknown)?;
    if expires <= app.clock.now() {
        return Err(StateError::Expired);
    }
    if cookies::bound(headers, Purpose::Install) != Some(state) {
        return Err(StateError::OtherBrowser);
    }
    Ok(())
}

/// What is signed: the purpose, so no other signed value passes for a state.
fn message(signed: &str) -> String {
    format!("install_state:{signed}")
}
