//! `vikunja-sync demo` runs the demo program, `vikunja-sync-demo` (integration-tests/demo): it
//! brings the Vikunja simulator and the test harness, which the product does not link.

use std::os::unix::process::CommandExt as _;

const HINT: &str = "cannot find vikunja-sync-demo next to vikunja-sync or on PATH; \
                    in the source tree, `./scripts/demo.sh` builds and runs it";

/// Replaces this process with the demo program; returns only when that fails.
pub fn exec() -> anyhow::Error {
    match crate::programs::find("vikunja-sync-demo", None, &[]) {
        Some(bin) => {
            let e = std::process::Command::new(&bin).exec();
            anyhow::anyhow!("cannot run {}: {e}", bin.display())
        }
        None => anyhow::anyhow!(HINT),
    }
}
