//! `--app` and `--gateway` name Compose services. A typo is an error that names the nearest
//! service, never a quiet guess; a host outside Compose is accepted only when spelled as one:
//! with a dot (`host.example`), as an IP address, `localhost`, or in the explicit
//! `external:NAME` form.

use std::net::IpAddr;

use crate::diagnostic::Diagnostic;
use crate::stack::compose::Compose;
use crate::stack::settings::Overrides;

/// The prefix that says "this host is outside Compose, on purpose".
pub const EXTERNAL: &str = "external:";

/// The flags with every name checked against the Compose services and `external:` taken off.
pub fn check(compose: Option<&Compose>, overrides: &Overrides) -> Result<Overrides, Diagnostic> {
    let mut checked = overrides.clone();
    for app in &mut checked.apps {
        let example = format!("{}:{}", app.service, app.port.unwrap_or(8080));
        app.service = check_name(compose, &app.service, "--app", &example)?;
    }
    if let Some(gateway) = &mut checked.gateway {
        let example = gateway.clone();
        *gateway = check_name(compose, gateway, "--gateway", &example)?;
    }
    Ok(checked)
}

fn check_name(compose: Option<&Compose>, name: &str, flag: &str, example: &str) -> Result<String, Diagnostic> {
    if let Some(host) = name.strip_prefix(EXTERNAL) {
        return Ok(host.to_string());
    }
    let Some(compose) = compose else {
        return Ok(name.to_string());
    };
    if compose.service(name).is_some() || spelled_as_host(name) {
        return Ok(name.to_string());
    }
    let nearest = compose
        .services
        .iter()
        .map(|s| (edit_distance(name, &s.name), s.name.as_str()))
        .min();
    let mut message = format!("no service {name} in {}", compose.file.path);
    let mut diag = match nearest {
        Some((distance, service)) if close_enough(name, distance) => {
            message.push_str(&format!("; did you mean {service}?"));
            Diagnostic::error(message).help(format!("{flag} {}", example.replacen(name, service, 1)))
        }
        _ => {
            let names: Vec<&str> = compose.services.iter().map(|s| s.name.as_str()).collect();
            Diagnostic::error(message).help(format!(
                "its services are: {}",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ))
        }
    };
    let host_example = match example.split_once(':') {
        Some((_, port)) => format!("{name}.example:{port}"),
        None => format!("{name}.example"),
    };
    diag = diag.help(format!(
        "a host outside Compose must be spelled as one: with a dot ({flag} {host_example}), an IP address, or {flag} {EXTERNAL}{example}; nothing was written"
    ));
    Err(diag.id("unknown-service"))
}

/// A name that can only be a host: it has a dot, is an IP address (v6 in brackets or not), or
/// is `localhost`.
pub fn spelled_as_host(name: &str) -> bool {
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    name.contains('.') || bare.parse::<IpAddr>().is_ok() || name == "localhost"
}

/// A suggestion is worth making when at most a third of the name (and at least two edits) differ.
fn close_enough(name: &str, distance: usize) -> bool {
    distance <= 2 || distance * 3 <= name.chars().count()
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("metrics-apy", "metrics-api"), 1);
        assert_eq!(edit_distance("pushgatway", "pushgateway"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn hosts_are_spelled_as_hosts() {
        assert!(spelled_as_host("host.example"));
        assert!(spelled_as_host("10.0.0.5"));
        assert!(spelled_as_host("[::1]"));
        assert!(spelled_as_host("localhost"));
        assert!(!spelled_as_host("metrics-apy"));
    }
}
