//! `vikunja-sync-hook`: the Taskwarrior hook binary; see the library docs.

use std::ffi::OsString;
use std::io;

fn main() {
    let mut argv = std::env::args_os();
    let argv0 = argv.next().unwrap_or_default();
    let args: Vec<OsString> = argv.collect();
    let code = vikunja_sync_hook::run(
        &argv0,
        &args,
        &mut io::stdin().lock(),
        &mut io::stdout().lock(),
        &mut io::stderr().lock(),
    );
    std::process::exit(code);
}
