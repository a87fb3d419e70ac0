//! The signed-in agent's presence while the app runs, with no GUI in it: the status to
//! take at start, the status the agent chose kept on this computer, idle to Away and
//! back, a status that ends at a set time, and Offline on quit. The shell passes in the
//! server, the clock and what it shows; the rules live, and are tested, here.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use agent_desk_client::{AgentSession, ClientError, VersionedProfile};
use agent_desk_core::{Status, StatusState, StatusUpdate};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::idle::{IdleAction, IdleWatch};

/// What presence asks of the team's server.
pub trait StatusServer: Send + Sync + 'static {
    /// What the server tells of the agent, status included (their profile).
    type Profile: Send;

    fn set_status(
        &self,
        update: &StatusUpdate,
    ) -> impl Future<Output = Result<StatusState, ClientError>> + Send;

    fn profile(&self) -> impl Future<Output = Result<Self::Profile, ClientError>> + Send;

    fn status_in(profile: &Self::Profile) -> StatusState;
}

impl StatusServer for Arc<AgentSession> {
    type Profile = VersionedProfile;

    fn set_status(
        &self,
        update: &StatusUpdate,
    ) -> impl Future<Output = Result<StatusState, ClientError>> + Send {
        AgentSession::set_status(self, update)
    }

    fn profile(&self) -> impl Future<Output = Result<VersionedProfile, ClientError>> + Send {
        AgentSession::profile(self)
    }

    fn status_in(profile: &VersionedProfile) -> StatusState {
        StatusState {
            status: profile.profile.status,
            until: profile.profile.status_until,
        }
    }
}

/// What presence asks of the shell: showing what changed, and a timer.
pub trait PresenceShell<P>: Send + Sync {
    /// The status to alert by and to show; `automatic` when idle detection set it.
    fn show_status(&self, status: &StatusState, automatic: bool);
    /// The agent's profile as the server has it now.
    fn show_profile(&self, profile: &P);
    /// Calls [`Presence::recheck`] with `until` after `wait`: a status set "until" a
    /// time ends on the server then, without an event.
    fn recheck_after(&self, wait: Duration, until: DateTime<Utc>);
}

/// Now, as the shell tells it (the system clock; a set one in tests).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The status an agent chose by hand, kept on this computer so the next start takes it
/// again: quitting sets Offline on the server, which says nothing of what came before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChosenStatus {
    /// Whose choice it is: another agent signing in on this computer does not take it.
    pub agent_id: String,
    pub status: Status,
    pub until: Option<DateTime<Utc>>,
}

/// The status to set at start, when the server has the agent as Offline (the app quit
/// or the last session timed out): the one they chose last on this computer, unless it
/// has ended or is someone else's; otherwise Available, since opening the app means
/// being at the desk.
pub fn status_at_start(
    chosen: Option<&ChosenStatus>,
    agent_id: &str,
    now: DateTime<Utc>,
) -> StatusUpdate {
    let kept = chosen.filter(|chosen| {
        chosen.agent_id == agent_id
            && chosen.status != Status::Offline
            && chosen.until.is_none_or(|until| until > now)
    });
    StatusUpdate {
        status: kept.map_or(Status::Available, |chosen| chosen.status),
        until: kept.and_then(|chosen| chosen.until),
        idle: false,
    }
}

/// How long until a status that ends at `until` should be looked at again: a moment
/// after it ends, so the server has changed it by then.
pub fn recheck_wait(until: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (until - now)
        .to_std()
        .unwrap_or_default()
        .saturating_add(Duration::from_secs(1))
}

/// The status change that quitting or signing out sends.
pub fn offline() -> StatusUpdate {
    StatusUpdate {
        status: Status::Offline,
        until: None,
        idle: false,
    }
}

/// Presence for one signed-in agent.
pub struct Presence<S: StatusServer> {
    server: S,
    shell: Box<dyn PresenceShell<S::Profile>>,
    clock: Clock,
    agent_id: String,
    /// Where [`ChosenStatus`] is kept.
    chosen_file: PathBuf,
    idle: Mutex<IdleWatch>,
    current: Mutex<StatusState>,
    /// Signed out: a refresh or recheck still under way shows nothing any more.
    stopped: AtomicBool,
    /// Offline was sent (quitting sends it once, however many ways it is asked for).
    offline_sent: AtomicBool,
}

impl<S: StatusServer> Presence<S> {
    pub fn new(
        server: S,
        shell: Box<dyn PresenceShell<S::Profile>>,
        clock: Clock,
        agent_id: &str,
        chosen_file: PathBuf,
    ) -> Self {
        Self {
            server,
            shell,
            clock,
            agent_id: agent_id.to_owned(),
            chosen_file,
            idle: Mutex::new(IdleWatch::default()),
            current: Mutex::new(StatusState {
                status: Status::Offline,
                until: None,
            }),
            stopped: AtomicBool::new(false),
            offline_sent: AtomicBool::new(false),
        }
    }

    /// The agent signed out: from now on nothing is shown or kept.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// The status as last shown.
    pub fn status(&self) -> StatusState {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the current Away was set by idle detection.
    pub fn automatic_away(&self) -> bool {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .automatic()
    }

    /// The agent just signed in, or the app started with their session: show the
    /// server's status, and if that is Offline take the status [`status_at_start`] gives.
    /// A status other than Offline is live (another device, or a session still ending)
    /// and stands.
    pub async fn start(&self, profile: &S::Profile) {
        let on_server = S::status_in(profile);
        self.show(&on_server, false);
        if on_server.status != Status::Offline {
            self.keep_chosen(&on_server);
            return;
        }
        let update = status_at_start(self.read_chosen().as_ref(), &self.agent_id, self.now());
        if let Ok(status) = self.server.set_status(&update).await {
            self.keep_chosen(&status);
            self.show(&status, false);
        }
    }

    /// The agent chose a status: set it, and keep it as their choice.
    pub async fn choose(&self, update: &StatusUpdate) -> Result<StatusState, ClientError> {
        let status = self.server.set_status(update).await?;
        self.chosen(&status);
        Ok(status)
    }

    /// The agent chose `status`, and it was sent another way (or kept to send once the
    /// server can be reached): shown and kept as the agent's choice.
    pub fn chosen(&self, status: &StatusState) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .cancel();
        self.keep_chosen(status);
        self.show(status, false);
    }

    /// Weighs the computer's idle time against the agent's threshold (`None`: never):
    /// Away when they have left an Available desk, back when they return.
    pub async fn idle_for(&self, idle: Duration, threshold: Option<Duration>) {
        let status = self.status().status;
        let action = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .update(idle, threshold, status);
        let Some(update) = action.status_update() else {
            return;
        };
        match self.server.set_status(&update).await {
            Ok(status) => self.show(&status, matches!(action, IdleAction::GoAway)),
            // Not set (the server out of reach): try again at the next look.
            Err(_) => self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .cancel(),
        }
    }

    /// The profile changed on the server (this agent on another device, an
    /// administrator): show it, status included.
    pub async fn refresh(&self) {
        let Ok(profile) = self.server.profile().await else {
            return;
        };
        let status = S::status_in(&profile);
        let automatic = self.automatic_away();
        if !automatic {
            self.keep_chosen(&status);
        }
        self.show(&status, automatic);
        if !self.stopped.load(Ordering::SeqCst) {
            self.shell.show_profile(&profile);
        }
    }

    /// The time a status was to end has come: look again, unless the status has
    /// changed since.
    pub async fn recheck(&self, until: DateTime<Utc>) {
        if self.status().until == Some(until) {
            self.refresh().await;
        }
    }

    /// Tells the server the agent is Offline, waiting `limit` at most: they are signing
    /// out or quitting. What they chose stays kept for the next start.
    pub async fn go_offline(&self, limit: Duration) {
        if self.offline_sent.swap(true, Ordering::SeqCst) {
            return;
        }
        let _ = tokio::time::timeout(limit, self.server.set_status(&offline())).await;
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    fn show(&self, status: &StatusState, automatic: bool) {
        if self.stopped.load(Ordering::SeqCst) {
            return;
        }
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = *status;
        self.shell.show_status(status, automatic);
        if let Some(until) = status.until {
            self.shell
                .recheck_after(recheck_wait(until, self.now()), until);
        }
    }

    /// Every agent's choice on this computer, by agent id: agents sharing a desk keep
    /// theirs apart.
    fn read_all_chosen(&self) -> BTreeMap<String, ChosenStatus> {
        std::fs::read(&self.chosen_file)
            .ok()
            .and_then(|text| serde_json::from_slice(&text).ok())
            .unwrap_or_default()
    }

    fn read_chosen(&self) -> Option<ChosenStatus> {
        self.read_all_chosen().remove(&self.agent_id)
    }

    /// Keeps `status` as the agent's choice; Offline is never one (it is how the app
    /// leaves). A file that cannot be written costs only the next start's status.
    fn keep_chosen(&self, status: &StatusState) {
        if status.status == Status::Offline || self.stopped.load(Ordering::SeqCst) {
            return;
        }
        let chosen = ChosenStatus {
            agent_id: self.agent_id.clone(),
            status: status.status,
            until: status.until,
        };
        let mut all = self.read_all_chosen();
        if all.get(&self.agent_id) == Some(&chosen) {
            return;
        }
        all.insert(self.agent_id.clone(), chosen);
        if let Ok(json) = serde_json::to_vec(&all) {
            let _ = agent_desk_core::files::write_atomically(&self.chosen_file, &json);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The server: keeps the status, records each change, refuses while `reachable` is off.
    #[derive(Clone)]
    struct Server(Arc<Mutex<ServerState>>);

    struct ServerState {
        status: StatusState,
        changes: Vec<StatusUpdate>,
        reachable: bool,
        /// Never answers (a server that hangs).
        hangs: bool,
    }

    impl Server {
        fn with(status: Status) -> Self {
            Self(Arc::new(Mutex::new(ServerState {
                status: StatusState {
                    status,
                    until: None,
                },
                changes: Vec::new(),
                reachable: true,
                hangs: false,
            })))
        }

        fn changes(&self) -> Vec<(Status, Option<DateTime<Utc>>, bool)> {
            let state = self.0.lock().expect("server");
            state
                .changes
                .iter()
                .map(|change| (change.status, change.until, change.idle))
                .collect()
        }

        fn status(&self) -> Status {
            self.0.lock().expect("server").status.status
        }

        fn set(&self, edit: impl FnOnce(&mut ServerState)) {
            edit(&mut self.0.lock().expect("server"));
        }
    }

    impl StatusServer for Server {
        type Profile = StatusState;

        fn set_status(
            &self,
            update: &StatusUpdate,
        ) -> impl Future<Output = Result<StatusState, ClientError>> + Send {
            let server = self.clone();
            let update = update.clone();
            async move {
                let hangs = server.0.lock().expect("server").hangs;
                if hangs {
                    std::future::pending::<()>().await;
                }
                let mut state = server.0.lock().expect("server");
                if !state.reachable {
                    return Err(ClientError::Unreachable {
                        url: "https://desk.example".into(),
                        reason: "connection refused".into(),
                    });
                }
                state.changes.push(update.clone());
                state.status = StatusState {
                    status: update.status,
                    until: update.until,
                };
                Ok(state.status)
            }
        }

        fn profile(&self) -> impl Future<Output = Result<StatusState, ClientError>> + Send {
            let status = self.0.lock().expect("server").status;
            async move { Ok(status) }
        }

        fn status_in(profile: &StatusState) -> StatusState {
            *profile
        }
    }

    /// What the shell was asked to do, in order.
    #[derive(Clone, Default)]
    struct Shell(Arc<Mutex<Vec<Shown>>>);

    #[derive(Debug, Clone, PartialEq)]
    enum Shown {
        Status(Status, bool),
        Profile(Status),
        Recheck(Duration, DateTime<Utc>),
    }

    impl Shell {
        fn take(&self) -> Vec<Shown> {
            std::mem::take(&mut *self.0.lock().expect("shell"))
        }
    }

    impl PresenceShell<StatusState> for Shell {
        fn show_status(&self, status: &StatusState, automatic: bool) {
            let shown = Shown::Status(status.status, automatic);
            self.0.lock().expect("shell").push(shown);
        }
        fn show_profile(&self, profile: &StatusState) {
            let shown = Shown::Profile(profile.status);
            self.0.lock().expect("shell").push(shown);
        }
        fn recheck_after(&self, wait: Duration, until: DateTime<Utc>) {
            self.0
                .lock()
                .expect("shell")
                .push(Shown::Recheck(wait, until));
        }
    }

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, hour, minute, 0)
            .single()
            .expect("a time")
    }

    /// A computer: the folder the chosen status is kept in, and its clock.
    struct Computer {
        folder: tempfile::TempDir,
        now: Arc<Mutex<DateTime<Utc>>>,
    }

    impl Computer {
        fn new() -> Self {
            Self {
                folder: tempfile::tempdir().expect("a folder"),
                now: Arc::new(Mutex::new(at(9, 0))),
            }
        }

        fn set_time(&self, now: DateTime<Utc>) {
            *self.now.lock().expect("clock") = now;
        }

        /// The app started for `agent` against `server`.
        async fn start(&self, agent: &str, server: &Server) -> (Presence<Server>, Shell) {
            let shell = Shell::default();
            let now = Arc::clone(&self.now);
            let presence = Presence::new(
                server.clone(),
                Box::new(shell.clone()),
                Arc::new(move || *now.lock().expect("clock")),
                agent,
                self.folder.path().join("status.json"),
            );
            let profile = server.profile().await.expect("profile");
            presence.start(&profile).await;
            (presence, shell)
        }
    }

    fn chosen(status: Status) -> StatusUpdate {
        StatusUpdate {
            status,
            until: None,
            idle: false,
        }
    }

    const LIMIT: Duration = Duration::from_secs(2);
    const TEN_MINUTES: Option<Duration> = Some(Duration::from_secs(600));

    #[tokio::test]
    async fn the_first_start_comes_back_available() {
        let computer = Computer::new();
        let server = Server::with(Status::Offline);
        let (presence, shell) = computer.start("ada", &server).await;
        assert_eq!(server.changes(), [(Status::Available, None, false)]);
        assert_eq!(
            shell.take(),
            [
                Shown::Status(Status::Offline, false),
                Shown::Status(Status::Available, false)
            ]
        );
        assert_eq!(presence.status().status, Status::Available);
    }

    #[tokio::test]
    async fn an_agent_who_quit_while_away_starts_away_not_available() {
        let computer = Computer::new();
        let server = Server::with(Status::Offline);
        let (presence, _) = computer.start("ada", &server).await;
        presence.choose(&chosen(Status::Away)).await.expect("away");
        presence.go_offline(LIMIT).await;
        assert_eq!(server.status(), Status::Offline);
        drop(presence);

        let (presence, _) = computer.start("ada", &server).await;
        assert_eq!(server.status(), Status::Away);
        assert_eq!(presence.status().status, Status::Away);
        // Every status the agent chooses is the next start's, Busy and DND too.
        for status in [Status::Busy, Status::Dnd, Status::Available] {
            presence.choose(&chosen(status)).await.expect("set");
            presence.go_offline(LIMIT).await;
            let (again, _) = computer.start("ada", &server).await;
            assert_eq!(again.status().status, status);
        }
    }

    #[tokio::test]
    async fn a_chosen_status_that_has_ended_gives_available() {
        let computer = Computer::new();
        let server = Server::with(Status::Offline);
        let (presence, shell) = computer.start("ada", &server).await;
        shell.take();
        let lunch = StatusUpdate {
            status: Status::Away,
            until: Some(at(13, 0)),
            idle: false,
        };
        presence.choose(&lunch).await.expect("away until 13:00");
        // The shell is asked to look again a second after it ends.
        assert_eq!(
            shell.take(),
            [
                Shown::Status(Status::Away, false),
                Shown::Recheck(Duration::from_secs(4 * 3600 + 1), at(13, 0))
            ]
        );
        presence.go_offline(LIMIT).await;

        // Started again before it ends: Away until 13:00 still.
        computer.set_time(at(12, 0));
        let (again, _) = computer.start("ada", &server).await;
        assert_eq!(again.status(), lunch_state(at(13, 0)));
        again.go_offline(LIMIT).await;
        // Started after: Available.
        computer.set_time(at(13, 0));
        let (after, _) = computer.start("ada", &server).await;
        assert_eq!(after.status().status, Status::Available);
        assert_eq!(after.status().until, None);
    }

    fn lunch_state(until: DateTime<Utc>) -> StatusState {
        StatusState {
            status: Status::Away,
            until: Some(until),
        }
    }

    #[tokio::test]
    async fn another_agent_on_this_computer_does_not_take_the_first_ones_status() {
        let computer = Computer::new();
        let ada = Server::with(Status::Offline);
        let (presence, _) = computer.start("ada", &ada).await;
        presence.choose(&chosen(Status::Dnd)).await.expect("dnd");
        presence.go_offline(LIMIT).await;
        let grace = Server::with(Status::Offline);
        let (presence, _) = computer.start("grace", &grace).await;
        assert_eq!(presence.status().status, Status::Available);
        assert_eq!(grace.changes(), [(Status::Available, None, false)]);
    }

    #[tokio::test]
    async fn agents_sharing_a_computer_each_keep_their_own_status() {
        let computer = Computer::new();
        let ada = Server::with(Status::Offline);
        let (presence, _) = computer.start("ada", &ada).await;
        presence.choose(&chosen(Status::Away)).await.expect("away");
        presence.go_offline(LIMIT).await;
        let grace = Server::with(Status::Offline);
        let (presence, _) = computer.start("grace", &grace).await;
        presence.choose(&chosen(Status::Busy)).await.expect("busy");
        presence.go_offline(LIMIT).await;
        let (presence, _) = computer.start("ada", &ada).await;
        assert_eq!(
            presence.status().status,
            Status::Away,
            "Grace's choice erased Ada's"
        );
        let (presence, _) = computer.start("grace", &grace).await;
        assert_eq!(presence.status().status, Status::Busy);
    }

    #[tokio::test]
    async fn after_sign_out_a_late_answer_shows_and_keeps_nothing() {
        let computer = Computer::new();
        let server = Server::with(Status::Offline);
        let (presence, shell) = computer.start("ada", &server).await;
        presence.choose(&chosen(Status::Away)).await.expect("away");
        presence.go_offline(LIMIT).await;
        presence.stop();
        shell.take();
        // The server's news of the Offline arrives after the sign-out.
        presence.refresh().await;
        assert!(shell.take().is_empty(), "shown after sign-out");
        let (again, _) = computer.start("ada", &server).await;
        assert_eq!(
            again.status().status,
            Status::Away,
            "the choice was overwritten"
        );
        // Quitting asks twice (the Quit, then the app's exit): Offline is sent once.
        again.go_offline(LIMIT).await;
        again.go_offline(LIMIT).await;
        let offline = server
            .changes()
            .iter()
            .filter(|change| change.0 == Status::Offline)
            .count();
        assert_eq!(offline, 2, "one for each of the two runs");
    }

    #[tokio::test]
    async fn a_live_status_on_the_server_stands_and_becomes_the_choice() {
        let computer = Computer::new();
        // Busy, set on another device while this app was closed.
        let server = Server::with(Status::Busy);
        let (presence, shell) = computer.start("ada", &server).await;
        assert!(server.changes().is_empty(), "nothing sent");
        assert_eq!(shell.take(), [Shown::Status(Status::Busy, false)]);
        presence.go_offline(LIMIT).await;
        let (again, _) = computer.start("ada", &server).await;
        assert_eq!(again.status().status, Status::Busy);
    }

    #[tokio::test]
    async fn idle_goes_away_and_back_and_an_idle_away_is_never_the_next_starts() {
        let computer = Computer::new();
        let server = Server::with(Status::Offline);
        let (presence, shell) = computer.start("ada", &server).await;
        shell.take();
        presence
            .idle_for(Duration::from_secs(599), TEN_MINUTES)
            .await;
        assert!(shell.take().is_empty());
        presence
            .idle_for(Duration::from_secs(600), TEN_MINUTES)
            .await;
        assert_eq!(shell.take(), [Shown::Status(Status::Away, true)]);
        assert!(presence.automatic_away());
        // A profile change meanwhile (a new photo elsewhere) keeps it automatic.
        presence.refresh().await;
        assert_eq!(
            shell.take(),
            [
                Shown::Status(Status::Away, true),
                Shown::Profile(Status::Away)
            ]
        );
        // The computer was left idle and the app quit: the agent's choice was Available.
        presence.go_offline(LIMIT).await;
        let (again, _) = computer.start("ada", &server).await;
        assert_eq!(again.status().status, Status::Available);

        again.idle_for(Duration::from_secs(900), TEN_MINUTES).await;
        again.idle_for(Duration::from_secs(1), TEN_MINUTES).await;
        let changes = server.changes();
        assert_eq!(
            changes[changes.len() - 2..],
            [(Status::Away, None, true), (Status::Available, None, true)],
            "told as idle detection's"
        );
        assert_eq!(again.status().status, Status::Available);
        assert!(!again.automatic_away());
    }

    #[tokio::test]
    async fn idle_never_overrides_a_chosen_status_and_a_failed_away_is_tried_again() {
        let computer = Computer::new();
        let server = Server::with(Status::Offline);
        let (presence, shell) = computer.start("ada", &server).await;
        presence.choose(&chosen(Status::Busy)).await.expect("busy");
        shell.take();
        presence
            .idle_for(Duration::from_secs(3600), TEN_MINUTES)
            .await;
        assert!(shell.take().is_empty());

        presence
            .choose(&chosen(Status::Available))
            .await
            .expect("available");
        shell.take();
        server.set(|state| state.reachable = false);
        presence
            .idle_for(Duration::from_secs(600), TEN_MINUTES)
            .await;
        assert!(!presence.automatic_away(), "forgotten, not set");
        assert!(shell.take().is_empty());
        server.set(|state| state.reachable = true);
        presence
            .idle_for(Duration::from_secs(660), TEN_MINUTES)
            .await;
        assert_eq!(shell.take(), [Shown::Status(Status::Away, true)]);
        // The agent picks DND while automatically Away: theirs stands when they return.
        presence.choose(&chosen(Status::Dnd)).await.expect("dnd");
        presence.idle_for(Duration::ZERO, TEN_MINUTES).await;
        assert_eq!(server.status(), Status::Dnd);
    }

    #[tokio::test]
    async fn a_recheck_looks_again_only_at_the_status_it_was_for() {
        let computer = Computer::new();
        let server = Server::with(Status::Offline);
        let (presence, shell) = computer.start("ada", &server).await;
        let meeting = StatusUpdate {
            status: Status::Dnd,
            until: Some(at(10, 0)),
            idle: false,
        };
        presence.choose(&meeting).await.expect("dnd");
        // The server ends it at 10:00 by itself.
        server.set(|state| {
            state.status = StatusState {
                status: Status::Available,
                until: None,
            }
        });
        shell.take();
        // A recheck for another time does nothing.
        presence.recheck(at(9, 30)).await;
        assert!(shell.take().is_empty());
        presence.recheck(at(10, 0)).await;
        assert_eq!(
            shell.take(),
            [
                Shown::Status(Status::Available, false),
                Shown::Profile(Status::Available)
            ]
        );
        assert_eq!(presence.status().status, Status::Available);
        // A status already past asks for a look a second from now.
        assert_eq!(recheck_wait(at(8, 0), at(9, 0)), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn going_offline_waits_no_longer_than_its_limit() {
        let computer = Computer::new();
        let server = Server::with(Status::Offline);
        let (presence, _) = computer.start("ada", &server).await;
        server.set(|state| state.hangs = true);
        // A hang here would be the failure: a generous bound turns it into one.
        tokio::time::timeout(
            Duration::from_secs(10),
            presence.go_offline(Duration::from_millis(50)),
        )
        .await
        .expect("going Offline gave up after its limit");
        assert_eq!(server.status(), Status::Available);
    }

    #[test]
    fn a_damaged_or_foreign_file_gives_available() {
        let now = at(9, 0);
        assert_eq!(status_at_start(None, "ada", now).status, Status::Available);
        let offline = ChosenStatus {
            agent_id: "ada".into(),
            status: Status::Offline,
            until: None,
        };
        assert_eq!(
            status_at_start(Some(&offline), "ada", now).status,
            Status::Available
        );
        let computer = Computer::new();
        std::fs::write(computer.folder.path().join("status.json"), b"{not json").expect("write");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let server = Server::with(Status::Offline);
        let (presence, _) = runtime.block_on(computer.start("ada", &server));
        assert_eq!(presence.status().status, Status::Available);
    }
}
