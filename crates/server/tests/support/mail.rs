//! The mail a server without SMTP writes to `<data-dir>/outbox/`, read as its
//! recipient would: bodies decoded, links found.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::Server;

/// How long a mail may take to reach the outbox.
pub const MAIL_LIMIT: Duration = Duration::from_secs(10);

/// The `.eml` files in the outbox (not the hidden ones still being written).
pub fn outbox(server: &Server) -> Vec<PathBuf> {
    let dir = server.data_dir().join("outbox");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut mails: Vec<PathBuf> = entries
        .map(|entry| entry.expect("outbox entry").path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with(".eml") && !name.starts_with('.'))
        })
        .collect();
    mails.sort();
    mails
}

/// Waits (at most `MAIL_LIMIT`) for one mail that is not in `seen`, adds it there and
/// returns its text.
pub async fn next_mail(server: &Server, seen: &mut HashSet<PathBuf>) -> String {
    let deadline = Instant::now() + MAIL_LIMIT;
    loop {
        let new: Vec<PathBuf> = outbox(server)
            .into_iter()
            .filter(|path| !seen.contains(path))
            .collect();
        if let Some(path) = new.first() {
            assert_eq!(new.len(), 1, "expected one new mail, got {new:?}");
            seen.insert(path.clone());
            return std::fs::read_to_string(path).expect("read the mail");
        }
        assert!(
            Instant::now() < deadline,
            "no mail reached the outbox within {MAIL_LIMIT:?}; log: {}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The header lines of a mail, without their line ends.
pub fn mail_headers(mail: &str) -> Vec<&str> {
    mail.split('\n')
        .map(|line| line.trim_end_matches('\r'))
        .take_while(|line| !line.is_empty())
        .collect()
}

/// The body of a mail as its reader sees it, decoded from its Content-Transfer-Encoding
/// (a line of 76 characters or more makes the mail quoted-printable).
pub fn mail_body(mail: &str) -> String {
    let (_, raw) = mail
        .split_once("\r\n\r\n")
        .or_else(|| mail.split_once("\n\n"))
        .unwrap_or_else(|| panic!("a mail without a body: {mail}"));
    let encoding = mail_headers(mail)
        .iter()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-transfer-encoding")
                .then(|| value.trim().to_ascii_lowercase())
        })
        .unwrap_or_else(|| "7bit".to_owned());
    let bytes = match encoding.as_str() {
        "7bit" | "8bit" => raw.as_bytes().to_vec(),
        "quoted-printable" => decode_quoted_printable(raw),
        "base64" => {
            let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap_or_else(|e| panic!("a bad base64 body ({e}): {mail}"))
        }
        other => panic!("unexpected Content-Transfer-Encoding {other}: {mail}"),
    };
    String::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("the body is not UTF-8 ({e}): {mail}"))
        .replace("\r\n", "\n")
}

pub fn decode_quoted_printable(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'=' {
            decoded.push(bytes[i]);
            i += 1;
        } else if bytes[i + 1..].starts_with(b"\r\n") {
            i += 3; // a soft line break
        } else if bytes[i + 1..].starts_with(b"\n") {
            i += 2;
        } else {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex digits");
            decoded.push(u8::from_str_radix(hex, 16).expect("a quoted-printable escape"));
            i += 3;
        }
    }
    decoded
}

/// The token of the one reset link in `mail`, which must point at this server.
pub fn reset_token_in(server: &Server, mail: &str) -> String {
    let mail = &mail_body(mail);
    assert_eq!(
        mail.matches("/reset?token=").count(),
        1,
        "one reset link in the mail: {mail}"
    );
    let prefix = format!("{}/reset?token=", server.base);
    let start = mail
        .find(&prefix)
        .unwrap_or_else(|| panic!("no link starting {prefix} in the mail: {mail}"))
        + prefix.len();
    let token: String = mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(
        token.len(),
        43,
        "the token is 32 bytes of unpadded URL-safe base64: {token:?}"
    );
    assert!(
        mail[start + token.len()..].starts_with('\n'),
        "the link ends with the token: {mail}"
    );
    let bytes = URL_SAFE_NO_PAD
        .decode(&token)
        .unwrap_or_else(|e| panic!("the token is not URL-safe base64 ({e}): {token:?}"));
    assert!(bytes.len() >= 16, "at least 128 bits: {token:?}");
    token
}
