//! Slack's side of the wire: the Web API client, Sign in with Slack, request
//! signatures, and the pace Slack allows. Knows nothing about Heroku, GitHub or any feature.

pub mod api;
pub mod openid;
pub mod pacer;
pub mod verify;
