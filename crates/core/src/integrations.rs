//! The helpdesks the server follows, as administrators see how that goes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `GET /api/v1/admin/integrations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Integrations {
    /// Empty when the server follows no helpdesk (`serve` without `--rt-url`).
    pub helpdesks: Vec<HelpdeskConnection>,
    /// Helpdesks that post webhooks: one entry for each source with a secret or a
    /// delivery.
    pub hooks: Vec<HookSource>,
    /// Integrations' tokens in force, without the tokens themselves.
    pub tokens: Vec<IntegrationToken>,
    /// Where status changes are posted; null without `serve --status-webhook`.
    pub status_webhook: Option<StatusWebhook>,
}

/// One source of webhooks (`zendesk`, `freshdesk`, `generic`) and how its deliveries go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct HookSource {
    pub source: String,
    /// Secrets accepted now: two while a rotated one is in its grace period.
    #[ts(type = "number")]
    pub secrets: i64,
    #[ts(type = "number")]
    pub accepted: i64,
    /// Deliveries refused: a wrong signature or secret, a replay, an old timestamp, or a
    /// body that does not map.
    #[ts(type = "number")]
    pub refused: i64,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_accepted_at: Option<DateTime<Utc>>,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_refused_at: Option<DateTime<Utc>>,
    /// Why the last refused delivery was refused.
    pub last_refusal: Option<String>,
    /// When the current secret was set; null while the source has none.
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub secret_set_at: Option<DateTime<Utc>>,
    /// The administrator who set it; null when it was set on the server's command line.
    pub secret_set_by: Option<String>,
    /// Until when the secret it replaced is still accepted, while it is.
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub previous_secret_until: Option<DateTime<Utc>>,
}

/// An integration's token in force, made in the app's Administration or with
/// `agent-desk-server add-integration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct IntegrationToken {
    /// What `DELETE /api/v1/admin/integrations/tokens/{id}` revokes it by.
    pub id: String,
    pub name: String,
    /// `events:write`, `routing:read`.
    pub scopes: Vec<String>,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    /// The administrator who made it; null when it was made on the server's command line.
    pub created_by: Option<String>,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The status webhook's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct StatusWebhook {
    pub url: String,
    /// Changes waiting to be posted, or to be posted again.
    #[ts(type = "number")]
    pub pending: i64,
    #[ts(type = "number")]
    pub delivered: i64,
    /// Changes not delivered within a day of being made.
    #[ts(type = "number")]
    pub given_up: i64,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_delivered_at: Option<DateTime<Utc>>,
    /// The last failure, until the next delivery.
    pub last_error: Option<String>,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_error_at: Option<DateTime<Utc>>,
}

/// One helpdesk followed: whether alerts are flowing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct HelpdeskConnection {
    /// `request_tracker`.
    pub kind: String,
    /// The helpdesk's address.
    pub url: String,
    /// The last change read (Request Tracker: a transaction id).
    #[ts(type = "number")]
    pub cursor: i64,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_success_at: Option<DateTime<Utc>>,
    /// The helpdesk's time of the newest change read.
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_change_at: Option<DateTime<Utc>>,
    /// Seconds since the helpdesk was last read successfully: alerts are at most this
    /// far behind.
    #[ts(type = "number | null")]
    pub lag_seconds: Option<i64>,
    #[ts(type = "number")]
    pub changes_read: i64,
    #[ts(type = "number")]
    pub events_published: i64,
    /// Changes for a ticket owner who is not an agent here.
    #[ts(type = "number")]
    pub skipped_unknown_owner: i64,
    /// Changes not told: sent, or about a ticket sent, in a form that could not be
    /// read, or about a ticket the helpdesk no longer shows (deleted, or moved where the
    /// connector may not see it).
    #[ts(type = "number")]
    pub changes_dropped: i64,
    /// Tickets given back to their queue because their owner was away.
    #[ts(type = "number")]
    pub tickets_released: i64,
    /// Why the helpdesk last refused to give a ticket back, until it gives one back.
    pub release_error: Option<String>,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub release_error_at: Option<DateTime<Utc>>,
    /// The last failure, until the next success.
    pub last_error: Option<String>,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_error_at: Option<DateTime<Utc>>,
}

/// A helpdesk that posts webhooks to `POST /api/v1/hooks/{source}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum WebhookSource {
    Zendesk,
    Freshdesk,
    Generic,
}

impl WebhookSource {
    pub const ALL: [WebhookSource; 3] = [Self::Zendesk, Self::Freshdesk, Self::Generic];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Zendesk => "zendesk",
            Self::Freshdesk => "freshdesk",
            Self::Generic => "generic",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|source| source.as_str() == text)
    }

    /// Zendesk makes its webhooks' signing secrets itself; the others take one made here.
    pub const fn secret_is_the_helpdesks(self) -> bool {
        matches!(self, Self::Zendesk)
    }
}

/// What an integration's token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub enum IntegrationScope {
    /// `POST /api/v1/admin/events`.
    #[serde(rename = "events:write")]
    EventsWrite,
    /// `GET /api/v1/routing/agents`.
    #[serde(rename = "routing:read")]
    RoutingRead,
}

impl IntegrationScope {
    pub const ALL: [IntegrationScope; 2] = [Self::EventsWrite, Self::RoutingRead];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EventsWrite => "events:write",
            Self::RoutingRead => "routing:read",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == text)
    }
}

/// The most characters an integration's name may have.
pub const INTEGRATION_NAME_MAX_CHARS: usize = 100;
/// The longest a replaced webhook secret may go on being accepted: 30 days.
pub const HOOK_GRACE_HOURS_MAX: u32 = 720;
/// How long a replaced webhook secret goes on being accepted unless told otherwise.
pub const HOOK_GRACE_HOURS_DEFAULT: u32 = 24;

/// `POST /api/v1/admin/integrations/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewIntegrationToken {
    /// 1 to 100 characters; no other token in force has it.
    pub name: String,
    /// At least one of `events:write`, `routing:read`.
    pub scopes: Vec<String>,
}

/// A token just made: `token` is shown this once, and the server keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct IssuedIntegrationToken {
    pub integration: IntegrationToken,
    /// The bearer token (`adi_…`).
    pub token: String,
}

/// `POST /api/v1/admin/integrations/hooks/{source}/secrets`: a source's new secret.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewHookSecret {
    /// Zendesk's signing secret of the webhook, which Zendesk makes; must be absent for
    /// the other sources, whose secret the server makes.
    #[serde(default)]
    #[ts(optional)]
    pub secret: Option<String>,
    /// Hours the secret it replaces is still accepted (0 ends it at once); 24 when absent.
    #[serde(default)]
    #[ts(optional)]
    pub grace_hours: Option<u32>,
}

/// A source's secret just set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct SavedHookSecret {
    pub source: WebhookSource,
    /// The secret the server made, shown this once; null for Zendesk, whose secret the
    /// administrator gave.
    pub secret: Option<String>,
    /// Until when the secret it replaced is still accepted; null when none is.
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub previous_until: Option<DateTime<Utc>>,
}
