//! label-sync: owns the label registry (title -> Vikunja label id, kept in the bus's KV so every
//! replica agrees) and sets a task's labels with whichever costs fewer API calls: one bulk set,
//! or single adds/removes. A missing label is created exactly once, even when several tasks need
//! it at the same moment: the first to claim the title in KV creates it, the others wait for it.

mod registry;

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use vsync_bus::{Bus, BusConfig};
use vsync_config::{Config, read_secret};
use vsync_proto::{LabelWork, LabelWorkResult, Message};
use vsync_vikunja::{VikunjaClient, VikunjaError};

pub use registry::Registry;

/// The request subject this service answers.
pub fn subject() -> String {
    vsync_bus::subject::ctl("labels", "apply")
}

pub struct LabelSync {
    bus: Bus,
    api: VikunjaClient,
    registry: Registry,
}

impl LabelSync {
    pub fn new(bus: Bus, api: VikunjaClient) -> LabelSync {
        let registry = Registry::new(bus.labels().clone());
        LabelSync { bus, api, registry }
    }

    /// Sets the task's labels to the titles in `work`; returns the ids in title order.
    pub async fn apply(&self, work: &LabelWork) -> Result<LabelWorkResult, VikunjaError> {
        let mut ids = Vec::with_capacity(work.titles.len());
        let calls_before = self.api.calls();
        for title in &work.titles {
            ids.push(self.registry.ensure(title, &self.api).await?);
        }
        let want: BTreeSet<i64> = ids.iter().copied().collect();
        let have: BTreeSet<i64> = work.current_label_ids.iter().copied().collect();
        let add: Vec<i64> = want.difference(&have).copied().collect();
        let remove: Vec<i64> = have.difference(&want).copied().collect();
        let task = work.vikunja_task_id;
        if add.len() + remove.len() <= 1 {
            for id in add {
                match self.api.add_label(task, id).await {
                    // 8001: already on the task.
                    Err(VikunjaError::Api { code: 8001, .. }) | Ok(()) => {}
                    Err(e) => return Err(e),
                }
            }
            for id in remove {
                match self.api.remove_label(task, id).await {
                    Err(e) if !e.is_not_found() => return Err(e),
                    _ => {}
                }
            }
        } else {
            let ids: Vec<i64> = want.iter().copied().collect();
            self.api.set_labels(task, &ids).await?;
        }
        Ok(LabelWorkResult {
            label_ids: ids,
            api_calls: (self.api.calls() - calls_before) as u32,
            error: String::new(),
        })
    }
}

/// The running service.
pub struct App {
    sync: Arc<LabelSync>,
}

impl App {
    pub async fn build(cfg: &Config, bus_url: &str, name: &str) -> anyhow::Result<App> {
        let bus = Bus::connect(&BusConfig {
            url: bus_url.to_string(),
            credentials_file: cfg.bus.credentials_file.clone(),
            replicas: cfg.bus.replicas,
            name: name.to_string(),
        })
        .await?;
        let token_file = cfg
            .vikunja
            .token_file
            .as_deref()
            .ok_or(vsync_config::ConfigError::Missing("vikunja.token_file"))?;
        let api = VikunjaClient::new(
            &cfg.vikunja_api()?,
            read_secret(token_file)?,
            cfg.vikunja.timeout,
        )?;
        let sync = Arc::new(LabelSync::new(bus, api));
        if let Err(e) = sync.registry.refresh(&sync.api).await {
            tracing::warn!(error = %e, "cannot list Vikunja labels yet");
        }
        Ok(App { sync })
    }

    /// Answers label work until `shutdown`; requests in flight are finished.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut requests = self
            .sync
            .bus
            .client()
            .queue_subscribe(subject(), "label-sync".to_string())
            .await
            .context("cannot subscribe to label work")?;
        tracing::info!("label-sync running");
        let tasks = tokio_util::task::TaskTracker::new();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                msg = requests.next() => {
                    let Some(msg) = msg else { break };
                    let sync = self.sync.clone();
                    tasks.spawn(async move { sync.answer(msg).await });
                }
            }
        }
        tasks.close();
        tasks.wait().await;
        tracing::info!("label-sync stopped");
        Ok(())
    }
}

impl LabelSync {
    async fn answer(&self, msg: vsync_bus::async_nats::Message) {
        let span = tracing::info_span!(
            "process",
            otel.name = "process vsync.v1.ctl.labels.apply",
            otel.kind = "consumer",
            messaging.system = "nats",
            vikunja.task_id = tracing::field::Empty,
        );
        vsync_bus::trace::set_parent(&span, msg.headers.as_ref());
        let Some(reply) = msg.reply.clone() else {
            return;
        };
        let res = async {
            match vsync_bus::decode::<LabelWork>("LabelWork", &msg.payload) {
                Ok(work) => {
                    tracing::Span::current().record("vikunja.task_id", work.vikunja_task_id);
                    self.apply(&work).await.unwrap_or_else(|e| LabelWorkResult {
                        error: e.to_string(),
                        ..Default::default()
                    })
                }
                Err(e) => LabelWorkResult {
                    error: e.to_string(),
                    ..Default::default()
                },
            }
        }
        .instrument(span)
        .await;
        if let Err(e) = self
            .bus
            .client()
            .publish(reply, Bytes::from(res.encode_to_vec()))
            .await
        {
            tracing::warn!(error = %e, "cannot answer label work");
        }
    }
}
