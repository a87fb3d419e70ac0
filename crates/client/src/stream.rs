//! Following the agent's events: a WebSocket that first catches up from the cursor,
//! then carries live events; on any failure it reconnects with backoff and jitter and
//! catches up again, so every seq arrives once and in order.

use std::time::Duration;

use agent_desk_core::events::STREAM_CLOSE_SIGNED_OUT;
use agent_desk_core::{ApiError, Event, PresenceChange, PresenceFrame};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::api::ApiClient;
use crate::error::ClientError;

/// The server pings at least every 10 s (`--stream-ping-seconds`); this long without
/// hearing anything means the connection is dead even if the operating system has not
/// noticed.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Events handed over in one batch at most, so a long catch-up is saved in pieces.
const BATCH_MAX: usize = 500;
/// Events are a few hundred bytes. tungstenite zeroes its whole read buffer before each
/// read, so its default of 128 KiB would cost a 128 KiB memset for every event.
const READ_BUFFER_BYTES: usize = 8 * 1024;

/// What the follower tells its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamNews {
    /// There was no cursor: start from this seq (the newest); earlier events are past.
    StartAt(i64),
    /// The server no longer has the cursor's events (its database was replaced): the
    /// follower carries on from the newest.
    CursorReset(i64),
    Connected,
    /// New events, in seq order, each after the last one handed over.
    Events(Vec<Event>),
    Disconnected {
        reason: String,
        retry_in: Duration,
    },
    /// A colleague's status changed (`None`: their privacy hides it from this agent).
    Presence(PresenceChange),
    /// The server refused the token, or closed the stream because the session ended
    /// (signed out here or elsewhere, the password changed or reset): the agent was
    /// signed out. The follower has stopped.
    SessionEnded,
}

/// Exponential backoff with "equal jitter": half the delay fixed, half random, so many
/// clients dropped at once do not return at once.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(first: Duration, cap: Duration) -> Self {
        Self {
            first,
            cap,
            attempt: 0,
        }
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The next wait; `random` is uniform in 0..1.
    pub fn next_delay(&mut self, random: f64) -> Duration {
        let exponential = self
            .first
            .saturating_mul(1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX))
            .min(self.cap);
        self.attempt = self.attempt.saturating_add(1);
        exponential / 2 + exponential.mul_f64(random.clamp(0.0, 1.0) / 2.0)
    }
}

/// Why one connection ended.
#[derive(Debug, PartialEq)]
enum Ended {
    Retry(String),
    SignedOut,
    CursorOutOfRange,
    /// A server from before presence on the stream refused `presence`.
    NoPresence,
}

/// Follows the events after `cursor` (or from the newest when `None`) until the owner
/// drops the future or the session ends. News goes to `news`; if its receiver is gone,
/// following stops.
pub async fn follow(api: ApiClient, cursor: Option<i64>, news: mpsc::Sender<StreamNews>) {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    let mut cursor = cursor;
    let mut presence = true;
    loop {
        let ended = match cursor {
            None => match api.events(0, 0).await {
                Ok(page) => {
                    cursor = Some(page.newest);
                    if news.send(StreamNews::StartAt(page.newest)).await.is_err() {
                        return;
                    }
                    continue;
                }
                Err(error) => ended_by(error),
            },
            Some(after) => {
                connection(&api, after, presence, &mut cursor, &news, &mut backoff).await
            }
        };
        let reason = match ended {
            Ended::SignedOut => {
                let _ = news.send(StreamNews::SessionEnded).await;
                return;
            }
            Ended::CursorOutOfRange => match api.events(0, 0).await {
                Ok(page) => {
                    cursor = Some(page.newest);
                    if news
                        .send(StreamNews::CursorReset(page.newest))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    continue;
                }
                Err(error) => match ended_by(error) {
                    Ended::Retry(reason) => reason,
                    _ => "the server refused the event cursor".to_owned(),
                },
            },
            Ended::NoPresence => {
                // Events matter more than presence: follow them without it.
                presence = false;
                continue;
            }
            Ended::Retry(reason) => reason,
        };
        if news.is_closed() {
            return;
        }
        let retry_in = backoff.next_delay(fastrand::f64());
        let disconnected = StreamNews::Disconnected { reason, retry_in };
        if news.send(disconnected).await.is_err() {
            return;
        }
        tokio::time::sleep(retry_in).await;
    }
}

/// Why the server closed the stream: a session that ended is closed with
/// [`STREAM_CLOSE_SIGNED_OUT`], and reconnecting would only be refused; any other close
/// (a restart, a deploy) is worth reconnecting after.
fn closed_by(frame: Option<&CloseFrame>) -> Ended {
    match frame {
        Some(frame) if u16::from(frame.code) == STREAM_CLOSE_SIGNED_OUT => Ended::SignedOut,
        _ => Ended::Retry("the server closed the stream".into()),
    }
}

fn ended_by(error: ClientError) -> Ended {
    match error {
        ClientError::NotSignedIn => Ended::SignedOut,
        ClientError::Server { status: 401, .. } => Ended::SignedOut,
        other => Ended::Retry(other.to_string()),
    }
}

/// One connection: catch-up, then live, until it fails.
async fn connection(
    api: &ApiClient,
    after: i64,
    presence: bool,
    cursor: &mut Option<i64>,
    news: &mpsc::Sender<StreamNews>,
    backoff: &mut Backoff,
) -> Ended {
    let (url, token) = match api.event_stream_request(after, presence) {
        Ok(request) => request,
        Err(error) => return ended_by(error),
    };
    let mut request = match url.as_str().into_client_request() {
        Ok(request) => request,
        Err(error) => return Ended::Retry(error.to_string()),
    };
    match HeaderValue::from_str(&format!("Bearer {token}")) {
        Ok(value) => request.headers_mut().insert(AUTHORIZATION, value),
        Err(_) => return Ended::SignedOut,
    };
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(config), false);
    let mut socket = match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
        Err(_) => return Ended::Retry("the server did not answer in time".into()),
        Ok(Err(WsError::Http(response))) => {
            let status = response.status().as_u16();
            let refused = response
                .body()
                .as_deref()
                .and_then(|body| serde_json::from_slice::<ApiError>(body).ok())
                .and_then(|answer| answer.error.field);
            return match (status, refused.as_deref()) {
                (401, _) => Ended::SignedOut,
                (400, Some("after")) => Ended::CursorOutOfRange,
                (400, Some("presence")) => Ended::NoPresence,
                (status, _) => Ended::Retry(format!("the server answered {status}")),
            };
        }
        Ok(Err(error)) => return Ended::Retry(format!("cannot reach the server: {error}")),
        Ok(Ok((socket, _))) => socket,
    };
    if news.send(StreamNews::Connected).await.is_err() {
        return Ended::Retry("stopped".into());
    }
    backoff.reset();
    let mut last = after;
    loop {
        let message = match tokio::time::timeout(SILENCE_LIMIT, socket.next()).await {
            Err(_) => return Ended::Retry("the connection went silent".into()),
            Ok(None) => return Ended::Retry("the server closed the stream".into()),
            Ok(Some(Err(error))) => return Ended::Retry(error.to_string()),
            Ok(Some(Ok(message))) => message,
        };
        let mut batch = Vec::new();
        let mut pending = Some(message);
        // Takes what has already arrived, so a catch-up is handed over in batches.
        while let Some(message) = pending.take() {
            match message {
                Message::Text(text) => match serde_json::from_str::<Event>(&text) {
                    // Seen already: a replay after reconnecting.
                    Ok(event) if event.seq <= last => {}
                    // The server sends in seq order; seqs rise but may skip numbers, which
                    // went to other agents.
                    Ok(event) => {
                        last = event.seq;
                        batch.push(event);
                    }
                    Err(error) => match serde_json::from_str::<PresenceFrame>(&text) {
                        // Presence is no event: no seq, nothing to keep. Events before it
                        // are handed over first, so news arrives in the order sent.
                        Ok(frame) => {
                            flush(news, cursor, &mut batch).await;
                            if news
                                .send(StreamNews::Presence(frame.presence))
                                .await
                                .is_err()
                            {
                                return Ended::Retry("stopped".into());
                            }
                        }
                        Err(_) => {
                            flush(news, cursor, &mut batch).await;
                            return Ended::Retry(format!("an event could not be read: {error}"));
                        }
                    },
                },
                Message::Close(frame) => {
                    flush(news, cursor, &mut batch).await;
                    return closed_by(frame.as_ref());
                }
                // Pongs are answered by the library as it reads.
                _ => {}
            }
            if batch.len() < BATCH_MAX {
                if let Some(Some(Ok(next))) = futures_util::FutureExt::now_or_never(socket.next()) {
                    pending = Some(next);
                }
            }
        }
        if !flush(news, cursor, &mut batch).await {
            return Ended::Retry("stopped".into());
        }
    }
}

/// Hands a batch over and moves the cursor past it; false when nobody listens.
async fn flush(
    news: &mpsc::Sender<StreamNews>,
    cursor: &mut Option<i64>,
    batch: &mut Vec<Event>,
) -> bool {
    let Some(last) = batch.last().map(|event| event.seq) else {
        return true;
    };
    let events = std::mem::take(batch);
    if news.send(StreamNews::Events(events)).await.is_err() {
        return false;
    }
    *cursor = Some(last);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_desk_core::events::STREAM_CLOSE_SIGNED_OUT_REASON;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    fn frame(code: u16, reason: &str) -> CloseFrame {
        CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        }
    }

    #[test]
    fn only_the_signed_out_close_ends_the_session() {
        let signed_out = frame(STREAM_CLOSE_SIGNED_OUT, STREAM_CLOSE_SIGNED_OUT_REASON);
        assert_eq!(closed_by(Some(&signed_out)), Ended::SignedOut);
        // The code decides; the reason is for people reading a capture.
        assert_eq!(closed_by(Some(&frame(4001, ""))), Ended::SignedOut);
        for other in [
            frame(1000, "bye"),
            frame(1001, "server shutting down"),
            frame(1011, "internal error"),
            frame(1012, "restart"),
            frame(4000, STREAM_CLOSE_SIGNED_OUT_REASON),
            frame(4002, ""),
        ] {
            assert!(
                matches!(closed_by(Some(&other)), Ended::Retry(_)),
                "{other:?}"
            );
        }
        assert!(matches!(closed_by(None), Ended::Retry(_)));
    }

    /// A stand-in server that accepts each stream and closes it at once with `code`,
    /// counting the connections.
    async fn closing_server(code: u16) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = std::sync::Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut socket) = tokio_tungstenite::accept_async(tcp).await {
                        let _ = socket.close(Some(frame(code, "closing"))).await;
                        while let Some(Ok(_)) = socket.next().await {}
                    }
                });
            }
        });
        (url, accepted)
    }

    /// The news until `done` says so, for at most 5 s.
    async fn news_until(
        incoming: &mut mpsc::Receiver<StreamNews>,
        mut done: impl FnMut(&StreamNews) -> bool,
    ) -> Vec<StreamNews> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut seen = Vec::new();
        while let Ok(Some(news)) = tokio::time::timeout_at(deadline, incoming.recv()).await {
            let last = done(&news);
            seen.push(news);
            if last {
                break;
            }
        }
        seen
    }

    #[tokio::test]
    async fn a_signed_out_close_ends_following_without_reconnecting() {
        let (url, accepted) = closing_server(STREAM_CLOSE_SIGNED_OUT).await;
        let api = ApiClient::new(&url).expect("url").with_token("t".into());
        let (news, mut incoming) = mpsc::channel(16);
        let follower = tokio::spawn(follow(api, Some(0), news));
        let seen = news_until(&mut incoming, |n| *n == StreamNews::SessionEnded).await;
        assert_eq!(seen, [StreamNews::Connected, StreamNews::SessionEnded]);
        tokio::time::timeout(Duration::from_secs(1), follower)
            .await
            .expect("the follower stopped")
            .expect("no panic");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn any_other_close_reconnects() {
        let (url, accepted) = closing_server(1012).await;
        let api = ApiClient::new(&url).expect("url").with_token("t".into());
        let (news, mut incoming) = mpsc::channel(16);
        let follower = tokio::spawn(follow(api, Some(0), news));
        let mut connected = 0;
        let seen = news_until(&mut incoming, |n| {
            connected += usize::from(*n == StreamNews::Connected);
            connected == 2
        })
        .await;
        follower.abort();
        assert!(
            matches!(
                seen.as_slice(),
                [
                    StreamNews::Connected,
                    StreamNews::Disconnected { .. },
                    StreamNews::Connected
                ]
            ),
            "{seen:?}"
        );
        assert!(accepted.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    }

    #[test]
    fn backoff_doubles_to_its_cap_with_half_of_it_random() {
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let lows: Vec<u128> = (0..9)
            .map(|_| backoff.next_delay(0.0).as_millis())
            .collect();
        assert_eq!(
            lows,
            [250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]
        );
        backoff.reset();
        assert_eq!(backoff.next_delay(1.0), Duration::from_millis(500));
        for _ in 0..100 {
            backoff.next_delay(1.0);
        }
        assert_eq!(backoff.next_delay(1.0), Duration::from_secs(30));
        assert_eq!(backoff.next_delay(0.5), Duration::from_millis(22_500));
    }
}
