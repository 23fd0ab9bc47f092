//! The Home tab's blocks, built from what was read ([`Dashboard`]) without any I/O.
//! Each pipeline is a list of parts ([`Part`]), so a new kind of section (a deploy
//! queue, say) is one more variant and one more match arm. Outside text arrives here
//! escaped by the reader; the builder only bounds it to Slack's limits: 3,000
//! characters per section, 100 blocks per view, and a whole view small enough that
//! Slack's `app_home_opened` echo of it stays under the bot's 64 KiB body limit.

use crate::slack::api::{Block, Button};

/// Slack refuses a section text longer than this.
pub const MAX_SECTION_CHARS: usize = 3000;
/// Slack refuses a Home view with more blocks than this.
pub const MAX_BLOCKS: usize = 100;
/// The view's text in total, in UTF-8 bytes: Slack sends the view back in every
/// `app_home_opened`, whose body must fit the 64 KiB every signed request is held to,
/// with room for the blocks' JSON around the text.
pub const MAX_VIEW_BYTES: usize = 40_000;

/// What a person's Home tab shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dashboard {
    /// The pipelines they can see, as `heroku_email`.
    Linked {
        heroku_email: String,
        pipelines: Vec<PipelineView>,
    },
    /// No linked accounts (or not both): how to link them.
    NotLinked,
    /// Their accounts could not be read just now (escaped reason).
    Unavailable(String),
}

/// One pipeline: its name and its parts, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineView {
    pub name: String,
    pub parts: Vec<Part>,
}

/// One section of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A stage: its name, lines (apps and their releases, locks, running deploys, the
    /// last deploy's thread), each already escaped, and its buttons.
    Stage {
        stage: String,
        lines: Vec<String>,
        buttons: Vec<Button>,
    },
    /// Why the pipeline could not be read (escaped).
    Problem(String),
    /// A small grey line (where its buttons post).
    Note(String),
}

/// The blocks of `dashboard`, within Slack's limits.
pub fn blocks(dashboard: &Dashboard) -> Vec<Block> {
    match dashboard {
        Dashboard::NotLinked => vec![Block::Section(NOT_LINKED.into())],
        Dashboard::Unavailable(reason) => vec![Block::Section(format!(
            "I could not read your pipelines just now ({reason}). Open this tab again in a minute."
        ))],
        Dashboard::Linked {
            heroku_email,
            pipelines,
        } => linked(heroku_email, pipelines),
    }
}

const NOT_LINKED: &str = "*Welcome to chatops.*\n\
    This tab shows the Heroku pipelines you can see, read with your own Heroku and GitHub \
    accounts, which are not linked yet.\n\
    Type `/h login` in any channel to link them, then open this tab again.";

fn linked(heroku_email: &str, pipelines: &[PipelineView]) -> Vec<Block> {
    let mut blocks = vec![Block::Section(format!(
        "*Pipelines {heroku_email} can see*"
    ))];
    if pipelines.is_empty() {
        blocks.push(Block::Section(
            "None yet: ask a pipeline's owner to add you to its team or apps.".into(),
        ));
    }
    let mut budget = MAX_VIEW_BYTES;
    // Room is kept for the "and N more" line and the closing context.
    let room = MAX_BLOCKS - 2;
    for (shown, pipeline) in pipelines.iter().enumerate() {
        let pipeline_blocks = pipeline_blocks(pipeline);
        let size: usize = pipeline_blocks.iter().map(block_bytes).sum();
        if blocks.len() + pipeline_blocks.len() > room || size > budget {
            blocks.push(Block::Section(format!(
                "and {} more: `/h pipelines` lists them all.",
                pipelines.len() - shown
            )));
            break;
        }
        budget -= size;
        blocks.extend(pipeline_blocks);
    }
    blocks.push(Block::Context(vec![
        "Kept up to date while you look at it. `/h help` lists every command.".into(),
    ]));
    blocks
}

fn pipeline_blocks(pipeline: &PipelineView) -> Vec<Block> {
    let mut blocks = vec![Block::Section(format!("*{}*", pipeline.name))];
    for part in &pipeline.parts {
        match part {
            Part::Stage {
                stage,
                lines,
                buttons,
            } => {
                blocks.push(Block::Section(bounded(&format!("_{stage}_"), lines)));
                if !buttons.is_empty() {
                    blocks.push(Block::Actions {
                        block_id: format!("home:{}:{stage}", pipeline.name),
                        buttons: buttons.clone(),
                    });
                }
            }
            Part::Problem(problem) => {
                blocks.push(Block::Section(bounded("", std::slice::from_ref(problem))));
            }
            Part::Note(note) => blocks.push(Block::Context(vec![bounded(
                "",
                std::slice::from_ref(note),
            )])),
        }
    }
    blocks
}

/// `title` and `lines`, one a line, cut to fit a section: the lines that do not fit
/// become "and N more".
pub fn bounded(title: &str, lines: &[String]) -> String {
    let mut text = title.to_owned();
    for (shown, line) in lines.iter().enumerate() {
        let more = format!("\nand {} more", lines.len() - shown);
        let fits = chars(&text) + 1 + chars(line) + chars(&more) <= MAX_SECTION_CHARS
            || (shown + 1 == lines.len() && chars(&text) + 1 + chars(line) <= MAX_SECTION_CHARS);
        if !fits {
            text.push_str(&more);
            return text;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(line);
    }
    if text.is_empty() {
        // Slack refuses an empty section.
        text.push('-');
    }
    text
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

fn block_bytes(block: &Block) -> usize {
    match block {
        Block::Section(text) => text.len(),
        Block::Context(lines) => lines.iter().map(String::len).sum(),
        Block::Actions { buttons, .. } => {
            buttons.iter().map(|b| b.text.len() + b.value.len()).sum()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(lines: usize, width: usize) -> Part {
        Part::Stage {
            stage: "staging".into(),
            lines: (0..lines).map(|i| format!("{i:0width$}")).collect(),
            buttons: Vec::new(),
        }
    }

    fn texts(blocks: &[Block]) -> Vec<&str> {
        blocks
            .iter()
            .map(|block| match block {
                Block::Section(text) => text.as_str(),
                _ => "(other)",
            })
            .collect()
    }

    #[test]
    fn a_long_stage_is_cut_with_and_n_more() {
        let text = bounded(
            "_staging_",
            &(0..200).map(|i| format!("{i:040}")).collect::<Vec<_>>(),
        );
        assert!(chars(&text) <= MAX_SECTION_CHARS, "{}", chars(&text));
        assert!(text.ends_with("\nand 128 more"), "{text}");
        let exact = bounded("t", &["a".repeat(MAX_SECTION_CHARS - 2)]);
        assert_eq!(chars(&exact), MAX_SECTION_CHARS);
    }

    #[test]
    fn many_pipelines_stay_within_100_blocks_and_say_how_many_more() {
        let pipelines: Vec<PipelineView> = (0..60)
            .map(|i| PipelineView {
                name: format!("p{i}"),
                parts: vec![stage(1, 4)],
            })
            .collect();
        let dashboard = Dashboard::Linked {
            heroku_email: "a@example.com".into(),
            pipelines,
        };
        let blocks = blocks(&dashboard);
        // The title, 48 pipelines of two blocks, the rest in one line, the context.
        assert_eq!(blocks.len(), 99);
        assert_eq!(
            texts(&blocks)[97],
            "and 12 more: `/h pipelines` lists them all."
        );
    }

    #[test]
    fn the_whole_view_stays_small_enough_to_be_echoed_back() {
        // Lines of multi-byte characters, as app lines are (`•`, `·`).
        let line = "• app · v1 · 0123abcd (main) · someone@example.com · 3d ago ··········";
        let pipelines: Vec<PipelineView> = (0..40)
            .map(|i| PipelineView {
                name: format!("p{i}"),
                parts: vec![
                    Part::Stage {
                        stage: "staging".into(),
                        lines: vec![line.to_owned(); 40],
                        buttons: Vec::new(),
                    };
                    2
                ],
            })
            .collect();
        let dashboard = Dashboard::Linked {
            heroku_email: "a@example.com".into(),
            pipelines,
        };
        let blocks = blocks(&dashboard);
        let slack: Vec<slack_morphism::prelude::SlackBlock> =
            blocks.iter().map(Into::into).collect();
        let json = serde_json::to_string(&slack).unwrap();
        assert!(json.len() < 60 * 1024, "{} bytes of view JSON", json.len());
        let more = texts(&blocks).into_iter().find(|t| t.starts_with("and "));
        assert_eq!(more, Some("and 35 more: `/h pipelines` lists them all."));
    }
}
