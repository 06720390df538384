//! Where a live server is and how to talk to it: URL, credentials, headers, timeouts, TLS,
//! retries. Secrets come from the environment or files, never from argv, and never show up in
//! `Debug` output.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;

use super::error::LiveError;

/// A secret string. `Debug` prints `***`; use [`Secret::expose`] where the value is needed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    Basic {
        user: String,
        password: Secret,
    },
    Bearer(Secret),
}

/// The environment variable names one endpoint's credentials are read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthEnv {
    pub bearer_token: String,
    pub bearer_token_file: String,
    pub user: String,
    pub password: String,
    pub password_file: String,
}

impl AuthEnv {
    pub const PROMETHEUS: &'static str = "PULLOVER_PROMETHEUS";
    pub const PUSHGATEWAY: &'static str = "PULLOVER_PUSHGATEWAY";
    pub const APP: &'static str = "PULLOVER_APP";

    /// `PREFIX_BEARER_TOKEN`, `PREFIX_BEARER_TOKEN_FILE`, `PREFIX_USER`, `PREFIX_PASSWORD`,
    /// `PREFIX_PASSWORD_FILE`.
    pub fn for_prefix(prefix: &str) -> Self {
        AuthEnv {
            bearer_token: format!("{prefix}_BEARER_TOKEN"),
            bearer_token_file: format!("{prefix}_BEARER_TOKEN_FILE"),
            user: format!("{prefix}_USER"),
            password: format!("{prefix}_PASSWORD"),
            password_file: format!("{prefix}_PASSWORD_FILE"),
        }
    }
}

impl Auth {
    /// Credentials from the process environment (and the files it names), e.g.
    /// `Auth::from_env_or_file(AuthEnv::PROMETHEUS)` reads `PULLOVER_PROMETHEUS_BEARER_TOKEN`,
    /// `PULLOVER_PROMETHEUS_BEARER_TOKEN_FILE`, `PULLOVER_PROMETHEUS_USER`,
    /// `PULLOVER_PROMETHEUS_PASSWORD` and `PULLOVER_PROMETHEUS_PASSWORD_FILE`.
    pub fn from_env_or_file(prefix: &str) -> Result<Auth, LiveError> {
        Auth::from_sources(
            &AuthEnv::for_prefix(prefix),
            |name| std::env::var(name).ok(),
            |path| std::fs::read_to_string(path),
        )
    }

    /// The same rules over any variable lookup and file reader, so they can be tested without
    /// touching the process environment. Empty variables count as unset (compose files often
    /// set `X=`). A file's trailing line break is dropped (`echo token > file`).
    pub fn from_sources(
        names: &AuthEnv,
        env: impl Fn(&str) -> Option<String>,
        read_file: impl Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Auth, LiveError> {
        let var = |name: &str| env(name).filter(|value| !value.is_empty());
        let secret = |value_name: &str, file_name: &str| -> Result<Option<Secret>, LiveError> {
            match (var(value_name), var(file_name)) {
                (Some(_), Some(_)) => Err(LiveError::Secret {
                    name: value_name.to_string(),
                    detail: format!("set either {value_name} or {file_name}, not both"),
                }),
                (Some(value), None) => Ok(Some(Secret(value))),
                (None, Some(path)) => {
                    let text = read_file(Path::new(&path)).map_err(|err| LiveError::Secret {
                        name: file_name.to_string(),
                        detail: format!("cannot read {path}: {err}"),
                    })?;
                    let value = text.trim_end_matches(['\n', '\r']);
                    if value.is_empty() {
                        return Err(LiveError::Secret {
                            name: file_name.to_string(),
                            detail: format!("{path} is empty"),
                        });
                    }
                    Ok(Some(Secret(value.to_string())))
                }
                (None, None) => Ok(None),
            }
        };

        let token = secret(&names.bearer_token, &names.bearer_token_file)?;
        let user = var(&names.user);
        let password = secret(&names.password, &names.password_file)?;
        match (token, user, password) {
            (None, None, None) => Ok(Auth::None),
            (Some(token), None, None) => Ok(Auth::Bearer(token)),
            (Some(_), _, _) => Err(LiveError::Secret {
                name: names.bearer_token.clone(),
                detail: format!(
                    "set either a bearer token ({}) or basic auth ({}), not both",
                    names.bearer_token, names.user
                ),
            }),
            (None, Some(user), Some(password)) => Ok(Auth::Basic { user, password }),
            (None, Some(_), None) => Err(LiveError::Secret {
                name: names.user.clone(),
                detail: format!(
                    "is set but neither {} nor {} is; set one of them",
                    names.password, names.password_file
                ),
            }),
            (None, None, Some(_)) => Err(LiveError::Secret {
                name: names.password.clone(),
                detail: format!("a password is set but {} is not", names.user),
            }),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// A PEM file with more CA certificates, trusted in addition to the system roots.
    pub extra_ca_file: Option<PathBuf>,
    /// Accept any certificate. For test setups only; the report should say it was on.
    pub insecure_skip_verify: bool,
}

/// Retries cover connection errors only: a request that never reached the server is safe to
/// send again, a 4xx/5xx or a timeout after the server started answering is not retried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Bound for one call: all attempts, backoff sleeps and reading the body.
    pub overall_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
            overall_timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The sleep before attempt `attempt + 1` (attempt counted from 1): doubling, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

#[derive(Clone)]
pub struct Endpoint {
    /// Always ends with `/`, so paths join below it (`https://host/prometheus/` keeps its
    /// prefix).
    base_url: Url,
    pub auth: Auth,
    /// Extra headers sent with every request, e.g. `X-Scope-OrgID` for Mimir/Cortex.
    pub headers: Vec<(String, String)>,
    /// Bound for one attempt, from connecting to the last byte of the body.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub tls: TlsOptions,
    pub retry: RetryPolicy,
}

impl Endpoint {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    pub fn new(base_url: &str) -> Result<Endpoint, LiveError> {
        Ok(Endpoint {
            base_url: normalize_base_url(base_url)?,
            auth: Auth::None,
            headers: Vec::new(),
            timeout: Endpoint::DEFAULT_TIMEOUT,
            connect_timeout: Duration::from_secs(5),
            tls: TlsOptions::default(),
            retry: RetryPolicy::default(),
        })
    }

    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the per-attempt timeout. The connect timeout shrinks to it if longer, and the
    /// overall bound grows to it if shorter, so one attempt always fits.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.connect_timeout = self.connect_timeout.min(timeout);
        self.retry.overall_timeout = self.retry.overall_timeout.max(timeout);
        self
    }

    pub fn with_tls(mut self, tls: TlsOptions) -> Self {
        self.tls = tls;
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// `path` is relative to the base URL (`api/v1/query`); a leading `/` is ignored so it
    /// cannot drop the base URL's path prefix.
    pub fn url(&self, path: &str) -> Result<Url, LiveError> {
        let relative = path.trim_start_matches('/');
        self.base_url.join(relative).map_err(|err| LiveError::InvalidUrl {
            url: format!("{}{relative}", self.base_url),
            reason: err.to_string(),
        })
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if is_sensitive_header(name) {
                    "***"
                } else {
                    value.as_str()
                };
                (name.as_str(), shown)
            })
            .collect();
        f.debug_struct("Endpoint")
            .field("base_url", &self.base_url.as_str())
            .field("auth", &self.auth)
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("tls", &self.tls)
            .field("retry", &self.retry)
            .finish()
    }
}

/// The environment variable names of one endpoint's other connection settings, beside its
/// credentials ([`AuthEnv`]): `PREFIX_HEADERS` (one `Name: value` per line, e.g.
/// `X-Scope-OrgID: tenant-1` for Mimir, Cortex or Thanos), `PREFIX_CA_FILE` (a PEM file trusted
/// beside the system roots) and `PREFIX_INSECURE_SKIP_VERIFY` (`true` or `1`; test setups only).
pub fn connection_from_sources(
    endpoint: Endpoint,
    prefix: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Endpoint, LiveError> {
    let var = |suffix: &str| env(&format!("{prefix}_{suffix}")).filter(|value| !value.trim().is_empty());
    let mut endpoint = endpoint;
    if let Some(lines) = var("HEADERS") {
        for (number, line) in lines.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            // The line itself is never echoed: a malformed `Authorization Bearer …`
            // is still a credential.
            let Some((name, value)) = line.split_once(':') else {
                return Err(LiveError::Spec(format!(
                    "line {} of {prefix}_HEADERS has no `:` ({prefix}_HEADERS holds one `Name: value` per line; the line is not shown, it may hold a credential)",
                    number + 1
                )));
            };
            endpoint = endpoint.with_header(name.trim(), value.trim());
        }
    }
    let insecure = match var("INSECURE_SKIP_VERIFY").as_deref().map(str::trim) {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(other) => {
            return Err(LiveError::Spec(format!(
                "{prefix}_INSECURE_SKIP_VERIFY is {other:?}; set it to true or false"
            )));
        }
    };
    Ok(endpoint.with_tls(TlsOptions {
        extra_ca_file: var("CA_FILE").map(PathBuf::from),
        insecure_skip_verify: insecure,
    }))
}

/// Header names whose values are credentials.
pub fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["authorization", "cookie", "token", "secret", "key", "password"]
        .iter()
        .any(|word| name.contains(word))
}

fn normalize_base_url(text: &str) -> Result<Url, LiveError> {
    let invalid = |reason: &str| LiveError::InvalidUrl {
        url: text.to_string(),
        reason: reason.to_string(),
    };
    let mut url = Url::parse(text.trim()).map_err(|err| invalid(&err.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("only http:// and https:// URLs are supported"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("the URL has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "a base URL cannot carry a query or fragment; give extra headers in PULLOVER_PROMETHEUS_HEADERS (or _PUSHGATEWAY_, _APP_) instead, one `Name: value` a line",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "credentials in the URL would show up in logs; use the PULLOVER_*_USER and \
             PULLOVER_*_PASSWORD(_FILE) environment variables",
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod connection_tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<Endpoint, LiveError> {
        let endpoint = Endpoint::new("https://mimir.example/prometheus").unwrap();
        connection_from_sources(endpoint, "P", |name| {
            vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn headers_come_one_per_line_and_tls_from_its_own_variables() {
        let endpoint = from(&[
            ("P_HEADERS", "X-Scope-OrgID: tenant-1\n\nX-Extra:  a:b "),
            ("P_CA_FILE", "/etc/ca.pem"),
            ("P_INSECURE_SKIP_VERIFY", "true"),
        ])
        .unwrap();
        assert_eq!(
            endpoint.headers,
            [
                ("X-Scope-OrgID".into(), "tenant-1".into()),
                ("X-Extra".into(), "a:b".into())
            ]
        );
        assert_eq!(endpoint.tls.extra_ca_file.as_deref(), Some(Path::new("/etc/ca.pem")));
        assert!(endpoint.tls.insecure_skip_verify);
    }

    #[test]
    fn nothing_set_changes_nothing_and_a_bad_line_is_named() {
        let endpoint = from(&[]).unwrap();
        assert!(endpoint.headers.is_empty());
        assert_eq!(endpoint.tls, TlsOptions::default());
        let err = from(&[("P_HEADERS", "X-Scope-OrgID tenant-1")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("P_HEADERS holds one `Name: value` per line"), "{err}");
        let err = from(&[("P_HEADERS", "X-A: b\nAuthorization Bearer s3cr3t-token")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2 of P_HEADERS has no `:`"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
        let err = from(&[("P_INSECURE_SKIP_VERIFY", "yes")]).unwrap_err().to_string();
        assert!(err.contains("set it to true or false"), "{err}");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn auth_from(vars: &[(&str, &str)], files: &[(&str, &str)]) -> Result<Auth, LiveError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let files: HashMap<String, String> = files.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Auth::from_sources(
            &AuthEnv::for_prefix(AuthEnv::PROMETHEUS),
            |name| vars.get(name).cloned(),
            |path| {
                files
                    .get(&path.display().to_string())
                    .cloned()
                    .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
            },
        )
    }

    #[test]
    fn base_url_path_prefixes_survive_joining() {
        let mimir = Endpoint::new("https://mimir.example/prometheus").unwrap();
        assert_eq!(
            mimir.url("/api/v1/query").unwrap().as_str(),
            "https://mimir.example/prometheus/api/v1/query"
        );
        let plain = Endpoint::new("http://127.0.0.1:9090").unwrap();
        assert_eq!(
            plain.url("-/reload").unwrap().as_str(),
            "http://127.0.0.1:9090/-/reload"
        );
        let slash = Endpoint::new("https://host/prometheus/").unwrap();
        assert_eq!(
            slash.url("api/v1/targets").unwrap().as_str(),
            "https://host/prometheus/api/v1/targets"
        );
    }

    #[test]
    fn base_urls_that_would_leak_or_mislead_are_refused() {
        for bad in ["ftp://host/", "http://user:pw@host/", "http://host/?x=1", "not a url"] {
            assert!(matches!(Endpoint::new(bad), Err(LiveError::InvalidUrl { .. })), "{bad}");
        }
    }

    #[test]
    fn bearer_token_comes_from_a_file_without_its_line_break() {
        let auth = auth_from(
            &[("PULLOVER_PROMETHEUS_BEARER_TOKEN_FILE", "/run/token")],
            &[("/run/token", "s3cret\n")],
        )
        .unwrap();
        assert_eq!(auth, Auth::Bearer(Secret::new("s3cret")));
    }

    #[test]
    fn basic_auth_needs_user_and_one_password_source() {
        let auth = auth_from(
            &[
                ("PULLOVER_PROMETHEUS_USER", "ops"),
                ("PULLOVER_PROMETHEUS_PASSWORD", "pw"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(
            auth,
            Auth::Basic {
                user: "ops".into(),
                password: Secret::new("pw")
            }
        );
        let missing = auth_from(&[("PULLOVER_PROMETHEUS_USER", "ops")], &[]).unwrap_err();
        assert!(missing.to_string().contains("PULLOVER_PROMETHEUS_PASSWORD_FILE"));
        let both = auth_from(
            &[
                ("PULLOVER_PROMETHEUS_BEARER_TOKEN", "t"),
                ("PULLOVER_PROMETHEUS_USER", "ops"),
                ("PULLOVER_PROMETHEUS_PASSWORD", "pw"),
            ],
            &[],
        )
        .unwrap_err();
        assert!(both.to_string().contains("not both"), "{both}");
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let auth = auth_from(&[("PULLOVER_PROMETHEUS_BEARER_TOKEN", "")], &[]).unwrap();
        assert_eq!(auth, Auth::None);
    }

    #[test]
    fn debug_output_masks_secrets_and_credential_headers() {
        let endpoint = Endpoint::new("http://p:9090")
            .unwrap()
            .with_auth(Auth::Basic {
                user: "ops".into(),
                password: Secret::new("hunter2"),
            })
            .with_header("X-Scope-OrgID", "tenant-1")
            .with_header("X-Api-Key", "k-123");
        let shown = format!("{endpoint:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("k-123"), "{shown}");
        assert!(shown.contains("tenant-1"), "{shown}");
        assert!(shown.contains("ops"), "{shown}");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        let sleeps: Vec<u128> = (1..=4).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(sleeps, [100, 200, 350, 350]);
    }
}
