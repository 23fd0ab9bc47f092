//! The few HTML pages a person sees in their browser (OAuth landing pages, errors):
//! small, self-contained, readable without JavaScript, images or outside assets.
//!
//! Text given to a [`Page`] is plain text, escaped here; spans between backticks are
//! shown as code (`/h login`). Every page is sent with headers that keep it out of
//! caches and frames and stop its URL (which may carry an OAuth `code` or `state`)
//! from leaking through `Referer`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// No scripts, no outside resources, no framing; only the inline style below.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

const STYLE: &str = "body{margin:0;background:#f4f2f7;color:#1d1c1d;\
font:16px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}\
main{max-width:34rem;margin:12vh auto;padding:2rem 2.25rem;background:#fff;border-radius:12px;\
box-shadow:0 1px 3px rgba(0,0,0,.12)}\
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}p{margin:0 0 .75rem}\
code{background:#f0eef3;border-radius:4px;padding:.1em .35em;font-size:.9em}\
a.button{display:inline-block;margin-top:.75rem;padding:.6rem 1.2rem;border-radius:6px;\
background:#430098;color:#fff;text-decoration:none;font-weight:600}\
a.button:focus,a.button:hover{background:#5a1ab8}\
footer{margin-top:1.5rem;color:#616061;font-size:.85rem}";

/// A page: a heading, a few paragraphs, and at most one button-styled link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    title: String,
    paragraphs: Vec<String>,
    action: Option<(String, String)>,
}

impl Page {
    /// A page whose heading (and window title) is `title`.
    pub fn new(title: impl Into<String>) -> Page {
        Page {
            title: title.into(),
            paragraphs: Vec::new(),
            action: None,
        }
    }

    /// Adds a paragraph of plain text (`` `code` `` spans allowed).
    pub fn paragraph(mut self, text: impl Into<String>) -> Page {
        self.paragraphs.push(text.into());
        self
    }

    /// Adds the page's one button: a link to `href` labelled `label`.
    pub fn action(mut self, label: impl Into<String>, href: impl Into<String>) -> Page {
        self.action = Some((label.into(), href.into()));
        self
    }

    /// The complete HTML document.
    pub fn html(&self) -> String {
        let paragraphs: String = self
            .paragraphs
            .iter()
            .map(|text| format!("<p>{}</p>", inline(text)))
            .collect();
        let action = self.action.as_ref().map_or(String::new(), |(label, href)| {
            format!(
                r#"<p><a class="button" href="{}">{}</a></p>"#,
                escape(href),
                escape(label)
            )
        });
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"referrer\" content=\"no-referrer\">\
             <title>{title} · chatops</title><style>{STYLE}</style></head>\
             <body><main><h1>{title}</h1>{paragraphs}{action}\
             <footer>chatops: Heroku deploys from Slack</footer></main></body></html>",
            title = escape(&self.title),
        )
    }

    /// The page as a response with `status`.
    pub fn respond(&self, status: StatusCode) -> Response {
        let mut response = (status, Html(self.html())).into_response();
        let headers = response.headers_mut();
        for (name, value) in [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        response
    }
}

/// Text made safe inside HTML elements and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Escapes `text`, showing the spans between backticks as code.
fn inline(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(index, part)| {
            if index % 2 == 1 {
                format!("<code>{}</code>", escape(part))
            } else {
                escape(part)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_backticks_become_code() {
        let page = Page::new("Hi <you>")
            .paragraph("Run `/h login` & <b>relax</b>")
            .action("Go \"now\"", "https://x.example/a?b=1&c=2");
        let html = page.html();
        assert!(html.contains("<h1>Hi &lt;you&gt;</h1>"), "{html}");
        assert!(
            html.contains("<p>Run <code>/h login</code> &amp; &lt;b&gt;relax&lt;/b&gt;</p>"),
            "{html}"
        );
        assert!(
            html.contains(
                r#"<a class="button" href="https://x.example/a?b=1&amp;c=2">Go &quot;now&quot;</a>"#
            ),
            "{html}"
        );
        assert!(!html.contains("<script"), "{html}");
    }

    #[test]
    fn pages_are_not_cached_framed_or_referred() {
        let response = Page::new("x").respond(StatusCode::GONE);
        assert_eq!(response.status(), StatusCode::GONE);
        let headers = response.headers();
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        assert!(
            headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    }
}
