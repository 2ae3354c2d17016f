//! A core NATS subscription read as typed values.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};

/// The messages of one subscription, decoded; what does not decode is skipped.
pub struct Subscription<T> {
    sub: async_nats::Subscriber,
    decode: fn(&[u8]) -> Option<T>,
}

impl<T> Subscription<T> {
    pub(crate) fn new(sub: async_nats::Subscriber, decode: fn(&[u8]) -> Option<T>) -> Self {
        Subscription { sub, decode }
    }
}

impl<T> Stream for Subscription<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        loop {
            match self.sub.poll_next_unpin(cx) {
                Poll::Ready(Some(m)) => {
                    if let Some(v) = (self.decode)(&m.payload) {
                        return Poll::Ready(Some(v));
                    }
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
