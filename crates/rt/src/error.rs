/// Why a call to Request Tracker failed, worded for the administrator who set it up.
#[derive(Debug, thiserror::Error)]
pub enum RtError {
    #[error("Request Tracker at {url} cannot be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("Request Tracker refused the credentials (401): check AGENT_DESK_RT_USER and AGENT_DESK_RT_PASSWORD, or AGENT_DESK_RT_TOKEN")]
    Unauthorized,
    /// An answer that is not REST 2.0's JSON: a web page, a proxy's error, a login form.
    #[error("{url} answered {status} with {content_type}, not Request Tracker's REST 2.0 JSON: is the address RT's own (without /REST/2.0)?")]
    NotRestApi {
        url: String,
        status: u16,
        content_type: String,
    },
    #[error("Request Tracker answered {status}: {message}")]
    Refused { status: u16, message: String },
    /// A change RT reported as not made (RT answers 200 with its reasons).
    #[error("Request Tracker did not make the change: {0}")]
    NotChanged(String),
    #[error("Request Tracker's answer could not be read: {0}")]
    Malformed(String),
}

impl RtError {
    /// Worth trying again later: RT down, slow or briefly failing.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::NotRestApi { .. } | Self::Malformed(_) => true,
            Self::Refused { status, .. } => *status >= 500 || *status == 429,
            Self::Unauthorized | Self::NotChanged(_) => false,
        }
    }
}
