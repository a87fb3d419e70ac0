//! The calls the connector makes. Every answer is checked to be REST 2.0's JSON before it
//! is read: a login page or a proxy's error page is an error, never an empty result.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use crate::feed::NOBODY;
use crate::RtError;

/// How the connector signs in: a user's password, or an auth token (RT 5 has them built
/// in: Preferences → Auth Tokens).
#[derive(Clone)]
pub enum Credentials {
    Password { user: String, password: String },
    Token(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Password { user, .. } => write!(f, "Password {{ user: {user:?} }}"),
            Self::Token(_) => f.write_str("Token"),
        }
    }
}

/// Transactions a page: RT's own limit.
pub const PAGE: u32 = 100;

/// TransactionSQL for changes to tickets, without the copies of the mail RT sent.
const TICKET_CHANGES: &str =
    "ObjectType = 'RT::Ticket' AND Type != 'EmailRecord' AND Type != 'CommentEmailRecord'";

/// A page of the change feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Oldest first.
    pub transactions: Vec<Transaction>,
    /// The ids of changes RT sent in a form that could not be read: passed over, and
    /// counted, rather than read again forever.
    pub unreadable: Vec<i64>,
    /// A full page: RT may have more at once.
    pub more: bool,
    /// Set when RT answered an empty page although changes exist past it: every change
    /// up to this id is one the user may not see (a comment without
    /// `ShowTicketComments`, say, which RT leaves out after it paged).
    pub passed_over_to: Option<i64>,
}

impl Changes {
    /// The ids on the page, read or not.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.transactions
            .iter()
            .map(|change| change.id)
            .chain(self.unreadable.iter().copied())
    }

    /// Where the next page starts from: the newest id on this one, or past what RT left out.
    pub fn newest(&self) -> Option<i64> {
        self.ids().chain(self.passed_over_to).max()
    }
}

/// A change RT recorded on a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub id: i64,
    pub ticket_id: i64,
    /// `Create`, `Correspond`, `Comment`, `Set`, `Status`, `AddWatcher`…
    pub kind: String,
    /// For `Set` and watcher changes: `Owner`, `Priority`, `Due`, `Cc`…
    pub field: String,
    pub old_value: String,
    pub new_value: String,
    pub creator: UserRef,
    pub created: DateTime<Utc>,
}

/// A user as a transaction or a ticket names them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserRef {
    pub id: i64,
    pub name: String,
    /// Empty for RT's own users (Nobody, RT_System).
    pub email: String,
    pub real_name: String,
    pub organization: String,
}

/// A ticket as the connector needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub priority: i64,
    /// `None` when not set (RT says 1970-01-01).
    pub due: Option<DateTime<Utc>>,
    pub queue: String,
    /// Nobody's has no email.
    pub owner: UserRef,
    pub requestors: Vec<UserRef>,
    pub cc: Vec<UserRef>,
    pub admin_cc: Vec<UserRef>,
}

#[derive(Clone)]
pub struct RtClient {
    /// RT's own address, ending in `/`.
    base: Url,
    credentials: Credentials,
    http: reqwest::Client,
    /// Items a page (RT's limit, less in tests of paging).
    page_size: u32,
}

// Not `Privileged`: RT 5.0 expands it empty for every user.
/// TicketSQL for "still being worked on": the initial and active statuses of each
/// ticket's lifecycle (new, open and stalled by default), custom lifecycles included.
const OPEN: &str = "AND Status = '__Active__'";

const USER_FIELDS: &str = "id,Name,EmailAddress,RealName,Organization";

impl RtClient {
    /// `base` is RT's web address (`https://rt.example.com/` or with RT's `$WebPath`).
    pub fn new(base: &str, credentials: Credentials) -> Result<Self, RtError> {
        let mut base = Url::parse(base.trim()).map_err(|error| RtError::Unreachable {
            url: base.to_owned(),
            reason: format!("not an address: {error}"),
        })?;
        if !base.username().is_empty() || base.password().is_some() {
            return Err(RtError::Unreachable {
                url: format!("{}://{}", base.scheme(), base.host_str().unwrap_or_default()),
                reason: "the address holds credentials: give them in AGENT_DESK_RT_USER and AGENT_DESK_RT_PASSWORD instead".into(),
            });
        }
        if !matches!(base.scheme(), "http" | "https") {
            return Err(RtError::Unreachable {
                url: base.to_string(),
                reason: "only http:// and https:// addresses are followed".into(),
            });
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            // A redirect is RT's web interface sending to its login page: an error here.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| RtError::Unreachable {
                url: base.to_string(),
                reason: error.to_string(),
            })?;
        Ok(Self {
            base,
            credentials,
            http,
            page_size: PAGE,
        })
    }

    /// Reads pages of `size` items (at most RT's 100).
    #[must_use]
    pub fn with_page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, PAGE);
        self
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The ticket's page in RT's web interface, where "Open" leads.
    pub fn ticket_url(&self, id: i64) -> String {
        format!("{}Ticket/Display.html?id={id}", self.base)
    }

    fn request(&self, method: Method, path: &str) -> Result<RequestBuilder, RtError> {
        let url = self
            .base
            .join(&format!("REST/2.0/{path}"))
            .map_err(|error| RtError::Malformed(error.to_string()))?;
        let request = self.http.request(method, url);
        Ok(match &self.credentials {
            Credentials::Password { user, password } => request.basic_auth(user, Some(password)),
            Credentials::Token(token) => {
                request.header(reqwest::header::AUTHORIZATION, format!("token {token}"))
            }
        })
    }

    async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, RtError> {
        let response = request.send().await.map_err(|error| RtError::Unreachable {
            url: self.base.to_string(),
            reason: error.to_string(),
        })?;
        let status = response.status();
        let url = response.url().to_string();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if !content_type.starts_with("application/json") {
            if status == StatusCode::UNAUTHORIZED {
                return Err(RtError::Unauthorized);
            }
            return Err(RtError::NotRestApi {
                url,
                status: status.as_u16(),
                content_type: if content_type.is_empty() {
                    "no content type".into()
                } else {
                    content_type
                },
            });
        }
        let body = read_body(response).await?;
        if status == StatusCode::UNAUTHORIZED {
            return Err(RtError::Unauthorized);
        }
        if !status.is_success() {
            let message = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|value| value["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            return Err(RtError::Refused {
                status: status.as_u16(),
                message,
            });
        }
        serde_json::from_slice(&body).map_err(|error| RtError::Malformed(error.to_string()))
    }

    /// RT's version: also proves the address and the credentials.
    pub async fn version(&self) -> Result<String, RtError> {
        #[derive(Deserialize)]
        struct About {
            #[serde(rename = "Version")]
            version: String,
        }
        let about: About = self.send(self.request(Method::GET, "rt")?).await?;
        Ok(about.version)
    }

    /// The newest transaction id, where a connector starting afresh begins (what came
    /// before it started is not news).
    pub async fn newest_transaction(&self) -> Result<i64, RtError> {
        // A page, not one: RT leaves out comments the user may not see after it paged,
        // so the newest alone may come back as nothing.
        let page = self
            .transaction_page(TICKET_CHANGES, "DESC", self.page_size)
            .await?;
        Ok(page.changes.newest().unwrap_or(0))
    }

    /// Ticket transactions after `after`, oldest first, a page at a time; notification
    /// copies (`EmailRecord`, `CommentEmailRecord`) left out. With `look_past`, an empty
    /// page is looked past (RT gives a user without SuperUser no count to tell an empty
    /// page from one it emptied): the changes RT leaves out after it paged are comments
    /// and custom field changes, so the first change of another kind after `after` shows
    /// how far they reach, a page at most.
    pub async fn transactions_after(
        &self,
        after: i64,
        look_past: bool,
    ) -> Result<Changes, RtError> {
        let mut page = self
            .transaction_page(
                &format!("id > {after} AND {TICKET_CHANGES}"),
                "ASC",
                self.page_size,
            )
            .await?;
        if look_past && page.changes.newest().is_none() && page.total.is_none() {
            let next = self
                .transaction_page(
                    &format!(
                        "id > {after} AND {TICKET_CHANGES} AND Type != 'Comment' AND Type != 'CustomField'"
                    ),
                    "ASC",
                    1,
                )
                .await?;
            // Every change up to a page on was on the empty page (no more fit), and every
            // one before `next` is a comment or a custom field change: all left out.
            if let Some(next) = next.changes.newest() {
                let to = (next - 1).min(after + i64::from(self.page_size));
                if to > after {
                    page.changes.passed_over_to = Some(to);
                    page.changes.more = true;
                }
            }
        }
        Ok(page.changes)
    }

    /// Ticket transactions by id (those of them RT has and shows), oldest first: for ids
    /// skipped over earlier, which a database committing out of order may show late.
    pub async fn transactions_by_id(&self, ids: &[i64]) -> Result<Changes, RtError> {
        if ids.is_empty() {
            return Ok(Changes::default());
        }
        let any = ids
            .iter()
            .map(|id| format!("id = {id}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        self.transaction_page(&format!("({any}) AND {TICKET_CHANGES}"), "ASC", PAGE)
            .await
            .map(|page| page.changes)
    }

    /// A page of transactions by TransactionSQL. Not RT's JSON search: with TicketSQL's
    /// `ObjectType = 'RT::Ticket'`, RT checks the right to see each ticket in the
    /// database, so a page of tickets the user may not see is not a page of nothing.
    async fn transaction_page(
        &self,
        query: &str,
        order: &str,
        per_page: u32,
    ) -> Result<CountedPage, RtError> {
        let request = self.request(Method::GET, "transactions")?.query(&[
            ("query", query),
            ("page", "1"),
            ("per_page", &per_page.to_string()),
            ("orderby", "id"),
            ("order", order),
            (
                "fields",
                "Type,ObjectType,ObjectId,Field,OldValue,NewValue,Creator,Created",
            ),
            ("fields[Creator]", USER_FIELDS),
        ]);
        let page: Page<Value> = self.send(request).await?;
        let more = page.items.len() >= per_page as usize;
        let (transactions, unreadable) = read_items(page.items, RawTransaction::read);
        Ok(CountedPage {
            changes: Changes {
                transactions,
                unreadable,
                more,
                passed_over_to: None,
            },
            total: page.total,
        })
    }

    /// Tickets by id, with their people expanded; a ticket RT no longer shows is absent.
    pub async fn tickets(&self, ids: &[i64]) -> Result<Vec<Ticket>, RtError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = ids
            .iter()
            .map(|id| format!("id = {id}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        self.ticket_search(&query).await
    }

    /// Open tickets with an owner, due from `overdue_minutes` ago to `minutes` from now.
    pub async fn tickets_due_within(
        &self,
        overdue_minutes: u32,
        minutes: u32,
    ) -> Result<Vec<Ticket>, RtError> {
        // Relative to RT's "now": RT reads a written date in its own time zone.
        self.ticket_search(&format!(
            "Due > 'now - {overdue_minutes} minutes' AND Due <= 'now + {minutes} minutes' \
             AND Owner != 'Nobody' {OPEN}"
        ))
        .await
    }

    /// Open tickets (not resolved, rejected or deleted) owned by the user named `owner`.
    pub async fn open_tickets_of(&self, owner: &str) -> Result<Vec<Ticket>, RtError> {
        let owner = owner.replace('\\', "\\\\").replace('\'', "\\'");
        self.ticket_search(&format!("Owner = '{owner}' {OPEN}"))
            .await
    }

    async fn ticket_search(&self, query: &str) -> Result<Vec<Ticket>, RtError> {
        let mut tickets = Vec::new();
        let mut page = 1;
        loop {
            let mut request = self.request(Method::GET, "tickets")?.query(&[
                ("query", query),
                ("page", &page.to_string()),
                ("per_page", &self.page_size.to_string()),
                ("orderby", "id"),
                (
                    "fields",
                    "Subject,Status,Priority,Due,Queue,Owner,Requestor,Cc,AdminCc",
                ),
                ("fields[Queue]", "Name"),
            ]);
            for role in ["Owner", "Requestor", "Cc", "AdminCc"] {
                request = request.query(&[(format!("fields[{role}]"), USER_FIELDS)]);
            }
            let found: Page<Value> = self.send(request).await?;
            let last = found.items.len() < self.page_size as usize;
            // One ticket RT sends unreadably is left out (its changes are counted as not
            // told), not a failure of every poll to come.
            tickets.extend(read_items(found.items, RawTicket::read).0);
            if last {
                return Ok(tickets);
            }
            page += 1;
        }
    }

    /// Gives a ticket back to its queue (owner Nobody); a ticket already there is too.
    pub async fn release(&self, ticket: i64) -> Result<(), RtError> {
        let messages: Vec<String> = self
            .send(
                self.request(Method::PUT, &format!("ticket/{ticket}"))?
                    .json(&json!({"Owner": NOBODY})),
            )
            .await?;
        // RT answers 200 whether or not it made the change, with its reasons in the
        // language of the user: the owner it has now is what counts.
        let owner = self
            .tickets(&[ticket])
            .await?
            .into_iter()
            .next()
            .map(|read| read.owner.name);
        if owner.as_deref() == Some(NOBODY) {
            Ok(())
        } else {
            Err(RtError::NotChanged(messages.join("; ")))
        }
    }

    /// Adds a comment (seen by staff only) to a ticket.
    pub async fn comment(&self, ticket: i64, text: &str) -> Result<(), RtError> {
        let _: Vec<String> = self
            .send(
                self.request(Method::POST, &format!("ticket/{ticket}/comment"))?
                    .json(&json!({"Content": text, "ContentType": "text/plain"})),
            )
            .await?;
        Ok(())
    }

    /// The RT user with this email, if there is one.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRef>, RtError> {
        let search = json!([{"field": "EmailAddress", "operator": "=", "value": email}]);
        let found: Page<RawUser> = self
            .send(
                self.request(Method::POST, &format!("users?fields={USER_FIELDS}"))?
                    .json(&search),
            )
            .await?;
        found
            .items
            .into_iter()
            .next()
            .map(RawUser::read)
            .transpose()
    }

    /// A user by RT's name (RT compares names ignoring case).
    pub async fn user_named(&self, name: &str) -> Result<UserRef, RtError> {
        let path: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
        let raw: RawUser = self
            .send(self.request(Method::GET, &format!("user/{path}"))?)
            .await?;
        raw.read()
    }

    /// A user by RT's id: for an owner change, which names ids.
    pub async fn user(&self, id: i64) -> Result<UserRef, RtError> {
        let raw: RawUser = self
            .send(self.request(Method::GET, &format!("user/{id}"))?)
            .await?;
        raw.read()
    }
}

/// The body, read within the client's time limit.
async fn read_body(response: Response) -> Result<Vec<u8>, RtError> {
    response
        .bytes()
        .await
        .map(|bytes| bytes.to_vec())
        .map_err(|error| RtError::Malformed(format!("the answer broke off: {error}")))
}

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
    /// Given to SuperUsers only: a count before RT leaves out what the user may not see.
    #[serde(default)]
    total: Option<i64>,
}

/// A page of changes with RT's count, when it gives one.
struct CountedPage {
    changes: Changes,
    total: Option<i64>,
}

/// Reads each item of a page, passing over (and naming by id) the ones that cannot be
/// read: one odd item is not a failure of every poll to come.
fn read_items<Raw: DeserializeOwned, Read>(
    items: Vec<Value>,
    read: fn(Raw) -> Result<Read, RtError>,
) -> (Vec<Read>, Vec<i64>) {
    let mut done = Vec::new();
    let mut unreadable = Vec::new();
    for item in items {
        let id = number(&item["id"], "id").ok();
        match serde_json::from_value::<Raw>(item)
            .map_err(|error| RtError::Malformed(error.to_string()))
            .and_then(read)
        {
            Ok(item) => done.push(item),
            Err(error) => {
                tracing::warn!(%error, id, "an item Request Tracker sent could not be read");
                unreadable.extend(id);
            }
        }
    }
    (done, unreadable)
}

/// RT sends numbers as strings in collections and as numbers elsewhere.
fn number(value: &Value, what: &str) -> Result<i64, RtError> {
    match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) if text.is_empty() => Some(0),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| RtError::Malformed(format!("{what} is {value}, not a number")))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// RT's dates: ISO in UTC, 1970-01-01 for "not set".
fn date(value: &Value) -> Option<DateTime<Utc>> {
    let parsed = DateTime::parse_from_rfc3339(value.as_str()?).ok()?;
    (parsed.timestamp() > 0).then(|| parsed.with_timezone(&Utc))
}

#[derive(Deserialize)]
struct RawUser {
    // Absent from the summary RT gives a user without AdminUsers.
    #[serde(default)]
    id: Value,
    #[serde(rename = "Name", default)]
    name: Value,
    #[serde(rename = "EmailAddress", default)]
    email: Value,
    #[serde(rename = "RealName", default)]
    real_name: Value,
    #[serde(rename = "Organization", default)]
    organization: Value,
}

impl RawUser {
    fn read(self) -> Result<UserRef, RtError> {
        // Expanded, `id` is the number; otherwise it is the user's name.
        let id = number(&self.id, "user id").unwrap_or_default();
        let name = match (text(&self.name), &self.id) {
            (name, _) if !name.is_empty() => name,
            (_, Value::String(name)) => name.clone(),
            _ => String::new(),
        };
        Ok(UserRef {
            id,
            name,
            email: text(&self.email).trim().to_lowercase(),
            real_name: text(&self.real_name).trim().to_owned(),
            organization: text(&self.organization).trim().to_owned(),
        })
    }
}

#[derive(Deserialize)]
struct RawTransaction {
    id: Value,
    #[serde(rename = "Type", default)]
    kind: Value,
    #[serde(rename = "ObjectId", default)]
    object_id: Value,
    #[serde(rename = "Field", default)]
    field: Value,
    #[serde(rename = "OldValue", default)]
    old_value: Value,
    #[serde(rename = "NewValue", default)]
    new_value: Value,
    #[serde(rename = "Creator")]
    creator: Option<RawUser>,
    #[serde(rename = "Created", default)]
    created: Value,
}

impl RawTransaction {
    fn read(self) -> Result<Transaction, RtError> {
        Ok(Transaction {
            id: number(&self.id, "transaction id")?,
            ticket_id: number(&self.object_id, "ticket id")?,
            kind: text(&self.kind),
            field: text(&self.field),
            old_value: text(&self.old_value),
            new_value: text(&self.new_value),
            creator: match self.creator {
                Some(creator) => creator.read()?,
                None => UserRef::default(),
            },
            created: date(&self.created).unwrap_or_else(Utc::now),
        })
    }
}

#[derive(Deserialize)]
struct RawTicket {
    id: Value,
    #[serde(rename = "Subject", default)]
    subject: Value,
    #[serde(rename = "Status", default)]
    status: Value,
    #[serde(rename = "Priority", default)]
    priority: Value,
    #[serde(rename = "Due", default)]
    due: Value,
    #[serde(rename = "Queue", default)]
    queue: Value,
    #[serde(rename = "Owner")]
    owner: Option<RawUser>,
    #[serde(rename = "Requestor", default)]
    requestors: Vec<RawUser>,
    #[serde(rename = "Cc", default)]
    cc: Vec<RawUser>,
    #[serde(rename = "AdminCc", default)]
    admin_cc: Vec<RawUser>,
}

impl RawTicket {
    fn read(self) -> Result<Ticket, RtError> {
        let people = |raw: Vec<RawUser>| -> Result<Vec<UserRef>, RtError> {
            raw.into_iter().map(RawUser::read).collect()
        };
        Ok(Ticket {
            id: number(&self.id, "ticket id")?,
            subject: text(&self.subject),
            status: text(&self.status),
            priority: number(&self.priority, "priority").unwrap_or_default(),
            due: date(&self.due),
            queue: text(&self.queue["Name"]),
            owner: match self.owner {
                Some(owner) => owner.read()?,
                None => UserRef::default(),
            },
            requestors: people(self.requestors)?,
            cc: people(self.cc)?,
            admin_cc: people(self.admin_cc)?,
        })
    }
}
