//! Reading the fake's request bodies and list queries the way GitHub does: 400
//! `Problems parsing JSON` for a body that is not a JSON object, 422 `Validation
//! Failed` with one `errors` entry per bad field, GitHub's defaults for the rest.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use axum::http::StatusCode;

use super::deployments::DeploymentRecord;
use super::http::{Refusal, error, validation_failed};

/// The states a deployment status may take.
const STATES: [&str; 7] = [
    "error",
    "failure",
    "inactive",
    "in_progress",
    "queued",
    "pending",
    "success",
];

/// GitHub's cap on a deployment status description.
const MAX_DESCRIPTION: usize = 140;

/// A valid `POST …/deployments` body, defaults applied.
pub(super) struct NewDeployment {
    pub git_ref: String,
    pub task: String,
    pub auto_merge: bool,
    /// `None`: every context reported on the commit is required.
    pub required_contexts: Option<Vec<String>>,
    pub payload: Value,
    pub environment: String,
    pub description: String,
    pub transient_environment: bool,
    /// `None`: true exactly for `production`.
    pub production_environment: Option<bool>,
}

impl NewDeployment {
    pub fn parse(body: &[u8]) -> Result<NewDeployment, Refusal> {
        let map = object(body)?;
        let mut fields = Fields {
            map: &map,
            resource: "Deployment",
            errors: Vec::new(),
        };
        let git_ref = fields.string("ref");
        if !map.contains_key("ref") {
            fields
                .errors
                .push(json!({"resource": "Deployment", "field": "ref", "code": "missing_field"}));
        }
        let new = NewDeployment {
            task: fields.string("task").unwrap_or_else(|| "deploy".into()),
            auto_merge: fields.boolean("auto_merge").unwrap_or(true),
            required_contexts: fields.strings("required_contexts"),
            payload: fields.payload(),
            environment: fields
                .string("environment")
                .unwrap_or_else(|| "production".into()),
            description: fields.string("description").unwrap_or_default(),
            transient_environment: fields.boolean("transient_environment").unwrap_or(false),
            production_environment: fields.boolean("production_environment"),
            git_ref: git_ref.unwrap_or_default(),
        };
        fields.finish(new)
    }
}

/// A valid `POST …/deployments/{id}/statuses` body.
pub(super) struct NewStatus {
    pub state: String,
    pub description: String,
    pub log_url: Option<String>,
    pub environment_url: Option<String>,
    pub environment: Option<String>,
    pub auto_inactive: bool,
}

impl NewStatus {
    pub fn parse(body: &[u8]) -> Result<NewStatus, Refusal> {
        let map = object(body)?;
        let mut fields = Fields {
            map: &map,
            resource: "DeploymentStatus",
            errors: Vec::new(),
        };
        let state = fields.string("state").unwrap_or_default();
        if !STATES.contains(&state.as_str()) {
            fields.invalid("state", "state is not included in the list");
        }
        let description = fields.string("description").unwrap_or_default();
        if description.chars().count() > MAX_DESCRIPTION {
            fields.invalid(
                "description",
                "description is too long (maximum is 140 characters)",
            );
        }
        // `log_url` replaces the legacy `target_url`; either sets both.
        let target_url = fields.string("target_url");
        let new = NewStatus {
            state,
            description,
            log_url: fields.string("log_url").or(target_url),
            environment_url: fields.string("environment_url"),
            environment: fields.string("environment"),
            auto_inactive: fields.boolean("auto_inactive").unwrap_or(true),
        };
        fields.finish(new)
    }
}

/// The filters and page of a list request.
#[derive(Clone, Deserialize, Serialize)]
pub(super) struct ListQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha: Option<String>,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    git_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_page: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<usize>,
}

impl ListQuery {
    /// Whether `deployment` passes every filter given.
    pub fn matches(&self, deployment: &DeploymentRecord) -> bool {
        let passes = |filter: &Option<String>, value: &str| {
            filter.as_deref().is_none_or(|wanted| wanted == value)
        };
        passes(&self.environment, &deployment.environment)
            && passes(&self.sha, &deployment.sha)
            && passes(&self.git_ref, &deployment.git_ref)
            && passes(&self.task, &deployment.task)
    }

    /// The requested page of `items` (30 per page by default, 100 at most, as on
    /// GitHub) and, when more pages follow, GitHub's `Link` header pointing at the
    /// next and the last page of `url` with the same filters.
    pub fn paged<T>(&self, url: &str, items: Vec<T>) -> (Vec<T>, Option<String>) {
        let per_page = self.per_page.unwrap_or(30).clamp(1, 100);
        let page = self.page.unwrap_or(1).max(1);
        let last = items.len().div_ceil(per_page).max(1);
        let link = (page < last).then(|| {
            let same = ListQuery {
                per_page: Some(per_page),
                page: None,
                ..self.clone()
            };
            let query = serde_urlencoded::to_string(&same).unwrap_or_default();
            let at = |number: usize| format!("<{url}?{query}&page={number}>");
            format!("{}; rel=\"next\", {}; rel=\"last\"", at(page + 1), at(last))
        });
        let shown = items
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect();
        (shown, link)
    }
}

/// The body as a JSON object, or GitHub's 400.
fn object(body: &[u8]) -> Result<Map<String, Value>, Refusal> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(error(StatusCode::BAD_REQUEST, "Problems parsing JSON")),
    }
}

/// Typed reads of a body's fields, collecting one error per field of the wrong type.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    resource: &'static str,
    errors: Vec<Value>,
}

impl Fields<'_> {
    fn read<T>(&mut self, key: &str, convert: impl Fn(&Value) -> Option<T>) -> Option<T> {
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => convert(value).or_else(|| {
                self.invalid(key, &format!("{key} is not valid"));
                None
            }),
        }
    }

    fn string(&mut self, key: &str) -> Option<String> {
        self.read(key, |value| value.as_str().map(String::from))
    }

    fn boolean(&mut self, key: &str) -> Option<bool> {
        self.read(key, Value::as_bool)
    }

    fn strings(&mut self, key: &str) -> Option<Vec<String>> {
        self.read(key, |value| {
            value
                .as_array()?
                .iter()
                .map(|item| item.as_str().map(String::from))
                .collect()
        })
    }

    /// `payload` is an object or a JSON string; the default is `{}`.
    fn payload(&mut self) -> Value {
        let payload = self.read("payload", |value| match value {
            Value::Object(_) => Some(value.clone()),
            Value::String(text) => serde_json::from_str::<Value>(text)
                .ok()
                .filter(Value::is_object)
                .or(Some(value.clone())),
            _ => None,
        });
        payload.unwrap_or_else(|| json!({}))
    }

    fn invalid(&mut self, field: &str, message: &str) {
        self.errors.push(json!({"resource": self.resource, "field": field, "code": "invalid", "message": message}));
    }

    fn finish<T>(self, parsed: T) -> Result<T, Refusal> {
        if self.errors.is_empty() {
            Ok(parsed)
        } else {
            Err(validation_failed(self.errors))
        }
    }
}
