//! Events: the helpdesk posts them (`POST /api/v1/admin/events`), agents read theirs
//! (`GET /api/v1/events`) or follow them live (`GET /api/v1/events/stream`, WebSocket).

use std::collections::HashMap;
use std::time::Duration;

use std::sync::Arc;

use agent_desk_core::events::{STREAM_CLOSE_SIGNED_OUT, STREAM_CLOSE_SIGNED_OUT_REASON};
use agent_desk_core::people::Viewer;
use agent_desk_core::{
    ApiError, ErrorCode, Event, EventPage, NewEvent, PostedEvent, PresenceChange, PresenceFrame,
};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{interval, MissedTickBehavior};
use tokio_util::task::AbortOnDropHandle;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{EventsWriter, Session};
use super::error::{ApiResult, AppError};
use super::json::ApiJson;
use crate::events::{self, EventError, ProfileChange};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_event))
        .routes(routes!(list_events))
        .routes(routes!(stream_events))
}

/// At most this many events a page, and a stream's catch-up reads in pages this big.
pub const PAGE_MAX: u32 = 1000;
const PAGE_DEFAULT: u32 = 500;
/// The read and write buffers of a stream's connection.
const STREAM_BUFFER_BYTES: usize = 4 * 1024;

/// Posts an event from the helpdesk to an agent, a team or everyone. Administrators, and
/// integrations whose token has the `events:write` scope.
#[utoipa::path(post, path = "/api/v1/admin/events", tag = "events", security(("bearer" = [])),
    request_body = NewEvent,
    responses(
        (status = 201, body = PostedEvent, description = "The event's seq and who it went to"),
        (status = 400, body = ApiError, description = "Malformed, an unknown type or priority, or a target that does not exist; `field` names it"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is neither an administrator nor an integration with the events:write scope"),
    ))]
async fn post_event(
    State(state): State<AppState>,
    _writer: EventsWriter,
    ApiJson(new): ApiJson<NewEvent>,
) -> ApiResult<impl IntoResponse> {
    let new = new.cleaned();
    new.validate().map_err(AppError::Invalid)?;
    let published = events::publish(&state.db, &state.hub, &new, Utc::now()).await?;
    posted(&state, new, published).await
}

/// The answer to a posted event, whose mail goes out whatever becomes of the answer, in
/// a task of its own, so a slow mail server does not hold up the helpdesk.
pub async fn posted(
    state: &AppState,
    new: NewEvent,
    published: events::Published,
) -> ApiResult<(StatusCode, Json<PostedEvent>)> {
    let published = Arc::new(published);
    let (db, mailer, mailed) = (
        state.db.clone(),
        state.mailer.clone(),
        Arc::clone(&published),
    );
    tokio::spawn(async move {
        crate::event_mail::send_immediate(&db, &mailer, &new, &mailed).await;
    });
    let answer = published.answer(&state.db).await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

/// Reads `after` (and `limit`) from a query, refusing anything else by name.
fn cursor_query(query: &HashMap<String, String>, allow_limit: bool) -> ApiResult<(i64, u32)> {
    if let Some(unknown) = query
        .keys()
        .find(|key| *key != "after" && !(allow_limit && *key == "limit"))
    {
        return Err(AppError::bad_request(
            ErrorCode::UnknownField,
            format!("unknown query parameter {unknown}"),
            Some(unknown.clone()),
        ));
    }
    let number = |name: &str| -> ApiResult<Option<i64>> {
        query
            .get(name)
            .map(|value| {
                value.trim().parse::<i64>().map_err(|_| {
                    AppError::bad_request(
                        ErrorCode::WrongType,
                        format!("{name} must be a whole number"),
                        Some(name.to_owned()),
                    )
                })
            })
            .transpose()
    };
    let after = number("after")?.unwrap_or(0);
    let limit = match number("limit")? {
        None => PAGE_DEFAULT,
        Some(limit) if (0..=i64::from(PAGE_MAX)).contains(&limit) => limit as u32,
        Some(_) => {
            return Err(AppError::bad_request(
                ErrorCode::ValidationFailed,
                format!("limit must be between 0 and {PAGE_MAX}"),
                Some("limit".into()),
            ))
        }
    };
    Ok((after, limit))
}

/// The caller's own events after `after`, oldest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", security(("bearer" = [])),
    params(
        ("after" = Option<i64>, Query, description = "The last seq already seen; 0 or absent for all"),
        ("limit" = Option<u32>, Query, description = "At most this many (default 500, at most 1000)"),
    ),
    responses(
        (status = 200, body = EventPage),
        (status = 400, body = ApiError, description = "`after` is negative or beyond the newest seq, or not a number"),
        (status = 401, body = ApiError),
    ))]
async fn list_events(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<EventPage>> {
    let (after, limit) = cursor_query(&query, true)?;
    let newest = events::check_cursor(&state.db, &session.agent_id, after).await?;
    let events = events::after(&state.db, &session.agent_id, after, limit).await?;
    let next = events.last().map_or(after, |event| event.seq);
    Ok(Json(EventPage {
        events,
        next,
        newest,
    }))
}

/// A WebSocket of the caller's events: first every event after `after`, then live ones,
/// in seq order, each a JSON text message shaped like `Event`. The server pings every
/// `--stream-ping-seconds` (10 s by default) and closes a connection that stays silent
/// for two and a half pings.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "events", security(("bearer" = [])),
    params(
        ("after" = Option<i64>, Query, description = "The last seq already seen; 0 or absent for all"),
        ("presence" = Option<bool>, Query, description = "`true`: also send `{\"presence\": {agent_id, status, status_until}}` messages when a colleague's status changes as the caller may see it; `status` null once when their privacy hides it from then on"),
    ),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, body = ApiError, description = "Not a WebSocket request, or a bad `after`"),
        (status = 401, body = ApiError, description = "No valid token in the Authorization header"),
    ))]
async fn stream_events(
    State(state): State<AppState>,
    session: Session,
    Query(mut query): Query<HashMap<String, String>>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let presence = match query.remove("presence").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(AppError::bad_request(
                ErrorCode::ValidationFailed,
                "presence must be true or false",
                Some("presence".into()),
            ))
        }
    };
    let (after, _) = cursor_query(&query, false)?;
    events::check_cursor(&state.db, &session.agent_id, after).await?;
    let presence = if presence {
        // Following first, then reading the viewer's department: a move made between the
        // two is heard rather than missed.
        let changes = state.hub.follow_presence();
        let (viewer, _) = crate::agents::profile(&state.db, &session.agent_id).await?;
        Some(PresenceWatch {
            changes,
            db: state.db.clone(),
            viewer_id: session.agent_id.clone(),
            is_admin: session.is_admin,
            department: viewer.department,
        })
    } else {
        None
    };
    let upgrade = upgrade.map_err(|rejection| {
        AppError::bad_request(
            ErrorCode::MalformedJson,
            format!("this endpoint is a WebSocket: {rejection}"),
            None,
        )
    })?;
    Ok(upgrade
        // Events are small; tungstenite's default 128 KiB buffers a connection would
        // make thousands of open streams cost gigabytes.
        .read_buffer_size(STREAM_BUFFER_BYTES)
        .write_buffer_size(STREAM_BUFFER_BYTES)
        .max_message_size(STREAM_BUFFER_BYTES * 4)
        .on_upgrade(move |socket| follow(socket, state, session, after, presence))
        .into_response())
}

/// A stream's sending half.
type EventSink = SplitSink<WebSocket, Message>;

/// Why a stream ended, for the log and the close frame.
enum StreamEnd {
    ClientGone,
    Silent,
    /// The stream's session ended: the client must sign in again.
    SignedOut,
    Failed(String),
}

/// A stream's following of colleagues' presence, with what it needs to apply their
/// privacy for its viewer.
struct PresenceWatch {
    changes: tokio::sync::broadcast::Receiver<Arc<ProfileChange>>,
    db: crate::db::Db,
    viewer_id: String,
    is_admin: bool,
    department: Option<String>,
}

impl PresenceWatch {
    /// The next change this viewer should hear of; never resolves for a stream that
    /// does not follow presence.
    async fn next(watch: &mut Option<Self>) -> Option<PresenceChange> {
        let Some(watch) = watch else {
            return std::future::pending().await;
        };
        loop {
            match watch.changes.recv().await {
                Ok(change) => {
                    if change.after.id == watch.viewer_id {
                        // The viewer's own department decides what they see of others.
                        watch.department = change.after.department.clone();
                    }
                    let viewer = Viewer {
                        id: &watch.viewer_id,
                        is_admin: watch.is_admin,
                        department: watch.department.as_deref(),
                    };
                    if let Some(seen) = change.as_seen_by(&viewer) {
                        return Some(seen);
                    }
                }
                // Skipped changes are caught by the directory's own refresh; the viewer's
                // own move among them is read again, or they would go on seeing as
                // their old department does.
                Err(RecvError::Lagged(_)) => {
                    match crate::people::ViewerRow::load(&watch.db, &watch.viewer_id).await {
                        Ok(viewer) => watch.department = viewer.department,
                        Err(error) => {
                            tracing::warn!(%error, "could not read a viewer's department again");
                            return None;
                        }
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

async fn follow(
    socket: WebSocket,
    state: AppState,
    session: Session,
    after: i64,
    mut presence: Option<PresenceWatch>,
) {
    let agent_id = session.agent_id;
    // Registered before the backlog is read, so nothing published meanwhile is missed.
    let mut open = state.hub.open_stream(&agent_id, &session.session_id);
    let (mut sink, incoming) = socket.split();
    let mut cursor = after;
    let end = async {
        // The session may have ended between its check and the stream's registration.
        let mut session_ends = session_end(&state, &session.session_id).await?;
        catch_up(&mut sink, &state, &agent_id, &mut cursor).await?;
        // What the client sends (pongs, a close) is heard by a task of its own, so
        // handing out an event does not also poll the connection's read side. Started
        // with the pings, so a long catch-up is not taken for silence; the stream is
        // closed when not even a pong came back for two and a half pings.
        let silence_limit = state.config.stream_ping * 5 / 2;
        let mut listening = AbortOnDropHandle::new(tokio::spawn(listen(incoming, silence_limit)));
        let mut ping = interval(state.config.stream_ping);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                // Events first: with each one handed out, nothing else is polled.
                biased;
                live = open.events.recv() => match live {
                    // Sent while catching up.
                    Ok(event) if event.seq <= cursor => {}
                    // The hub hands events over in seq order, so this is the next one.
                    Ok(event) => {
                        send_text(&mut sink, event.json().to_owned()).await?;
                        cursor = event.seq;
                    }
                    // Fell behind: the database has everything, in order.
                    Err(RecvError::Lagged(_)) => {
                        catch_up(&mut sink, &state, &agent_id, &mut cursor).await?;
                    }
                    // The server is shutting down.
                    Err(RecvError::Closed) => return Ok::<_, StreamEnd>(()),
                },
                change = PresenceWatch::next(&mut presence) => match change {
                    Some(presence) => {
                        let frame = PresenceFrame { presence };
                        let text = serde_json::to_string(&frame)
                            .map_err(|e| StreamEnd::Failed(e.to_string()))?;
                        send_text(&mut sink, text).await?;
                    }
                    None => return Ok(()),
                },
                heard = &mut listening => {
                    return Err(heard.unwrap_or_else(|e| StreamEnd::Failed(e.to_string())));
                }
                ended = &mut open.signed_out => match ended {
                    Ok(()) => return Err(StreamEnd::SignedOut),
                    // The hub let go of the stream: the server is shutting down.
                    Err(_) => return Ok(()),
                },
                _ = ping.tick() => {
                    // A session unused for its whole idle limit, or at the end of its
                    // lifetime, ends (unless it was used meanwhile): seen at the ping after,
                    // with no timer of its own for every open stream.
                    if Utc::now() >= session_ends {
                        session_ends = session_end(&state, &session.session_id).await?;
                    }
                    sink.send(Message::Ping(Default::default()))
                        .await
                        .map_err(|_| StreamEnd::ClientGone)?;
                }
            }
        }
    }
    .await;
    let close = match end {
        Ok(()) | Err(StreamEnd::ClientGone) => None,
        Err(StreamEnd::SignedOut) => Some(CloseFrame {
            code: STREAM_CLOSE_SIGNED_OUT,
            reason: STREAM_CLOSE_SIGNED_OUT_REASON.into(),
        }),
        Err(StreamEnd::Silent) => {
            tracing::debug!("event stream closed: no answer to pings");
            None
        }
        Err(StreamEnd::Failed(reason)) => {
            tracing::warn!(%reason, "event stream failed");
            None
        }
    };
    let _ = sink.send(Message::Close(close)).await;
}

/// When the session would end unused, checked now: a session that has ended is
/// deleted and the stream signed out.
async fn session_end(
    state: &AppState,
    session_id: &str,
) -> Result<chrono::DateTime<Utc>, StreamEnd> {
    let ends_at = crate::agents::session_ends_at(&state.db, session_id)
        .await
        .map_err(|error| StreamEnd::Failed(error.to_string()))?
        .ok_or(StreamEnd::SignedOut)?;
    let now = Utc::now();
    if ends_at <= now {
        crate::agents::delete_session(&state.db, session_id)
            .await
            .map_err(|error| StreamEnd::Failed(error.to_string()))?;
        return Err(StreamEnd::SignedOut);
    }
    Ok(ends_at)
}

/// Reads what the client sends until it goes, fails, or is silent for too long (it
/// answers every ping).
async fn listen(mut incoming: SplitStream<WebSocket>, silence_limit: Duration) -> StreamEnd {
    loop {
        match tokio::time::timeout(silence_limit, incoming.next()).await {
            Err(_) => return StreamEnd::Silent,
            Ok(Some(Ok(Message::Close(_))) | None) => return StreamEnd::ClientGone,
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(error))) => return StreamEnd::Failed(error.to_string()),
        }
    }
}

/// Sends every stored event after `cursor`, in pages, moving the cursor along.
async fn catch_up(
    socket: &mut EventSink,
    state: &AppState,
    agent_id: &str,
    cursor: &mut i64,
) -> Result<(), StreamEnd> {
    loop {
        let page = events::after(&state.db, agent_id, *cursor, PAGE_MAX)
            .await
            .map_err(|error| StreamEnd::Failed(error.to_string()))?;
        for event in &page {
            send(socket, event).await?;
            *cursor = event.seq;
        }
        if page.len() < PAGE_MAX as usize {
            return Ok(());
        }
    }
}

async fn send(socket: &mut EventSink, event: &Event) -> Result<(), StreamEnd> {
    let text = serde_json::to_string(event).map_err(|e| StreamEnd::Failed(e.to_string()))?;
    send_text(socket, text).await
}

async fn send_text(socket: &mut EventSink, text: String) -> Result<(), StreamEnd> {
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|_| StreamEnd::ClientGone)
}

impl From<EventError> for AppError {
    fn from(error: EventError) -> Self {
        match error {
            EventError::UnknownAgent(_) | EventError::UnknownTeam(_) | EventError::EmptyTeam(_) => {
                AppError::bad_request(
                    ErrorCode::ValidationFailed,
                    error.to_string(),
                    Some("to".into()),
                )
            }
            EventError::CursorOutOfRange { .. } => AppError::bad_request(
                ErrorCode::ValidationFailed,
                error.to_string(),
                Some("after".into()),
            ),
            EventError::Database(error) => AppError::Database(error),
        }
    }
}
