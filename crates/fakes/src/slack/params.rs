//! A Web API request as Slack reads it: arguments from the query string and from a
//! JSON or form body, the token from `Authorization: Bearer` (or a form `token`),
//! client credentials from HTTP basic auth; and the answer as Slack writes it
//! (HTTP 200 with `ok`, except 429 for pacing).

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value, json};

/// Why Slack said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// `{"ok": false, "error": code}` with HTTP 200.
    Error(&'static str),
    /// The same, with Slack's explanation in `response_metadata.messages`.
    Explained(&'static str, &'static str),
    /// HTTP 429 with `Retry-After` in seconds.
    RateLimited { retry_after_secs: u64 },
}

/// The fields of a successful answer (`ok: true` is added), or the refusal.
pub(super) type Answer = Result<Map<String, Value>, Refusal>;

/// The arguments of one Web API call.
#[derive(Debug, Default)]
pub(super) struct Params {
    fields: Map<String, Value>,
    bearer: Option<String>,
    /// `(client_id, client_secret)` from `Authorization: Basic`.
    pub basic: Option<(String, String)>,
    /// JSON bodies must carry the token in the header, as Slack requires.
    body_is_json: bool,
}

impl Params {
    /// Reads the query string and the body (JSON if its content type says so, form
    /// otherwise); body fields win over query fields.
    pub fn parse(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Result<Params, Refusal> {
        let mut params = Params {
            fields: form_fields(query.unwrap_or("").as_bytes())?,
            ..Params::default()
        };
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        if content_type.starts_with("application/json") {
            params.body_is_json = true;
            match serde_json::from_slice(body).map_err(|_| Refusal::Error("invalid_json"))? {
                Value::Object(fields) => params.fields.extend(fields),
                _ => return Err(Refusal::Error("json_not_object")),
            }
        } else {
            params.fields.extend(form_fields(body)?);
        }
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        params.bearer = authorization.strip_prefix("Bearer ").map(str::to_owned);
        params.basic = authorization
            .strip_prefix("Basic ")
            .and_then(basic_credentials);
        Ok(params)
    }

    /// A non-empty string argument.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty())
    }

    /// A whole-number argument: a JSON number, or a string of digits as forms and
    /// query strings send it.
    pub fn number(&self, name: &str) -> Option<u64> {
        match self.fields.get(name)? {
            Value::Number(number) => number.as_u64(),
            Value::String(text) => text.parse().ok(),
            _ => None,
        }
    }

    /// An argument as sent.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// A boolean argument: JSON `true`, or `"true"`/`"1"` as forms send it.
    pub fn flag(&self, name: &str) -> bool {
        match self.fields.get(name) {
            Some(Value::Bool(value)) => *value,
            Some(Value::String(value)) => value == "true" || value == "1",
            _ => false,
        }
    }

    /// `blocks`: a JSON array, or (in forms) a string holding one.
    pub fn blocks(&self) -> Result<Option<Vec<Value>>, Refusal> {
        let blocks = match self.fields.get("blocks") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(text)) => {
                serde_json::from_str(text).map_err(|_| Refusal::Error("invalid_blocks_format"))?
            }
            Some(other) => other.clone(),
        };
        match blocks {
            Value::Array(blocks) => Ok(Some(blocks)),
            _ => Err(Refusal::Error("invalid_blocks_format")),
        }
    }

    /// The token the call acts with.
    pub fn token(&self) -> Option<&str> {
        let from_form = if self.body_is_json {
            None
        } else {
            self.str("token")
        };
        self.bearer.as_deref().or(from_form)
    }
}

fn form_fields(body: &[u8]) -> Result<Map<String, Value>, Refusal> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|_| Refusal::Error("invalid_form_data"))?;
    Ok(pairs
        .into_iter()
        .map(|(name, value)| (name, Value::String(value)))
        .collect())
}

fn basic_credentials(encoded: &str) -> Option<(String, String)> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// The HTTP response for an answer.
pub(super) fn reply(answer: Answer) -> Response {
    match answer {
        Ok(mut fields) => {
            fields.insert("ok".into(), Value::Bool(true));
            Json(Value::Object(fields)).into_response()
        }
        Err(Refusal::Error(code)) => refusal_body(code).into_response(),
        Err(Refusal::Explained(code, message)) => Json(json!({
            "ok": false, "error": code, "response_metadata": {"messages": [message]}
        }))
        .into_response(),
        Err(Refusal::RateLimited { retry_after_secs }) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry_after_secs.to_string())],
            refusal_body("ratelimited"),
        )
            .into_response(),
    }
}

/// Slack's body for every refusal.
pub(super) fn refusal_body(code: &str) -> Json<Value> {
    Json(json!({"ok": false, "error": code}))
}

/// The fields of a `json!({...})` object literal.
pub(super) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(fields) => fields,
        _ => unreachable!("called with an object literal"),
    }
}

/// What the log records for an answer: its HTTP status and error code.
pub(super) fn outcome(answer: &Answer) -> (u16, Option<&'static str>) {
    match answer {
        Ok(_) => (200, None),
        Err(Refusal::Error(code) | Refusal::Explained(code, _)) => (200, Some(code)),
        Err(Refusal::RateLimited { .. }) => (429, Some("ratelimited")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn forms_carry_blocks_as_json_text_and_flags_as_words() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer xoxb-1"),
        );
        let body =
            b"channel=C0DEPLOYS&reply_broadcast=true&blocks=%5B%7B%22type%22%3A%22divider%22%7D%5D";
        let params = Params::parse(&headers, Some("text=hi"), body).unwrap();
        assert_eq!(params.token(), Some("xoxb-1"));
        assert_eq!(params.str("text"), Some("hi"));
        assert!(params.flag("reply_broadcast"));
        assert_eq!(
            params.blocks().unwrap(),
            Some(vec![json!({"type": "divider"})])
        );
    }

    #[test]
    fn json_bodies_take_the_token_only_from_the_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        let params = Params::parse(
            &headers,
            None,
            br#"{"token":"xoxb-1","blocks":{"type":"divider"}}"#,
        )
        .unwrap();
        assert_eq!(params.token(), None);
        assert_eq!(
            params.blocks(),
            Err(Refusal::Error("invalid_blocks_format"))
        );
        assert_eq!(
            Params::parse(&headers, None, b"[1]").unwrap_err(),
            Refusal::Error("json_not_object")
        );
    }

    #[test]
    fn basic_auth_carries_client_credentials() {
        assert_eq!(
            basic_credentials("aWQ6c2VjcmV0"),
            Some(("id".into(), "secret".into()))
        );
        assert_eq!(basic_credentials("not base64!"), None);
    }
}
