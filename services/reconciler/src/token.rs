//! Telling `status` whether Vikunja rejects the API token: the client reads the token file
//! again after a 401 and marks the token rejected when that did not help; the reconciler
//! writes each change of that into the bus's bookkeeping.

use crate::App;

impl App {
    /// Records on the bus whether the token is rejected, when it changed since the last time.
    pub(crate) async fn report_token(&mut self) {
        let rejected = self.events.api.token_rejected();
        if self.token_reported == Some(rejected) {
            return;
        }
        let since = rejected.then(vsync_model::dates::now_us);
        if rejected {
            tracing::error!(
                "Vikunja rejected the API token, also after reading the token file again; changes for Vikunja wait"
            );
        }
        match self.events.bus.set_token_rejected(since).await {
            Ok(()) => self.token_reported = Some(rejected),
            Err(e) => tracing::warn!(error = %e, "cannot record the token's state"),
        }
    }
}
