//! Outgoing mail: through SMTP when the server is given `--smtp-url`, otherwise written as
//! `.eml` files into `<data-dir>/outbox/`, so a local server and the tests need no mail server.

use std::path::PathBuf;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid mail address {address:?}: {reason}")]
    Address { address: String, reason: String },
    #[error("invalid SMTP URL: {0}")]
    SmtpUrl(String),
    #[error("could not build the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("SMTP delivery failed: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("could not write to the outbox: {0}")]
    Outbox(#[from] std::io::Error),
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

/// A message to one person, in plain text.
pub struct Mail<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub body: String,
}

fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address
        .parse()
        .map_err(|e: lettre::address::AddressError| MailError::Address {
            address: address.to_owned(),
            reason: e.to_string(),
        })
}

/// The body as 8bit text, which keeps links whole in the raw message: the encoding lettre
/// would choose, quoted-printable, breaks lines over 76 characters and escapes `=`, so a link
/// copied from an `.eml` would not work. 8bit is valid while every line stays within RFC
/// 5322's 998 octets; otherwise lettre picks.
fn plain_body(text: &str) -> Body {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    if crlf.split("\r\n").all(|line| line.len() <= 998) && !crlf.contains('\0') {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::EightBit)
    } else {
        Body::new(text.to_owned())
    }
}

impl Mailer {
    /// `smtp_url` is e.g. `smtps://user:pass@mail.example.com` or `smtp://localhost:2525`.
    pub fn new(from: &str, smtp_url: Option<&str>, outbox: PathBuf) -> Result<Self, MailError> {
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::SmtpUrl(e.to_string()))?
                    .build(),
            ),
            None => Transport::Outbox(outbox),
        };
        Ok(Self {
            from: mailbox(from)?,
            transport,
        })
    }

    pub async fn send(&self, mail: Mail<'_>) -> Result<(), MailError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(mailbox(mail.to)?)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(plain_body(&mail.body))?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Transport::Outbox(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                // Written aside and renamed, so a reader never sees half a message.
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
                    uuid::Uuid::new_v4()
                );
                let partial = dir.join(format!(".{name}.partial"));
                write_private(&partial, &message.formatted()).await?;
                tokio::fs::rename(&partial, dir.join(name)).await?;
            }
        }
        Ok(())
    }
}

/// Writes a file only its owner can read: mail in the outbox carries reset links.
async fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    file.write_all(bytes).await?;
    file.sync_all().await
}
