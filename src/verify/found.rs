//! What a phase found in the stack when it was applied, recorded with it in the journal
//! (`found` on the `begin` record): the Pushgateway's scrape job and target, and each app
//! with its new job and what it pushes. After `remove` discovery can find neither (the
//! gateway service, its job and the app's `PUSHGATEWAY_URL` are gone), so without a
//! `pullover.yaml` the checks read them from here.

use serde::{Deserialize, Serialize};

use crate::stack::{App, Gateway, Stack};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<FoundGateway>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<FoundApp>,
    /// Whether each app is recorded with every part of its identity the phases read (its
    /// metrics too): records written before that was so lack it, and cannot stand in for the
    /// stack they were read from.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundGateway {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// `host:port` Prometheus scraped it at.
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    pub honor_labels: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundApp {
    pub service: String,
    pub port: u16,
    /// The app's own scrape job.
    pub job: String,
    /// The `job` it pushed under, and the `instance` values.
    pub pushed_job: String,
    #[serde(default)]
    pub pushed_instances: Vec<String>,
    /// The metric families it pushes, as far as they are known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
}

impl Found {
    pub fn of(stack: &Stack) -> Found {
        Found {
            gateway: stack.settings.gateway.as_ref().map(|g| FoundGateway {
                service: g.service.clone(),
                target: g.address(),
                job: g.job.clone(),
                honor_labels: g.honor_labels,
            }),
            apps: stack
                .settings
                .apps
                .iter()
                .map(|app| FoundApp {
                    service: app.service.clone(),
                    port: app.port,
                    job: app.job.clone(),
                    pushed_job: app.pushed_job.clone(),
                    pushed_instances: app.pushed_instances.clone(),
                    metrics: app.metrics.clone(),
                })
                .collect(),
            complete: true,
        }
    }

    pub fn to_json(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }

    /// `None` for a record without `found` or one this version cannot read.
    pub fn from_json(value: Option<&serde_json::Value>) -> Option<Found> {
        value.and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// The most recent record that knows the gateway's job and the most recent that knows
    /// the apps, from `recorded` (oldest first, as the phases were applied).
    pub fn latest<'a>(recorded: impl DoubleEndedIterator<Item = &'a Found> + Clone) -> Found {
        Found {
            gateway: recorded
                .clone()
                .rev()
                .find_map(|f| f.gateway.clone().filter(|g| g.job.is_some())),
            apps: recorded
                .rev()
                .find(|f| !f.apps.is_empty())
                .map(|f| f.apps.clone())
                .unwrap_or_default(),
            complete: false,
        }
    }

    /// Fills what the stack's settings lack (no app, no gateway job) from what was recorded;
    /// says what it took, for a note.
    pub fn fill(&self, stack: &mut Stack) -> Vec<String> {
        let mut took = Vec::new();
        if stack.settings.apps.is_empty() && !self.apps.is_empty() {
            stack.settings.apps = self.recorded_apps();
            let names: Vec<&str> = self.apps.iter().map(|a| a.service.as_str()).collect();
            took.push(format!("the app(s) {}", names.join(", ")));
        }
        let knows_job = stack.settings.gateway.as_ref().is_some_and(|g| g.job.is_some());
        if !knows_job && let Some(found) = &self.gateway {
            match &mut stack.settings.gateway {
                Some(gateway) => {
                    gateway.job = found.job.clone();
                    gateway.honor_labels = found.honor_labels;
                }
                None => stack.settings.gateway = Some(found.to_gateway()),
            }
            if let Some(job) = &found.job {
                took.push(format!("the Pushgateway's scrape job `{job}`"));
            }
        }
        took
    }

    /// The apps as recorded, each pinned to the identity decided when the phase was applied.
    pub fn recorded_apps(&self) -> Vec<App> {
        self.apps
            .iter()
            .map(|app| {
                // What was decided when the phases were applied stands as a pin would.
                let known = crate::identity::Known {
                    pinned_job: Some(app.pushed_job.clone()),
                    pinned_instances: app.pushed_instances.clone(),
                    ..crate::identity::Known::default()
                };
                let mut identity = crate::identity::PushedIdentity::assumed(&app.service);
                identity.job = app.pushed_job.clone();
                identity.source = crate::identity::Source::Pinned;
                identity.instances = app.pushed_instances.clone();
                App {
                    service: app.service.clone(),
                    port: app.port,
                    job: app.job.clone(),
                    pushed_job: app.pushed_job.clone(),
                    pushed_instances: app.pushed_instances.clone(),
                    metrics: app.metrics.clone(),
                    in_compose: false,
                    code: Vec::new(),
                    identity,
                    known,
                }
            })
            .collect()
    }
}

impl FoundGateway {
    pub fn to_gateway(&self) -> Gateway {
        let (host, port) = split_target(&self.target);
        Gateway {
            service: self.service.clone(),
            host,
            port,
            job: self.job.clone(),
            honor_labels: self.honor_labels,
        }
    }
}

fn split_target(target: &str) -> (String, u16) {
    match target.rsplit_once(':') {
        Some((host, port)) => (host.to_string(), port.parse().unwrap_or(0)),
        None => (target.to_string(), 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(job: Option<&str>, apps: &[&str]) -> Found {
        Found {
            gateway: Some(FoundGateway {
                service: Some("pushgateway".into()),
                target: "pushgateway:9091".into(),
                job: job.map(str::to_string),
                honor_labels: true,
            }),
            apps: apps
                .iter()
                .map(|service| FoundApp {
                    service: service.to_string(),
                    port: 8080,
                    job: service.to_string(),
                    pushed_job: "pushgateway".into(),
                    pushed_instances: vec![],
                    metrics: vec![],
                })
                .collect(),
            complete: true,
        }
    }

    #[test]
    fn the_latest_record_that_knows_wins_for_each_part() {
        let records = [
            found(Some("pushgateway"), &["metrics-api"]),
            found(Some("pgw"), &["metrics-api", "etl"]),
            // After `remove`: the gateway's job and the apps are gone from the files.
            found(None, &[]),
        ];
        let latest = Found::latest(records.iter());
        assert_eq!(latest.gateway.and_then(|g| g.job).as_deref(), Some("pgw"));
        assert_eq!(latest.apps.len(), 2);
        let json = records[0].to_json();
        assert_eq!(Found::from_json(json.as_ref()), Some(records[0].clone()));
        assert_eq!(Found::from_json(Some(&serde_json::json!({"apps": 3}))), None);
    }
}
