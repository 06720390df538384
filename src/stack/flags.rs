//! `--app` and `--gateway` name Compose services, and so do `service:` under `apps:` and
//! `gateway:` in pullover.yaml. A typo is an error that names the nearest service, never a
//! quiet guess; a host outside Compose is accepted only when spelled as one: with a dot
//! (`host.example`), as an IP address, `localhost`, or (flags only) in the explicit
//! `external:NAME` form.

use std::net::IpAddr;

use crate::diagnostic::Diagnostic;
use crate::stack::compose::Compose;
use crate::stack::settings::{EXTERNAL, Overrides, SettingsFile};
use crate::stack::source::SourceFile;

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
    let mut message = format!("no service {name} in {}", compose.file.path);
    let mut diag = match nearest_service(compose, name) {
        Some(service) => {
            message.push_str(&format!("; did you mean {service}?"));
            Diagnostic::error(message).help(format!("{flag} {}", example.replacen(name, service, 1)))
        }
        None => Diagnostic::error(message).help(services_list(compose)),
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

/// The service `name` is most likely a typo of, when one is close enough.
fn nearest_service<'a>(compose: &'a Compose, name: &str) -> Option<&'a str> {
    compose
        .services
        .iter()
        .map(|s| (edit_distance(name, &s.name), s.name.as_str()))
        .min()
        .filter(|(distance, _)| close_enough(name, *distance))
        .map(|(_, service)| service)
}

fn services_list(compose: &Compose) -> String {
    let names: Vec<&str> = compose.services.iter().map(|s| s.name.as_str()).collect();
    format!(
        "its services are: {}",
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    )
}

/// `service:` of each app and of the gateway in pullover.yaml, checked against the Compose
/// services as the flags are: an unknown name not spelled as a host is an error at its place
/// in the file, naming the nearest service.
pub fn check_settings(compose: Option<&Compose>, settings: &SettingsFile, file: &SourceFile) -> Result<(), Diagnostic> {
    let Some(compose) = compose else {
        return Ok(());
    };
    let names = settings.apps.iter().map(|app| ("apps", app.service.as_str())).chain(
        settings
            .gateway
            .iter()
            .filter_map(|g| g.service.as_deref())
            .map(|service| ("gateway", service)),
    );
    for (section, name) in names {
        if compose.service(name).is_some() || spelled_as_host(name) {
            continue;
        }
        let mut message = format!(
            "{}: `service: {name}` under `{section}:` is not a service of {}",
            file.path, compose.file.path
        );
        let mut diag = match nearest_service(compose, name) {
            Some(service) => {
                message.push_str(&format!("; did you mean {service}?"));
                Diagnostic::error(message).help(format!("service: {service}"))
            }
            None => Diagnostic::error(message).help(services_list(compose)),
        };
        if let Some(span) = service_value_span(file.text(), name) {
            diag = diag.at(file, span, "not a Compose service");
        }
        diag = diag.help(format!(
            "a host outside Compose must be spelled as one: with a dot ({name}.example) or an IP address; nothing was written"
        ));
        return Err(diag.id("unknown-service"));
    }
    Ok(())
}

/// Where `name` is written as the value of a `service:` key (quoted or not), for the snippet.
fn service_value_span(text: &str, name: &str) -> Option<std::ops::Range<usize>> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_start().trim_start_matches("- ").trim_start();
        if let Some(rest) = body.strip_prefix("service:") {
            let value = rest.trim_start();
            let unquoted = value.trim_start_matches(['"', '\'']);
            if unquoted.starts_with(name) {
                let start = offset + (line.len() - unquoted.len());
                return Some(start..start + name.len());
            }
        }
        offset += line.len();
    }
    None
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
