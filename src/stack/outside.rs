//! Files the stack's services load from outside the stack folder. pullover
//! reads and edits only files inside `--stack`, so these are never read: not
//! silently, though. Each one is a finding naming the mount (or setting), so
//! the operator knows which rules, dashboards or code the plan did not see.

use super::Stack;
use super::compose::{Compose, Mount};
use super::discover::{is_grafana_service, is_prometheus_service};
use super::source::RelPath;
use crate::changeset::finding_id::FindingId;
use crate::changeset::{Finding, Location, Severity};

/// Where a bind mount's host path is, when it is outside the stack: an
/// absolute path, `~`, a variable, or `../` past the root.
fn outside_source(compose: &Compose, mount: &Mount) -> Option<String> {
    if !mount.bind {
        return None;
    }
    let source = mount.source.as_deref()?;
    let plain = source.strip_prefix("./").unwrap_or(source);
    let outside =
        plain.starts_with(['/', '~', '$']) || RelPath::join_relative(compose.file.path.parent(), plain).is_err();
    outside.then(|| source.to_string())
}

fn located(finding: Finding, compose: &Compose, needles: &[&str]) -> Finding {
    match needles.iter().find_map(|needle| compose.file.text().find(needle)) {
        Some(at) => finding.at(Location::at(&compose.file, at)),
        None => finding,
    }
}

/// One finding per bind mount from outside the stack into Prometheus or
/// Grafana, per `rule_files` pattern loaded through one, and per app code
/// folder that is not in the stack.
pub fn findings(stack: &Stack) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(compose) = &stack.compose {
        for service in &compose.services {
            let role = if is_prometheus_service(service) {
                "Prometheus loads its configuration and rule files"
            } else if is_grafana_service(service) {
                "Grafana loads its provisioning and dashboards"
            } else {
                continue;
            };
            for mount in &service.volumes {
                let Some(source) = outside_source(compose, mount) else {
                    continue;
                };
                let rules: Vec<&str> = stack
                    .rule_patterns
                    .iter()
                    .filter(|(pattern, host)| host.is_none() && pattern.starts_with(mount.target.trim_end_matches('/')))
                    .map(|(pattern, _)| pattern.as_str())
                    .collect();
                let what = if rules.is_empty() {
                    String::new()
                } else {
                    format!(" (`rule_files: {}`)", rules.join("`, `"))
                };
                let finding = Finding::new(
                    FindingId::MountOutsideStack,
                    Severity::Hazard,
                    format!(
                        "service {} mounts `{source}` at {}{what}, outside the stack folder: {role} from there, and pullover neither reads nor rewrites those files",
                        service.name, mount.target
                    ),
                )
                .tip("copy those files into the stack and mount them from there, or run pullover with --stack on the folder that holds them");
                let short = format!("{source}:{}", mount.target);
                let long = format!("source: {source}");
                out.push(located(finding, compose, &[&short, &long, &source]));
            }
        }
        for service in &compose.services {
            if let Some(build) = &service.build
                && build.starts_with(['/', '~'])
            {
                let finding = Finding::new(
                    FindingId::CodeOutsideStack,
                    Severity::Todo,
                    format!(
                        "service {} is built from `{build}`, outside the stack folder: its push calls are not read, and the docs phase does not list them",
                        service.name
                    ),
                )
                .tip("check that code by hand for Pushgateway pushes");
                out.push(located(finding, compose, &[build]));
            }
        }
    }
    // `rule_files` that map to no file of the stack for another reason than a mount
    // (a relative pattern that leaves the stack).
    for (pattern, host) in &stack.rule_patterns {
        if host.is_none() && !pattern.starts_with('/') {
            out.push(Finding::new(
                FindingId::RuleFilesOutsideStack,
                Severity::Hazard,
                format!("`rule_files: {pattern}` in {} points outside the stack folder: those rules are neither read nor rewritten", stack.prometheus.file.path),
            ));
        }
    }
    if let Some(settings) = &stack.settings_file {
        for app in &settings.apps {
            for code in &app.code {
                if RelPath::new(code.clone()).is_err() {
                    out.push(
                        Finding::new(
                            FindingId::CodeOutsideStack,
                            Severity::Todo,
                            format!(
                                "`code: {code}` of app {} in pullover.yaml is outside the stack folder: its push calls are not read",
                                app.service
                            ),
                        )
                        .tip("set `code:` to folders inside the stack, or check that code by hand for Pushgateway pushes"),
                    );
                }
            }
        }
    }
    out
}
