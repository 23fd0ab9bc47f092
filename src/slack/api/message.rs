//! What the bot posts: a notification text plus a few Block Kit blocks (sections,
//! context lines, a row of buttons). Callers build a [`Message`] with plain strings;
//! turning it into slack-morphism's Block Kit types happens here and nowhere else.
//!
//! The text is not optional: Slack shows it in notifications and to screen readers
//! when blocks are present, and alone when they are not.

use slack_morphism::prelude::{
    SlackActionBlockElement, SlackActionId, SlackActionsBlock, SlackBlock, SlackBlockButtonElement,
    SlackBlockButtonStyle, SlackBlockConfirmItem, SlackBlockId, SlackBlockMarkDownText,
    SlackBlockPlainText, SlackBlockText, SlackContextBlock, SlackContextBlockElement,
    SlackMessageContent, SlackSectionBlock,
};

/// A message: `text` (the notification fallback) and the blocks shown in its place.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<Block>,
}

/// One Block Kit block; every text in it is Slack mrkdwn unless said otherwise.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Block {
    /// A paragraph.
    Section(String),
    /// Small grey lines under the message (who asked, how long it took, links).
    Context(Vec<String>),
    /// A row of buttons; `block_id` comes back in the interaction payload.
    Actions {
        block_id: String,
        buttons: Vec<Button>,
    },
}

/// A button; Slack sends `action_id` and `value` back when it is clicked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Button {
    pub action_id: String,
    /// Plain text, not mrkdwn (Slack's rule for buttons).
    pub text: String,
    pub value: String,
    pub style: Option<ButtonStyle>,
    /// Asked before the click is sent at all.
    pub confirm: Option<Confirm>,
}

/// A button's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ButtonStyle {
    Primary,
    Danger,
}

/// The "are you sure?" dialog of a button (all plain text). Its confirm button takes
/// the style of the button it guards.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Confirm {
    pub title: String,
    pub text: String,
    pub confirm: String,
    pub deny: String,
}

impl Message {
    /// A message with only a text.
    pub fn text(text: impl Into<String>) -> Message {
        Message {
            text: text.into(),
            blocks: Vec::new(),
        }
    }

    /// Adds a section block.
    pub fn section(mut self, mrkdwn: impl Into<String>) -> Message {
        self.blocks.push(Block::Section(mrkdwn.into()));
        self
    }

    /// Adds a context block with one element per line given.
    pub fn context<S: Into<String>>(mut self, elements: impl IntoIterator<Item = S>) -> Message {
        self.blocks.push(Block::Context(
            elements.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// Adds a row of buttons.
    pub fn actions(mut self, block_id: impl Into<String>, buttons: Vec<Button>) -> Message {
        self.blocks.push(Block::Actions {
            block_id: block_id.into(),
            buttons,
        });
        self
    }
}

impl Button {
    /// A default-styled button without a confirmation dialog.
    pub fn new(
        action_id: impl Into<String>,
        text: impl Into<String>,
        value: impl Into<String>,
    ) -> Button {
        Button {
            action_id: action_id.into(),
            text: text.into(),
            value: value.into(),
            style: None,
            confirm: None,
        }
    }

    /// The same button, coloured.
    pub fn style(self, style: ButtonStyle) -> Button {
        Button {
            style: Some(style),
            ..self
        }
    }

    /// The same button, asking first.
    pub fn confirm(self, confirm: Confirm) -> Button {
        Button {
            confirm: Some(confirm),
            ..self
        }
    }
}

impl From<&Message> for SlackMessageContent {
    fn from(message: &Message) -> SlackMessageContent {
        let blocks: Vec<SlackBlock> = message.blocks.iter().map(SlackBlock::from).collect();
        SlackMessageContent::new()
            .with_text(message.text.clone())
            // An empty `blocks` array means "no blocks" on update but is refused on
            // post; leaving it out means the same in both.
            .opt_blocks((!blocks.is_empty()).then_some(blocks))
    }
}

impl From<&Block> for SlackBlock {
    fn from(block: &Block) -> SlackBlock {
        match block {
            Block::Section(text) => SlackSectionBlock::new().with_text(mrkdwn(text)).into(),
            Block::Context(elements) => SlackContextBlock::new(
                elements
                    .iter()
                    .map(|text| {
                        SlackContextBlockElement::MarkDown(SlackBlockMarkDownText::new(
                            text.clone(),
                        ))
                    })
                    .collect(),
            )
            .into(),
            Block::Actions { block_id, buttons } => SlackActionsBlock::new(
                buttons
                    .iter()
                    .map(|button| SlackActionBlockElement::Button(button.into()))
                    .collect(),
            )
            .with_block_id(SlackBlockId(block_id.clone()))
            .into(),
        }
    }
}

impl From<&Button> for SlackBlockButtonElement {
    fn from(button: &Button) -> SlackBlockButtonElement {
        let style = button.style.map(|style| match style {
            ButtonStyle::Primary => SlackBlockButtonStyle::Primary,
            ButtonStyle::Danger => SlackBlockButtonStyle::Danger,
        });
        let confirm = button.confirm.as_ref().map(|confirm| {
            SlackBlockConfirmItem::new(
                confirm.title.as_str().into(),
                SlackBlockText::Plain(SlackBlockPlainText::new(confirm.text.clone())),
                confirm.confirm.as_str().into(),
                confirm.deny.as_str().into(),
            )
            .opt_style(button.style.map(|style| style_name(style).to_owned()))
        });
        SlackBlockButtonElement::new(button.text.as_str().into())
            .with_action_id(SlackActionId(button.action_id.clone()))
            .with_value(button.value.clone())
            .opt_style(style)
            .opt_confirm(confirm)
    }
}

fn mrkdwn(text: &str) -> SlackBlockText {
    SlackBlockText::MarkDown(SlackBlockMarkDownText::new(text.to_owned()))
}

fn style_name(style: ButtonStyle) -> &'static str {
    match style {
        ButtonStyle::Primary => "primary",
        ButtonStyle::Danger => "danger",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_message_becomes_slacks_block_kit_json() {
        let message = Message::text("Deploying paipu")
            .section("*Deploying* `paipu` to staging")
            .context(["requested by <@U0ALICE>", "duration: 1s"])
            .actions(
                "deploy:42",
                vec![
                    Button::new("deploy_cancel", "Cancel", "42")
                        .style(ButtonStyle::Danger)
                        .confirm(Confirm {
                            title: "Cancel deploy?".into(),
                            text: "Stops it mid-build.".into(),
                            confirm: "Cancel it".into(),
                            deny: "Keep going".into(),
                        }),
                ],
            );
        let content = SlackMessageContent::from(&message);
        assert_eq!(
            serde_json::to_value(&content).unwrap(),
            json!({
                "text": "Deploying paipu",
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": "*Deploying* `paipu` to staging"}},
                    {"type": "context", "elements": [
                        {"type": "mrkdwn", "text": "requested by <@U0ALICE>"},
                        {"type": "mrkdwn", "text": "duration: 1s"}
                    ]},
                    {"type": "actions", "block_id": "deploy:42", "elements": [{
                        "type": "button", "action_id": "deploy_cancel", "value": "42", "style": "danger",
                        "text": {"type": "plain_text", "text": "Cancel"},
                        "confirm": {
                            "title": {"type": "plain_text", "text": "Cancel deploy?"},
                            "text": {"type": "plain_text", "text": "Stops it mid-build."},
                            "confirm": {"type": "plain_text", "text": "Cancel it"},
                            "deny": {"type": "plain_text", "text": "Keep going"},
                            "style": "danger"
                        }
                    }]}
                ]
            })
        );
    }

    #[test]
    fn a_text_only_message_sends_no_blocks_key() {
        let content = SlackMessageContent::from(&Message::text("hi"));
        assert_eq!(
            serde_json::to_value(&content).unwrap(),
            json!({"text": "hi"})
        );
    }
}

/// Who sees a reply: only the person who typed the command, or the whole channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    Ephemeral,
    InChannel,
}
