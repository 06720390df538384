//! Phase 1, `scrape`: a direct scrape job for each app, next to the
//! Pushgateway job, in prometheus.yml. Nothing else changes.

use yaml_serde::{Mapping, Value};

use crate::changeset::{ChangeSet, Finding, Location, Severity};
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{NodeKind, Route, YamlEdit};
use crate::stack::prometheus::duration_seconds;
use crate::stack::{App, Stack};

pub fn plan(stack: &Stack) -> Result<ChangeSet, Diagnostic> {
    let prom = &stack.prometheus;
    let mut builder = ChangeSet::builder();
    let Some(gateway) = &stack.settings.gateway else {
        return builder
            .finding(
                Finding::new(
                    "no-pushgateway",
                    Severity::Info,
                    "no Pushgateway found in this stack: nothing to migrate",
                )
                .tip("if it runs elsewhere, name its scrape job with `gateway: {job: …}` in pullover.yaml"),
            )
            .build()
            .map_err(|e| Diagnostic::error(e.to_string()));
    };
    let mut new_jobs = Vec::new();
    for app in &stack.settings.apps {
        if gateway.job.as_deref() == Some(app.job.as_str()) {
            return Err(Diagnostic::error(format!(
                "the new scrape job for {} would be named `{}`, the name of the Pushgateway's job",
                app.service, app.job
            ))
            .help(format!(
                "name it differently with `job:` for {} under `apps:` in pullover.yaml",
                app.service
            )));
        }
        if let Some(existing) = prom.job(&app.job) {
            let location = Location::at(&prom.file, existing.offset);
            if existing.targets.contains(&app.target()) {
                builder = builder.finding(
                    Finding::new(
                        "already-scraped",
                        Severity::Info,
                        format!("{} is already scraped by job `{}`", app.target(), app.job),
                    )
                    .at(location),
                );
            } else {
                builder = builder.finding(
                    Finding::new(
                        "job-name-taken",
                        Severity::Hazard,
                        format!(
                            "a job named `{}` exists but does not scrape {}; left as it is",
                            app.job,
                            app.target()
                        ),
                    )
                    .tip(format!(
                        "check that job, or pick another name with `job:` for {} in pullover.yaml",
                        app.service
                    ))
                    .at(location),
                );
            }
            continue;
        }
        if !app.in_compose {
            builder = builder.finding(Finding::new(
                "app-not-in-compose",
                Severity::Info,
                format!(
                    "{} is not a service of the Compose file; Prometheus must reach it at {}",
                    app.service,
                    app.target()
                ),
            ));
        }
        if gateway.honor_labels && app.pushed_job == app.job {
            builder = builder.finding(
                Finding::new(
                    "double-count-during-dual-run",
                    Severity::Hazard,
                    format!(
                        "pushed and scraped series of {} will both carry job=\"{}\" and differ only by instance",
                        app.service, app.job
                    ),
                )
                .tip("sums over job alone double-count until the `remove` phase; the `dashboards` phase lists those queries"),
            );
        }
        new_jobs.push(scrape_job(app, stack));
    }
    if new_jobs.is_empty() {
        return builder.build().map_err(|e| Diagnostic::error(e.to_string()));
    }
    let scrape_configs = Route::root().key("scrape_configs");
    let has_jobs = prom.doc.find(&scrape_configs).is_some_and(|n| !n.items().is_empty());
    let edits: Vec<YamlEdit> = if has_jobs {
        new_jobs
            .into_iter()
            .map(|(value, comment)| YamlEdit::Append {
                route: scrape_configs.clone(),
                value,
                comment: Some(comment),
            })
            .collect()
    } else if prom.doc.value().get("scrape_configs").is_some() {
        return Err(
            Diagnostic::error(format!("{}: `scrape_configs` is empty or not a list", prom.file.path))
                .help("add the scrape job by hand, or write scrape_configs as a block list with at least one job"),
        );
    } else if !prom
        .doc
        .root()
        .is_some_and(|root| root.kind() == NodeKind::Mapping && !root.is_flow())
    {
        return Err(Diagnostic::error(format!(
            "{} has no block mapping to add `scrape_configs` to: it is empty, only comments, or one flow mapping",
            prom.file.path
        ))
        .help("write the scrape job by hand, or give the file a block `scrape_configs:` list; nothing was written"));
    } else {
        let jobs = new_jobs.into_iter().map(|(v, _)| v).collect();
        vec![YamlEdit::InsertKey {
            route: Route::root(),
            key: "scrape_configs".into(),
            value: Value::Sequence(jobs),
            comment: Some("scraped directly (pullover: scrape)".into()),
        }]
    };
    let after = prom.doc.edit(&edits).map_err(|e| e.to_diagnostic(&prom.file))?;
    let services: Vec<&str> = stack.settings.apps.iter().map(|a| a.service.as_str()).collect();
    builder
        .modify(&prom.file, after, format!("scrape {} directly", services.join(", ")))
        .build()
        .map_err(|e| Diagnostic::error(e.to_string()))
}

fn scrape_job(app: &App, stack: &Stack) -> (Value, String) {
    let scrape = &stack.settings.scrape;
    let mut job = Mapping::new();
    job.insert("job_name".into(), Value::String(app.job.clone()));
    job.insert("scrape_interval".into(), Value::String(scrape.interval.clone()));
    // A global scrape_timeout longer than our interval would make Prometheus refuse the config.
    let global_timeout = stack
        .prometheus
        .global_scrape_timeout
        .as_deref()
        .and_then(duration_seconds);
    if global_timeout
        .zip(duration_seconds(&scrape.interval))
        .is_some_and(|(t, i)| t > i)
    {
        job.insert("scrape_timeout".into(), Value::String(scrape.interval.clone()));
    }
    job.insert("metrics_path".into(), Value::String(scrape.metrics_path.clone()));
    let mut static_config = Mapping::new();
    static_config.insert("targets".into(), Value::Sequence(vec![Value::String(app.target())]));
    job.insert(
        "static_configs".into(),
        Value::Sequence(vec![Value::Mapping(static_config)]),
    );
    let comment = format!(
        "{}: scraped directly instead of through the Pushgateway (pullover: scrape)",
        app.service
    );
    (Value::Mapping(job), comment)
}
