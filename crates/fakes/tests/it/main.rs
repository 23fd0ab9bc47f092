//! The fakes checked against the official specs they imitate (Heroku's Platform API
//! hyper-schema, Slack's Web API OpenAPI document), over HTTP, with no bot involved.

mod heroku_conformance;
mod slack_conformance;
mod slack_openid;
