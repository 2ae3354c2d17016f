//! `vikunja-sync config check FILE`: the file as written is a config every service accepts.
//! The NixOS module runs it on each rendered config at build time, so it reads no secret file
//! and connects nowhere, and ignores the environment's `VIKUNJA_SYNC_*` overrides.

use std::path::Path;

use anyhow::Context;
use vsync_config::{Config, ConfigError};
use vsync_model::TaskFilter;

/// Reads and checks `file`; the error names the file and what is wrong with it.
pub fn check_file(file: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let cfg =
        Config::parse(&text, std::iter::empty()).with_context(|| file.display().to_string())?;
    // The filter language lives in the model (vsync-config is a leaf crate): read it here as
    // tw-watcher does at start.
    TaskFilter::of_host(&cfg.taskwarrior).with_context(|| file.display().to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), String> {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, text).expect("write");
        check_file(&file).map_err(|e| format!("{e:#}"))
    }

    #[test]
    fn a_valid_config_passes_without_its_secret_files() {
        let text = r#"
[bus]
url = "nats://127.0.0.1:4222"
credentials_file = "/run/credentials/none/nats-creds"
[vikunja]
url = "https://tasks.example.org"
token_file = "/nonexistent/token"
webhook_secret_file = "/nonexistent/secret"
webhook_url = "https://sync.example.org/webhook"
[reconcile]
interval = "30s"
"#;
        assert_eq!(check(text), Ok(()));
        assert_eq!(check(""), Ok(()));
        let filtered = "[taskwarrior]\nfilter = \"project:Work or +vikunja\"\n";
        assert_eq!(check(filtered), Ok(()));
    }

    #[test]
    fn each_kind_of_mistake_is_named_with_the_file() {
        let cases = [
            ("[vikunja]\nurll = \"x\"\n", "unknown field `urll`"),
            ("[vikunja]\nurl = \"tasks.example.org\"\n", "`vikunja.url`"),
            ("[bus]\nurl = \"http://x:4222\"\n", "`bus.url`"),
            ("[reconcile]\ninterval = \"0s\"\n", "`reconcile.interval`"),
            (
                "[reconcile]\nhost_timeout = \"0s\"\n",
                "`reconcile.host_timeout`",
            ),
            ("[taskwarrior]\nfilter = \" \"\n", "`taskwarrior.filter`"),
            (
                "[taskwarrior]\nfilter = \"due:today\"\n",
                "`taskwarrior.filter`",
            ),
            ("[adopt]\nhistory = \"30 weeks\"\n", "unknown unit `weeks`"),
            (
                "[reconcile]\ninterval = \"5 weeks\"\n",
                "unknown unit `weeks`",
            ),
            (
                "[telemetry]\nlog_format = \"yaml\"\n",
                "`telemetry.log_format`",
            ),
            (
                "[ingress]\nlisten = \"localhost\"\n",
                "invalid socket address",
            ),
            ("[bus\n", "invalid"),
        ];
        for (text, want) in cases {
            let err = check(text).expect_err(text);
            assert!(err.contains(want), "{text}: {err}");
            assert!(err.contains("c.toml"), "{text}: {err}");
        }
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let err = check_file(Path::new("/nonexistent/vikunja-sync.toml")).expect_err("missing");
        assert!(format!("{err:#}").contains("/nonexistent/vikunja-sync.toml"));
    }
}
