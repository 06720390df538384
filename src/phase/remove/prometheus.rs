//! The prometheus.yml side of `remove`: stop scraping the gateway, unload the
//! dual-run rules.

use yaml_serde::Value;

use super::{DUAL_RUN_RULE_FILE, points_at};
use crate::changeset::finding_id::FindingId;
use crate::changeset::{Finding, Location, Severity};
use crate::edit::yaml::{ItemMatch, Route, YamlEdit, scalar_string};
use crate::stack::prometheus::{PromConfig, ScrapeJob};
use crate::stack::{Gateway, Stack};

pub(super) struct Outcome {
    pub edits: Vec<YamlEdit>,
    pub findings: Vec<Finding>,
    /// What the edits do, for the reviewer.
    pub because: Vec<String>,
}

pub(super) fn plan(stack: &Stack, gateway: &Gateway) -> Outcome {
    let prom = &stack.prometheus;
    let mut out = Outcome {
        edits: Vec::new(),
        findings: Vec::new(),
        because: Vec::new(),
    };
    let raw_jobs: Vec<Value> = prom
        .doc
        .value()
        .get("scrape_configs")
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    // The gateway as a Prometheus outside Compose reaches it: its published host port.
    let aliases = match (&stack.compose, gateway.service.as_deref()) {
        (Some(compose), Some(service)) => crate::stack::discover::published_aliases(compose, service, gateway.port),
        _ => Vec::new(),
    };
    let is_gateway = |t: &str| is_gateway_target(t, gateway) || aliases.iter().any(|a| a == t);
    let mut removed_jobs = Vec::new();
    let mut trimmed_jobs = 0;
    let mut by_labels = false;
    for job in &prom.jobs {
        let Some(raw) = raw_jobs
            .iter()
            .find(|j| j.get("job_name").and_then(scalar_string).as_deref() == Some(job.name.as_str()))
        else {
            continue;
        };
        let job_route = Route::root().key("scrape_configs").item(ItemMatch::Field {
            key: "job_name".into(),
            value: job.name.clone(),
        });
        let location = Location::at(&prom.file, job.offset);
        match job_fate(stack, gateway, job, raw, &is_gateway) {
            JobFate::StaysFindingOthersByLabels => {
                out.findings.push(found_by_docker_labels(job).at(location));
                by_labels = true;
            }
            JobFate::Removed { only_by_setting } => {
                if only_by_setting {
                    out.findings.push(removed_by_setting(job, gateway).at(location));
                }
                out.edits.push(YamlEdit::Remove { route: job_route });
                removed_jobs.push(job.name.clone());
            }
            JobFate::GatewayTargetsRemoved => {
                out.edits.extend(gateway_targets_removed(raw, &job_route, &is_gateway));
                out.findings.push(
                    Finding::new(
                        FindingId::GatewayTargetRemoved,
                        Severity::Hazard,
                        format!(
                            "job `{}` scraped {} next to other targets: only that target was removed",
                            job.name,
                            gateway.address()
                        ),
                    )
                    .tip("check the job's `honor_labels` and relabelling still suit the targets left")
                    .at(location),
                );
                out.because
                    .push(format!("stop scraping {} in job `{}`", gateway.address(), job.name));
                trimmed_jobs += 1;
            }
            JobFate::LeftNamingGateway => {
                out.findings.push(
                    Finding::new(
                        FindingId::GatewayByServiceDiscovery,
                        Severity::Hazard,
                        format!(
                            "job `{}` finds targets by service discovery and names {}; left as it is",
                            job.name, gateway.host
                        ),
                    )
                    .tip(format!(
                        "if it scrapes only the gateway, pin it with `gateway: {{job: {}}}` in pullover.yaml and plan again",
                        job.name
                    ))
                    .at(location),
                );
            }
            JobFate::Untouched => {}
        }
    }
    if !removed_jobs.is_empty() {
        let jobs: Vec<String> = removed_jobs.iter().map(|j| format!("`{j}`")).collect();
        out.because.insert(
            0,
            format!(
                "stop scraping the Pushgateway (job{} {})",
                if jobs.len() == 1 { "" } else { "s" },
                jobs.join(", ")
            ),
        );
    }
    if removed_jobs.is_empty() && trimmed_jobs == 0 && !by_labels {
        out.findings.push(
            Finding::new(
                FindingId::NoGatewayJob,
                Severity::Info,
                format!("no scrape job in {} targets {}", prom.file.path, gateway.address()),
            )
            .tip("if Prometheus finds the gateway another way, name its job with `gateway: {job: …}` in pullover.yaml"),
        );
    }
    unload_dual_run_rules(prom, &mut out);
    out
}

/// What `remove` does to one scrape job of prometheus.yml.
enum JobFate {
    /// A Docker service-discovery job pinned as the gateway's finds every labelled container:
    /// it stays, and the gateway's labels go with its service.
    StaysFindingOthersByLabels,
    /// It scrapes the gateway and nothing else, or pullover.yaml names it the gateway's job
    /// (`only_by_setting`: none of its targets looks like the gateway).
    Removed {
        only_by_setting: bool,
    },
    /// It scrapes the gateway beside other targets: only the gateway's targets go.
    GatewayTargetsRemoved,
    /// Service discovery that names the gateway's host: left for a person.
    LeftNamingGateway,
    Untouched,
}

fn job_fate(
    stack: &Stack,
    gateway: &Gateway,
    job: &ScrapeJob,
    raw: &Value,
    is_gateway: &dyn Fn(&str) -> bool,
) -> JobFate {
    let to_gateway = job.targets.iter().filter(|t| is_gateway(t)).count();
    let others = job.targets.len() - to_gateway;
    let pinned = gateway.job.as_deref() == Some(job.name.as_str());
    // A job pullover.yaml names has its one static target the gateway as Prometheus reaches
    // it, which need not be its Compose address (`127.0.0.1:9091` from a Prometheus outside
    // Compose). A job only discovered by name is not trusted that far.
    let named_in_settings = stack
        .settings_file
        .as_ref()
        .and_then(|file| file.gateway.as_ref())
        .and_then(|gateway| gateway.job.as_deref())
        == Some(job.name.as_str());
    let pinned_sole_target = named_in_settings && job.targets.len() == 1 && !job.has_service_discovery;
    if pinned && to_gateway == 0 && raw.get("docker_sd_configs").is_some() {
        JobFate::StaysFindingOthersByLabels
    } else if (pinned && (others == 0 || pinned_sole_target))
        || (to_gateway > 0 && others == 0 && !job.has_service_discovery)
    {
        JobFate::Removed {
            only_by_setting: pinned && to_gateway == 0,
        }
    } else if to_gateway > 0 {
        JobFate::GatewayTargetsRemoved
    } else if job.has_service_discovery && mentions_gateway(raw, &gateway.host) {
        JobFate::LeftNamingGateway
    } else {
        JobFate::Untouched
    }
}

fn found_by_docker_labels(job: &ScrapeJob) -> Finding {
    Finding::new(
        FindingId::GatewayByDockerLabels,
        Severity::Info,
        format!(
            "job `{}` found the gateway by its Docker labels; it stays for the other containers it finds, and the labels go with the gateway's service",
            job.name
        ),
    )
}

fn removed_by_setting(job: &ScrapeJob, gateway: &Gateway) -> Finding {
    let scrapes = match job.targets.as_slice() {
        [only] => format!("scrapes {only}, not {}", gateway.address()),
        _ => format!("has no static target at {}", gateway.address()),
    };
    Finding::new(
        FindingId::GatewayJobBySetting,
        Severity::Info,
        format!(
            "job `{}` {scrapes}; removed because pullover.yaml names it the gateway's job",
            job.name
        ),
    )
    .tip("if that job scrapes more than the gateway, keep it: `gateway: {job: …}` in pullover.yaml names it")
}

/// The removals of a job's gateway targets: a static config only for the gateway goes whole.
fn gateway_targets_removed(raw: &Value, job_route: &Route, is_gateway: &dyn Fn(&str) -> bool) -> Vec<YamlEdit> {
    let configs = raw
        .get("static_configs")
        .and_then(Value::as_sequence)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut edits = Vec::new();
    // Last first, so the indices of the ones before stay right.
    for (index, config) in configs.iter().enumerate().rev() {
        let targets: Vec<String> = config
            .get("targets")
            .and_then(Value::as_sequence)
            .map(|t| t.iter().filter_map(scalar_string).collect())
            .unwrap_or_default();
        let config_route = job_route.clone().key("static_configs").item(ItemMatch::Index(index));
        if !targets.is_empty() && targets.iter().all(|t| is_gateway(t)) {
            edits.push(YamlEdit::Remove { route: config_route });
        } else {
            for target in targets.iter().filter(|t| is_gateway(t)) {
                edits.push(YamlEdit::Remove {
                    route: config_route
                        .clone()
                        .key("targets")
                        .item(ItemMatch::Scalar(target.clone())),
                });
            }
        }
    }
    edits
}

/// The dual-run rule file's entry out of `rule_files`.
fn unload_dual_run_rules(prom: &PromConfig, out: &mut Outcome) {
    for pattern in &prom.rule_files {
        let file_name = pattern.rsplit('/').next().unwrap_or(pattern);
        if file_name == DUAL_RUN_RULE_FILE {
            let route = Route::root().key("rule_files").item(ItemMatch::Scalar(pattern.clone()));
            // `rule_files:` that held only comments before dual-run gets them back, not
            // removed with the list.
            out.edits
                .push(if prom.rule_files.len() == 1 && comments_under_rule_files(prom) {
                    YamlEdit::RemoveOnlyItem { route }
                } else {
                    YamlEdit::Remove { route }
                });
            out.because.push("unload the dual-run rules".to_string());
        }
    }
}

/// Whether comment lines sit between `rule_files:` and its first item.
fn comments_under_rule_files(prom: &PromConfig) -> bool {
    let text = prom.file.text();
    let Some(entry) = prom.doc.root().and_then(|root| root.get("rule_files")) else {
        return false;
    };
    let Some(first) = entry.value.as_ref().and_then(|list| list.items().into_iter().next()) else {
        return false;
    };
    let Some(dash) = first.dash_offset() else { return false };
    text.get(entry.key_range.end..dash)
        .is_some_and(|between| between.lines().skip(1).any(|line| line.trim_start().starts_with('#')))
}

/// `pushgateway:9091` for a gateway at pushgateway:9091 (a scheme or path is not part of a target).
fn is_gateway_target(target: &str, gateway: &Gateway) -> bool {
    match target.rsplit_once(':') {
        Some((host, port)) => host == gateway.host && port.parse::<u16>().ok() == Some(gateway.port),
        None => false,
    }
}

/// Whether any string of the job's configuration names the gateway host.
fn mentions_gateway(job: &Value, host: &str) -> bool {
    match job {
        Value::String(s) => {
            points_at(s, host) || s.split('|').any(|alt| alt.trim_matches(['(', ')', '^', '$']) == host)
        }
        Value::Sequence(items) => items.iter().any(|v| mentions_gateway(v, host)),
        Value::Mapping(map) => map.values().any(|v| mentions_gateway(v, host)),
        Value::Tagged(tagged) => mentions_gateway(&tagged.value, host),
        _ => false,
    }
}
