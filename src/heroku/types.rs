//! Small reference objects that many Heroku resources embed (`{"id": ...}`,
//! `{"id", "name"}`, `{"id", "email"}`).

use serde::{Deserialize, Serialize};

/// A reference to another resource by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRef {
    pub id: String,
}

/// A reference carrying the resource's id and name (apps, teams, regions, stacks).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NamedRef {
    pub id: String,
    pub name: String,
}

/// The user a build or release was made by.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserRef {
    pub id: String,
    pub email: String,
}
