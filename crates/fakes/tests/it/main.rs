//! The fakes checked against the official specs they imitate (Heroku's Platform API
//! hyper-schema, Slack's Web API OpenAPI document, GitHub's REST OpenAPI description),
//! over HTTP, with no bot involved; and real third-party clients run against them.

mod clients;
mod github_conformance;
mod github_spec;
mod heroku_conformance;
mod slack_conformance;
mod slack_openid;
