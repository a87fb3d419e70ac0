//! The real server for the outbox's tests and bench: in this process, on SQLite in a
//! folder of its own, with the demo's accounts; stopped and started again on the same port
//! and database to be away and back.
#![allow(dead_code)]

use agent_desk_client::ApiClient;
use agent_desk_core::customers::NewCustomer;
use agent_desk_server::{AppState, ServerConfig};
use tokio::sync::oneshot;

pub const EMAIL: &str = "demo@agentdesk.example";
pub const PASSWORD: &str = "Demo-agent-2026!";

pub struct Server {
    data: tempfile::TempDir,
    address: std::net::SocketAddr,
    stop: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

impl Server {
    pub async fn start() -> Self {
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
        let address = listener.local_addr().expect("address");
        let mut server = Self {
            data,
            address,
            stop: None,
        };
        server.serve(listener, state);
        server
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener, state: AppState) {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = agent_desk_server::serve(listener, state, async {
                let _ = stopped.await;
            })
            .await;
        });
        self.stop = Some((stop, task));
    }

    /// Stops it; the connections open to it are cut, as when the network drops.
    pub async fn stop(&mut self) {
        if let Some((stop, task)) = self.stop.take() {
            let _ = stop.send(());
            task.abort();
            let _ = task.await;
        }
    }

    pub async fn restart(&mut self) {
        let state = AppState::open(ServerConfig::new(self.data.path()))
            .await
            .expect("open server again");
        let listener = tokio::net::TcpListener::bind(self.address)
            .await
            .expect("the same port");
        self.serve(listener, state);
    }
}

/// The demo agent signed in at `url`.
pub async fn signed_in(url: &str) -> ApiClient {
    let client = ApiClient::new(url).expect("client");
    let token = client.login(EMAIL, PASSWORD).await.expect("sign in");
    client.with_token(token)
}

/// A new customer's id.
pub async fn customer(api: &ApiClient, name: &str, email: &str) -> String {
    let person = api
        .create_user(&NewCustomer {
            name: name.into(),
            emails: vec![email.into()],
            ..NewCustomer::default()
        })
        .await
        .expect("customer");
    serde_json::to_value(&person).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned()
}
