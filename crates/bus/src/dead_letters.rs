//! Reading the dead letters back (stream `VSYNC_DEAD`), each under its stream sequence, and
//! removing one once it has been replayed; `vikunja-sync dead-letters` lists them and asks the
//! reconciler to replay them ([`crate::control::ReconcilerRequest::Replay`]).

use vsync_proto::DeadLetter;

use crate::{Bus, BusError, DEAD_STREAM, trace};

/// A dead letter and where it sits in the dead-letter stream.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredDeadLetter {
    /// Its sequence in the stream: what `dead-letters replay <seq>` names.
    pub seq: u64,
    pub letter: DeadLetter,
}

impl Bus {
    /// Every dead letter, oldest first (one that cannot be decoded is shown with that reason).
    pub async fn dead_letters(&self) -> Result<Vec<StoredDeadLetter>, BusError> {
        let err = |e: &dyn std::fmt::Display| BusError::kv("read", DEAD_STREAM, e);
        let mut stream = self.js.get_stream(DEAD_STREAM).await.map_err(|e| err(&e))?;
        let state = stream.info().await.map_err(|e| err(&e))?.state.clone();
        let mut out = Vec::new();
        if state.messages == 0 {
            return Ok(out);
        }
        for seq in state.first_sequence..=state.last_sequence {
            // Removed ones leave gaps.
            let Ok(m) = stream.get_raw_message(seq).await else {
                continue;
            };
            let letter =
                crate::decode::<DeadLetter>("DeadLetter", &m.payload).unwrap_or_else(|e| {
                    DeadLetter {
                        subject: m.subject.to_string(),
                        reason: e.to_string(),
                        ..Default::default()
                    }
                });
            out.push(StoredDeadLetter { seq, letter });
        }
        Ok(out)
    }

    /// Removes dead letter `seq` (false: there is none by that number).
    pub async fn remove_dead_letter(&self, seq: u64) -> Result<bool, BusError> {
        let err = |e: &dyn std::fmt::Display| BusError::kv("delete", DEAD_STREAM, e);
        let stream = self.js.get_stream(DEAD_STREAM).await.map_err(|e| err(&e))?;
        match stream.delete_message(seq).await {
            Ok(done) => Ok(done),
            Err(e) if e.to_string().contains("no message found") => Ok(false),
            Err(e) => Err(err(&e)),
        }
    }

    /// Publishes a dead letter's event to its subject again, as new (its `Nats-Msg-Id` names
    /// the replay, so the stream's duplicate window does not drop it).
    pub async fn republish(&self, dead: &StoredDeadLetter) -> Result<(), BusError> {
        let subject = &dead.letter.subject;
        let mut headers = trace::headers();
        let id = crate::content_id(&[b"replay", &dead.seq.to_le_bytes(), &dead.letter.payload]);
        headers.insert("Nats-Msg-Id", id.as_str());
        self.publish_js(subject, headers, dead.letter.payload.clone())
            .await
            .map(|_| ())
    }
}
