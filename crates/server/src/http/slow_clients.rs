//! Limits on how slowly a client may send, so a slow or stalled client holds nothing
//! another agent's request needs.
//!
//! The request head must arrive within [`ClientPace::header_timeout`] (hyper enforces
//! it, see `serve`); a body must keep arriving at [`ClientPace::min_body_bytes`] or more
//! in every window of [`ClientPace::body_window`], or it is cut off and the request
//! answered 408.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tokio::time::{sleep, Instant, Sleep};

/// How fast a client must send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientPace {
    /// The whole request head (line and headers) within this, and the next request on a
    /// kept-alive connection too: an idle connection closes after it.
    pub header_timeout: Duration,
    /// Each window of this long must bring…
    pub body_window: Duration,
    /// …at least this many bytes of a body still coming.
    pub min_body_bytes: u64,
}

impl ClientPace {
    /// 1 KiB a second over every 10 s, and the head within 10 s.
    pub const DEFAULT: Self = Self {
        header_timeout: Duration::from_secs(10),
        body_window: Duration::from_secs(10),
        min_body_bytes: 10 * 1024,
    };

    /// The same rate (1 KiB a second) over windows of `window`.
    pub fn with_window(header_timeout: Duration, window: Duration) -> Self {
        let per_second = Self::DEFAULT.min_body_bytes / Self::DEFAULT.body_window.as_secs();
        Self {
            header_timeout,
            body_window: window,
            min_body_bytes: per_second.saturating_mul(window.as_secs().max(1)),
        }
    }
}

impl Default for ClientPace {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a body was cut off.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived slower than {min_bytes} bytes in {window:?}")]
pub struct BodyTooSlow {
    pub min_bytes: u64,
    pub window: Duration,
}

/// Whether an error reading a body (however wrapped) is [`BodyTooSlow`].
pub fn is_too_slow(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<BodyTooSlow>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// Middleware: every request's body is read at the server's pace or not at all.
pub async fn enforce_pace(pace: ClientPace, request: Request, next: Next) -> Response {
    let request = request.map(|body| Body::new(PacedBody::new(body, pace)));
    next.run(request).await
}

/// A body that fails with [`BodyTooSlow`] when a window passes without enough bytes.
/// The clock runs only while the body waits for the client: from its first read, and
/// not while the server does something else between reads (writing what came to disk),
/// which is not the client's time.
pub struct PacedBody {
    inner: Body,
    pace: ClientPace,
    window: Option<Pin<Box<Sleep>>>,
    received: u64,
    /// When a piece was last handed to the reader, until it asks for the next.
    handed_at: Option<Instant>,
}

impl PacedBody {
    pub fn new(inner: Body, pace: ClientPace) -> Self {
        Self {
            inner,
            pace,
            window: None,
            received: 0,
            handed_at: None,
        }
    }

    fn too_slow(&self) -> axum::Error {
        axum::Error::new(BodyTooSlow {
            min_bytes: self.pace.min_body_bytes,
            window: self.pace.body_window,
        })
    }
}

impl http_body::Body for PacedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let window_length = this.pace.body_window;
        let window = this
            .window
            .get_or_insert_with(|| Box::pin(sleep(window_length)));
        if let Some(handed_at) = this.handed_at.take() {
            let deadline = window.deadline() + handed_at.elapsed();
            window.as_mut().reset(deadline);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.handed_at = Some(Instant::now());
                if let Some(data) = frame.data_ref() {
                    this.received = this.received.saturating_add(data.len() as u64);
                }
                if window.is_elapsed() {
                    if this.received < this.pace.min_body_bytes {
                        return Poll::Ready(Some(Err(this.too_slow())));
                    }
                    this.received = 0;
                    window.as_mut().reset(Instant::now() + window_length);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                if window.as_mut().poll(cx).is_ready() {
                    if this.received < this.pace.min_body_bytes {
                        return Poll::Ready(Some(Err(this.too_slow())));
                    }
                    this.received = 0;
                    window.as_mut().reset(Instant::now() + window_length);
                    // Registers the waker for the new window.
                    let _ = window.as_mut().poll(cx);
                }
                Poll::Pending
            }
            done => done,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use http_body_util::BodyExt;

    fn pace() -> ClientPace {
        ClientPace {
            header_timeout: Duration::from_secs(10),
            body_window: Duration::from_secs(10),
            min_body_bytes: 100,
        }
    }

    /// A body that sends `chunk` bytes every `every`, `count` times.
    fn trickle(chunk: usize, every: Duration, count: usize) -> Body {
        let stream = futures_util::stream::iter(0..count).then(move |_| async move {
            sleep(every).await;
            Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; chunk]))
        });
        Body::from_stream(stream)
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_at_the_pace_is_read_whole() {
        let body = PacedBody::new(trickle(60, Duration::from_secs(5), 10), pace());
        let bytes = body.collect().await.expect("read").to_bytes();
        assert_eq!(bytes.len(), 600);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_slower_than_the_pace_is_cut_off_within_a_window() {
        let started = Instant::now();
        let body = PacedBody::new(trickle(40, Duration::from_secs(5), 10), pace());
        let error = body.collect().await.expect_err("too slow");
        assert!(is_too_slow(&error), "{error:?}");
        assert!(started.elapsed() <= Duration::from_secs(11));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_is_cut_off_after_one_window() {
        let started = Instant::now();
        let stalled =
            Body::from_stream(futures_util::stream::pending::<Result<Bytes, std::io::Error>>());
        let error = PacedBody::new(stalled, pace())
            .collect()
            .await
            .expect_err("stalled");
        assert!(is_too_slow(&error));
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn time_the_reader_takes_between_reads_is_not_the_clients() {
        // The client sends at the pace; the reader stops for longer than a window
        // after each piece (a slow disk).
        let mut body = PacedBody::new(trickle(60, Duration::from_secs(5), 6), pace());
        let mut read = 0;
        while let Some(frame) = body.frame().await {
            read += frame
                .expect("at the pace")
                .into_data()
                .map_or(0, |data| data.len());
            sleep(Duration::from_secs(15)).await;
        }
        assert_eq!(read, 360);
    }

    #[test]
    fn a_window_asks_for_a_kibibyte_a_second() {
        let pace = ClientPace::with_window(Duration::from_secs(2), Duration::from_secs(2));
        assert_eq!(pace.min_body_bytes, 2048);
        assert_eq!(ClientPace::DEFAULT.min_body_bytes, 10 * 1024);
    }
}
