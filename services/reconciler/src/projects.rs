//! The Vikunja project tree and its Taskwarrior paths (`Work.ClientA` = project "ClientA" whose
//! parent is "Work"). The default project maps to the empty path. Loaded once at start so that
//! webhook-driven changes need no API call; unknown projects are fetched, missing paths created.

use std::collections::HashMap;

use vsync_vikunja::{Project, VikunjaClient, VikunjaError};

pub struct ProjectTree {
    by_id: HashMap<i64, Project>,
    default_title: String,
}

impl ProjectTree {
    pub fn new(default_title: &str) -> ProjectTree {
        ProjectTree {
            by_id: HashMap::new(),
            default_title: default_title.to_string(),
        }
    }

    /// Replaces the tree with a full listing.
    pub fn load(&mut self, projects: Vec<Project>) {
        self.by_id = projects.into_iter().map(|p| (p.id, p)).collect();
    }

    pub fn insert(&mut self, p: Project) {
        self.by_id.insert(p.id, p);
    }

    pub fn remove(&mut self, id: i64) {
        self.by_id.remove(&id);
    }

    /// Every known project id.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.by_id.keys().copied()
    }

    /// `id` and every project below it.
    pub fn subtree(&self, id: i64) -> Vec<i64> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i];
            out.extend(
                self.by_id
                    .values()
                    .filter(|p| p.parent_project_id == parent && p.id != parent)
                    .map(|p| p.id),
            );
            i += 1;
        }
        out
    }

    /// The path of a known project (`None` if it or an ancestor is unknown).
    pub fn path(&self, id: i64) -> Option<String> {
        let mut titles = Vec::new();
        let mut cur = self.by_id.get(&id)?;
        loop {
            titles.push(cur.title.clone());
            if cur.parent_project_id <= 0 || titles.len() > 64 {
                break;
            }
            cur = self.by_id.get(&cur.parent_project_id)?;
        }
        if titles.len() == 1 && titles[0] == self.default_title {
            return Some(String::new());
        }
        titles.reverse();
        Some(titles.join("."))
    }

    /// The project whose path is `path`.
    pub fn find(&self, path: &str) -> Option<i64> {
        let mut ids: Vec<i64> = self
            .by_id
            .values()
            .filter(|p| !p.is_archived || path.is_empty())
            .map(|p| p.id)
            .filter(|id| self.path(*id).as_deref() == Some(path))
            .collect();
        // Titles are not unique: pick the oldest, deterministically.
        ids.sort();
        ids.first().copied()
    }

    /// The path of `id`, fetching it (and its ancestors) when unknown.
    pub async fn path_or_fetch(
        &mut self,
        id: i64,
        api: &VikunjaClient,
    ) -> Result<String, VikunjaError> {
        let mut guard = 0;
        while self.path(id).is_none() && guard < 64 {
            guard += 1;
            let missing = self.first_unknown(id);
            let p = api.get_project(missing).await?;
            self.insert(p);
        }
        Ok(self.path(id).unwrap_or_default())
    }

    fn first_unknown(&self, mut id: i64) -> i64 {
        while let Some(p) = self.by_id.get(&id) {
            if p.parent_project_id <= 0 {
                break;
            }
            id = p.parent_project_id;
        }
        id
    }

    /// The project for `path`, creating missing ones (with their parents).
    pub async fn resolve(&mut self, path: &str, api: &VikunjaClient) -> Result<i64, VikunjaError> {
        if let Some(id) = self.find(path) {
            return Ok(id);
        }
        if path.is_empty() {
            let title = self.default_title.clone();
            let p = api.create_project(&title, 0).await?;
            let id = p.id;
            self.insert(p);
            return Ok(id);
        }
        let mut parent = 0;
        let mut prefix = String::new();
        for segment in path.split('.') {
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(segment);
            parent = match self.find(&prefix) {
                Some(id) => id,
                None => {
                    let p = api.create_project(segment, parent).await?;
                    tracing::info!(path = %prefix, id = p.id, "created Vikunja project");
                    let id = p.id;
                    self.insert(p);
                    id
                }
            };
        }
        Ok(parent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: i64, title: &str, parent: i64) -> Project {
        Project {
            id,
            title: title.into(),
            parent_project_id: parent,
            ..Default::default()
        }
    }

    #[test]
    fn paths_follow_parents_and_the_default_project_is_empty() {
        let mut t = ProjectTree::new("Inbox");
        t.load(vec![
            p(1, "Inbox", 0),
            p(2, "Work", 0),
            p(3, "ClientA", 2),
            p(4, "x", 3),
        ]);
        assert_eq!(t.path(1).as_deref(), Some(""));
        assert_eq!(t.path(3).as_deref(), Some("Work.ClientA"));
        assert_eq!(t.find("Work.ClientA.x"), Some(4));
        assert_eq!(t.find(""), Some(1));
        assert_eq!(t.path(9), None);
        let mut sub = t.subtree(2);
        sub.sort();
        assert_eq!(sub, [2, 3, 4]);
    }
}
