//! Output streams: the text a build or release phase writes, served at its
//! `output_stream_url` as `text/plain` that grows while the work runs and ends when it
//! ends, as Heroku's build-output service does.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use super::FakeHeroku;

/// One output stream, shared by its writer and any number of readers.
#[derive(Clone)]
pub(super) struct Log(Arc<watch::Sender<LogText>>);

#[derive(Default)]
struct LogText {
    text: String,
    done: bool,
}

impl Log {
    pub fn new() -> Log {
        Log(Arc::new(watch::Sender::new(LogText::default())))
    }

    /// Appends one line.
    pub fn line(&self, line: &str) {
        self.0.send_modify(|log| {
            log.text.push_str(line);
            log.text.push('\n');
        });
    }

    pub fn lines(&self, lines: &[&str]) {
        lines.iter().for_each(|line| self.line(line));
    }

    /// Ends the stream: readers get the rest and then the end of the body.
    pub fn finish(&self) {
        self.0.send_modify(|log| log.done = true);
    }

    /// The text from `offset` on, waiting for more while the stream is open; `None` at
    /// the end.
    async fn next_chunk(
        mut reader: watch::Receiver<LogText>,
        offset: usize,
    ) -> Option<(Bytes, (watch::Receiver<LogText>, usize))> {
        loop {
            let (chunk, done) = {
                let log = reader.borrow_and_update();
                (log.text[offset..].to_owned(), log.done)
            };
            if !chunk.is_empty() {
                let next = offset + chunk.len();
                return Some((Bytes::from(chunk), (reader, next)));
            }
            if done || reader.changed().await.is_err() {
                return None;
            }
        }
    }

    fn body(&self) -> Body {
        let chunks =
            futures_util::stream::unfold((self.0.subscribe(), 0), |(reader, offset)| async move {
                Log::next_chunk(reader, offset)
                    .await
                    .map(|(chunk, state)| (Ok::<_, Infallible>(chunk), state))
            });
        Body::from_stream(chunks)
    }
}

/// `GET /streams/{id}`: no token needed, the unguessable URL is the capability.
pub(super) async fn stream(State(fake): State<FakeHeroku>, Path(id): Path<String>) -> Response {
    match fake.with_world(|world| world.logs.get(&id).cloned()) {
        Some(log) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            log.body(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such output stream\n").into_response(),
    }
}
