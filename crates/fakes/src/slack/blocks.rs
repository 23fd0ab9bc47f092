//! Message content checked the way Slack checks it: some text or blocks (`no_text`),
//! text within 40,000 characters (`msg_too_long`), and Block Kit blocks that hold
//! together (`invalid_blocks`): known block types, text objects where Slack requires
//! them, and its documented limits on counts and lengths.
//!
//! The block types known here are the ones a bot posts (section, context, actions
//! with buttons, header, divider, image); others are refused.

use serde_json::Value;

use super::params::{Params, Refusal};

const MAX_TEXT: usize = 40_000;
const MAX_BLOCKS: usize = 50;

/// A message's text and blocks as given (`blocks: None` when the call sent none).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Content {
    pub text: String,
    pub blocks: Option<Vec<Value>>,
}

/// The checked content of a post, an update or a `response_url` body.
pub(super) fn content(params: &Params) -> Result<Content, Refusal> {
    let text = params.str("text").unwrap_or_default().to_owned();
    let blocks = params.blocks()?;
    let blocks_shown = blocks.as_ref().is_some_and(|blocks| !blocks.is_empty());
    if text.is_empty() && !blocks_shown {
        return Err(Refusal::Error("no_text"));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(Refusal::Error("msg_too_long"));
    }
    if let Some(blocks) = &blocks {
        if !valid_blocks(blocks, MAX_BLOCKS) {
            return Err(Refusal::Error("invalid_blocks"));
        }
    }
    Ok(Content { text, blocks })
}

/// At most `most` blocks (50 in a message, 100 in a view), each well formed.
pub(super) fn valid_blocks(blocks: &[Value], most: usize) -> bool {
    blocks.len() <= most && blocks.iter().all(block)
}

fn block(block: &Value) -> bool {
    let shape_ok = match block.get("type").and_then(Value::as_str) {
        Some("section") => section(block),
        Some("context") => elements(block, 10, |e| text_object(e, 3000) || image(e)),
        Some("actions") => elements(block, 25, button),
        Some("header") => block.get("text").is_some_and(|text| plain_text(text, 150)),
        Some("divider") => true,
        Some("image") => image(block),
        _ => false,
    };
    shape_ok && optional_str(block, "block_id", 255)
}

/// A section needs a text, or fields, or both.
fn section(block: &Value) -> bool {
    let text = block.get("text");
    let fields = block.get("fields");
    let text_ok = text.is_none_or(|text| text_object(text, 3000));
    let fields_ok = fields.is_none_or(|fields| {
        fields
            .as_array()
            .is_some_and(|f| (1..=10).contains(&f.len()) && f.iter().all(|f| text_object(f, 2000)))
    });
    (text.is_some() || fields.is_some()) && text_ok && fields_ok
}

fn elements(block: &Value, most: usize, element: fn(&Value) -> bool) -> bool {
    let elements = block.get("elements").and_then(Value::as_array);
    elements.is_some_and(|elements| {
        (1..=most).contains(&elements.len()) && elements.iter().all(element)
    })
}

fn button(element: &Value) -> bool {
    element.get("type").and_then(Value::as_str) == Some("button")
        && element.get("text").is_some_and(|text| plain_text(text, 75))
        && optional_str(element, "action_id", 255)
        && optional_str(element, "value", 2000)
        && element
            .get("style")
            .is_none_or(|style| matches!(style.as_str(), Some("primary" | "danger")))
        && element.get("confirm").is_none_or(confirm)
}

fn confirm(dialog: &Value) -> bool {
    dialog.get("title").is_some_and(|t| plain_text(t, 100))
        && dialog.get("text").is_some_and(|t| text_object(t, 300))
        && dialog.get("confirm").is_some_and(|t| plain_text(t, 30))
        && dialog.get("deny").is_some_and(|t| plain_text(t, 30))
}

fn image(element: &Value) -> bool {
    element
        .get("image_url")
        .and_then(Value::as_str)
        .is_some_and(|url| !url.is_empty())
        && element
            .get("alt_text")
            .and_then(Value::as_str)
            .is_some_and(|alt| !alt.is_empty())
}

/// `{"type": "plain_text" | "mrkdwn", "text": "…"}` with 1 to `most` characters.
fn text_object(text: &Value, most: usize) -> bool {
    matches!(
        text.get("type").and_then(Value::as_str),
        Some("plain_text" | "mrkdwn")
    ) && text_within(text, most)
}

fn plain_text(text: &Value, most: usize) -> bool {
    text.get("type").and_then(Value::as_str) == Some("plain_text") && text_within(text, most)
}

fn text_within(text: &Value, most: usize) -> bool {
    let length = text
        .get("text")
        .and_then(Value::as_str)
        .map(|text| text.chars().count());
    length.is_some_and(|length| (1..=most).contains(&length))
}

fn optional_str(object: &Value, name: &str, most: usize) -> bool {
    object.get(name).is_none_or(|value| {
        value
            .as_str()
            .is_some_and(|value| value.chars().count() <= most)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue, header};
    use serde_json::json;

    fn check(body: Value) -> Result<Content, Refusal> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        content(&Params::parse(&headers, None, body.to_string().as_bytes()).unwrap())
    }

    #[test]
    fn text_or_blocks_are_required_and_text_is_bounded() {
        assert_eq!(
            check(json!({"channel": "C0DEPLOYS"})),
            Err(Refusal::Error("no_text"))
        );
        assert_eq!(
            check(json!({"text": "", "blocks": []})),
            Err(Refusal::Error("no_text"))
        );
        assert_eq!(
            check(json!({"text": "x".repeat(40_001)})),
            Err(Refusal::Error("msg_too_long"))
        );
        let at_limit = check(json!({"text": "x".repeat(40_000)})).unwrap();
        assert_eq!(at_limit.text.len(), 40_000);
    }

    #[test]
    fn malformed_blocks_are_refused() {
        let invalid = Err(Refusal::Error("invalid_blocks"));
        assert_eq!(
            check(json!({"blocks": [{"type": "section"}]})),
            invalid,
            "a section without text"
        );
        assert_eq!(
            check(json!({"blocks": [{"type": "section", "text": "plain string"}]})),
            invalid
        );
        assert_eq!(
            check(json!({"blocks": [{"type": "context", "elements": []}]})),
            invalid
        );
        assert_eq!(check(json!({"blocks": [{"type": "carousel"}]})), invalid);
        let mrkdwn_button = json!({"type": "button", "text": {"type": "mrkdwn", "text": "Go"}});
        assert_eq!(
            check(json!({"blocks": [{"type": "actions", "elements": [mrkdwn_button]}]})),
            invalid
        );
        let too_many: Vec<Value> = (0..51).map(|_| json!({"type": "divider"})).collect();
        assert_eq!(check(json!({"blocks": too_many})), invalid);
    }

    #[test]
    fn well_formed_blocks_pass_without_text() {
        let blocks = json!([
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Deployed*"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "in 43s"}]},
            {"type": "actions", "block_id": "deploy:1", "elements": [
                {"type": "button", "action_id": "rollback", "value": "1", "style": "danger",
                 "text": {"type": "plain_text", "text": "Roll back"}}
            ]}
        ]);
        let content = check(json!({"blocks": blocks})).unwrap();
        assert_eq!(
            content,
            Content {
                text: String::new(),
                blocks: Some(blocks.as_array().unwrap().clone())
            }
        );
    }
}
