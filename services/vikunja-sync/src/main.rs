//! `vikunja-sync`: the operator CLI.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    version,
    about = "Event-driven two-way sync between Vikunja and Taskwarrior"
)]
struct Cli {
    /// Config file (docs/ARCHITECTURE.md §2).
    #[arg(long, global = true, env = "VIKUNJA_SYNC_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service this machine's config asks for, each as its own process (and a local
    /// nats-server when no bus URL is configured).
    Up,
    /// Start a throw-away system (nats-server, Vikunja simulator, two Taskwarrior hosts) and
    /// move one change each way through it (runs the `vikunja-sync-demo` program).
    Demo,
    /// Show tasks, pending events, host lag, dead letters, the last reconcile and recent conflicts.
    Status,
    /// Reconcile now (a full listing unless --delta) and print what changed.
    Reconcile {
        /// Only this project path (and its children).
        #[arg(long)]
        project: Option<String>,
        /// Only tasks updated since the last pass (finds no deletions).
        #[arg(long)]
        delta: bool,
        /// Delete the tasks Vikunja no longer has even when the mass-deletion guard holds them
        /// back (more than 10, or one in twenty, missing at once).
        #[arg(long, conflicts_with = "delta")]
        confirm_deletions: bool,
    },
    /// Rebuild the correlations (Vikunja id <-> uuid) from both sides.
    Repair,
    /// Every Taskwarrior host: last seen, lag, version, adopted; `retire NAME` forgets one.
    Hosts {
        #[command(subcommand)]
        action: Option<vikunja_sync::hosts::HostsAction>,
    },
    /// First adoption of data both sides already have: link, create, report ambiguity.
    Adopt {
        /// Only print what would be linked, created and left alone.
        #[arg(long)]
        dry_run: bool,
        /// Resolve a held match: Taskwarrior task UUID is Vikunja task VIKUNJA_ID.
        #[arg(long, num_args = 2, value_names = ["UUID", "VIKUNJA_ID"], conflicts_with_all = ["dry_run", "separate"])]
        link: Option<Vec<String>>,
        /// Resolve a held match: this task (a uuid or a Vikunja id) is a task of its own.
        #[arg(long, value_name = "UUID|VIKUNJA_ID", conflicts_with = "dry_run")]
        separate: Option<String>,
        /// syncall's config directory (e.g. ~/.config/syncall): link the tasks its
        /// `tw_caldav_sync` kept in step, where a CalDAV UID names a Vikunja task.
        #[arg(long, value_name = "DIR")]
        from_syncall: Option<PathBuf>,
        /// Remove the webhooks on synced projects that point anywhere but ours (without it,
        /// they are only listed).
        #[arg(long)]
        remove_foreign_webhooks: bool,
    },
    /// Install or remove the Taskwarrior hook.
    Hook {
        #[command(subcommand)]
        action: HookAction,
    },
    /// Check this machine's setup (Vikunja, token, webhooks, bus, Taskwarrior, clocks) and say
    /// how to fix what is wrong; exit 0 only when everything holds.
    Doctor,
    /// Work with config files.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Bus identities: NKey seed files (0600) and the bus's matching configuration.
    Bus {
        /// Where the identities are kept (default: `<state>/bus-identities`, the ones
        /// `up`'s own bus uses).
        #[arg(long, global = true)]
        dir: Option<PathBuf>,
        #[command(subcommand)]
        action: BusAction,
    },
    /// Work that failed for good (dead letters), with why; replay redoes it once the cause is
    /// fixed.
    DeadLetters {
        #[command(subcommand)]
        action: Option<DeadLettersAction>,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Check FILE as written (no VIKUNJA_SYNC_* overrides): exit 0 when it is valid, 64 with
    /// the reason otherwise. Reads no secret file and connects nowhere.
    Check { file: PathBuf },
}

#[derive(Subcommand)]
enum BusAction {
    /// Print nats-server's `authorization` block: a user per identity with its role's
    /// permissions (makes the server and operator identities when missing).
    Config,
    /// Make host NAME's identity (its tw-watcher's `[bus] credentials_file`).
    AddHost {
        /// The host id (`[taskwarrior] host` on that machine).
        name: String,
    },
}

#[derive(Subcommand)]
enum DeadLettersAction {
    /// Every dead letter: its number, when, where it failed, what, and why (the default).
    List,
    /// Redo the work of dead letter SEQ (or of every one, with --all) and remove it.
    Replay {
        seq: Option<u64>,
        #[arg(long, conflicts_with = "seq")]
        all: bool,
    },
}

#[derive(Subcommand)]
enum HookAction {
    /// Link the hook into `<data>/hooks` and declare the UDA in the taskrc.
    Install {
        /// Taskwarrior data dir (default: from the config, else where `task` finds it: TASKDATA,
        /// the taskrc's data.location, ~/.task).
        #[arg(long)]
        data: Option<PathBuf>,
        /// taskrc to declare the UDA in (default: from the config, else the one `task` reads:
        /// TASKRC, ~/.taskrc, $XDG_CONFIG_HOME/task/taskrc). Never created.
        #[arg(long)]
        taskrc: Option<PathBuf>,
        /// The hook program (default: next to this program).
        #[arg(long)]
        hook_bin: Option<PathBuf>,
        /// Also run on-modify, which is what sees `task undo` on Taskwarrior 2.6
        /// (costs one more process per changed task).
        #[arg(long)]
        with_undo: bool,
    },
    /// Remove our hook links (nothing else).
    Uninstall {
        /// Taskwarrior data dir (default: as for install).
        #[arg(long)]
        data: Option<PathBuf>,
        /// taskrc naming the hooks directory (default: as for install).
        #[arg(long)]
        taskrc: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // These two read the config themselves: a config that does not load is what they report.
    let command = match cli.command {
        Command::Config { action } => return config(action),
        Command::Doctor => return doctor(cli.config.as_deref()).await,
        other => other,
    };
    let cfg = match vsync_config::Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vikunja-sync: {e}");
            return ExitCode::from(64);
        }
    };
    let result = match command {
        Command::Config { .. } | Command::Doctor => unreachable!("handled above"),
        Command::Hook { action } => hook(action, &cfg),
        Command::Bus { dir, action } => bus(action, dir),
        Command::Demo => Err(vikunja_sync::demo::exec()),
        Command::Up => {
            // The supervisor logs; its services export their own spans.
            let logs_only = vsync_config::Telemetry {
                otlp_endpoint: None,
                ..cfg.telemetry.clone()
            };
            let _telemetry = match vsync_telemetry::init("vikunja-sync", "", &logs_only) {
                Ok(g) => g,
                Err(e) => {
                    eprintln!("vikunja-sync: {e:#}");
                    return ExitCode::from(70);
                }
            };
            let signal = vsync_lifecycle::shutdown_signal();
            vikunja_sync::up::up(&cfg, cli.config.as_deref(), signal).await
        }
        Command::Status => status(&cfg).await,
        Command::Reconcile {
            project,
            delta,
            confirm_deletions,
        } => {
            ctl(&cfg, |bus| async move {
                let req = vsync_bus::control::ReconcileRequest {
                    full: !delta,
                    project,
                    confirm_deletions,
                };
                Ok(vikunja_sync::ctl::reconcile(&bus, &req).await?.to_string())
            })
            .await
        }
        Command::DeadLetters { action } => {
            ctl(&cfg, |bus| async move {
                match action.unwrap_or(DeadLettersAction::List) {
                    DeadLettersAction::List => vikunja_sync::dead_letters::list(&bus).await,
                    DeadLettersAction::Replay {
                        seq: None,
                        all: false,
                    } => {
                        anyhow::bail!("name a dead letter (`dead-letters replay SEQ`) or --all")
                    }
                    DeadLettersAction::Replay { seq, .. } => {
                        Ok(vikunja_sync::dead_letters::replay(&bus, seq)
                            .await?
                            .to_string())
                    }
                }
            })
            .await
        }
        Command::Hosts { action } => {
            ctl(&cfg, |bus| async move {
                vikunja_sync::hosts::run(&bus, action.unwrap_or_default()).await
            })
            .await
        }
        Command::Repair => {
            ctl(&cfg, |bus| async move {
                Ok(vikunja_sync::ctl::repair(&bus).await?.to_string())
            })
            .await
        }
        Command::Adopt {
            dry_run,
            link,
            separate,
            from_syncall,
            remove_foreign_webhooks,
        } => {
            let link = match link.as_deref() {
                Some([uuid, id]) => match id.trim_start_matches('#').parse::<i64>() {
                    Ok(id) => Some((uuid.clone(), id)),
                    Err(_) => {
                        eprintln!(
                            "vikunja-sync: --link UUID VIKUNJA_ID: {id:?} is not a Vikunja task id"
                        );
                        return ExitCode::from(64);
                    }
                },
                _ => None,
            };
            let syncall = match from_syncall
                .as_deref()
                .map(vikunja_sync::ctl::syncall_links)
            {
                Some(Ok(links)) => links,
                Some(Err(e)) => {
                    eprintln!("vikunja-sync: {e:#}");
                    return ExitCode::FAILURE;
                }
                None => Vec::new(),
            };
            let req = vsync_bus::control::AdoptRequest {
                dry_run,
                progress: None,
                link,
                separate,
                syncall,
                remove_foreign_webhooks,
            };
            ctl(&cfg, |bus| async move {
                let report = vikunja_sync::ctl::adopt_with(&bus, req, true).await?;
                Ok(report.to_string())
            })
            .await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vikunja-sync: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `doctor`: the report on stdout; 0 only when nothing is a problem.
async fn doctor(config: Option<&std::path::Path>) -> ExitCode {
    let report = vikunja_sync::doctor::run(config).await;
    print!("{report}");
    if report.healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `config check`: 0 when valid, 64 (EX_USAGE, as a service given it would exit) otherwise.
fn config(action: ConfigAction) -> ExitCode {
    let ConfigAction::Check { file } = action;
    match vikunja_sync::config_check::check_file(&file) {
        Ok(()) => {
            println!("{}: valid", file.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vikunja-sync: {e:#}");
            ExitCode::from(64)
        }
    }
}

fn hook(action: HookAction, cfg: &vsync_config::Config) -> anyhow::Result<()> {
    match action {
        HookAction::Install {
            data,
            taskrc,
            hook_bin,
            with_undo,
        } => {
            let (data, taskrc) = taskwarrior_files(cfg, data, taskrc);
            let report =
                vikunja_sync::hook::install(&data, Some(&taskrc), hook_bin.as_deref(), with_undo)?;
            println!("{report}");
        }
        HookAction::Uninstall { data, taskrc } => {
            let (data, taskrc) = taskwarrior_files(cfg, data, taskrc);
            let hooks = vsync_config::paths::TaskEnv::current().hooks(&taskrc, &data);
            println!("{}", vikunja_sync::hook::uninstall(&hooks)?);
        }
    }
    Ok(())
}

/// The data directory and taskrc: as given, else as configured, else where `task` finds them
/// (a taskrc given but no data directory: that taskrc's `data.location`).
fn taskwarrior_files(
    cfg: &vsync_config::Config,
    data: Option<PathBuf>,
    taskrc: Option<PathBuf>,
) -> (PathBuf, PathBuf) {
    let mut tw = cfg.taskwarrior.clone();
    if taskrc.is_some() {
        tw.taskrc = taskrc;
    }
    if data.is_some() {
        tw.data = data;
    }
    (tw.data(), tw.taskrc())
}

fn bus(action: BusAction, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(vikunja_sync::bus_identities::default_dir);
    let out = match action {
        BusAction::Config => vikunja_sync::bus_identities::config(&dir)?,
        BusAction::AddHost { name } => vikunja_sync::bus_identities::add_host(&dir, &name)?,
    };
    print!("{out}");
    Ok(())
}

/// Connects to the bus and prints what `f` returns.
async fn ctl<F, Fut>(cfg: &vsync_config::Config, f: F) -> anyhow::Result<()>
where
    F: FnOnce(vsync_bus::Bus) -> Fut,
    Fut: Future<Output = anyhow::Result<String>>,
{
    let bus = connect(cfg, "vikunja-sync").await?;
    print!("{}", f(bus).await?);
    Ok(())
}

/// Connects as the operator: `[bus] credentials_file`, else the identity of the bus a local
/// `up` runs.
async fn connect(cfg: &vsync_config::Config, name: &str) -> anyhow::Result<vsync_bus::Bus> {
    let url = vikunja_sync::up::bus_url(cfg)?;
    let bus_cfg = vikunja_sync::bus_identities::operator_bus_config(cfg, &url, name);
    Ok(vsync_bus::Bus::connect(&bus_cfg).await?)
}

async fn status(cfg: &vsync_config::Config) -> anyhow::Result<()> {
    let bus = connect(cfg, "vikunja-sync status").await?;
    print!("{}", vikunja_sync::status::report(&bus).await?);
    Ok(())
}
