//! The HTTP edge against slow and many clients, over loopback on every backend: a
//! client trickling its request head is cut off, and thousands of idle connections do
//! not stop the bot answering Slack or its health check.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use chatops::edge::connections::{HEADER_READ_TIMEOUT, Limits};

use crate::common::{self, TestApp};

/// How long past the header timeout a trickling connection may still be open.
const CLOSE_MARGIN: Duration = Duration::from_secs(2);

const IDLE_CONNECTIONS: usize = 5_000;

const ANSWER_WITHIN: Duration = Duration::from_secs(1);

fn address(app: &TestApp) -> String {
    app.base_url.trim_start_matches("http://").to_owned()
}

/// Sends a request head one byte every 500 ms and returns how long the bot kept the
/// connection open, or None if it was still open after the timeout and a margin.
async fn trickle_until_closed(address: &str) -> Option<Duration> {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"POST /slack/commands HTTP/1.1\r\nHost: bot\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buffer = [0_u8; 1024];
    let closed = async {
        loop {
            tokio::select! {
                read = stream.read(&mut buffer) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue, // an error response before the close
                },
                () = tokio::time::sleep(Duration::from_millis(500)) => {
                    if stream.write_all(b"X").await.is_err() {
                        return;
                    }
                }
            }
        }
    };
    tokio::time::timeout(HEADER_READ_TIMEOUT + CLOSE_MARGIN, closed)
        .await
        .ok()
        .map(|()| started.elapsed())
}

#[tokio::test]
async fn a_trickled_request_head_is_cut_off_at_the_header_timeout() {
    for db in common::databases().await {
        let app = TestApp::spawn(db).await;
        let open_for = trickle_until_closed(&address(&app)).await;
        let open_for = open_for.unwrap_or_else(|| {
            panic!(
                "still open {:?} after the first byte",
                HEADER_READ_TIMEOUT + CLOSE_MARGIN
            )
        });
        assert!(
            open_for >= HEADER_READ_TIMEOUT - Duration::from_millis(100),
            "{open_for:?}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn thousands_of_idle_connections_do_not_stop_help_or_healthz() {
    // Raises this test process's descriptor limit the way the bot raises its own: the
    // test holds the client side of every connection too.
    Limits::for_this_process();
    for db in common::databases().await {
        let app = TestApp::spawn(db).await;
        let mut idle = Vec::with_capacity(IDLE_CONNECTIONS);
        for _ in 0..IDLE_CONNECTIONS {
            idle.push(TcpStream::connect(address(&app)).await.unwrap());
        }

        let asked = Instant::now();
        let (status, body) = app.command("help").await;
        let help_took = asked.elapsed();
        assert_eq!(status, 200, "{body}");
        let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(reply["text"], chatops::command::help_index());

        let asked = Instant::now();
        let health = app
            .http
            .get(format!("{}/healthz", app.base_url))
            .send()
            .await
            .unwrap();
        let health_took = asked.elapsed();
        assert_eq!(health.status(), 200);

        assert!(help_took < ANSWER_WITHIN, "/h help took {help_took:?}");
        assert!(health_took < ANSWER_WITHIN, "/healthz took {health_took:?}");
        drop(idle);
        app.finish().await;
    }
}
