//! The Pushgateway of a Compose stack: where it runs (a Compose service, else the one scrape
//! job that looks like a gateway's), the job that scrapes it, and its `honor_labels`. Each is
//! pinned in `pullover.yaml` or found, with the evidence of how.

use super::Gateway;
use super::compose::Compose;
use super::discover::{self, Evidence, evidence};
use super::prometheus::{self, PromConfig};
use super::settings::{GatewaySettings, Overrides, SettingsFile};
use crate::diagnostic::Diagnostic;

/// The gateway, or `None` when the stack has none.
pub(super) fn resolve_gateway(
    compose: Option<&Compose>,
    prometheus: &PromConfig,
    pinned: &SettingsFile,
    overrides: &Overrides,
    found: &mut Vec<Evidence>,
) -> Result<Option<Gateway>, Diagnostic> {
    let service = discover::find_gateway(compose, pinned, overrides)?;
    let pinned_gateway = pinned.gateway.clone().unwrap_or_default();
    let Some((host, port)) = address(compose, prometheus, &pinned_gateway, service.as_ref(), found)? else {
        return Ok(None);
    };
    let service = service.map(|(name, _)| name);
    let job = match &pinned_gateway.job {
        Some(job) => Some(job.clone()),
        None => scraped_by(compose, prometheus, service.as_deref(), &host, port, found)?,
    };
    let honor_labels = honor_labels(prometheus, &pinned_gateway, job.as_deref(), found);
    Ok(Some(Gateway {
        service,
        host,
        port,
        job,
        honor_labels,
    }))
}

/// Host and port of the gateway: its Compose service's, else the first target of the pinned
/// job, else that of the one scrape job that looks like a gateway's.
fn address(
    compose: Option<&Compose>,
    prometheus: &PromConfig,
    pinned: &GatewaySettings,
    service: Option<&(String, Evidence)>,
    found: &mut Vec<Evidence>,
) -> Result<Option<(String, u16)>, Diagnostic> {
    let target = match (service, &pinned.job) {
        (Some((name, why)), _) => {
            found.push(why.clone());
            let port = compose
                .and_then(|c| c.service(name))
                .and_then(|s| s.listen_port())
                .unwrap_or(9091);
            return Ok(Some((name.clone(), port)));
        }
        // No Compose service: the job's first target names the gateway.
        (None, Some(job)) => prometheus.job(job).and_then(|j| j.targets.first()).cloned(),
        (None, None) => external_gateway_job(prometheus)?.map(|(job, target, why)| {
            found.push(evidence("gateway.job", job, why));
            target
        }),
    };
    Ok(target.map(|target| {
        let (h, p) = target.rsplit_once(':').unwrap_or((target.as_str(), "9091"));
        (h.to_string(), p.parse().unwrap_or(9091))
    }))
}

/// The scrape job of a gateway at `host:port` no setting names: the one job whose static target
/// it is, else the job named after it, else the Docker service-discovery or published-port job
/// that reaches its service.
fn scraped_by(
    compose: Option<&Compose>,
    prometheus: &PromConfig,
    service: Option<&str>,
    host: &str,
    port: u16,
    found: &mut Vec<Evidence>,
) -> Result<Option<String>, Diagnostic> {
    let by_target: Vec<&str> = prometheus
        .jobs_targeting(host, Some(port))
        .map(|j| j.name.as_str())
        .collect();
    let (job, why) = match by_target.as_slice() {
        [one] => (one.to_string(), format!("its static target is {host}:{port}")),
        [] => match prometheus.job(host) {
            Some(j) => (j.name.clone(), "named after the gateway service".to_string()),
            None => match service.and_then(|name| {
                docker_sd_job(compose?, name, prometheus)
                    .or_else(|| published_port_job(compose?, name, port, prometheus))
            }) {
                Some(found) => found,
                None => return Ok(None),
            },
        },
        many => {
            return Err(
                Diagnostic::error(format!("several scrape jobs target {host}:{port}: {}", many.join(", ")))
                    .help("set `gateway: {job: …}` in pullover.yaml to the job that scrapes the pushed metrics"),
            );
        }
    };
    found.push(evidence("gateway.job", job.clone(), why));
    Ok(Some(job))
}

/// `honor_labels` of the gateway's job: pinned, else as its scrape job sets it, else false.
fn honor_labels(
    prometheus: &PromConfig,
    pinned: &GatewaySettings,
    job: Option<&str>,
    found: &mut Vec<Evidence>,
) -> bool {
    if let Some(pinned) = pinned.honor_labels {
        return pinned;
    }
    let Some(scrape_job) = job.and_then(|j| prometheus.job(j)) else {
        return false;
    };
    let why = if scrape_job.honor_labels {
        format!("job `{}` sets honor_labels: true", scrape_job.name)
    } else {
        format!(
            "job `{}` does not set honor_labels (Prometheus renames pushed labels to exported_job/exported_instance)",
            scrape_job.name
        )
    };
    found.push(evidence(
        "gateway.honor_labels",
        scrape_job.honor_labels.to_string(),
        why,
    ));
    scrape_job.honor_labels
}

/// The Docker service-discovery job that finds the gateway service by its labels
/// (`prometheus-scrape.enabled: "true"` read as `__meta_docker_container_label_prometheus_scrape_enabled`).
fn docker_sd_job(compose: &Compose, service: &str, prometheus: &PromConfig) -> Option<(String, String)> {
    use yaml_serde::Value;
    let labels: Vec<String> = match compose.doc.value().get("services")?.get(service)?.get("labels")? {
        Value::Mapping(map) => map.keys().filter_map(crate::edit::yaml::scalar_string).collect(),
        Value::Sequence(items) => items
            .iter()
            .filter_map(crate::edit::yaml::scalar_string)
            .map(|entry| entry.split('=').next().unwrap_or_default().to_string())
            .collect(),
        _ => return None,
    };
    let jobs = prometheus.doc.value().get("scrape_configs")?.as_sequence()?;
    jobs.iter()
        .filter(|job| job.get("docker_sd_configs").is_some())
        .find_map(|job| {
            let name = job.get("job_name").and_then(crate::edit::yaml::scalar_string)?;
            let text = yaml_serde::to_string(job).ok()?;
            labels.iter().find_map(|label| {
                let meta: String = label
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
                    .collect();
                text.contains(&format!("__meta_docker_container_label_{meta}")).then(|| {
                    (
                        name.clone(),
                        format!(
                            "service {service} carries the Docker service-discovery label `{label}` that job `{name}` reads"
                        ),
                    )
                })
            })
        })
}

/// The one job whose static targets are all the gateway's published port on the host
/// (`host.docker.internal:9092` for `ports: ["9092:9091"]`): Prometheus runs outside Compose's
/// network and reaches the gateway there.
fn published_port_job(
    compose: &Compose,
    service: &str,
    port: u16,
    prometheus: &PromConfig,
) -> Option<(String, String)> {
    let aliases = discover::published_aliases(compose, service, port);
    let jobs: Vec<&prometheus::ScrapeJob> = prometheus
        .jobs
        .iter()
        .filter(|j| !j.has_service_discovery && !j.targets.is_empty() && j.targets.iter().all(|t| aliases.contains(t)))
        .collect();
    match jobs.as_slice() {
        [job] => Some((
            job.name.clone(),
            format!(
                "its static target {} is the host port Compose publishes for service {service}'s port {port}",
                job.targets.join(", ")
            ),
        )),
        _ => None,
    }
}

/// With no gateway service in the Compose file (commented out, or running elsewhere): the one
/// scrape job that looks like a Pushgateway's — static targets only, all on port 9091, or
/// `honor_labels` on a job named after the gateway. Its name, its target and why.
fn external_gateway_job(prometheus: &PromConfig) -> Result<Option<(String, String, String)>, Diagnostic> {
    let candidates: Vec<(&prometheus::ScrapeJob, String)> = prometheus
        .jobs
        .iter()
        .filter(|j| !j.has_service_discovery && !j.targets.is_empty())
        .filter_map(|j| {
            let on_9091 = j
                .targets
                .iter()
                .all(|t| t.rsplit_once(':').is_some_and(|(_, p)| p == "9091"));
            let named = j.honor_labels && j.name.to_ascii_lowercase().contains("pushgateway");
            let mut why = Vec::new();
            if on_9091 {
                why.push("its targets are on Pushgateway's port 9091");
            }
            if j.honor_labels {
                why.push("it sets honor_labels");
            }
            if named {
                why.push("its name says so");
            }
            (on_9091 || named).then(|| (j, why.join(", ")))
        })
        .collect();
    match candidates.as_slice() {
        [] => Ok(None),
        [(job, why)] => Ok(job.targets.first().map(|target| {
            (
                job.name.clone(),
                target.clone(),
                format!(
                    "no Compose service runs a Pushgateway, but job `{}` scrapes {target} and looks like one ({why}): an external gateway",
                    job.name
                ),
            )
        })),
        many => {
            let names: Vec<&str> = many.iter().map(|(j, _)| j.name.as_str()).collect();
            Err(Diagnostic::error(format!(
                "no Compose service runs a Pushgateway, and several scrape jobs look like one: {}",
                names.join(", ")
            ))
            .help("name the one that scrapes the pushed metrics with `gateway: {job: …}` in pullover.yaml"))
        }
    }
}
