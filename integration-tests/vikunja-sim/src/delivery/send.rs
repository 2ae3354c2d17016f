//! One delivery attempt: the signed POST, or the failure an injected fault or the
//! private-address guard (`outgoingrequests.allownonroutableips`) makes of it.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::queue::{Delivery, DeliveryOutcome, Job};
use crate::base64;
use crate::lock::lock;
use crate::shared::Shared;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Tries after the first, before a delivery is dropped.
pub(super) const RETRIES: u32 = 5;

/// Lowercase hex HMAC-SHA256 of the raw body, keyed with the secret.
pub fn sign(secret: &str, body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Loopback, private, link-local, shared and unspecified addresses, and `localhost`: what
/// Vikunja's SSRF guard refuses to dial unless non-routable addresses are allowed.
fn non_routable(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    if host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            let [a, b, ..] = ip.octets();
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        Ok(IpAddr::V6(ip)) => {
            let first = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

/// One POST; records the attempt. True when the delivery is finished (success, or the
/// webhook is gone, which Vikunja does not retry).
pub(super) async fn attempt(shared: &Shared, job: &Job, n: u32) -> bool {
    if !shared.read(|st| st.webhooks.contains_key(&job.hook.id)) {
        return true;
    }
    let outcome = if job.unreachable {
        DeliveryOutcome::Error("injected: target unreachable".into())
    } else if !shared.server.allow_non_routable_ips && non_routable(&job.hook.target_url) {
        DeliveryOutcome::Error(
            "prohibited IP address (outgoingrequests.allownonroutableips is false)".into(),
        )
    } else {
        send(shared, job).await
    };
    let ok = matches!(outcome, DeliveryOutcome::Status(s) if s <= 399);
    if !ok {
        tracing::debug!(
            webhook = job.hook.id,
            attempt = n,
            ?outcome,
            "webhook delivery failed"
        );
    }
    lock(&shared.deliverer.log).push(Delivery {
        webhook_id: job.hook.id,
        target_url: job.hook.target_url.clone(),
        event_name: job.event_name.to_owned(),
        attempt: n,
        outcome,
        dropped: !ok && n > RETRIES,
        body: job.body.clone(),
        at: SystemTime::now(),
    });
    ok
}

async fn send(shared: &Shared, job: &Job) -> DeliveryOutcome {
    let mut req = shared
        .deliverer
        .client
        .post(&job.hook.target_url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            reqwest::header::USER_AGENT,
            format!("Vikunja/{}", shared.server.version.text),
        )
        .body(job.body.clone());
    if !job.hook.secret.is_empty() {
        req = req.header(
            "X-Vikunja-Signature",
            sign(&job.hook.secret, job.body.as_bytes()),
        );
    }
    if !job.hook.basic_auth_user.is_empty() && !job.hook.basic_auth_password.is_empty() {
        let creds = format!(
            "{}:{}",
            job.hook.basic_auth_user, job.hook.basic_auth_password
        );
        req = req.header(
            reqwest::header::AUTHORIZATION,
            format!("Basic {}", base64::encode(creds.as_bytes())),
        );
    }
    match req.send().await {
        Ok(resp) => DeliveryOutcome::Status(resp.status().as_u16()),
        Err(e) => DeliveryOutcome::Error(e.to_string()),
    }
}

/// Attempts 2 to 6, 100 ms apart and doubling; then the delivery is dropped.
pub(super) async fn retry(shared: Arc<Shared>, job: Arc<Job>) {
    let mut backoff = FIRST_BACKOFF;
    for n in 2..=RETRIES + 1 {
        tokio::time::sleep(backoff).await;
        if attempt(&shared, &job, n).await {
            break;
        }
        backoff *= 2;
    }
    shared.deliverer.done();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_lowercase_hex_hmac() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn private_targets_are_recognised() {
        for url in [
            "http://127.0.0.1:8080/webhook",
            "http://localhost/x",
            "http://10.1.2.3/x",
            "http://192.168.1.5:9/x",
            "http://[::1]:80/x",
            "https://user:pw@172.16.0.1/x",
            "http://100.64.0.1/x",
        ] {
            assert!(non_routable(url), "{url}");
        }
        for url in ["https://example.org/hook", "http://93.184.216.34/x"] {
            assert!(!non_routable(url), "{url}");
        }
    }
}
