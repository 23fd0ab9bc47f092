//! Slack's side of the wire: the Web API client, request signatures, and the pace
//! Slack allows. Knows nothing about Heroku, GitHub or any feature.

pub mod api;
pub mod pacer;
pub mod verify;
