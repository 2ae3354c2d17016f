use std::future::Future;
use std::time::Duration;

/// Checks `cond` until it returns `Some`, failing the test with `what` after `timeout`.
/// The check runs on a blocking thread (it may run `task`); checks are 10 ms apart.
pub async fn wait_for<T, F>(what: &str, timeout: Duration, cond: F) -> T
where
    T: Send + 'static,
    F: Fn() -> Option<T> + Send + Sync + 'static,
{
    let cond = std::sync::Arc::new(cond);
    wait_for_async(what, timeout, move || {
        let cond = cond.clone();
        async move {
            tokio::task::spawn_blocking(move || cond())
                .await
                .ok()
                .flatten()
        }
    })
    .await
}

/// Like [`wait_for`] with an async condition.
pub async fn wait_for_async<T, F, Fut>(what: &str, timeout: Duration, cond: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    match poll_until(timeout, cond).await {
        Some(v) => v,
        None => panic!("timed out after {timeout:?} waiting for {what}"),
    }
}

/// Checks `cond` (10 ms apart) until it returns `Some`, or `None` after `timeout`: for a test
/// that does something else when a condition does not come.
pub async fn poll_until<T, F, Fut>(timeout: Duration, cond: F) -> Option<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut ticks = tokio::time::interval(Duration::from_millis(10));
    loop {
        ticks.tick().await;
        if let Some(v) = cond().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
    }
}
