//! The token file is read again after a 401 (systemd credentials and sops rotate it in place),
//! once per rejected request; a token still rejected is reported, not retried.

use vikunja_sim::SimConfig;
use vsync_vikunja::{ErrorKind, VikunjaClient};

use crate::helpers::statuses;

fn client_with_token_file(sim: &vikunja_sim::Simulator, file: &std::path::Path) -> VikunjaClient {
    let cfg = vsync_config::Config::parse(
        &format!(
            "[vikunja]\nurl = \"{}\"\ntoken_file = \"{}\"\n",
            sim.base_url(),
            file.display()
        ),
        std::iter::empty(),
    )
    .expect("config");
    VikunjaClient::from_config(&cfg).expect("client")
}

#[tokio::test]
async fn a_rotated_token_file_is_read_again_after_a_401() {
    let sim = vikunja_sim::Simulator::start(SimConfig::default())
        .await
        .expect("sim");
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("token");
    std::fs::write(&file, "tk_old_revoked\n").expect("write");
    let api = client_with_token_file(&sim, &file);
    let e = api.projects().await.expect_err("the old token is refused");
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    assert!(api.token_rejected());
    assert_eq!(
        statuses(&sim, "GET /api/v1/projects"),
        [401],
        "one read, no repeat"
    );

    // rotated to another token Vikunja does not know: read, tried once more, still rejected
    std::fs::write(&file, "tk_also_revoked\n").expect("rotate");
    api.projects().await.expect_err("still refused");
    assert!(api.token_rejected());
    assert_eq!(statuses(&sim, "GET /api/v1/projects"), [401, 401, 401]);

    // rotated in place: the next rejected call reads the file again and goes through
    std::fs::write(&file, format!("{}\n", sim.token())).expect("rotate");
    api.projects().await.expect("the new token works");
    assert!(!api.token_rejected());
    assert_eq!(
        statuses(&sim, "GET /api/v1/projects"),
        [401, 401, 401, 401, 200]
    );
    assert!(!e.to_string().contains("tk_old"), "{e}");
}
