//! List pagination as Heroku does it: a `Range: <field> [start]..[end]; max=N,
//! order=desc` request header, pages of 200 by default (1000 at most), and
//! `206 Partial Content` with `Next-Range` while more remain.

use std::cmp::Ordering;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::errors::ApiError;

const DEFAULT_PAGE: usize = 200;
const MAX_PAGE: usize = 1000;

/// The range fields a list accepts, as (name in the header, field of the JSON item);
/// the first is the default order.
pub(super) type Fields = &'static [(&'static str, &'static str)];

/// Ordered by id only.
pub(super) const BY_ID: Fields = &[("id", "id")];

/// One parsed `Range` header.
#[derive(Debug, PartialEq)]
struct Spec {
    name: &'static str,
    field: &'static str,
    start: Option<(String, bool)>,
    end: Option<String>,
    max: usize,
    descending: bool,
}

/// Answers a list: the page of `items` the request's `Range` asks for.
pub(super) fn respond(
    mut items: Vec<Value>,
    headers: &HeaderMap,
    fields: Fields,
) -> Result<Response, ApiError> {
    let raw = headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok());
    let spec = raw.map_or_else(|| Ok(default_spec(fields)), |raw| parse(raw, fields))?;
    let field = spec.field;
    let ordered = |a: &Value, b: &Value| directed(spec.descending, compare(&a[field], &b[field]));
    items.sort_by(ordered);
    let mut selected = Vec::new();
    for item in items {
        if !spec.within(&item[field])? {
            continue;
        }
        selected.push(item);
    }
    let more = selected.len() > spec.max;
    selected.truncate(spec.max);
    Ok(page_response(&spec, selected, more, fields))
}

fn page_response(spec: &Spec, items: Vec<Value>, more: bool, fields: Fields) -> Response {
    let accept: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    let mut response_headers = HeaderMap::new();
    insert(&mut response_headers, "Accept-Ranges", &accept.join(", "));
    if let (Some(first), Some(last)) = (items.first(), items.last()) {
        let (first, last) = (plain(&first[spec.field]), plain(&last[spec.field]));
        insert(
            &mut response_headers,
            "Content-Range",
            &format!("{} {first}..{last}", spec.name),
        );
        if more {
            let order = if spec.descending { ", order=desc" } else { "" };
            insert(
                &mut response_headers,
                "Next-Range",
                &format!("{} ]{last}..; max={}{order}", spec.name, spec.max),
            );
        }
    }
    let status = if more {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    (status, response_headers, Json(Value::Array(items))).into_response()
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn default_spec(fields: Fields) -> Spec {
    let (name, field) = fields[0];
    Spec {
        name,
        field,
        start: None,
        end: None,
        max: DEFAULT_PAGE,
        descending: false,
    }
}

fn parse(raw: &str, fields: Fields) -> Result<Spec, ApiError> {
    let (head, params) = raw.split_once(';').unwrap_or((raw, ""));
    let (name, bounds) = head.trim().split_once(' ').unwrap_or((head.trim(), ".."));
    let &(name, field) = fields
        .iter()
        .find(|(known, _)| *known == name)
        .ok_or_else(|| {
            let known: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
            ApiError::bad_range(format!(
                "Invalid Range header: cannot order by {name:?}, only by {}.",
                known.join(", ")
            ))
        })?;
    let (start, end) = bounds.trim().split_once("..").ok_or_else(|| {
        ApiError::bad_range("Invalid Range header: expected `<field> [start]..[end]`.")
    })?;
    let start = match start.strip_prefix(']') {
        Some(exclusive) => Some((exclusive.to_owned(), true)),
        None => Some((start.to_owned(), false)).filter(|(value, _)| !value.is_empty()),
    };
    let end = Some(end.to_owned()).filter(|value| !value.is_empty());
    let mut spec = Spec {
        start,
        end,
        ..default_spec(fields)
    };
    spec.name = name;
    spec.field = field;
    for param in params
        .split([';', ','])
        .map(str::trim)
        .filter(|param| !param.is_empty())
    {
        apply_param(&mut spec, param)?;
    }
    Ok(spec)
}

fn apply_param(spec: &mut Spec, param: &str) -> Result<(), ApiError> {
    match param
        .split_once('=')
        .map(|(key, value)| (key.trim(), value.trim()))
    {
        Some(("max", value)) => {
            let max: usize = value.parse().map_err(|_| {
                ApiError::bad_range(format!(
                    "Invalid Range header: max={value} is not a number."
                ))
            })?;
            spec.max = max.clamp(1, MAX_PAGE);
        }
        Some(("order", "asc")) => spec.descending = false,
        Some(("order", "desc")) => spec.descending = true,
        _ => {
            return Err(ApiError::bad_range(format!(
                "Invalid Range header: unknown parameter {param:?}."
            )));
        }
    }
    Ok(())
}

impl Spec {
    /// Whether a value lies inside the requested bounds, in the requested direction.
    fn within(&self, value: &Value) -> Result<bool, ApiError> {
        if let Some((start, exclusive)) = &self.start {
            let position = directed(self.descending, compare_bound(value, start)?);
            if position == Ordering::Less || (*exclusive && position == Ordering::Equal) {
                return Ok(false);
            }
        }
        match &self.end {
            Some(end) => {
                Ok(directed(self.descending, compare_bound(value, end)?) != Ordering::Greater)
            }
            None => Ok(true),
        }
    }
}

fn directed(descending: bool, ordering: Ordering) -> Ordering {
    if descending {
        ordering.reverse()
    } else {
        ordering
    }
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .partial_cmp(&b.as_f64())
            .unwrap_or(Ordering::Equal),
        _ => plain(a).cmp(&plain(b)),
    }
}

fn compare_bound(value: &Value, bound: &str) -> Result<Ordering, ApiError> {
    match value {
        Value::Number(number) => {
            let bound: f64 = bound.parse().map_err(|_| {
                ApiError::bad_range(format!("Invalid Range header: {bound:?} is not a number."))
            })?;
            Ok(number
                .as_f64()
                .partial_cmp(&Some(bound))
                .unwrap_or(Ordering::Equal))
        }
        other => Ok(plain(other).as_str().cmp(bound)),
    }
}

/// A JSON scalar as it is written in a range header.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELEASES: Fields = &[("version", "version"), ("id", "id")];

    async fn versions(range: Option<&str>) -> (StatusCode, Vec<u64>, Option<String>) {
        let items = (1..=250)
            .map(|version| serde_json::json!({"version": version, "id": format!("{version:04}")}))
            .collect();
        let mut headers = HeaderMap::new();
        if let Some(range) = range {
            headers.insert(header::RANGE, HeaderValue::from_str(range).unwrap());
        }
        let response = respond(items, &headers, RELEASES).unwrap();
        let next = response
            .headers()
            .get("Next-Range")
            .map(|value| value.to_str().unwrap().to_owned());
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let items: Vec<Value> = serde_json::from_slice(&body).unwrap();
        (
            status,
            items
                .iter()
                .map(|item| item["version"].as_u64().unwrap())
                .collect(),
            next,
        )
    }

    #[tokio::test]
    async fn default_page_is_200_and_next_range_continues_after_it() {
        let (status, page, next) = versions(None).await;
        assert_eq!(
            (status, page.len(), page[0], page[199]),
            (StatusCode::PARTIAL_CONTENT, 200, 1, 200)
        );
        assert_eq!(next.as_deref(), Some("version ]200..; max=200"));
        let (status, page, next) = versions(next.as_deref()).await;
        assert_eq!(
            (status, page),
            (StatusCode::OK, (201..=250).collect::<Vec<_>>())
        );
        assert_eq!(next, None);
    }

    #[tokio::test]
    async fn descending_with_max_pages_backwards() {
        let (status, page, next) = versions(Some("version ..; order=desc, max=3")).await;
        assert_eq!(
            (status, page),
            (StatusCode::PARTIAL_CONTENT, vec![250, 249, 248])
        );
        assert_eq!(next.as_deref(), Some("version ]248..; max=3, order=desc"));
        let (_, page, _) = versions(next.as_deref()).await;
        assert_eq!(page, vec![247, 246, 245]);
        let (_, page, _) = versions(Some("version; order=desc,max=2;")).await;
        assert_eq!(page, vec![250, 249]);
    }

    #[test]
    fn bad_ranges_are_refused() {
        let fields = RELEASES;
        assert_eq!(
            parse("name ..", fields).unwrap_err().id,
            "requested_range_not_satisfiable"
        );
        assert!(parse("version ..; max=lots", fields).is_err());
        assert!(parse("version 1-2", fields).is_err());
    }
}
