//! What `remove` leaves for a person, with file and line: push logic in the
//! app code, gateway settings in env files, and rules and panels that read
//! series only the Pushgateway had. pullover reads these files; it does not
//! edit them in this phase.

use std::collections::HashMap;

use super::{DUAL_RUN_DASHBOARD, DUAL_RUN_RULE_FILE, is_gateway_env};
use crate::changeset::finding_id::FindingId;
use crate::changeset::{Finding, Location, Severity};
use crate::dashboard::SiteKind;
use crate::edit::yaml::{YamlDoc, scalar_string};
use crate::promql::{self, AppMapping, QueryFindingKind, SeriesMapping};
use crate::stack::app_code::spring::SpringConfig;
use crate::stack::prometheus::rules;
use crate::stack::source::{RelPath, SourceFile};
use crate::stack::{DashboardFile, Gateway, Stack};

/// How a line of code reads an environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadKind {
    /// With a fallback or as "maybe missing" (`process.env.X || '…'`,
    /// `os.environ.get("X", …)`, `os.Getenv("X")`).
    Optional,
    /// Without one (`os.environ["X"]`, `ENV.fetch("X")`), or in a way
    /// pullover does not recognise: treated as required.
    Required,
}

#[derive(Debug, Clone)]
pub(crate) struct EnvRead<'f> {
    pub file: &'f SourceFile,
    /// Byte offset of the variable's name on the line.
    pub offset: usize,
    pub kind: ReadKind,
}

/// Ways code reaches its environment, in the languages apps that push are written in.
const ENV_ACCESS: [&str; 12] = [
    "process.env",
    "os.environ",
    "getenv",
    "Getenv",
    "LookupEnv",
    "ENV[",
    "ENV.fetch",
    "env::var",
    "$_ENV",
    "GetEnvironmentVariable",
    "System.env",
    "Deno.env",
];

/// Signs on the reading line that a missing variable is handled.
const FALLBACK: [&str; 9] = [
    "||",
    "??",
    ".get(",
    "getenv(",
    "Getenv(",
    "LookupEnv(",
    "unwrap_or",
    "ENV.fetch(\"",
    " or ",
];

/// Every line of `code` that reads the environment variable `key`.
pub(crate) fn env_reads<'f>(code: &'f [SourceFile], key: &str) -> Vec<EnvRead<'f>> {
    let mut reads = Vec::new();
    for file in code {
        for (start, line) in lines_with_offsets(file.text()) {
            if is_comment(line) || !ENV_ACCESS.iter().any(|a| line.contains(a)) {
                continue;
            }
            let Some(at) = find_word(line, key) else { continue };
            let after_key = &line[at + key.len()..];
            // Python's `os.environ["X"]` raises before any `or` is looked at.
            let before_key = line[..at].trim_end_matches(['"', '\'']);
            let subscript = before_key.ends_with("environ[");
            let optional = !subscript
                && FALLBACK.iter().any(|f| match *f {
                    // `ENV.fetch("X", default)`: a second argument is the fallback.
                    "ENV.fetch(\"" => line.contains(f) && after_key.trim_start_matches(['"', '\'']).starts_with(','),
                    "||" | "??" | " or " | "unwrap_or" => after_key.contains(f),
                    _ => line.contains(f),
                });
            reads.push(EnvRead {
                file,
                offset: start + at,
                kind: if optional {
                    ReadKind::Optional
                } else {
                    ReadKind::Required
                },
            });
        }
    }
    reads
}

/// Calls that push to a Pushgateway, per client library.
const PUSH_CALLS: [&str; 10] = [
    "Pushgateway(",
    "pushAdd(",
    "push_to_gateway",
    "pushadd_to_gateway",
    "delete_from_gateway",
    "push.New(",
    "prometheus/push\"",
    "PushGateway(",
    "Prometheus::Client::Push",
    "Pushgateway::new",
];

/// Push logic in the code of every service built from the stack.
/// Files `--remove-push-code` edits (`removed`) have none left.
pub(super) fn push_logic(stack: &Stack, gateway: &Gateway, removed: &[RelPath]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for service in &stack.service_files {
        if Some(service.service.as_str()) == gateway.service.as_deref() {
            continue;
        }
        for file in service.code.iter().filter(|f| !removed.contains(&f.path)) {
            for (start, line) in lines_with_offsets(file.text()) {
                if is_comment(line) {
                    continue;
                }
                let Some((at, call)) = PUSH_CALLS.iter().filter_map(|c| Some((line.find(c)?, *c))).min() else {
                    continue;
                };
                let indent = line.len() - line.trim_start().len();
                let call = call.trim_end_matches(['(', '"']);
                findings.push(
                    Finding::new(
                        FindingId::PushLogic,
                        Severity::Todo,
                        format!("{} still pushes to the Pushgateway (`{call}`)", service.service),
                    )
                    .tip("remove the push calls (and their client set-up); Prometheus scrapes /metrics now; `--remove-push-code` plans that for prom-client, prometheus_client, client_golang and simpleclient")
                    .at(Location::at(file, start + indent.min(at))),
                );
            }
        }
    }
    findings.extend(spring_push_logic(stack, removed));
    findings
}

/// A Spring Boot app's push is its config (Micrometer's Pushgateway switch on), not a call:
/// listed the same way while it stays on.
fn spring_push_logic(stack: &Stack, removed: &[RelPath]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut seen = Vec::new();
    for app in &stack.settings.apps {
        for file in stack.code_of(app) {
            if removed.contains(&file.path) || seen.contains(&file.path) {
                continue;
            }
            seen.push(file.path.clone());
            let Some(config) = SpringConfig::read(file.path.as_str(), file.text()) else {
                continue;
            };
            let Some(enabled) = config.push_enabled() else { continue };
            findings.push(
                Finding::new(
                    FindingId::PushLogic,
                    Severity::Todo,
                    format!(
                        "{} still pushes to the Pushgateway (`{}: true`)",
                        app.service, enabled.key
                    ),
                )
                .tip("set it to false (Prometheus scrapes /actuator/prometheus now); `--remove-push-code` plans that")
                .at(Location::at(file, enabled.offset)),
            );
        }
    }
    findings
}

/// `KEY=value` lines of env files that point at the gateway: pullover does
/// not edit env files (they often hold secrets and are not in the repository).
pub(super) fn env_file_entries(stack: &Stack, gateway: &Gateway) -> Vec<Finding> {
    let mut findings = Vec::new();
    for service in &stack.service_files {
        for file in &service.env_files {
            for (start, line) in lines_with_offsets(file.text()) {
                let trimmed = line.trim_start();
                if trimmed.starts_with('#') {
                    continue;
                }
                let assignment = trimmed.strip_prefix("export ").unwrap_or(trimmed);
                let Some((key, value)) = assignment.split_once('=') else {
                    continue;
                };
                let key = key.trim();
                let value = value.trim().trim_matches(['"', '\'']);
                if !is_gateway_env(key, Some(value), gateway) {
                    continue;
                }
                let indent = line.len() - trimmed.len();
                findings.push(
                    Finding::new(
                        FindingId::EnvFileEntry,
                        Severity::Todo,
                        format!("`{key}` in {} still points at the Pushgateway", file.path),
                    )
                    .tip(format!(
                        "pullover does not edit env files: remove it by hand once {} no longer pushes",
                        service.service
                    ))
                    .at(Location::at(file, start + indent)),
                );
            }
        }
    }
    findings
}

/// How pushed series are labelled today, for reading queries.
fn series_mapping(stack: &Stack, gateway: &Gateway) -> SeriesMapping {
    let gateway_job = gateway.job_label();
    let gateway_instances = gateway.instance_labels(&stack.prometheus);
    SeriesMapping {
        honor_labels: gateway.honor_labels,
        gateway_job,
        gateway_instances,
        apps: stack
            .settings
            .apps
            .iter()
            .map(|app| AppMapping {
                pushed_job: app.pushed_job.clone(),
                pushed_instances: app.pushed_instances.clone(),
                scrape_job: app.job.clone(),
                scrape_instance: app.target(),
                metrics: app.metrics.clone(),
            })
            .collect(),
    }
}

/// What happens to a query once the gateway is gone.
enum Fate {
    /// It reads series only the gateway had (`push_time_seconds`, its own
    /// `up`): it goes empty. The message and suggestion of the first such selector.
    GoesEmpty {
        message: String,
        suggestion: Option<String>,
    },
    /// It still selects pushed series the `dashboards` phase would rewrite.
    StillPushed,
}

/// Read as the stack's own Prometheus reads it (a 2.x `holt_winters` query is one like any other).
fn fate(query: &str, mapping: &SeriesMapping, dialect: &promql::Dialect) -> Option<Fate> {
    let rewrite = promql::rewrite_query_in(query, mapping, dialect).ok()?;
    if let Some(finding) = rewrite
        .findings
        .iter()
        .find(|f| f.kind == QueryFindingKind::NoScrapedEquivalent)
    {
        return Some(Fate::GoesEmpty {
            message: finding.message.clone(),
            suggestion: finding.suggestion.clone(),
        });
    }
    // Whose series it reads cannot be told (the gateway's or an app's under one job): either
    // way they go with the gateway.
    if let Some(finding) = rewrite
        .findings
        .iter()
        .find(|f| f.kind == QueryFindingKind::AmbiguousApp && f.blocks_rewrite)
    {
        return Some(Fate::GoesEmpty {
            message: finding.message.clone(),
            suggestion: finding.suggestion.clone(),
        });
    }
    rewrite.text.is_some().then_some(Fate::StillPushed)
}

/// Alerting and recording rules that read the gateway's own series or still
/// select pushed ones. Rules are not edited here.
pub(super) fn rules_on_gateway_series(stack: &Stack, gateway: &Gateway) -> Vec<Finding> {
    let mapping = series_mapping(stack, gateway);
    let mut findings = Vec::new();
    for file in stack
        .rule_files
        .iter()
        .filter(|f| f.path.file_name() != DUAL_RUN_RULE_FILE)
    {
        let Ok(doc) = YamlDoc::parse(file.text()) else { continue };
        for (route, rule) in rules(&doc) {
            let Some(expr) = rule.get("expr").and_then(scalar_string) else {
                continue;
            };
            let name = rule
                .get("alert")
                .and_then(scalar_string)
                .map(|n| format!("alert `{n}`"))
                .or_else(|| {
                    rule.get("record")
                        .and_then(scalar_string)
                        .map(|n| format!("rule `{n}`"))
                })
                .unwrap_or_else(|| "a rule".to_string());
            let offset = doc.find(&route.clone().key("expr")).map_or(0, |n| n.range().start);
            let location = Location::at(file, offset).with_context(name.clone());
            match fate(&expr, &mapping, &stack.prometheus_dialect) {
                Some(Fate::GoesEmpty { message, suggestion }) => {
                    let tip = match suggestion {
                        Some(s) => format!(
                            "rewrite it (e.g. on `{s}`) or delete it; pullover does not edit rules in this phase"
                        ),
                        None => "rewrite or delete it; pullover does not edit rules in this phase".to_string(),
                    };
                    findings.push(
                        Finding::new(
                            FindingId::RuleOnGatewaySeries,
                            Severity::Todo,
                            format!("{name} reads what goes away with the Pushgateway: {message}"),
                        )
                        .tip(tip)
                        .at(location),
                    );
                }
                Some(Fate::StillPushed) => findings.push(
                    Finding::new(
                        FindingId::RuleOnPushedSeries,
                        Severity::Hazard,
                        format!("{name} still selects the pushed series, which stop with the Pushgateway"),
                    )
                    .tip("apply the `dashboards` phase first: it rewrites rule queries to the scraped series")
                    .at(location),
                ),
                None => {}
            }
        }
    }
    findings
}

/// Dashboards with queries that go empty or still select pushed series: one
/// finding per dashboard, naming the panels.
pub(super) fn dashboards_on_gateway_series(stack: &Stack, gateway: &Gateway) -> Vec<Finding> {
    let mapping = series_mapping(stack, gateway);
    let dashboards: Vec<&DashboardFile> = stack
        .dashboards
        .iter()
        .filter(|d| d.file.path.file_name() != DUAL_RUN_DASHBOARD)
        .collect();
    // The dashboards in parts, on every core; the findings in file order. A query copied into
    // many dashboards is decided once per part.
    let dialect = &stack.prometheus_dialect;
    crate::parallel::parts_in_parallel(dashboards, |part| {
        let mut decided = HashMap::new();
        part.into_iter()
            .flat_map(|dashboard| dashboard_on_gateway_series(dashboard, &mapping, dialect, &mut decided))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

fn dashboard_on_gateway_series<'d>(
    dashboard: &'d DashboardFile,
    mapping: &SeriesMapping,
    dialect: &promql::Dialect,
    decided: &mut HashMap<&'d str, Option<Fate>>,
) -> Vec<Finding> {
    let file = &dashboard.file;
    let Ok(scan) = &dashboard.scan else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    let title = scan.title.clone().unwrap_or_else(|| file.path.file_name().to_string());
    let mut empty = Vec::new();
    let mut pushed = Vec::new();
    for site in scan.sites.iter().filter(|s| s.kind != SiteKind::PanelLink) {
        let fate = decided
            .entry(site.value.as_str())
            .or_insert_with(|| fate(&site.value, mapping, dialect));
        match fate {
            Some(Fate::GoesEmpty { .. }) => empty.push(site),
            Some(Fate::StillPushed) => pushed.push(site),
            None => {}
        }
    }
    for (sites, id, severity, what, tip) in [
        (
            empty,
            FindingId::PanelOnGatewaySeries,
            Severity::Todo,
            "read what goes away with the Pushgateway (its own metrics, push times)",
            "rewrite or delete them; the `dashboards` phase suggested replacements",
        ),
        (
            pushed,
            FindingId::PanelOnPushedSeries,
            Severity::Hazard,
            "still select the pushed series, which stop with the Pushgateway",
            "apply the `dashboards` phase first: it rewrites them to the scraped series",
        ),
    ] {
        let Some(first) = sites.first() else { continue };
        let mut owners: Vec<String> = Vec::new();
        for site in &sites {
            let owner = site.owner.to_string();
            if !owners.contains(&owner) {
                owners.push(owner);
            }
        }
        let count = sites.len();
        findings.push(
            Finding::new(
                id,
                severity,
                format!(
                    "{count} quer{} of dashboard {title:?} {what}: {}",
                    if count == 1 { "y" } else { "ies" },
                    owners.join(", ")
                ),
            )
            .tip(tip)
            .at(Location::at(file, first.literal.start).with_context(first.owner.to_string())),
        );
    }
    findings
}

/// Lines with the byte offset they start at (line breaks not included).
fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |line| {
        let start = offset;
        offset += line.len();
        (start, line.trim_end_matches(['\n', '\r']))
    })
}

fn is_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('#') || t.starts_with("//") || t.starts_with("/*") || t.starts_with('*')
}

/// Offset of `word` in `line` where it is not part of a longer identifier.
fn find_word(line: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    line.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = line[..i].chars().next_back();
        let after = line[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::source::RelPath;

    fn code(path: &str, text: &str) -> SourceFile {
        SourceFile::from_text(RelPath::new(path).unwrap(), text, 0o644)
    }

    fn kinds(text: &str, key: &str) -> Vec<ReadKind> {
        let files = [code("app/main", text)];
        env_reads(&files, key).into_iter().map(|r| r.kind).collect()
    }

    #[test]
    fn reads_with_a_fallback_are_optional_and_plain_reads_are_required() {
        use ReadKind::*;
        assert_eq!(
            kinds(
                "const U = process.env.PUSHGATEWAY_URL || 'http://x';\n",
                "PUSHGATEWAY_URL"
            ),
            [Optional]
        );
        assert_eq!(
            kinds("const U = process.env.PUSHGATEWAY_URL ?? 'x';\n", "PUSHGATEWAY_URL"),
            [Optional]
        );
        assert_eq!(
            kinds("const U = process.env.PUSHGATEWAY_URL;\n", "PUSHGATEWAY_URL"),
            [Required]
        );
        assert_eq!(
            kinds("G = os.environ.get(\"PUSHGATEWAY\", \"pgw:9091\")\n", "PUSHGATEWAY"),
            [Optional]
        );
        assert_eq!(kinds("G = os.environ[\"PUSHGATEWAY\"]\n", "PUSHGATEWAY"), [Required]);
        assert_eq!(
            kinds("g := os.Getenv(\"PUSHGATEWAY_URL\")\n", "PUSHGATEWAY_URL"),
            [Optional]
        );
        assert_eq!(
            kinds("g = ENV.fetch(\"PUSHGATEWAY_URL\")\n", "PUSHGATEWAY_URL"),
            [Required]
        );
        assert_eq!(
            kinds("g = ENV.fetch(\"PUSHGATEWAY_URL\", \"x\")\n", "PUSHGATEWAY_URL"),
            [Optional]
        );
        // Mentions that are not reads: comments, docstrings, longer names.
        assert_eq!(kinds("# os.environ[\"PUSHGATEWAY\"]\n", "PUSHGATEWAY"), []);
        assert_eq!(
            kinds("\"\"\"Pushes to PUSHGATEWAY every minute.\"\"\"\n", "PUSHGATEWAY"),
            []
        );
        assert_eq!(kinds("x = os.environ[\"PUSHGATEWAY_URL\"]\n", "PUSHGATEWAY"), []);
        // The fallback must follow the variable it is for.
        assert_eq!(
            kinds(
                "A = os.environ[\"OTHER\"] or os.environ.get(\"PUSHGATEWAY\")\n",
                "OTHER"
            ),
            [Required]
        );
        assert_eq!(
            kinds(
                "A = os.environ[\"OTHER\"] or os.environ.get(\"PUSHGATEWAY\")\n",
                "PUSHGATEWAY"
            ),
            [Optional]
        );
    }

    #[test]
    fn a_read_points_at_its_line() {
        let files = [code(
            "app/server.js",
            "// setup\nconst U = process.env.PUSHGATEWAY_URL || 'x';\n",
        )];
        let reads = env_reads(&files, "PUSHGATEWAY_URL");
        assert_eq!(files[0].line_col(reads[0].offset), (2, 23));
    }
}
