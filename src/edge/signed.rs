//! The axum extractor that admits only genuine, fresh, first-seen Slack requests.
//!
//! Used by every endpoint Slack calls (`/slack/commands`, `/slack/interactions`,
//! `/slack/events`). It checks the content type, caps the body, verifies the v0
//! signature on the raw bytes, and only then decodes the body (a form, or the Events
//! API's JSON) and claims the signature in the store, so a request that fails any
//! check writes nothing. [`Verified`] leaves the claim to the handler,
//! which makes it part of its own write.

use axum::body::to_bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;

use crate::bot::BotState;
use crate::edge::RequestError;
use crate::slack::verify::verify;

/// Slack's bodies are a few KiB; anything larger is not from Slack.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
const SIGNATURE_HEADER: &str = "x-slack-signature";
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
const JSON_CONTENT_TYPE: &str = "application/json";

/// How Slack encodes a body: commands and interactions are forms, events are JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Form,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Form => FORM_CONTENT_TYPE,
            Encoding::Json => JSON_CONTENT_TYPE,
        }
    }

    /// `text` decoded as the extractor decodes it (public for the fuzz targets).
    pub fn decode<T: DeserializeOwned>(self, text: &str) -> Result<T, RequestError> {
        match self {
            Encoding::Form => serde_urlencoded::from_str(text)
                .map_err(|e| RequestError::MalformedForm(e.to_string())),
            Encoding::Json => {
                serde_json::from_str(text).map_err(|e| RequestError::MalformedJson(e.to_string()))
            }
        }
    }
}

/// A body Slack sends. `validate` runs before the signature is claimed, so a body that
/// decodes but lacks what the handler needs is refused without writing anything.
pub trait SlackForm: DeserializeOwned + Send {
    /// Forms, unless said otherwise.
    const ENCODING: Encoding = Encoding::Form;
    fn validate(&self) -> Result<(), RequestError>;
}

/// A form body that Slack signed, decoded into `T`, whose signature is claimed: a
/// replay of it is refused.
#[derive(Debug)]
pub struct SignedForm<T>(pub T);

impl<T: SlackForm> FromRequest<BotState> for SignedForm<T> {
    type Rejection = RequestError;

    async fn from_request(request: Request, state: &BotState) -> Result<Self, RequestError> {
        let verified = Verified::<T>::from_request(request, state).await?;
        if !state
            .store
            .claim_signature(&verified.signature, verified.now)
            .await?
        {
            return Err(RequestError::Replayed);
        }
        Ok(SignedForm(verified.form))
    }
}

/// A form body that Slack signed, decoded into `T`, whose signature the handler must
/// still claim, in the same transaction as what it writes (one commit per request on
/// the hot path of `/slack/commands`).
#[derive(Debug)]
pub struct Verified<T> {
    pub form: T,
    pub signature: String,
    /// When it was verified (Unix seconds).
    pub now: i64,
}

impl<T: SlackForm> FromRequest<BotState> for Verified<T> {
    type Rejection = RequestError;

    async fn from_request(request: Request, state: &BotState) -> Result<Self, RequestError> {
        let (parts, body) = request.into_parts();
        require_content_type(&parts.headers, T::ENCODING.content_type())?;
        let timestamp = single_header(&parts.headers, TIMESTAMP_HEADER)?.to_owned();
        let signature = single_header(&parts.headers, SIGNATURE_HEADER)?.to_owned();
        if declared_length(&parts.headers).is_some_and(|len| len > MAX_BODY_BYTES) {
            return Err(RequestError::BodyTooLarge);
        }
        let body = to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| RequestError::BodyTooLarge)?;

        let now = state.clock.now();
        let secret = state.config.slack_signing_secret.expose_secret().as_bytes();
        verify(secret, &timestamp, &signature, &body, now)?;

        let text = std::str::from_utf8(&body).map_err(|_| RequestError::NotUtf8)?;
        let form: T = T::ENCODING.decode(text)?;
        form.validate()?;
        Ok(Verified {
            form,
            signature,
            now,
        })
    }
}

fn require_content_type(headers: &HeaderMap, expected: &'static str) -> Result<(), RequestError> {
    let content_type = single_header(headers, header::CONTENT_TYPE.as_str())
        .map_err(|_| RequestError::UnsupportedMediaType(expected))?;
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(RequestError::UnsupportedMediaType(expected))
    }
}

/// The value of a header that must appear exactly once, as visible ASCII.
fn single_header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, RequestError> {
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or(RequestError::MissingHeader(name))?;
    if values.next().is_some() {
        return Err(RequestError::DuplicateHeader(name));
    }
    value
        .to_str()
        .map_err(|_| RequestError::MalformedHeader(name))
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}
