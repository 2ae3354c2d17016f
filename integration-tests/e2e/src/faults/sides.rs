//! What each side of a system under test shows: Vikunja (the simulator's tasks), every host
//! (`task export`), and the dead letters on the bus.

use std::collections::BTreeMap;

use serde_json::Value;
use vikunja_sim::Simulator;
use vsync_harness::TwHost;

use super::Want;
use super::judge::{Seen, Verdict, judge};

/// The sides of a system under test: the simulator, the hosts, the bus (for dead letters).
pub struct Sides<'a> {
    pub sim: &'a Simulator,
    pub hosts: &'a [TwHost],
    /// How the checker connects to the bus (as the server, which may read dead letters).
    pub bus: vsync_bus::BusConfig,
}

impl<'a> Sides<'a> {
    pub fn of(sys: &'a crate::System) -> Sides<'a> {
        Sides {
            sim: &sys.sim,
            hosts: &sys.hosts,
            bus: vsync_bus::BusConfig::new(&sys.bus_url(), "fault-checker")
                .with_credentials(sys.nats.server_credentials()),
        }
    }

    pub fn of_procs(sys: &'a crate::procs::ProcSystem) -> Sides<'a> {
        Sides {
            sim: &sys.sim,
            hosts: &sys.hosts,
            bus: vsync_bus::BusConfig::new(&sys.nats.url(), "fault-checker")
                .with_credentials(sys.nats.server_credentials()),
        }
    }

    /// What every side shows now, judged against `wants`.
    pub async fn check(&self, wants: &[Want]) -> Verdict {
        let mut sides = vec![("vikunja".to_string(), vikunja_side(self.sim))];
        for h in self.hosts {
            let (name, bin, rc, data) = (
                h.name.clone(),
                h.task_bin().to_path_buf(),
                h.taskrc(),
                h.data_dir(),
            );
            let seen =
                tokio::task::spawn_blocking(move || host_side(&crate::export(&bin, &rc, &data)))
                    .await
                    .expect("export a host");
            sides.push((format!("host {name}"), seen));
        }
        judge(&sides, wants, self.dead_letters().await)
    }

    async fn dead_letters(&self) -> u64 {
        let bus = vsync_bus::Bus::connect(&self.bus)
            .await
            .expect("the checker connects to the bus");
        bus.dead_letters()
            .await
            .expect("the dead letters can be read")
            .len() as u64
    }
}

/// Every live task of Vikunja, as the simulator holds it.
fn vikunja_side(sim: &Simulator) -> Vec<Seen> {
    let projects: BTreeMap<i64, (String, i64)> = sim
        .projects()
        .into_iter()
        .map(|p| (p.id, (p.title, p.parent_project_id)))
        .collect();
    let path = |mut id: i64| {
        let mut titles = Vec::new();
        while let Some((title, parent)) = projects.get(&id) {
            titles.push(title.clone());
            if *parent <= 0 || titles.len() > 64 {
                break;
            }
            id = *parent;
        }
        if titles.len() == 1 && titles[0] == "Inbox" {
            return String::new();
        }
        titles.reverse();
        titles.join(".")
    };
    sim.tasks()
        .into_iter()
        .map(|t| {
            let due = (t.due_date.year() > 1).then(|| t.due_date.unix_timestamp());
            let priority = match t.priority {
                0 => None,
                1 => Some("L".to_string()),
                2 => Some("M".to_string()),
                _ => Some("H".to_string()),
            };
            Seen {
                title: t.title.clone(),
                project: path(t.project_id),
                done: t.done,
                due,
                priority,
                tags: t.labels.iter().flatten().map(|l| l.title.clone()).collect(),
                annotations: vsync_model::html::paragraphs(&t.description),
                vikunja_id: Some(t.id),
            }
        })
        .collect()
}

/// Every live (pending, waiting or completed) task of a host's `task export`.
fn host_side(export: &[Value]) -> Vec<Seen> {
    export
        .iter()
        .filter(|t| matches!(crate::s(t, "status"), "pending" | "completed" | "waiting"))
        .map(|t| Seen {
            title: crate::s(t, "description").to_string(),
            project: crate::s(t, "project").to_string(),
            done: crate::s(t, "status") == "completed",
            due: vsync_model::dates::parse_tw(crate::s(t, "due")),
            priority: Some(crate::s(t, "priority").to_string()).filter(|p| !p.is_empty()),
            tags: t["tags"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            annotations: crate::annotations(t)
                .into_iter()
                .map(str::to_string)
                .collect(),
            vikunja_id: t["vikunja_id"].as_f64().map(|id| id as i64),
        })
        .collect()
}
