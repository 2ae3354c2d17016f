//! A whole system on this machine: a temporary nats-server, the Vikunja simulator, the server
//! services and any number of Taskwarrior sandboxes with their watchers and the hook installed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use vikunja_sim::{SimConfig, Simulator};
use vsync_config::Config;
use vsync_harness::{NatsServer, TwHost};

use crate::running::Running;

/// The webhook secret the demo registers.
const SECRET: &str = "demo-webhook-secret";
/// How long a start waits for adoption (Taskwarrior 3 imports a thousand tasks slowly).
const ADOPTION_DEADLINE: Duration = Duration::from_secs(300);

/// A complete local system.
pub struct System {
    pub nats: NatsServer,
    pub sim: Simulator,
    pub hosts: Vec<TwHost>,
    pub running: Running,
    /// The config of the server services (ingress, reconciler, label-sync).
    pub server: Config,
    /// A bus client of the system's own.
    pub bus: vsync_bus::Bus,
    /// Where webhook-ingress takes `/webhook`.
    pub ingress: std::net::SocketAddr,
    /// Where webhook-ingress serves `/metrics`.
    pub ingress_metrics: std::net::SocketAddr,
    dir: tempfile::TempDir,
    host_reconcile_interval: Option<Duration>,
    host_filters: Vec<(String, String)>,
}

/// What to start.
pub struct Options {
    pub hosts: Vec<String>,
    /// Link the hook into each host (needs the `vikunja-sync-hook` binary).
    pub hook_bin: Option<PathBuf>,
    pub sim: SimConfig,
    /// Top-level projects created in Vikunja before the services start.
    pub projects: Vec<String>,
    /// How often the reconciler looks for new projects and polls Vikunja (delta pass).
    pub reconcile_interval: Duration,
    /// How often it lists every task (full pass); `None`: ten delta intervals.
    pub full_reconcile_interval: Option<Duration>,
    /// How long the server services wait for one Vikunja answer; `None`: the default.
    pub vikunja_timeout: Option<Duration>,
    /// Taskwarrior config lines added to every host (e.g. UDA declarations).
    pub taskrc: Vec<String>,
    /// Tasks Vikunja already has before the services start: (project title, task title).
    pub vikunja_tasks: Vec<(String, String)>,
    /// Tasks a host already has before its watcher first starts: (host, `task add` arguments).
    pub host_tasks: Vec<(String, Vec<String>)>,
    /// The `task` program the hosts run (default: found on PATH).
    pub task_bin: Option<PathBuf>,
    /// How often each watcher runs its host reconcile (default: the config's default).
    pub host_reconcile_interval: Option<Duration>,
    /// `[adopt] auto`: adopt at first start, and `start` waits until every host is adopted;
    /// `false`: nothing that existed before syncs until `vikunja-sync adopt`.
    pub adopt_auto: bool,
    /// `vikunja.projects`: the top-level projects synced (empty: all).
    pub vikunja_projects: Vec<String>,
    /// `[taskwarrior] filter` per host: (host, filter); a host not named syncs every task.
    pub host_filters: Vec<(String, String)>,
    /// `[reconcile] host_timeout` of the server services (default: the config's default).
    pub host_timeout: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            hosts: vec!["laptop".into(), "desk".into()],
            hook_bin: vikunja_sync::hook::hook_binary(),
            sim: SimConfig::default(),
            projects: vec!["Home".into()],
            reconcile_interval: Duration::from_secs(2),
            full_reconcile_interval: None,
            vikunja_timeout: None,
            taskrc: Vec::new(),
            vikunja_tasks: Vec::new(),
            host_tasks: Vec::new(),
            task_bin: None,
            host_reconcile_interval: None,
            adopt_auto: true,
            vikunja_projects: Vec::new(),
            host_filters: Vec::new(),
            host_timeout: None,
        }
    }
}

impl System {
    pub async fn start(opts: Options) -> anyhow::Result<System> {
        let dir = tempfile::tempdir()?;
        let nats = NatsServer::start_with_store(&dir.path().join("nats"))?;
        let sim = Simulator::start(opts.sim).await?;
        for p in &opts.projects {
            sim.create_project(p, 0);
        }
        for (project, title) in &opts.vikunja_tasks {
            let id = sim
                .projects()
                .into_iter()
                .find(|p| p.title == *project)
                .map(|p| p.id)
                .context("vikunja_tasks names a project not in `projects`")?;
            sim.create_task(id, title);
        }
        let token = dir.path().join("vikunja-token");
        let secret = dir.path().join("webhook-secret");
        std::fs::write(&token, sim.token())?;
        std::fs::write(&secret, SECRET)?;
        let mut server = Config::default();
        server.vikunja.url = Some(sim.base_url());
        server.vikunja.token_file = Some(token);
        server.vikunja.webhook_secret_file = Some(secret);
        server.ingress.listen = "127.0.0.1:0".parse()?;
        server.ingress.metrics_listen = "127.0.0.1:0".parse()?;
        server.bus.credentials_file = Some(nats.server_credentials());
        server.adopt.auto = opts.adopt_auto;
        server.vikunja.projects = opts.vikunja_projects.clone();
        server.reconcile.interval = opts.reconcile_interval;
        if let Some(t) = opts.vikunja_timeout {
            server.vikunja.timeout = t;
        }
        if let Some(t) = opts.host_timeout {
            server.reconcile.host_timeout = t;
        }
        server.reconcile.full_interval = opts
            .full_reconcile_interval
            .unwrap_or(opts.reconcile_interval * 10);
        let bus_url = nats.url();
        let mut running = Running::new();
        let (ingress, ingress_metrics) = running.spawn_ingress(&server, &bus_url).await?;
        server.vikunja.webhook_url = Some(format!("http://{ingress}/webhook"));
        running.spawn_label_sync(&server, &bus_url).await?;
        running.spawn_reconciler(&server, &bus_url).await?;
        let bus = vsync_bus::Bus::connect(&vsync_bus::BusConfig::from_config(
            &server, &bus_url, "demo",
        ))
        .await?;
        let mut sys = System {
            nats,
            sim,
            hosts: Vec::new(),
            running,
            server,
            bus,
            ingress,
            ingress_metrics,
            dir,
            host_reconcile_interval: opts.host_reconcile_interval,
            host_filters: opts.host_filters.clone(),
        };
        let hosts: Vec<TwHost> = opts
            .hosts
            .iter()
            .map(|name| match &opts.task_bin {
                Some(bin) => TwHost::with_bin(name, bin.clone()),
                None => TwHost::new(name),
            })
            .collect();
        // Each host's tasks added in its own thread: thousands of `task add` take minutes.
        std::thread::scope(|s| {
            for host in &hosts {
                s.spawn(|| {
                    for line in &opts.taskrc {
                        host.configure(line);
                    }
                    for (_, args) in opts.host_tasks.iter().filter(|(h, _)| *h == host.name) {
                        let mut a = vec!["rc.hooks=off", "add"];
                        a.extend(args.iter().map(String::as_str));
                        host.ok(&a);
                    }
                });
            }
        });
        for host in hosts {
            if let Some(bin) = &opts.hook_bin {
                vikunja_sync::hook::install(&host.data_dir(), None, Some(bin), false)?;
            }
            let name = host.name.clone();
            sys.hosts.push(host);
            sys.start_host(&name).await?;
        }
        if opts.adopt_auto {
            sys.wait_adopted(&opts.hosts).await?;
        }
        Ok(sys)
    }

    /// Waits until Vikunja and every host of `hosts` have been adopted.
    pub async fn wait_adopted(&self, hosts: &[String]) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + ADOPTION_DEADLINE;
        loop {
            let a = self.bus.adoption().await?;
            if a.vikunja_at_us.is_some() && hosts.iter().all(|h| a.host_adopted(h)) {
                return Ok(());
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "not adopted within {ADOPTION_DEADLINE:?}: {a:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn bus_url(&self) -> String {
        self.nats.url()
    }

    pub fn host(&self, name: &str) -> &TwHost {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .unwrap_or_else(|| panic!("no host {name}"))
    }

    /// The tw-watcher config of a host.
    pub fn host_config(&self, name: &str) -> Config {
        let h = self.host(name);
        let mut c = Config::default();
        c.taskwarrior.host = Some(name.to_string());
        c.bus.credentials_file = Some(self.nats.host_credentials(name));
        c.taskwarrior.data = Some(h.data_dir());
        c.taskwarrior.taskrc = Some(h.taskrc());
        c.taskwarrior.task_bin = Some(h.task_bin().to_path_buf());
        if let Some(every) = self.host_reconcile_interval {
            c.reconcile.interval = every;
            c.reconcile.full_interval = every;
        }
        c.taskwarrior.filter = self
            .host_filters
            .iter()
            .find(|(h, _)| h == name)
            .map(|(_, f)| f.clone());
        c
    }

    pub async fn start_host(&mut self, name: &str) -> anyhow::Result<()> {
        let cfg = self.host_config(name);
        self.running.spawn_watcher(&cfg, &self.nats.url()).await
    }

    pub async fn stop_host(&mut self, name: &str) -> anyhow::Result<()> {
        self.running
            .stop_matching(&format!("tw-watcher@{name}"))
            .await
    }

    /// Stops every service of the server (ingress, reconciler, label-sync).
    pub async fn stop_server(&mut self) -> anyhow::Result<()> {
        for s in ["webhook-ingress", "reconciler", "label-sync"] {
            self.running.stop_matching(s).await?;
        }
        Ok(())
    }

    /// Starts the server services again (same config, same ingress port).
    pub async fn start_server(&mut self) -> anyhow::Result<()> {
        let mut cfg = self.server.clone();
        cfg.ingress.listen = self.ingress;
        cfg.ingress.metrics_listen = self.ingress_metrics;
        let url = self.nats.url();
        self.running.spawn_ingress(&cfg, &url).await?;
        self.running.spawn_label_sync(&cfg, &url).await?;
        self.running.spawn_reconciler(&cfg, &url).await
    }

    /// Subscribes to "applied" notices of every host.
    pub async fn applied_notices(&self) -> anyhow::Result<vsync_bus::AppliedNotices> {
        Ok(self.bus.applied_notices().await?)
    }

    pub fn temp_dir(&self) -> &Path {
        self.dir.path()
    }

    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.running.stop().await?;
        self.sim.shutdown().await;
        Ok(())
    }
}
