//! Claims on Vikunja creates against a real nats-server: one holder at a time, taken over by
//! the same holder or after expiry (with what was claimed before), found by project, released.
#![allow(clippy::unwrap_used)]

use vsync_bus::{Bus, BusConfig, Claim, CreateClaim};
use vsync_harness::NatsServer;

async fn bus(nats: &NatsServer) -> Bus {
    Bus::connect(
        &BusConfig::new(&nats.url(), "creates-test").with_credentials(nats.server_credentials()),
    )
    .await
    .unwrap()
}

fn claim(holder: &str, now: i64, project: i64, title: &str) -> CreateClaim {
    CreateClaim {
        uuid: "11111111-2222-4333-8444-555555555555".into(),
        holder: holder.into(),
        until_us: now + 1_000,
        since_us: now,
        project_ids: vec![project],
        titles: vec![title.into()],
    }
}

#[tokio::test]
async fn one_holder_claims_a_create_until_it_releases_or_its_claim_expires() {
    let nats = NatsServer::start();
    let bus = bus(&nats).await;
    let a = claim("host/a", 100, 7, "first title");
    let Claim::Taken { previous, .. } = bus.claim_create(&a, 100).await.unwrap() else {
        panic!("a new claim is taken");
    };
    assert_eq!(previous, None);
    assert_eq!(
        bus.claim_create(&claim("host/b", 200, 7, "x"), 200)
            .await
            .unwrap(),
        Claim::Held(a.clone()),
        "another holder waits while the claim lasts"
    );
    // The same holder again (a retry, or after a restart): the earlier claim is handed back.
    let again = claim("host/a", 300, 8, "newer title");
    let Claim::Taken { claim: c, previous } = bus.claim_create(&again, 300).await.unwrap() else {
        panic!("the holder takes its own claim");
    };
    assert_eq!(previous, Some(a));
    assert_eq!((c.since_us, c.project_ids.clone()), (100, vec![7, 8]));
    assert_eq!(c.titles, ["first title", "newer title"]);
    assert_eq!(bus.creates_in(7).await.unwrap(), std::slice::from_ref(&c));
    assert_eq!(bus.creates_in(8).await.unwrap(), std::slice::from_ref(&c));
    // Expired: anyone takes it over.
    let late = claim("host/b", 5_000, 7, "x");
    assert!(matches!(
        bus.claim_create(&late, 5_000).await.unwrap(),
        Claim::Taken {
            previous: Some(_),
            ..
        }
    ));
    bus.release_create(&late.uuid).await.unwrap();
    assert!(bus.creates_in(7).await.unwrap().is_empty());
    assert!(bus.creates_in(8).await.unwrap().is_empty());
    bus.release_create(&late.uuid).await.unwrap();
    assert!(matches!(
        bus.claim_create(&claim("host/c", 6_000, 7, "x"), 6_000)
            .await
            .unwrap(),
        Claim::Taken { previous: None, .. }
    ));
}
