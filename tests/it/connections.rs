//! The connection cap, on a real listener: connections over the cap are closed at
//! once rather than queued, and served again once idle ones hit the header timeout.

use std::future::pending;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use chatops::edge::connections::{Limits, serve};

const CAP: usize = 20;

const LIMITS: Limits = Limits {
    header_read_timeout: Duration::from_secs(1),
    max_connections: CAP,
};

async fn server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let router = Router::new().route("/healthz", get(|| async { "ok" }));
    tokio::spawn(serve(listener, router, LIMITS, pending()));
    address
}

/// Reads until the server closes; what it sent, or None if it was still open after
/// `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(within, stream.read_to_end(&mut received)).await;
    read.ok()
        .map(|_| String::from_utf8_lossy(&received).into_owned())
}

async fn health(address: &str) -> Option<String> {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = b"GET /healthz HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n";
    stream.write_all(request).await.ok()?;
    read_until_closed(&mut stream, Duration::from_millis(500)).await
}

#[tokio::test]
async fn over_the_cap_is_closed_at_once_then_served_once_idle_ones_time_out() {
    let address = server().await;
    let mut idle = Vec::new();
    for _ in 0..CAP {
        idle.push(TcpStream::connect(&address).await.unwrap());
    }
    // Let the server accept every idle one before the next arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut over = TcpStream::connect(&address).await.unwrap();
    let answer = read_until_closed(&mut over, Duration::from_millis(500)).await;
    assert_eq!(answer.as_deref(), Some(""), "served over the cap");

    tokio::time::sleep(LIMITS.header_read_timeout + Duration::from_millis(500)).await;
    let answer = health(&address).await.expect("closed or timed out");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");
}
