//! The client against a real server over HTTP (started in-process on a free port).

use std::sync::Arc;

use agent_desk_client::{AgentSession, ClientError, ClientErrorCode, MemoryTokenStore, TokenStore};
use agent_desk_core::teams::{JoinDecision, JoinRequestState, Membership};
use agent_desk_core::{ErrorCode, ProfileField, ProfilePatch, ValidationCode};
use agent_desk_server::{AppState, ServerConfig};

const EMAIL: &str = "demo@agentdesk.example";
const PASSWORD: &str = "Demo-agent-2026!";

struct Fixture {
    url: String,
    /// The server's own database, for setting up what the API offers no agent.
    db: agent_desk_server::db::Db,
    config_dir: tempfile::TempDir,
    tokens: Arc<MemoryTokenStore>,
    _data: tempfile::TempDir,
    _server: tokio::task::JoinHandle<()>,
}

impl Fixture {
    async fn start() -> Self {
        let data = tempfile::tempdir().expect("data dir");
        let state = AppState::open(ServerConfig::new(data.path()))
            .await
            .expect("open server");
        agent_desk_server::demo::seed_demo(&state.db, chrono::Utc::now())
            .await
            .expect("seed");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let db = state.db.clone();
        let server = tokio::spawn(async move {
            let _ = agent_desk_server::serve(listener, state, std::future::pending()).await;
        });
        Self {
            url,
            db,
            config_dir: tempfile::tempdir().expect("config dir"),
            tokens: Arc::new(MemoryTokenStore::default()),
            _data: data,
            _server: server,
        }
    }

    /// A fresh session object, as after an app restart: same config folder and store.
    fn session(&self) -> AgentSession {
        AgentSession::new(self.config_dir.path(), self.tokens.clone())
    }
}

#[tokio::test]
async fn sign_in_survives_a_restart_and_sign_out_forgets() {
    let fixture = Fixture::start().await;
    let signed_in = fixture
        .session()
        .sign_in(&fixture.url, " Demo@AgentDesk.example ", PASSWORD)
        .await
        .expect("sign in");
    assert!(signed_in.remembered);
    assert_eq!(signed_in.profile.profile.email, EMAIL);

    let restarted = fixture.session();
    let restored = restarted
        .restore()
        .await
        .expect("restore")
        .expect("still signed in");
    assert_eq!(restored.profile.display_name, "Dana Demo");
    assert_eq!(
        restarted.settings().server_url.as_deref(),
        Some(format!("{}/", fixture.url).as_str())
    );

    restarted.sign_out().await.expect("sign out");
    assert!(fixture
        .tokens
        .load(&format!("{}/#{EMAIL}", fixture.url))
        .expect("load")
        .is_none());
    assert!(fixture
        .session()
        .restore()
        .await
        .expect("restore")
        .is_none());
    assert!(matches!(
        restarted.profile().await,
        Err(ClientError::NotSignedIn)
    ));
}

#[tokio::test]
async fn a_token_the_server_no_longer_accepts_means_signing_in_again() {
    let fixture = Fixture::start().await;
    fixture
        .session()
        .sign_in(&fixture.url, EMAIL, PASSWORD)
        .await
        .expect("sign in");
    let account = format!("{}/#{EMAIL}", fixture.url);
    fixture
        .tokens
        .save(&account, "revoked-or-forged")
        .expect("overwrite");
    assert!(fixture
        .session()
        .restore()
        .await
        .expect("restore")
        .is_none());
    assert!(
        fixture.tokens.load(&account).expect("load").is_none(),
        "the dead token is dropped"
    );
}

/// A session saved before plain `http://` was refused for other computers: restoring it
/// would send the token in clear, so it is refused the same way and the agent is told;
/// signing out then forgets the token without sending it anywhere.
#[tokio::test]
async fn a_saved_plain_http_address_of_another_computer_is_not_used() {
    let config_dir = tempfile::tempdir().expect("config dir");
    let tokens = Arc::new(MemoryTokenStore::default());
    let server_url = "http://desk.example:8787/";
    agent_desk_client::Settings {
        server_url: Some(server_url.into()),
        email: Some(EMAIL.into()),
        signed_in: true,
        agent_id: None,
    }
    .save(config_dir.path())
    .expect("settings");
    let account = format!("{server_url}#{EMAIL}");
    tokens.save(&account, "a-session-token").expect("save");

    let session = AgentSession::new(config_dir.path(), tokens.clone());
    let refused = session.restore().await.expect_err("refused");
    assert_eq!(refused.code(), ClientErrorCode::InsecureServerUrl);
    assert!(matches!(
        session.profile().await,
        Err(ClientError::NotSignedIn)
    ));

    session.sign_out().await.expect("sign out");
    assert!(tokens.load(&account).expect("load").is_none());
    assert!(!session.settings().signed_in);
}

#[tokio::test]
async fn sign_in_failures_say_what_is_wrong() {
    let fixture = Fixture::start().await;
    let session = fixture.session();

    let wrong = session
        .sign_in(&fixture.url, EMAIL, "wrong")
        .await
        .expect_err("wrong password");
    assert_eq!(
        wrong.code(),
        ClientErrorCode::Server(ErrorCode::InvalidCredentials)
    );

    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let unreachable = session
        .sign_in(&format!("http://127.0.0.1:{closed_port}"), EMAIL, PASSWORD)
        .await
        .expect_err("closed");
    assert_eq!(
        (unreachable.code(), unreachable.field()),
        (ClientErrorCode::ServerUnreachable, Some("server_url"))
    );

    let invalid = session
        .sign_in("desk.example", EMAIL, PASSWORD)
        .await
        .expect_err("no scheme");
    assert_eq!(invalid.code(), ClientErrorCode::InvalidServerUrl);

    let insecure = session
        .sign_in("http://desk.example:8787", EMAIL, PASSWORD)
        .await
        .expect_err("plain http to another computer");
    assert_eq!(
        (insecure.code(), insecure.field()),
        (ClientErrorCode::InsecureServerUrl, Some("server_url"))
    );

    let not_ours = session
        .sign_in(&format!("{}/nothing-here", fixture.url), EMAIL, PASSWORD)
        .await
        .expect_err("404");
    assert_eq!(
        not_ours.code(),
        ClientErrorCode::Server(ErrorCode::NotFound)
    );
    assert!(!session.settings().signed_in);
}

#[tokio::test]
async fn profile_changes_are_validated_here_and_versioned_there() {
    let fixture = Fixture::start().await;
    let session = fixture.session();
    let start = session
        .sign_in(&fixture.url, EMAIL, PASSWORD)
        .await
        .expect("sign in")
        .profile;

    let bad = ProfilePatch {
        phone: Some("030 1234".into()),
        ..Default::default()
    };
    match session.update_profile(&bad, &start.etag).await {
        Err(ClientError::Validation(errors)) => {
            assert_eq!(errors[0].field, ProfileField::Phone);
            assert_eq!(errors[0].code, ValidationCode::PhoneNeedsCountryCode);
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(
        session.profile().await.expect("profile").etag,
        start.etag,
        "nothing was sent"
    );

    let good = ProfilePatch {
        job_title: Some("Team Lead".into()),
        phone: Some("+49 30 901820".into()),
        ..Default::default()
    };
    let saved = session
        .update_profile(&good, &start.etag)
        .await
        .expect("save");
    assert_eq!(saved.profile.phone.as_deref(), Some("+4930901820"));
    assert_ne!(saved.etag, start.etag);

    let stale = session
        .update_profile(&good, &start.etag)
        .await
        .expect_err("stale");
    assert_eq!(
        stale.code(),
        ClientErrorCode::Server(ErrorCode::VersionConflict)
    );
    assert_eq!(
        serde_json::to_value(stale.code()).expect("serialise"),
        "version_conflict"
    );
}

#[tokio::test]
async fn a_picked_photo_is_checked_previewed_cropped_and_uploaded() {
    use agent_desk_avatar::fixtures::jpeg;
    use agent_desk_client::PhotoEditor;
    use agent_desk_core::AvatarCrop;
    use base64::Engine;

    let fixture = Fixture::start().await;
    let session = fixture.session();
    session
        .sign_in(&fixture.url, EMAIL, PASSWORD)
        .await
        .expect("sign in");
    let photos = PhotoEditor::default();
    let policy = session.policy().await.expect("policy");

    // Refused here, with the server's code and the limit, before anything is sent.
    let mut oversized = jpeg(&image::RgbImage::new(64, 64));
    oversized.resize(5_000_001, 0);
    let error = photos
        .prepare(&policy, oversized)
        .await
        .expect_err("too big");
    assert_eq!(
        error.code(),
        ClientErrorCode::Server(ErrorCode::PayloadTooLarge)
    );
    assert_eq!(error.field(), Some("photo"));
    assert!(error.message().contains("5 MB"), "{}", error.message());
    let error = photos
        .prepare(&policy, b"GIF89a broken".to_vec())
        .await
        .expect_err("broken");
    assert_eq!(
        error.code(),
        ClientErrorCode::Server(ErrorCode::InvalidImage)
    );

    // A 3000 × 2000 photo: the preview is at most 1024 px with the same aspect.
    let photo = jpeg(&image::RgbImage::from_fn(3000, 2000, |x, _| {
        image::Rgb([(x / 12) as u8, 90, 160])
    }));
    let source = photos.prepare(&policy, photo).await.expect("prepare");
    assert_eq!(
        (source.width, source.height, source.format.as_str()),
        (3000, 2000, "image/jpeg")
    );
    let encoded = source
        .preview
        .strip_prefix("data:image/jpeg;base64,")
        .expect("a JPEG data URL");
    let preview = image::load_from_memory(
        &base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap(),
    )
    .unwrap();
    assert_eq!((preview.width(), preview.height()), (1024, 683));

    // A crop outside the photo is refused; a good one is uploaded and shown.
    let outside = AvatarCrop {
        x: 2500,
        y: 0,
        size: 600,
        quarter_turns: 0,
    };
    let error = photos
        .render(&source.source_id, outside)
        .await
        .expect_err("outside");
    assert_eq!(
        error.code(),
        ClientErrorCode::Server(ErrorCode::InvalidCrop)
    );
    let crop = AvatarCrop {
        x: 1000,
        y: 500,
        size: 1000,
        quarter_turns: 1,
    };
    let jpeg = photos
        .render(&source.source_id, crop)
        .await
        .expect("rendered");
    let saved = session.upload_avatar(jpeg).await.expect("save");
    photos.saved(&source.source_id);
    let url = saved.profile.avatar_url.clone().expect("an avatar_url");
    assert_ne!(saved.etag, "");
    let shown = photos
        .image(&session, &url)
        .await
        .expect("the stored photo");
    assert!(shown.starts_with("data:image/jpeg;base64,"));
    // Saved once: the same source cannot be saved again.
    let error = photos
        .render(&source.source_id, crop)
        .await
        .expect_err("gone");
    assert_eq!(
        error.code(),
        ClientErrorCode::Server(ErrorCode::InvalidImage)
    );

    // Only photo paths are fetched with the token.
    for elsewhere in [
        "https://example.com/x.jpg",
        "/api/v1/me",
        "/api/v1/avatars/../me",
    ] {
        assert!(
            photos.image(&session, elsewhere).await.is_err(),
            "{elsewhere}"
        );
    }
    let removed = session.remove_avatar().await.expect("remove");
    assert_eq!(removed.profile.avatar_url, None);
}

#[tokio::test]
async fn an_agent_asks_to_join_a_team_and_its_lead_approves() {
    let fixture = Fixture::start().await;
    let (admin_email, _, admin_password, _) = agent_desk_server::demo::DEMO_ACCOUNTS[1];
    let team_id = agent_desk_server::teams::create(
        &fixture.db,
        "Quality",
        &[admin_email.to_owned()],
        &[],
        chrono::Utc::now(),
    )
    .await
    .expect("create a team");

    let agent = fixture.session();
    agent
        .sign_in(&fixture.url, EMAIL, PASSWORD)
        .await
        .expect("sign in");
    let api = agent.api().expect("signed in");
    let quality = |teams: Vec<agent_desk_core::teams::Team>| {
        teams
            .into_iter()
            .find(|team| team.id == team_id)
            .expect("the new team is listed")
    };
    let team = quality(api.teams().await.expect("teams"));
    assert_eq!(team.membership, Membership::None);
    assert_eq!(team.leads, ["Alex Admin"]);

    let request = api
        .request_to_join(&team_id, Some("I know invoices".into()))
        .await
        .expect("ask to join");
    assert_eq!(request.state, JoinRequestState::Open);
    assert_eq!(
        quality(api.teams().await.expect("teams")).membership,
        Membership::Requested
    );
    let twice = api
        .request_to_join(&team_id, None)
        .await
        .expect_err("one open request");
    assert!(
        matches!(&twice, ClientError::Server { status: 409, body } if body.code == ErrorCode::AlreadyRequested),
        "{twice:?}"
    );
    // An id is one path segment: it cannot reach another route.
    let sneaky = api
        .request_to_join("../me", None)
        .await
        .expect_err("no such team");
    assert!(
        matches!(&sneaky, ClientError::Server { status: 404, .. }),
        "{sneaky:?}"
    );
    let refused = api
        .decide_join_request(
            &request.id,
            &JoinDecision {
                approve: true,
                note: None,
            },
        )
        .await
        .expect_err("a requester cannot decide");
    assert!(
        matches!(&refused, ClientError::Server { status: 403, .. }),
        "{refused:?}"
    );

    let lead = AgentSession::new(
        tempfile::tempdir().expect("config dir").path(),
        Arc::new(MemoryTokenStore::default()),
    );
    lead.sign_in(&fixture.url, admin_email, admin_password)
        .await
        .expect("the lead signs in");
    let lead_api = lead.api().expect("signed in");
    let pending = lead_api.join_requests().await.expect("requests");
    let to_quality: Vec<_> = pending
        .to_decide
        .iter()
        .filter(|waiting| waiting.team_id == team_id)
        .collect();
    assert_eq!(to_quality.len(), 1);
    assert_eq!(to_quality[0].note.as_deref(), Some("I know invoices"));
    let decided = lead_api
        .decide_join_request(
            &request.id,
            &JoinDecision {
                approve: true,
                note: Some("Welcome".into()),
            },
        )
        .await
        .expect("approve");
    assert_eq!(decided.state, JoinRequestState::Approved);

    assert_eq!(
        quality(api.teams().await.expect("teams")).membership,
        Membership::Member
    );
    let mine = api.join_requests().await.expect("requests").mine;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].decision_note.as_deref(), Some("Welcome"));
    assert_eq!(mine[0].decided_by.as_deref(), Some("Alex Admin"));
}
