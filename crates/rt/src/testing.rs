//! A private Request Tracker for tests, from Debian's packages (`request-tracker5
//! rt5-db-sqlite rt5-standalone rt5-clients`): a copy of the packaged SQLite database in
//! a folder of its own, RT's web server on a free port, and its mail gateway for a
//! requestor's reply. The system's database and configuration are never read or written:
//! both `RT_SITE_CONFIG` and `RT_SITE_CONFIG_DIR` point into the folder.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{Credentials, RtClient};

/// The database the package sets up, copied and never opened.
const PACKAGED_DATABASE: &str = "/var/lib/dbconfig-common/sqlite3/request-tracker5/rtdb";
const RT_SERVER: &str = "/usr/share/request-tracker5/libexec/rt-server";
/// What a private RT calls itself in mail subjects: `[agentdesk.test #42]`.
pub const RT_NAME: &str = "agentdesk.test";
pub const ROOT: &str = "root";
pub const ROOT_PASSWORD: &str = "password";

/// Rights as a contact centre's RT has them: anyone may write in and reply on General,
/// and agents (privileged users) may own, take, give and work the tickets of General and
/// Support. On Billing, agents may own and see tickets but neither give anyone's away
/// nor read comments; Restricted is root's alone.
const RIGHTS: &str = r#"@Queues = (
    { Name => 'Support', Description => 'Worked as General is' },
    { Name => 'Billing', Description => 'Agents own tickets; nobody gives them away' },
    { Name => 'Restricted', Description => 'Seen by root only' },
);
@ACL = (
    { GroupDomain => 'SystemInternal', GroupType => 'Everyone', Right => 'CreateTicket', Queue => 'General' },
    { GroupDomain => 'SystemInternal', GroupType => 'Everyone', Right => 'ReplyToTicket', Queue => 'General' },
    ( map { my $queue = $_; map( +{ GroupDomain => 'SystemInternal', GroupType => 'Privileged', Right => $_, Queue => $queue },
         qw(SeeQueue ShowTicket CreateTicket OwnTicket TakeTicket StealTicket ReplyToTicket
            CommentOnTicket ShowTicketComments ModifyTicket ReassignTicket Watch WatchAsAdminCc) ) }
        qw(General Support) ),
    map( +{ GroupDomain => 'SystemInternal', GroupType => 'Privileged', Right => $_, Queue => 'Billing' },
         qw(SeeQueue ShowTicket OwnTicket CommentOnTicket) ),
);
1;
"#;

pub struct PrivateRt {
    folder: tempfile::TempDir,
    port: u16,
    server: Option<Child>,
}

impl PrivateRt {
    /// The RT the tests of a run share (RT takes seconds to start): started by the first
    /// test that asks, stopped when the last lets go. A test that stops RT starts its own.
    pub fn shared() -> std::io::Result<Arc<Self>> {
        static SHARED: Mutex<Weak<PrivateRt>> = Mutex::new(Weak::new());
        let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(rt) = shared.upgrade() {
            return Ok(rt);
        }
        let rt = Arc::new(Self::start()?);
        *shared = Arc::downgrade(&rt);
        Ok(rt)
    }

    /// Starts one, answering REST 2.0 (a few seconds; up to two minutes on a busy
    /// machine). Tried three times, each on a port of its own: the free port picked can be
    /// taken by another process before RT binds it.
    pub fn start() -> std::io::Result<Self> {
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Self::start_once() {
                Ok(rt) => return Ok(rt),
                Err(error) => failures.push(error.to_string()),
            }
        }
        Err(std::io::Error::other(format!(
            "a private RT did not start: {}",
            failures.join(" | ")
        )))
    }

    fn start_once() -> std::io::Result<Self> {
        let folder = tempfile::Builder::new().prefix("private-rt").tempdir()?;
        let database = folder.path().join("rtdb");
        std::fs::copy(PACKAGED_DATABASE, &database).map_err(|error| {
            std::io::Error::other(format!(
                "{PACKAGED_DATABASE} cannot be copied ({error}): install request-tracker5 rt5-db-sqlite rt5-standalone rt5-clients (make deps)"
            ))
        })?;
        let port = free_port()?;
        let config_dir = folder.path().join("etc");
        std::fs::create_dir_all(&config_dir)?;
        // RT's notifications go to a file here, not to the machine's mail system.
        let sendmail = folder.path().join("sendmail");
        std::fs::write(
            &sendmail,
            format!(
                "#!/bin/sh\ncat >> '{}'\n",
                folder.path().join("outgoing.mbox").display()
            ),
        )?;
        make_executable(&sendmail)?;
        std::fs::write(
            config_dir.join("RT_SiteConfig.pm"),
            format!(
                "Set($DatabaseType, 'SQLite');\n\
                 Set($DatabaseName, '{database}');\n\
                 Set($WebDomain, '127.0.0.1');\n\
                 Set($WebPort, {port});\n\
                 Set($WebPath, '');\n\
                 Set($rtname, '{RT_NAME}');\n\
                 Set($Timezone, 'UTC');\n\
                 Set($LogToSTDERR, 'warning');\n\
                 Set($LogToSyslog, undef);\n\
                 Set($MailCommand, 'sendmailpipe');\n\
                 Set($SendmailPath, '{sendmail}');\n\
                 1;\n",
                database = database.display(),
                sendmail = sendmail.display(),
            ),
        )?;
        let mut rt = Self {
            folder,
            port,
            server: None,
        };
        let rights = rt.folder.path().join("rights.pl");
        std::fs::write(&rights, RIGHTS)?;
        let status = rt
            .rt_command("rt-setup-database-5")
            .args(["--action", "insert", "--skip-create", "--datafile"])
            .arg(&rights)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if !status.success() {
            return Err(std::io::Error::other("RT's rights could not be set up"));
        }
        rt.start_server()?;
        Ok(rt)
    }

    fn rt_command(&self, program: &str) -> Command {
        let config_dir = self.folder.path().join("etc");
        let mut command = Command::new(program);
        command
            .env("RT_SITE_CONFIG", config_dir.join("RT_SiteConfig.pm"))
            .env("RT_SITE_CONFIG_DIR", &config_dir);
        command
    }

    /// Starts RT's web server (again, after [`stop`](Self::stop)) and waits for REST 2.0.
    pub fn start_server(&mut self) -> std::io::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.folder.path().join("rt-server.log"))?;
        use std::os::unix::process::CommandExt;
        let child = self
            .rt_command(RT_SERVER)
            .args(["--port", &self.port.to_string()])
            // A group of its own, so stopping it stops its workers too.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.server = Some(child);
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut ended = false;
        while Instant::now() < deadline && !ended {
            if self.answers() {
                return Ok(());
            }
            ended = self
                .server
                .as_mut()
                .is_some_and(|server| matches!(server.try_wait(), Ok(Some(_))));
            std::thread::sleep(Duration::from_millis(200));
        }
        let log =
            std::fs::read_to_string(self.folder.path().join("rt-server.log")).unwrap_or_default();
        let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join(" / ");
        self.stop();
        Err(std::io::Error::other(format!(
            "RT on port {} {}: {tail}",
            self.port,
            if ended {
                "ended"
            } else {
                "did not answer within two minutes"
            }
        )))
    }

    /// Stops RT's web server: its address refuses connections until started again.
    pub fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            // The whole group: rt-server and its prefork workers.
            let group = format!("-{}", server.id());
            let _ = Command::new("kill")
                .args(["-KILL", "--", &group])
                .stderr(Stdio::null())
                .status();
            let _ = server.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline
            && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
        {
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        use std::io::{Read, Write};
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let request = format!(
            "GET /REST/2.0/rt HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Basic {}\r\n\r\n",
            "cm9vdDpwYXNzd29yZA==" // root:password
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).is_ok() && head.ends_with(b"200")
    }

    /// RT's address, as an administrator gives it to Agent Desk.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn folder(&self) -> &Path {
        self.folder.path()
    }

    /// A client signed in as root.
    pub fn client(&self) -> RtClient {
        RtClient::new(
            &self.url(),
            Credentials::Password {
                user: ROOT.into(),
                password: ROOT_PASSWORD.into(),
            },
        )
        .expect("a private RT's address is valid")
    }

    /// Calls REST 2.0 as root, as a person working in RT would change it.
    pub async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let http = reqwest::Client::new();
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let response = http
            .request(method, format!("{}REST/2.0/{path}", self.url()))
            .basic_auth(ROOT, Some(ROOT_PASSWORD))
            .json(&body)
            .send()
            .await
            .expect("RT answers");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "RT answered {status} to {path}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }

    /// Waits, at most `within`, until RT names `owner` as the ticket's owner; answers
    /// the owner it named last when it does not.
    pub async fn wait_for_owner(
        &self,
        ticket: i64,
        owner: &str,
        within: Duration,
    ) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            let now = self.owner(ticket).await?;
            if now == owner {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("ticket {ticket} is still {now}'s"));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// The user name of the ticket's owner, as root sees it.
    pub async fn owner(&self, ticket: i64) -> Result<String, String> {
        let tickets = self
            .client()
            .tickets(&[ticket])
            .await
            .map_err(|error| error.to_string())?;
        tickets
            .into_iter()
            .next()
            .map(|read| read.owner.name)
            .ok_or_else(|| format!("no ticket {ticket}"))
    }

    /// Who commented on the ticket, once someone has (or `within` has passed).
    pub async fn commenters_after_a_comment(&self, ticket: i64, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        loop {
            let commenters = self.commenters(ticket).await;
            if !commenters.is_empty() || Instant::now() > deadline {
                return commenters;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Who commented on the ticket, oldest first, by RT's user name.
    pub async fn commenters(&self, ticket: i64) -> Vec<String> {
        let history = reqwest::Client::new()
            .get(format!("{}REST/2.0/ticket/{ticket}/history", self.url()))
            .query(&[
                ("per_page", "100"),
                ("fields", "Type,Creator"),
                ("fields[Creator]", "Name"),
            ])
            .basic_auth(ROOT, Some(ROOT_PASSWORD))
            .send()
            .await
            .expect("RT answers");
        let history: Value = history.json().await.expect("RT's JSON");
        history["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|change| change["Type"] == "Comment")
            .filter_map(|change| change["Creator"]["Name"].as_str().map(str::to_owned))
            .collect()
    }

    /// An agent in RT: a privileged user who may own tickets.
    pub async fn add_agent(&self, name: &str, email: &str, real_name: &str) {
        self.call(
            "POST",
            "user",
            json!({"Name": name, "EmailAddress": email, "RealName": real_name, "Privileged": 1}),
        )
        .await;
    }

    /// The user a connector signs in as: a privileged user of its own, so its changes
    /// are told apart from people's. Made the first time; answers its credentials.
    pub async fn add_connector_user(&self) -> Credentials {
        let (user, password) = ("agent-desk", "Connector-password-1");
        // Tests sharing an RT may ask at once: the user is there after either made it.
        let _ = reqwest::Client::new()
            .post(format!("{}REST/2.0/user", self.url()))
            .basic_auth(ROOT, Some(ROOT_PASSWORD))
            .json(
                &json!({"Name": user, "EmailAddress": "agent-desk@agentdesk.test",
                          "RealName": "Agent Desk", "Privileged": 1, "Password": password}),
            )
            .send()
            .await;
        let made = self.client().user_named(user).await;
        assert!(
            made.as_ref().is_ok_and(|made| made.name == user),
            "the connector's user: {made:?}"
        );
        Credentials::Password {
            user: user.into(),
            password: password.into(),
        }
    }

    /// A ticket in General, as an agent creates it; answers its id.
    pub async fn create_ticket(&self, fields: Value) -> i64 {
        let mut body = json!({"Queue": "General", "ContentType": "text/plain", "Content": "Created in a test."});
        if let (Some(body), Some(fields)) = (body.as_object_mut(), fields.as_object()) {
            body.extend(fields.clone());
        }
        let created = self.call("POST", "ticket", body).await;
        created["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .or_else(|| created["id"].as_i64())
            .expect("RT answers the new ticket's id")
    }

    /// A requestor's reply by mail, through RT's mail gateway, as a customer makes it.
    pub fn mail_reply(&self, from: &str, ticket: i64, subject: &str, body: &str) {
        use std::io::Write;
        let mail = format!(
            "From: {from}\nTo: support@{RT_NAME}\nSubject: [{RT_NAME} #{ticket}] Re: {subject}\n\
             Message-ID: <reply-{ticket}-{nanos}@customer.example>\nContent-Type: text/plain; charset=utf-8\n\n{body}\n",
            nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        );
        let mut gateway = self
            .rt_command("rt-mailgate")
            .args([
                "--url",
                &self.url(),
                "--queue",
                "General",
                "--action",
                "correspond",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rt-mailgate (rt5-clients) runs");
        if let Some(mut input) = gateway.stdin.take() {
            input
                .write_all(mail.as_bytes())
                .expect("the mail is written");
        }
        assert!(
            gateway.wait().expect("rt-mailgate ends").success(),
            "rt-mailgate refused the mail"
        );
    }
}

impl Drop for PrivateRt {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

fn make_executable(path: &PathBuf) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}
