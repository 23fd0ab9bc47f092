//! Slack's v0 request signature, as a pure function of its inputs.
//!
//! `v0=` + hex(HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`)), compared in
//! constant time, and a timestamp within five minutes of now. The clock is a parameter
//! so Slack's published vectors can be checked exactly.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Requests older or newer than this (seconds) are refused: Slack's replay window.
pub const MAX_CLOCK_SKEW_SECS: i64 = 5 * 60;

/// Why a request's signature was refused. The text is safe to show to the caller: it
/// never contains the secret, the expected signature, or the one that was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("X-Slack-Request-Timestamp is not a Unix time in seconds")]
    MalformedTimestamp,
    #[error("X-Slack-Request-Timestamp is more than 5 minutes away from now")]
    StaleTimestamp,
    #[error("X-Slack-Signature is not of the form v0=<64 lowercase hex digits>")]
    MalformedSignature,
    #[error("X-Slack-Signature does not match the request body")]
    Mismatch,
}

/// Checks one request. `timestamp` and `signature` are the raw header values.
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let sent_at: i64 = timestamp
        .parse()
        .map_err(|_| SignatureError::MalformedTimestamp)?;
    if now.abs_diff(sent_at) > MAX_CLOCK_SKEW_SECS.unsigned_abs() {
        return Err(SignatureError::StaleTimestamp);
    }
    let sent = signature
        .strip_prefix("v0=")
        // Lowercase only, as Slack sends it: were `A` and `a` both accepted, one request
        // would have many spellings of its signature, and the replay check (which
        // remembers the header as sent) would admit each of them once.
        .filter(|hex| hex.len() == 64 && hex.bytes().all(is_lowercase_hex))
        .and_then(|hex| hex::decode(hex).ok())
        .ok_or(SignatureError::MalformedSignature)?;
    // `verify_slice` compares in constant time, so timing reveals nothing of the
    // expected signature.
    mac(secret, timestamp, body)
        .verify_slice(&sent)
        .map_err(|_| SignatureError::Mismatch)
}

fn is_lowercase_hex(byte: u8) -> bool {
    byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)
}

/// The `X-Slack-Signature` value Slack would send for this request. Used by the
/// sandbox's Slack-like page, the tests and the benchmark to sign as Slack does.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    format!(
        "v0={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    // Slack's own documentation example (reference/slack.md, vector A).
    const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const NOW: i64 = 1531420618;

    #[test]
    fn slacks_documented_example_verifies() {
        assert_eq!(
            verify(SECRET, TIMESTAMP, SIGNATURE, BODY.as_bytes(), NOW),
            Ok(())
        );
        assert_eq!(sign(SECRET, TIMESTAMP, BODY.as_bytes()), SIGNATURE);
    }

    #[test]
    fn slack_morphisms_vector_verifies() {
        let signature = "v0=baa91ef62d346e56607bbdd278a8acd570b91226854f15a382f43d33be42f666";
        let secret = b"fa2c05deeef5a4077494e89f54394de0";
        assert_eq!(
            verify(secret, "1531420618", signature, b"test-body", 1531420620),
            Ok(())
        );
    }

    #[test]
    fn a_changed_body_secret_or_timestamp_is_a_mismatch() {
        let tampered = BODY.replace("roadrunner", "coyote");
        let wrong = |secret: &[u8], ts: &str, body: &str| {
            verify(secret, ts, SIGNATURE, body.as_bytes(), NOW)
        };
        assert_eq!(
            wrong(SECRET, TIMESTAMP, &tampered),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            wrong(b"another-secret", TIMESTAMP, BODY),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            wrong(SECRET, "1531420619", BODY),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_window_is_five_minutes_either_way() {
        let at = |now| verify(SECRET, TIMESTAMP, SIGNATURE, BODY.as_bytes(), now);
        assert_eq!(at(NOW + 300), Ok(()));
        assert_eq!(at(NOW - 300), Ok(()));
        assert_eq!(at(NOW + 301), Err(SignatureError::StaleTimestamp));
        assert_eq!(at(NOW - 301), Err(SignatureError::StaleTimestamp));
    }

    #[test]
    fn ill_formed_headers_are_named() {
        let check = |ts: &str, sig: &str| verify(SECRET, ts, sig, BODY.as_bytes(), NOW);
        assert_eq!(
            check("soon", SIGNATURE),
            Err(SignatureError::MalformedTimestamp)
        );
        assert_eq!(
            check("", SIGNATURE),
            Err(SignatureError::MalformedTimestamp)
        );
        assert_eq!(
            check(TIMESTAMP, "v1=abc"),
            Err(SignatureError::MalformedSignature)
        );
        assert_eq!(
            check(TIMESTAMP, &SIGNATURE[..40]),
            Err(SignatureError::MalformedSignature)
        );
        assert_eq!(
            check(
                TIMESTAMP,
                &SIGNATURE.to_ascii_uppercase().replace("V0=", "v0=")
            ),
            Err(SignatureError::MalformedSignature)
        );
        let not_hex = format!("v0={}", "z".repeat(64));
        assert_eq!(
            check(TIMESTAMP, &not_hex),
            Err(SignatureError::MalformedSignature)
        );
    }
}
