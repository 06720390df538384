//! The one place that sends HTTP requests: client construction (TLS, headers, auth), retries on
//! connection errors, per-attempt and overall timeouts, bounded body reads, and turning
//! transport failures into [`LiveError`]s that name the URL.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::endpoint::{Auth, Endpoint, is_sensitive_header};
use super::error::{LiveError, body_prefix};

/// Largest body read into memory. Big enough for a large `/metrics` page or a wide matrix,
/// small enough that a misbehaving server cannot exhaust memory.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A response read in full.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// From sending the (successful) attempt to the last body byte.
    pub elapsed: Duration,
}

#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    client: reqwest::Client,
    endpoint: Endpoint,
}

pub(crate) enum Body {
    Empty,
    /// `application/x-www-form-urlencoded` pairs.
    Form(Vec<(String, String)>),
}

impl HttpClient {
    pub(crate) fn new(endpoint: Endpoint) -> Result<HttpClient, LiveError> {
        let mut headers = HeaderMap::new();
        for (name, value) in &endpoint.headers {
            let invalid = |reason: String| LiveError::InvalidHeader {
                name: name.clone(),
                reason,
            };
            let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| invalid(e.to_string()))?;
            let mut header_value = HeaderValue::from_str(value).map_err(|e| invalid(e.to_string()))?;
            header_value.set_sensitive(is_sensitive_header(name));
            headers.append(header_name, header_value);
        }
        if let Auth::Bearer(token) = &endpoint.auth {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| LiveError::InvalidHeader {
                    name: "Authorization".into(),
                    reason: "the bearer token contains characters not allowed in a header".into(),
                })?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }

        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(endpoint.connect_timeout)
            .user_agent(concat!("pullover/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &endpoint.tls.extra_ca_file {
            let ca_error = |detail: String| LiveError::CaFile {
                path: path.display().to_string(),
                detail,
            };
            let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca_error(error_chain(&e)))?;
            if certs.is_empty() {
                return Err(ca_error("no PEM certificate found".into()));
            }
            builder = builder.tls_certs_merge(certs);
        }
        if endpoint.tls.insecure_skip_verify {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let client = builder.build().map_err(|e| LiveError::Client {
            detail: error_chain(&e),
        })?;
        Ok(HttpClient { client, endpoint })
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// `GET /-/ready`: `Ok` once the server (Prometheus or Pushgateway) serves requests.
    pub(crate) async fn ready(&self) -> Result<(), LiveError> {
        let response = self.send(Method::GET, "-/ready", Body::Empty, "text/plain").await?;
        if response.status == 200 {
            Ok(())
        } else {
            Err(status_error(&response))
        }
    }

    /// Sends one request, retrying connection errors with exponential backoff, all within
    /// the endpoint's overall timeout. Returns any HTTP status; callers decide what a status
    /// means.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Body,
        accept: &str,
    ) -> Result<RawResponse, LiveError> {
        let url = self.endpoint.url(path)?;
        let overall = self.endpoint.retry.overall_timeout;
        match tokio::time::timeout(overall, self.send_with_retries(method, &url, &body, accept)).await {
            Ok(result) => result,
            Err(_) => Err(LiveError::Timeout {
                url: url.to_string(),
                after: overall,
            }),
        }
    }

    async fn send_with_retries(
        &self,
        method: Method,
        url: &Url,
        body: &Body,
        accept: &str,
    ) -> Result<RawResponse, LiveError> {
        let policy = &self.endpoint.retry;
        let mut attempt = 1;
        loop {
            match self.attempt(method.clone(), url, body, accept).await {
                Err(Attempt::Connect(err)) if attempt < policy.max_attempts.max(1) => {
                    // Only failures before the request reached the server are retried.
                    drop(err);
                    tokio::time::sleep(policy.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(Attempt::Connect(err) | Attempt::Other(err)) => return Err(err),
                Ok(response) => return Ok(response),
            }
        }
    }

    async fn attempt(&self, method: Method, url: &Url, body: &Body, accept: &str) -> Result<RawResponse, Attempt> {
        let url_text = url.to_string();
        let mut request = self
            .client
            .request(method, url.clone())
            .timeout(self.endpoint.timeout)
            .header(reqwest::header::ACCEPT, accept);
        if let Auth::Basic { user, password } = &self.endpoint.auth {
            request = request.basic_auth(user, Some(password.expose()));
        }
        request = match body {
            Body::Empty => request,
            Body::Form(pairs) => request.form(pairs),
        };

        let started = Instant::now();
        let mut response = request
            .send()
            .await
            .map_err(|err| classify(&url_text, &err, self.endpoint.timeout))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let mut body_bytes = Vec::new();
        loop {
            // A failure while reading the body is never retried: the server got the request.
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body_bytes.len() + chunk.len() > MAX_BODY_BYTES {
                        return Err(Attempt::Other(LiveError::BodyTooLarge {
                            url: url_text,
                            limit: MAX_BODY_BYTES,
                        }));
                    }
                    body_bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(err) => {
                    return Err(Attempt::Other(match classify(&url_text, &err, self.endpoint.timeout) {
                        Attempt::Connect(e) | Attempt::Other(e) => e,
                    }));
                }
            }
        }
        Ok(RawResponse {
            url: url_text,
            status,
            content_type,
            body: body_bytes,
            elapsed: started.elapsed(),
        })
    }
}

enum Attempt {
    /// The request did not reach the server: retrying is safe.
    Connect(LiveError),
    Other(LiveError),
}

fn classify(url: &str, err: &reqwest::Error, timeout: Duration) -> Attempt {
    let url = url.to_string();
    if err.is_connect() {
        if has_io_kind(err, std::io::ErrorKind::ConnectionRefused) {
            return Attempt::Connect(LiveError::ConnectionRefused { url });
        }
        if err.is_timeout() || has_io_kind(err, std::io::ErrorKind::TimedOut) {
            return Attempt::Connect(LiveError::Connect {
                url,
                detail: format!("connect timed out after {}", super::error::seconds_text(timeout)),
            });
        }
        return Attempt::Connect(LiveError::Connect {
            url,
            detail: error_chain(err),
        });
    }
    if err.is_timeout() {
        return Attempt::Other(LiveError::Timeout { url, after: timeout });
    }
    Attempt::Other(LiveError::Request {
        url,
        detail: error_chain(err),
    })
}

fn has_io_kind(err: &(dyn std::error::Error + 'static), kind: std::io::ErrorKind) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(error) = current {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && io.kind() == kind
        {
            return true;
        }
        current = error.source();
    }
    false
}

/// `outer: inner: innermost`, skipping repeats (reqwest and hyper often nest the same text).
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(error) = current {
        let text = error.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = error.source();
    }
    parts.join(": ")
}

/// Prometheus's JSON envelope: `{"status":"success","data":…,"warnings":[…]}` or
/// `{"status":"error","errorType":…,"error":…}`.
#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

/// Decodes an API response, turning every way it can be wrong into a [`LiveError`] that
/// carries the URL, the status and the start of the body.
pub(crate) fn decode_api<T: DeserializeOwned>(response: &RawResponse) -> Result<(T, Vec<String>), LiveError> {
    let ok_status = (200..300).contains(&response.status);
    match serde_json::from_slice::<Envelope<T>>(&response.body) {
        Ok(envelope) if envelope.status == "success" && ok_status => match envelope.data {
            Some(data) => Ok((data, envelope.warnings)),
            None => Err(decode_error(response, "\"data\" is missing".into())),
        },
        Ok(envelope) if envelope.status == "error" => Err(LiveError::Api {
            url: response.url.clone(),
            status: response.status,
            error_type: envelope.error_type.unwrap_or_else(|| "unknown".into()),
            error: envelope.error.unwrap_or_default(),
        }),
        Ok(envelope) => {
            if ok_status {
                Err(decode_error(
                    response,
                    format!("unknown \"status\": {:?}", envelope.status),
                ))
            } else {
                Err(status_error(response))
            }
        }
        Err(typed_error) => {
            // The typed parse failed; an error envelope or a non-2xx status says more.
            if let Ok(envelope) = serde_json::from_slice::<Envelope<serde::de::IgnoredAny>>(&response.body)
                && envelope.status == "error"
            {
                return Err(LiveError::Api {
                    url: response.url.clone(),
                    status: response.status,
                    error_type: envelope.error_type.unwrap_or_else(|| "unknown".into()),
                    error: envelope.error.unwrap_or_default(),
                });
            }
            if ok_status {
                Err(decode_error(response, typed_error.to_string()))
            } else {
                Err(status_error(response))
            }
        }
    }
}

pub(crate) fn status_error(response: &RawResponse) -> LiveError {
    LiveError::Status {
        url: response.url.clone(),
        status: response.status,
        body: body_prefix(&response.body),
    }
}

fn decode_error(response: &RawResponse, detail: String) -> LiveError {
    LiveError::Decode {
        url: response.url.clone(),
        status: response.status,
        detail,
        body: body_prefix(&response.body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> RawResponse {
        RawResponse {
            url: "http://p/api/v1/query".into(),
            status,
            content_type: None,
            body: body.as_bytes().to_vec(),
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn api_errors_carry_prometheus_error_type_and_text() {
        let err = decode_api::<serde_json::Value>(&response(
            400,
            r#"{"status":"error","errorType":"bad_data","error":"1:13: parse error"}"#,
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "http://p/api/v1/query: HTTP 400: Prometheus error bad_data: 1:13: parse error"
        );
    }

    #[test]
    fn html_from_a_proxy_is_a_status_error_with_the_body_start() {
        let err = decode_api::<serde_json::Value>(&response(502, "<html>Bad gateway</html>")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "http://p/api/v1/query: HTTP 502: <html>Bad gateway</html>"
        );
    }

    #[test]
    fn invalid_json_with_200_is_a_decode_error() {
        let err = decode_api::<Vec<u32>>(&response(200, "{\"status\":\"success\",\"data\":{")).unwrap_err();
        assert!(matches!(err, LiveError::Decode { status: 200, .. }), "{err}");
    }

    #[test]
    fn an_extra_ca_file_without_certificates_is_refused_by_name() {
        let dir = std::env::temp_dir().join(format!("pullover-ca-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let endpoint =
            Endpoint::new("https://prometheus.example/")
                .unwrap()
                .with_tls(super::super::endpoint::TlsOptions {
                    extra_ca_file: Some(path.clone()),
                    insecure_skip_verify: false,
                });
        let err = HttpClient::new(endpoint).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(err, LiveError::CaFile { .. }), "{err}");
        assert!(err.to_string().contains("ca.pem"), "{err}");
    }

    #[test]
    fn form_bodies_escape_promql() {
        let pairs: Vec<(String, String)> = vec![("query".into(), r#"sum by (page)(rate(x{a="b c&d"}[5m]))"#.into())];
        let request = reqwest::Client::new()
            .post("http://127.0.0.1:9/api/v1/query")
            .form(&pairs)
            .build()
            .unwrap();
        let encoded = std::str::from_utf8(request.body().and_then(|b| b.as_bytes()).unwrap()).unwrap();
        assert_eq!(
            request.headers()[reqwest::header::CONTENT_TYPE],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(
            encoded,
            "query=sum+by+%28page%29%28rate%28x%7Ba%3D%22b+c%26d%22%7D%5B5m%5D%29%29"
        );
    }
}
