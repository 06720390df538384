//! One error type for everything that talks to a live server.
//!
//! Every variant names the URL it was about, so a message printed on its own still tells the
//! operator which server to look at.

use std::time::Duration;

/// How much of a response body an error keeps: enough to recognise an HTML error page or a
/// proxy message, short enough to print on one line.
pub const BODY_PREFIX_BYTES: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{url}: invalid URL: {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error("invalid HTTP header {name:?}: {reason}")]
    InvalidHeader { name: String, reason: String },

    #[error("{url}: connection refused (is the server running and listening on that address?)")]
    ConnectionRefused { url: String },

    #[error("{url}: could not connect: {detail}")]
    Connect { url: String, detail: String },

    #[error("{url}: timed out after {}", seconds_text(*after))]
    Timeout { url: String, after: Duration },

    #[error("{url}: HTTP {status}{}", body_suffix(body))]
    Status {
        url: String,
        status: u16,
        /// The first [`BODY_PREFIX_BYTES`] of the body.
        body: String,
    },

    /// Prometheus answered with `"status":"error"`.
    #[error("{url}: HTTP {status}: Prometheus error {error_type}: {error}")]
    Api {
        url: String,
        status: u16,
        error_type: String,
        error: String,
    },

    #[error("{url}: HTTP {status}: unexpected response: {detail}{}", body_suffix(body))]
    Decode {
        url: String,
        status: u16,
        detail: String,
        /// The first [`BODY_PREFIX_BYTES`] of the body.
        body: String,
    },

    #[error(
        "{url}: HTTP 403: the lifecycle API is disabled ({body}); start Prometheus with \
         --web.enable-lifecycle to allow reloads, or restart it to load the new configuration"
    )]
    LifecycleDisabled { url: String, body: String },

    #[error(
        "{url}: HTTP 500: Prometheus rejected the new configuration and keeps running the old \
         one: {body}"
    )]
    ConfigRejected { url: String, body: String },

    #[error("{url}: response body exceeds {limit} bytes")]
    BodyTooLarge { url: String, limit: usize },

    #[error("{url}: {detail}")]
    Request { url: String, detail: String },

    #[error("{name}: {detail}")]
    Secret { name: String, detail: String },

    #[error("{path}: cannot use as a CA certificate file: {detail}")]
    CaFile { path: String, detail: String },

    #[error("cannot build the HTTP client: {detail}")]
    Client { detail: String },

    /// A spawned query task ended without a result (it panicked or the runtime shut down).
    #[error("{expr}: query task failed: {detail}")]
    Task { expr: String, detail: String },

    /// The dual-run settings cannot separate the two sources.
    #[error("{0}")]
    Spec(String),
}

impl LiveError {
    /// The URL the error is about, when there is one.
    pub fn url(&self) -> Option<&str> {
        match self {
            LiveError::InvalidUrl { url, .. }
            | LiveError::ConnectionRefused { url }
            | LiveError::Connect { url, .. }
            | LiveError::Timeout { url, .. }
            | LiveError::Status { url, .. }
            | LiveError::Api { url, .. }
            | LiveError::Decode { url, .. }
            | LiveError::LifecycleDisabled { url, .. }
            | LiveError::ConfigRejected { url, .. }
            | LiveError::BodyTooLarge { url, .. }
            | LiveError::Request { url, .. } => Some(url),
            LiveError::InvalidHeader { .. }
            | LiveError::Secret { .. }
            | LiveError::CaFile { .. }
            | LiveError::Client { .. }
            | LiveError::Task { .. }
            | LiveError::Spec(_) => None,
        }
    }

    /// The HTTP status the server answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            LiveError::Status { status, .. } | LiveError::Api { status, .. } | LiveError::Decode { status, .. } => {
                Some(*status)
            }
            LiveError::LifecycleDisabled { .. } => Some(403),
            LiveError::ConfigRejected { .. } => Some(500),
            _ => None,
        }
    }
}

/// `0.5s`, `10s`, `1.25s`: seconds for a message (a timeout), short and exact; not a
/// Prometheus duration (that is [`crate::duration::format_prometheus_duration`]).
pub fn seconds_text(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        let text = format!("{:.3}", duration.as_secs_f64());
        format!("{}s", text.trim_end_matches('0'))
    }
}

/// The start of a body for an error message: at most [`BODY_PREFIX_BYTES`], cut on a character
/// boundary, marked when cut.
pub fn body_prefix(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.len() <= BODY_PREFIX_BYTES {
        return text.to_string();
    }
    let mut end = BODY_PREFIX_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_short() {
        assert_eq!(seconds_text(Duration::from_millis(500)), "0.5s");
        assert_eq!(seconds_text(Duration::from_secs(10)), "10s");
        assert_eq!(seconds_text(Duration::from_millis(1250)), "1.25s");
    }

    #[test]
    fn long_bodies_are_cut_on_a_character_boundary() {
        let body = "é".repeat(400); // 800 bytes
        let prefix = body_prefix(body.as_bytes());
        assert!(prefix.ends_with('…'));
        assert!(prefix.len() <= BODY_PREFIX_BYTES + '…'.len_utf8());
        assert_eq!(body_prefix(b"  short\n"), "short");
    }

    #[test]
    fn reload_errors_say_what_to_do() {
        let err = LiveError::LifecycleDisabled {
            url: "http://p/-/reload".into(),
            body: "Lifecycle API is not enabled.".into(),
        };
        assert!(err.to_string().contains("--web.enable-lifecycle"));
        assert_eq!(err.status(), Some(403));
    }
}
