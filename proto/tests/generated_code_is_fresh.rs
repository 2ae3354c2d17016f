//! The checked-in generated code must match what prost generates from the .proto today.
#![allow(clippy::unwrap_used)]

use std::path::Path;

#[test]
fn generated_code_is_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fds = protox::compile(["vikunja_sync/v1/sync.proto"], [root]).expect("parse .proto");
    let out = std::env::temp_dir().join(format!("vsync-proto-gen-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    prost_build::Config::new()
        .out_dir(&out)
        .compile_fds(fds)
        .expect("generate");
    let fresh = std::fs::read_to_string(out.join("vikunja_sync.v1.rs")).unwrap();
    std::fs::remove_dir_all(&out).ok();
    let checked_in_path = root.join("src/gen/vikunja_sync.v1.rs");
    let checked_in = std::fs::read_to_string(&checked_in_path).unwrap_or_default();
    if std::env::var_os("VSYNC_REGENERATE_PROTO").is_some() {
        std::fs::write(&checked_in_path, &fresh).unwrap();
        return;
    }
    assert!(
        checked_in == fresh,
        "proto/src/gen/vikunja_sync.v1.rs is stale: run `VSYNC_REGENERATE_PROTO=1 cargo test -p vsync-proto`"
    );
}
