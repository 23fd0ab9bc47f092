//! GitHub's official REST description (`tests/specs/github-rest-api.subset.openapi.json`,
//! the part of @octokit/openapi 23.0.2 covering every path the bot calls) as a checker
//! of the fake GitHub's answers: the status must be one the operation declares, the body
//! must match that response's schema, and the headers it declares (`Link`, `Location`,
//! the `X-RateLimit-*` trio) must hold values of their declared schema.
//!
//! OpenAPI 3.0 schemas are not quite JSON Schema: `nullable: true` is spelled out here
//! as a `null` type (or an `anyOf` with `null`), and every object schema that lists its
//! properties and says nothing of others is closed (`additionalProperties: false`), so
//! a field the fake made up fails as a missing or mistyped one does. The document then
//! compiles as draft 4 with formats checked; its `#/components/...` refs resolve
//! because each checked schema is compiled with the document's `components` beside it.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const SPEC: &str = include_str!("../specs/github-rest-api.subset.openapi.json");

/// The rate-limit headers GitHub sends on every API answer, and the component that
/// declares each one's schema.
const RATE_LIMIT_HEADERS: [(&str, &str); 3] = [
    ("x-ratelimit-limit", "x-rate-limit-limit"),
    ("x-ratelimit-remaining", "x-rate-limit-remaining"),
    ("x-ratelimit-reset", "x-rate-limit-reset"),
];

/// One answer of the fake: its status, headers and JSON body (`None` when empty).
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Option<Value>,
}

impl Answer {
    pub async fn read(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response.bytes().await.expect("a body");
        let body = (!raw.is_empty()).then(|| serde_json::from_slice(&raw).expect("JSON"));
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    pub fn json(&self) -> &Value {
        self.body.as_ref().expect("a JSON body")
    }
}

pub struct Spec(Value);

impl Spec {
    pub fn load() -> Spec {
        let mut spec: Value = serde_json::from_str(SPEC).expect("the spec is JSON");
        // GitHub's error bodies carry the status as a string (`"status": "422"`)
        // since 2024; the description lists it for basic errors only.
        let validation = &mut spec["components"]["schemas"]["validation-error"];
        validation["properties"]["status"] = json!({"type": "string"});
        draft4(&mut spec["components"]);
        for (_, path) in spec["paths"].as_object_mut().expect("paths").iter_mut() {
            draft4(path);
        }
        Spec(spec)
    }

    /// The declared response of `method path` for `status`, its `$ref` followed.
    fn response(&self, method: &str, path: &str, status: u16) -> Value {
        let responses = &self.0["paths"][path][method]["responses"];
        assert!(responses.is_object(), "the spec has no {method} {path}");
        let response = &responses[status.to_string()];
        assert!(
            response.is_object(),
            "{method} {path} declares no {status}; it declares {:?}",
            responses
                .as_object()
                .map(|all| all.keys().collect::<Vec<_>>())
        );
        match response["$ref"].as_str() {
            Some(reference) => self.resolve(reference).clone(),
            None => response.clone(),
        }
    }

    fn resolve(&self, reference: &str) -> &Value {
        self.0
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{reference} is not in the spec"))
    }

    /// The schema errors of `body` against `schema` (refs into the components).
    pub fn errors(&self, schema: &Value, body: &Value) -> Vec<String> {
        let mut document = schema.clone();
        document["components"] = self.0["components"].clone();
        let validator = jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&document)
            .expect("the schema compiles as draft 4");
        validator
            .iter_errors(body)
            .map(|error| format!("{error} at {}", error.instance_path()))
            .collect()
    }

    /// The schema `method path` declares for a `status` body.
    pub fn body_schema(&self, method: &str, path: &str, status: u16) -> Value {
        self.response(method, path, status)["content"]["application/json"]["schema"].clone()
    }

    /// Checks `answer` as `method path` (the spec's templated path): a declared status,
    /// a body of that response's schema (when it declares one), declared headers of
    /// their schema (`Location` required where declared), and GitHub's rate-limit
    /// headers on every API answer.
    pub fn check(&self, method: &str, path: &str, answer: &Answer) {
        let response = self.response(method, path, answer.status);
        println!(
            "{} {path} {}: {}",
            method.to_uppercase(),
            answer.status,
            answer.body.as_ref().map_or(String::new(), Value::to_string)
        );
        let schema = &response["content"]["application/json"]["schema"];
        if schema.is_object() {
            let body = answer.body.as_ref().unwrap_or_else(|| {
                panic!("{method} {path} {}: no body", answer.status);
            });
            let errors = self.errors(schema, body);
            assert!(
                errors.is_empty(),
                "{method} {path} {}: {errors:#?}\nbody: {body:#}",
                answer.status
            );
        }
        let declared = response["headers"].as_object().cloned().unwrap_or_default();
        for (name, header) in &declared {
            let header = match header["$ref"].as_str() {
                Some(reference) => self.resolve(reference),
                None => header,
            };
            let value = answer.header(name);
            if name.eq_ignore_ascii_case("location") {
                assert!(value.is_some(), "{method} {path}: no Location");
            }
            if let Some(value) = value {
                self.check_header(name, &header["schema"], value);
            }
        }
        for (name, component) in RATE_LIMIT_HEADERS {
            let value = answer
                .header(name)
                .unwrap_or_else(|| panic!("{method} {path}: no {name}"));
            let header = self.resolve(&format!("#/components/headers/{component}"));
            self.check_header(name, &header["schema"], value);
        }
        if let Some(link) = answer.header("link") {
            assert!(
                declared
                    .keys()
                    .any(|name| name.eq_ignore_ascii_case("link")),
                "{method} {path} sent a Link the spec does not declare"
            );
            check_link(link);
        }
    }

    /// A header value against its declared schema: integers must parse as integers.
    fn check_header(&self, name: &str, schema: &Value, value: &str) {
        let parsed = match schema["type"].as_str() {
            Some("integer") => value
                .parse::<i64>()
                .map(|number| json!(number))
                .unwrap_or_else(|_| panic!("{name}: {value} is no integer")),
            _ => json!(value),
        };
        let errors = self.errors(schema, &parsed);
        assert!(errors.is_empty(), "{name}: {value}: {errors:?}");
    }
}

/// GitHub's `Link`: comma-separated `<url>; rel="next|last|first|prev"`.
fn check_link(link: &str) {
    for part in link.split(", ") {
        let (url, rel) = part
            .split_once("; ")
            .unwrap_or_else(|| panic!("Link part {part} has no rel"));
        assert!(
            url.starts_with("<http") && url.ends_with('>'),
            "Link url {url}"
        );
        assert!(
            [
                "rel=\"next\"",
                "rel=\"last\"",
                "rel=\"first\"",
                "rel=\"prev\""
            ]
            .contains(&rel),
            "Link rel {rel}"
        );
    }
}

/// OpenAPI 3.0 to draft 4, in place: `nullable` spelled out, listed objects closed.
fn draft4(value: &mut Value) {
    match value {
        Value::Object(object) => {
            // The members of an `allOf` each see only part of the object; closing
            // them would refuse the other members' properties.
            let in_parts = object.contains_key("allOf");
            object.values_mut().for_each(draft4);
            if !in_parts && object.contains_key("properties") {
                object
                    .entry("additionalProperties")
                    .or_insert(Value::Bool(false));
            }
            if in_parts {
                for part in object["allOf"].as_array_mut().into_iter().flatten() {
                    if let Some(part) = part.as_object_mut() {
                        part.remove("additionalProperties");
                    }
                }
            }
            if object.remove("nullable") == Some(Value::Bool(true)) {
                nullable(object);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(draft4),
        _ => {}
    }
}

fn nullable(object: &mut serde_json::Map<String, Value>) {
    if let Some(Value::Array(values)) = object.get_mut("enum") {
        if !values.contains(&Value::Null) {
            values.push(Value::Null);
        }
    }
    match object.get("type").cloned() {
        Some(Value::String(kind)) => {
            object.insert("type".into(), json!([kind, "null"]));
        }
        _ => {
            let inner = Value::Object(std::mem::take(object));
            object.insert("anyOf".into(), json!([inner, {"type": "null"}]));
        }
    }
}
