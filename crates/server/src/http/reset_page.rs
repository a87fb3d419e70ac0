//! The page a reset link opens, for agents reading their mail away from the app: plain
//! HTML and one stylesheet from this server, no script, and a CSP that allows nothing else.

use agent_desk_core::password::{PasswordPolicy, PasswordRule};
use agent_desk_core::text::escape_markup;
use agent_desk_core::PASSWORD_RESET_VALID_MINUTES;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::account::reset_with_token;
use super::auth::address_key;
use super::error::{whole_seconds, AppError};
use crate::account::{self, AccountError, ResetToken};
use crate::AppState;

const STYLESHEET: &str = include_str!("reset.css");
const CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reset_page, reset_submit))
        .routes(routes!(stylesheet))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResetQuery {
    /// The token from the reset mail.
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// The reset form, or why the link no longer works.
#[utoipa::path(get, path = "/reset", tag = "reset page", params(ResetQuery),
    responses((status = 200, description = "The form", content_type = "text/html"),
              (status = 400, description = "Not a valid link", content_type = "text/html"),
              (status = 410, description = "Used or expired link", content_type = "text/html"),
              (status = 429, description = "Too many links tried from this address", content_type = "text/html")))]
async fn reset_page(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    query: Result<Query<ResetQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let token = query.map(|Query(q)| q.token).unwrap_or_default();
    // Opening the page tells whether a token is one the server gave out: it counts
    // against the same throttle as setting the password with one, so tokens cannot be
    // guessed here either. A link that was really sent gives its attempt back.
    let address = address_key(&extensions);
    let throttle = &state.throttles.reset_confirm_addresses;
    match state.throttles.attempt(&[(throttle, &address)]).await {
        Ok(()) => {}
        Err(crate::throttle::Refused::Wait(retry_after)) => return too_many_attempts(retry_after),
        Err(crate::throttle::Refused::Database(error)) => {
            tracing::error!(%error, "reset page");
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                &message_page("Something went wrong", "Please try again in a moment."),
            );
        }
    }
    let found = account::reset_token(&state.db, &token, Utc::now()).await;
    if matches!(found, Ok(ResetToken::Usable { .. } | ResetToken::Spent)) {
        state.throttles.refund(throttle, &address).await;
    }
    match found {
        Ok(ResetToken::Usable { .. }) => html(StatusCode::OK, &form_page(&token, None)),
        Ok(ResetToken::Spent) => html(StatusCode::GONE, &message_page(SPENT_TITLE, &spent_text())),
        Ok(ResetToken::Unknown) => html(
            StatusCode::BAD_REQUEST,
            &message_page(INVALID_TITLE, INVALID_TEXT),
        ),
        Err(error) => {
            tracing::error!(%error, "reset page");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                &message_page("Something went wrong", "Please try again in a moment."),
            )
        }
    }
}

/// Sets the new password from the form.
#[utoipa::path(post, path = "/reset", tag = "reset page",
    request_body(content_type = "application/x-www-form-urlencoded", description = "token, new_password, confirm_password"),
    responses((status = 200, description = "Password changed", content_type = "text/html"),
              (status = 400, description = "The form again, with the reason", content_type = "text/html"),
              (status = 410, description = "Used or expired link", content_type = "text/html"),
              (status = 429, description = "Too many attempts", content_type = "text/html")))]
async fn reset_submit(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return html(
            StatusCode::BAD_REQUEST,
            &message_page(INVALID_TITLE, INVALID_TEXT),
        );
    };
    if form.new_password != form.confirm_password {
        return html(
            StatusCode::BAD_REQUEST,
            &form_page(&form.token, Some("The two passwords are not the same.")),
        );
    }
    match reset_with_token(&state, &extensions, &form.token, &form.new_password).await {
        Ok(_) => html(
            StatusCode::OK,
            &message_page(
                "Your password has been changed",
                "Every session of your account was signed out. Sign in to Agent Desk with \
                 your new password.",
            ),
        ),
        Err(AppError::Account(AccountError::Policy(rule))) => {
            let reason = format!("The new password {}.", rule.message());
            html(
                StatusCode::BAD_REQUEST,
                &form_page(&form.token, Some(&reason)),
            )
        }
        Err(AppError::Account(AccountError::ResetTokenSpent)) => {
            html(StatusCode::GONE, &message_page(SPENT_TITLE, &spent_text()))
        }
        Err(AppError::Account(AccountError::ResetTokenInvalid)) => html(
            StatusCode::BAD_REQUEST,
            &message_page(INVALID_TITLE, INVALID_TEXT),
        ),
        Err(AppError::RateLimited { retry_after }) => too_many_attempts(retry_after),
        Err(error) => {
            tracing::error!(%error, "reset page");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                &message_page("Something went wrong", "Please try again in a moment."),
            )
        }
    }
}

#[utoipa::path(get, path = "/reset.css", tag = "reset page",
    responses((status = 200, description = "The reset page's stylesheet", content_type = "text/css")))]
async fn stylesheet() -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        STYLESHEET,
    )
        .into_response()
}

const INVALID_TITLE: &str = "This link is not valid";
const INVALID_TEXT: &str = "Check that the whole link from the mail was opened, or ask for a new \
                            one with \u{201c}Forgot password?\u{201d} on Agent Desk's sign-in screen.";
const SPENT_TITLE: &str = "This link has expired";
/// Why a used or expired link no longer works, with the lifetime the server applies.
fn spent_text() -> String {
    format!(
        "A reset link works once, for {PASSWORD_RESET_VALID_MINUTES} minutes. Ask for a new one \
         with \u{201c}Forgot password?\u{201d} on Agent Desk's sign-in screen."
    )
}

fn too_many_attempts(retry_after: std::time::Duration) -> Response {
    let seconds = whole_seconds(retry_after);
    let mut response = html(
        StatusCode::TOO_MANY_REQUESTS,
        &message_page(
            "Too many attempts",
            &format!(
                "Please wait {} seconds and open the link again.",
                seconds.max(1)
            ),
        ),
    );
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        HeaderValue::from(seconds.max(1)),
    );
    response
}

fn html(status: StatusCode, body: &str) -> Response {
    (
        status,
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
            // The URL carries the token: never send it on, never keep the page.
            (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        ],
        body.to_owned(),
    )
        .into_response()
}

fn page(title: &str, content: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n\
         <title>{title} · Agent Desk</title>\n<link rel=\"stylesheet\" href=\"/reset.css\">\n</head>\n\
         <body>\n<main>\n<p class=\"brand\"><span class=\"logo\" aria-hidden=\"true\">AD</span>Agent Desk</p>\n\
         <h1>{title}</h1>\n{content}</main>\n</body>\n</html>\n",
        title = escape_markup(title),
    )
}

fn message_page(title: &str, text: &str) -> String {
    page(title, &format!("<p>{}</p>\n", escape_markup(text)))
}

fn form_page(token: &str, error: Option<&str>) -> String {
    let policy = PasswordPolicy::default();
    let rules: String = policy
        .rules
        .iter()
        .filter(|rule| **rule != PasswordRule::MaxLength)
        .map(|rule| format!("<li>{}</li>", escape_markup(&rule_text(*rule))))
        .collect();
    let error = error
        .map(|e| {
            format!(
                "<p class=\"error\" role=\"alert\" id=\"error\">{}</p>\n",
                escape_markup(e)
            )
        })
        .unwrap_or_default();
    let described = if error.is_empty() {
        "rules"
    } else {
        "error rules"
    };
    page(
        "Choose a new password",
        &format!(
            "{error}<form method=\"post\" action=\"/reset\">\n\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\n\
             <label for=\"new_password\">New password</label>\n\
             <input id=\"new_password\" name=\"new_password\" type=\"password\" autocomplete=\"new-password\" \
             required minlength=\"{min}\" maxlength=\"{max}\" aria-describedby=\"{described}\">\n\
             <label for=\"confirm_password\">Repeat the new password</label>\n\
             <input id=\"confirm_password\" name=\"confirm_password\" type=\"password\" \
             autocomplete=\"new-password\" required maxlength=\"{max}\">\n\
             <div id=\"rules\"><p>The password needs:</p><ul>{rules}</ul></div>\n\
             <button type=\"submit\">Set new password</button>\n</form>\n\
             <p class=\"note\">Setting a new password signs out every session of your account.</p>\n",
            token = escape_markup(token),
            min = policy.min_length,
            max = policy.max_length,
        ),
    )
}

fn rule_text(rule: PasswordRule) -> String {
    match rule {
        PasswordRule::MinLength => format!(
            "at least {} characters",
            PasswordPolicy::default().min_length
        ),
        PasswordRule::MaxLength => format!(
            "at most {} characters",
            PasswordPolicy::default().max_length
        ),
        PasswordRule::Uppercase => "an upper-case letter".into(),
        PasswordRule::Lowercase => "a lower-case letter".into(),
        PasswordRule::Digit => "a digit".into(),
        PasswordRule::Symbol => "a symbol, such as ! or -".into(),
        PasswordRule::NotCurrent => "to differ from the current password".into(),
        PasswordRule::NotGuessable => {
            "not to be easy to guess (no common words, names or dates)".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_tokens_and_messages_is_escaped() {
        let page = form_page("\"><script>alert(1)</script>", Some("<b>bad</b>"));
        assert!(!page.contains("<script>"));
        assert!(!page.contains("<b>bad"));
        assert!(page.contains("&quot;&gt;&lt;script&gt;"));
    }

    #[test]
    fn every_listed_rule_is_described() {
        let page = form_page("t", None);
        for rule in PasswordPolicy::default().rules {
            if rule != PasswordRule::MaxLength {
                assert!(page.contains(&escape_markup(&rule_text(rule))), "{rule:?}");
            }
        }
    }
}
