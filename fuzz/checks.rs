#![allow(dead_code)] // each fuzz binary uses one check; the corpus test uses them all
//! What each fuzz target checks, one function per target, each taking the raw input.
//! Shared by the libFuzzer binaries (`fuzz_targets/`) and by the main crate's
//! `tests/fuzz_corpus.rs`, which replays the kept corpus and every input that ever
//! crashed (`regressions/<target>/`) on every `cargo test`.
//!
//! Every check must hold for any input: no panic, and the properties asserted here.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chatops::accounts::CallbackQuery;
use chatops::edge::RequestError;
use chatops::edge::events::EventBody;
use chatops::edge::interactions::InteractionForm;
use chatops::edge::signed::{Encoding, SlackForm};
use chatops::edge::slash::SlashCommandForm;
use chatops::slack::verify::{sign, verify};
use chatops::webhooks::verify_delivery;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a target checks on one input.
pub type Check = fn(&[u8]);

/// Every target: its name (a binary in `fuzz_targets/`, a folder in `corpus/`) and
/// its check.
pub const TARGETS: [(&str, Check); 7] = [
    ("grammar", grammar),
    ("slash_form", slash_form),
    ("slack_signature", slack_signature),
    ("heroku_webhook", heroku_webhook),
    ("oauth_callback", oauth_callback),
    ("interaction_payload", interaction_payload),
    ("event_body", event_body),
];

/// Parts of one input, split on 0xFF (a byte that never occurs in UTF-8).
fn parts(data: &[u8], count: usize) -> Vec<&[u8]> {
    let mut parts: Vec<&[u8]> = data.splitn(count, |byte| *byte == 0xFF).collect();
    parts.resize(count, &[]);
    parts
}

/// The `/h` grammar: any text parses to a command or to an error message; whatever
/// parses can be named, echoed back and redacted for the audit trail, where the text
/// as typed keeps no trace of its 2FA code (which was typed, up to ASCII case: the
/// parser lowercases a YubiKey OTP).
pub fn grammar(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match chatops::command::parse(text) {
        Ok(command) => {
            let _ = (command.name(), command.redacted());
            if let Some(code) = command.two_factor_code() {
                let typed = text.to_ascii_lowercase();
                assert!(typed.contains(code), "a code that was not typed: {code}");
                let recorded = command.redacted_text(text).to_ascii_lowercase();
                assert!(!recorded.contains(code), "the code is left in {recorded:?}");
            }
        }
        Err(error) => assert!(!error.to_string().is_empty(), "an empty error message"),
    }
}

/// Slash-command form decoding: any body decodes to the form or is refused, and a
/// form that passes validation names its team, channel and user.
pub fn slash_form(data: &[u8]) {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(form) = serde_urlencoded::from_str::<SlashCommandForm>(body) else {
        return;
    };
    if form.validate().is_ok() && form.ssl_check.is_none() {
        let named = [&form.team_id, &form.channel_id, &form.user_id];
        assert!(named.iter().all(|value| !value.is_empty()), "{form:?}");
    }
    grammar(form.text.as_bytes());
}

/// Slack's v0 signature check, on secret, timestamp, signature and body: refused or
/// accepted without a panic; what `sign` makes verifies at its own timestamp, and
/// never for another body.
pub fn slack_signature(data: &[u8]) {
    let [secret, timestamp, signature, body] = parts(data, 4)[..] else {
        unreachable!("parts gives exactly four");
    };
    let timestamp = String::from_utf8_lossy(timestamp);
    let signature = String::from_utf8_lossy(signature);
    let sent_at = timestamp.parse::<i64>();
    let now = *sent_at.as_ref().unwrap_or(&1_531_420_618);
    let _ = verify(secret, &timestamp, &signature, body, now);
    if sent_at.is_ok() {
        let genuine = sign(secret, &timestamp, body);
        assert_eq!(verify(secret, &timestamp, &genuine, body, now), Ok(()));
        let other = [body, b"x"].concat();
        assert!(verify(secret, &timestamp, &genuine, &other, now).is_err());
    }
}

/// Heroku webhook deliveries, on signature header and body: refused or accepted
/// without a panic; the body signed with the secret is accepted.
pub fn heroku_webhook(data: &[u8]) {
    const SECRET: &[u8] = b"fuzzing webhook secret";
    let [signature, body] = parts(data, 2)[..] else {
        unreachable!("parts gives exactly two");
    };
    let _ = verify_delivery(SECRET, &String::from_utf8_lossy(signature), body);
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET).expect("any key length");
    mac.update(body);
    let genuine = STANDARD.encode(mac.finalize().into_bytes());
    assert!(verify_delivery(SECRET, &genuine, body).is_ok());
}

/// The OAuth callbacks' query strings (`code`, `state`, `error`, as a provider or a
/// forger sends them) decode or are refused without a panic.
pub fn oauth_callback(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(decoded) = serde_urlencoded::from_str::<CallbackQuery>(query) {
        let _ = (decoded.code, decoded.state, decoded.error);
    }
}

/// `POST /slack/interactions` bodies (`payload=<url-encoded JSON>`), decoded as the
/// signed extractor and the handler do: UTF-8, the form into `InteractionForm`, then
/// `InteractionForm::decoded` (which `validate` calls before the signature is claimed,
/// and the handler calls again after). Whatever passes `validate` decodes in the
/// handler too, to the same payload, and to the same again when the payload string is
/// re-encoded as Slack encodes it; a refusal is a 400 that says what was wrong.
pub fn interaction_payload(data: &[u8]) {
    // The extractor refuses a body that is not UTF-8 before decoding anything.
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let form = match serde_urlencoded::from_str::<InteractionForm>(body) {
        Ok(form) => form,
        Err(error) => {
            assert!(!error.to_string().is_empty(), "an empty form error");
            return;
        }
    };
    let decoded = form.decoded();
    assert_eq!(
        form.validate().is_ok(),
        decoded.is_ok(),
        "validate and the handler disagree on {:?}",
        form.payload
    );
    let slack_encoded = serde_urlencoded::to_string([("payload", form.payload.as_str())])
        .expect("any string encodes");
    let again: InteractionForm =
        serde_urlencoded::from_str(&slack_encoded).expect("what the form encoder makes decodes");
    assert_eq!(again.payload, form.payload, "the form encoding round-trips");
    match (&decoded, &again.decoded()) {
        (Ok(payload), Ok(same)) => {
            assert_eq!(
                payload, same,
                "decoding {:?} is deterministic",
                form.payload
            );
            assert_eq!(form.decoded().ok().as_ref(), Some(payload));
        }
        (Err(error), Err(same)) => {
            let RequestError::MalformedForm(reason) = error else {
                panic!("a refusal other than a malformed form: {error:?}");
            };
            assert!(!reason.is_empty(), "an empty refusal");
            let said = error.to_string();
            assert!(
                said.starts_with(
                    "request body is not a valid form: `payload` must be Slack's interaction JSON"
                ),
                "{said}"
            );
            assert_eq!(said, same.to_string(), "the refusal is deterministic");
        }
        (first, second) => panic!(
            "decoding {:?} is not deterministic: {first:?} then {second:?}",
            form.payload
        ),
    }
}

/// A `/slack/events` body, decoded and validated as the extractor does before the
/// signature is claimed: either an envelope that passes, or a `MalformedJson` 400
/// with a reason, the same every time.
pub fn event_body(data: &[u8]) {
    // The extractor refuses a body that is not UTF-8 before decoding anything.
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let checked = |body: &str| match Encoding::Json.decode::<EventBody>(body) {
        Ok(event) => event.validate().map_err(|error| error.to_string()),
        Err(error) => Err(error.to_string()),
    };
    let first = checked(body);
    if let Err(reason) = &first {
        assert!(
            reason.starts_with("request body is not valid JSON: ") && reason.len() > 32,
            "a refusal other than a malformed JSON body: {reason}"
        );
    }
    assert_eq!(first, checked(body), "checking {body:?} is deterministic");
}
