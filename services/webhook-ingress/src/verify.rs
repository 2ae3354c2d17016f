//! `X-Vikunja-Signature`: lowercase hex HMAC-SHA256 of the exact raw body, keyed with the secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use vsync_config::{ExposeSecret, SecretString};

/// Constant-time check of the signature header against the body.
pub fn signature_ok(secret: &SecretString, body: &[u8], header: Option<&str>) -> bool {
    let Some(sig) = header.and_then(|h| hex::decode(h.trim()).ok()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The signature Vikunja would send (for tests and the simulator-free demo paths).
pub fn sign(secret: &str, body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_signature_of_the_exact_body_passes() {
        let secret = SecretString::from("s3cret".to_string());
        let body = br#"{"event_name":"task.created"}"#;
        let good = sign("s3cret", body);
        assert!(signature_ok(&secret, body, Some(&good)));
        assert!(!signature_ok(
            &secret,
            b"{\"event_name\":\"task.created\"} ",
            Some(&good)
        ));
        assert!(!signature_ok(&secret, body, Some(&sign("other", body))));
        assert!(!signature_ok(&secret, body, Some("zz")));
        assert!(!signature_ok(&secret, body, None));
    }
}
