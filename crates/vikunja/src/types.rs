//! Vikunja's project, label and webhook objects (unmapped fields kept).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Project {
    pub id: i64,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub parent_project_id: i64,
    #[serde(default)]
    pub is_archived: bool,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Label {
    pub id: i64,
    #[serde(default)]
    pub title: String,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Webhook {
    pub id: i64,
    #[serde(default)]
    pub target_url: String,
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub project_id: i64,
}
