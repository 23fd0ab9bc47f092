//! The page's static files, compiled into the binary so `chatops-sandbox sandbox` needs
//! nothing beside it: no build step, no files to find at run time.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

const INDEX: &str = include_str!("assets/index.html");

/// `(name, content type, content)` of everything under `/assets/`.
const ASSETS: [(&str, &str, &str); 3] = [
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("assets/style.css"),
    ),
    (
        "blocks.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/blocks.js"),
    ),
    (
        "page.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/page.js"),
    ),
];

/// `GET /`.
pub(super) async fn index() -> Html<&'static str> {
    Html(INDEX)
}

/// `GET /assets/{name}`.
pub(super) async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(known, _, _)| *known == name) {
        Some((_, content_type, content)) => {
            ([(header::CONTENT_TYPE, *content_type)], *content).into_response()
        }
        None => (StatusCode::NOT_FOUND, format!("no asset {name:?}")).into_response(),
    }
}
