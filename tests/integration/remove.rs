//! Phase 4, `remove`, on every stack: the diff deletes what must go and
//! nothing else, promtool and the Compose schema accept what it writes, apply
//! then rollback gives the same bytes back, bad input changes nothing.
//!
//! `apply remove` refuses until `dual-run` and `dashboards` are applied; until
//! those phases are all in one build, the chain tests record them through the
//! state engine (`mark_applied`), the way `apply` would.

use std::collections::BTreeMap;

use pullover::changeset::{ChangeKind, ChangeSet, FileChange, FileState};
use pullover::edit::yaml::{Route, YamlEdit};
use pullover::phase::remove::{self, DUAL_RUN_DASHBOARD, DUAL_RUN_RULE_FILE};
use pullover::stack::Stack;
use pullover::stack::settings::Overrides;
use pullover::stack::source::RelPath;
use pullover::state::StateDir;
use pullover::state::engine;
use pullover::state::journal::Action;
use yaml_serde::Value;

use crate::compose_schema;
use crate::support::{Pullover, promtool_check_config, pullover, require_tool, stacks};

fn load(p: &Pullover) -> Stack {
    Stack::load(&p.path(), &Overrides::default()).unwrap_or_else(|e| panic!("{}", e.render(false)))
}

fn plan_remove(p: &Pullover) -> ChangeSet {
    remove::plan(&load(p)).unwrap_or_else(|e| panic!("{}", e.render(false)))
}

/// Writes a plan's bytes to the stack, as `apply` would (without the journal).
fn write_plan(p: &Pullover, plan: &ChangeSet) {
    for change in &plan.changes {
        let path = p.file(change.path.as_str());
        match &change.after {
            Some(after) => std::fs::write(&path, &after.bytes).unwrap(),
            None => std::fs::remove_file(&path).unwrap(),
        }
    }
}

fn text(state: &Option<FileState>) -> String {
    state
        .as_ref()
        .map(|s| String::from_utf8(s.bytes.to_vec()).unwrap())
        .unwrap_or_default()
}

/// Records `phase` as applied with `changes`, through the same engine `apply` uses.
fn mark_applied(p: &Pullover, phase: &str, changes: &[FileChange]) {
    let state = StateDir::new(&p.path()).unwrap();
    state
        .with_lock("apply", |locked, _| {
            engine::execute(locked, Action::Apply, phase, changes, &BTreeMap::new()).map(|_| ())
        })
        .unwrap();
}

/// What the `dual-run` phase leaves behind: its rule file next to
/// prometheus.yml, wired into `rule_files`, and its comparison dashboard.
fn dual_run_artefacts(p: &Pullover) -> Vec<FileChange> {
    let stack = load(p);
    let prom = &stack.prometheus;
    let rule_path = RelPath::join_relative(prom.file.path.parent(), DUAL_RUN_RULE_FILE).unwrap();
    let rules = "groups:\n  - name: pullover-dual-run\n    rules:\n      - record: pullover:dual_run:agreement\n        expr: vector(1)\n";
    let entry = Value::String(DUAL_RUN_RULE_FILE.into());
    let wire = match prom.doc.find(&Route::root().key("rule_files")) {
        Some(_) => YamlEdit::Append {
            route: Route::root().key("rule_files"),
            value: entry,
            comment: None,
        },
        None => YamlEdit::InsertKey {
            route: Route::root(),
            key: "rule_files".into(),
            value: Value::Sequence(vec![entry]),
            comment: None,
        },
    };
    let prom_after = prom.doc.edit(&[wire]).unwrap();
    let dashboard = RelPath::join_relative(stack.dashboards_dir().unwrap().as_str(), DUAL_RUN_DASHBOARD).unwrap();
    let file = |bytes: &[u8]| FileState {
        bytes: bytes.into(),
        mode: 0o644,
    };
    vec![
        FileChange {
            path: prom.file.path.clone(),
            before: Some(FileState {
                bytes: prom.file.bytes().into(),
                mode: prom.file.mode,
            }),
            after: Some(file(prom_after.as_bytes())),
            because: "dual-run".into(),
        },
        FileChange {
            path: rule_path,
            before: None,
            after: Some(file(rules.as_bytes())),
            because: "dual-run".into(),
        },
        FileChange {
            path: dashboard,
            before: None,
            after: Some(file(b"{\"title\": \"Pushed vs scraped\", \"panels\": []}\n")),
            because: "dual-run".into(),
        },
    ]
}

/// A copy of `stack` with `scrape` applied (for real), `dual-run` and
/// `dashboards` recorded as applied, and the dual-run artefacts on disk.
fn ready_for_remove(stack: &str) -> Pullover {
    let p = pullover().stack(stack);
    p.run(["apply", "scrape", "--yes"]).success();
    mark_applied(&p, "dual-run", &dual_run_artefacts(&p));
    mark_applied(&p, "dashboards", &[]);
    p
}

#[test]
fn a_gateway_job_pullover_yaml_names_goes_even_when_prometheus_reaches_it_by_another_address() {
    // Prometheus elsewhere scrapes the gateway at 10.0.0.5:9091, not pushgateway:9091 (and not
    // the port Compose publishes on this host, which would be clear evidence).
    let p = pullover().stack("seed");
    let config = p
        .read("prometheus/prometheus.yml")
        .replace("'pushgateway:9091'", "'10.0.0.5:9091'");
    p.write("prometheus/prometheus.yml", &config);
    let guessed = p.run(["plan", "remove"]);
    guessed.success();
    assert!(guessed.stdout.contains("[no-gateway-job]"), "{}", guessed.stdout);
    assert!(
        !guessed.stdout.contains("-  - job_name: pushgateway"),
        "{}",
        guessed.stdout
    );

    p.write("pullover.yaml", "gateway:\n  job: pushgateway\n");
    let named = p.run(["plan", "remove"]);
    named.success();
    assert!(named.stdout.contains("-  - job_name: pushgateway"), "{}", named.stdout);
    assert!(
        named.stdout.contains(
            "job `pushgateway` scrapes 10.0.0.5:9091, not pushgateway:9091; removed because pullover.yaml names it the gateway's job"
        ),
        "{}",
        named.stdout
    );
}

#[test]
fn seed_remove_plan_takes_out_the_gateway_and_lists_what_is_left() {
    let p = ready_for_remove("seed");
    let run = p.run(["plan"]);
    run.success();
    insta::assert_snapshot!(p.clean(&run.stdout), @r#"
    Phase 4/5 `remove`: remove the Pushgateway service, its scrape job and the dual-run artefacts

    diff --git a/docker-compose.yml b/docker-compose.yml
    --- a/docker-compose.yml
    +++ b/docker-compose.yml
    @@ -15,24 +15,9 @@
           - "8080:8080"
         environment:
           - NODE_ENV=production
    -      - PUSHGATEWAY_URL=http://pushgateway:9091
           - PUSH_INTERVAL_SECONDS=15
    -    depends_on:
    -      - pushgateway
         restart: unless-stopped
     
    -  # Pushgateway: metrics-api pushes its counters here, Prometheus scrapes them from here.
    -  pushgateway:
    -    image: prom/pushgateway:v1.5.1
    -    command:
    -      - --persistence.file=/data/pushgateway.db
    -      - --persistence.interval=5m   # keep pushed groups across restarts
    -    volumes:
    -      - pushgateway_data:/data
    -    ports:
    -      - "9091:9091"
    -    restart: unless-stopped
    -
       prometheus:
         image: prom/prometheus:v2.42.0
         volumes:
    @@ -46,7 +31,6 @@
         ports:
           - "9090:9090"
         depends_on:
    -      - pushgateway
           - metrics-api
         restart: unless-stopped
     
    @@ -66,6 +50,5 @@
         restart: unless-stopped
     
     volumes:
    -  pushgateway_data:
       prometheus_data:
       grafana_data:

    diff --git a/grafana/dashboards/pullover-dual-run.json b/grafana/dashboards/pullover-dual-run.json
    deleted file mode 100644
    --- a/grafana/dashboards/pullover-dual-run.json
    +++ /dev/null
    @@ -1 +0,0 @@
    -{"title": "Pushed vs scraped", "panels": []}

    diff --git a/prometheus/prometheus.yml b/prometheus/prometheus.yml
    --- a/prometheus/prometheus.yml
    +++ b/prometheus/prometheus.yml
    @@ -10,18 +10,11 @@
     
     rule_files:
       - "rules/*.yml"
    -  - pullover-dual-run.yml
     
     scrape_configs:
       - job_name: prometheus
         static_configs:
           - targets: ['localhost:9090']
    -
    -  # metrics-api pushes to the Pushgateway; honor_labels keeps the job/instance it pushed with.
    -  - job_name: pushgateway
    -    honor_labels: true
    -    static_configs:
    -      - targets: ['pushgateway:9091']
     
       # metrics-api: scraped directly instead of through the Pushgateway (pullover: scrape)
       - job_name: metrics-api

    diff --git a/prometheus/pullover-dual-run.yml b/prometheus/pullover-dual-run.yml
    deleted file mode 100644
    --- a/prometheus/pullover-dual-run.yml
    +++ /dev/null
    @@ -1,5 +0,0 @@
    -groups:
    -  - name: pullover-dual-run
    -    rules:
    -      - record: pullover:dual_run:agreement
    -        expr: vector(1)

    Findings:
      info [orphan-container] `docker compose up -d` alone leaves the running pushgateway container behind
             --> docker-compose.yml:25:3
             = tip: deploy with `docker compose up -d --remove-orphans`, or stop it with `docker compose rm -sf pushgateway` first
      info [env-var-removed] removed `PUSHGATEWAY_URL` from metrics-api: its code reads it as optional, so the app still starts
             --> metrics-api/server.js:12:7
             = tip: the push logic still runs (against its default address, if any) until it is removed (`--remove-push-code`)
      info [volume-data-left] volume `pushgateway_data` is no longer declared; Docker keeps its data
             --> docker-compose.yml:69:3
             = tip: delete it once you are sure: `docker volume rm <project>_pushgateway_data` (`docker volume ls` shows the name)
      todo [push-logic] metrics-api still pushes to the Pushgateway (`Pushgateway`)
             --> metrics-api/server.js:117:1
             = tip: remove the push calls (and their client set-up); Prometheus scrapes /metrics now; `--remove-push-code` plans that for prom-client, prometheus_client, client_golang and simpleclient
      todo [push-logic] metrics-api still pushes to the Pushgateway (`pushAdd`)
             --> metrics-api/server.js:121:5
             = tip: remove the push calls (and their client set-up); Prometheus scrapes /metrics now; `--remove-push-code` plans that for prom-client, prometheus_client, client_golang and simpleclient
      todo [rule-on-gateway-series] alert `MetricsApiPushStale` reads what goes away with the Pushgateway: `push_time_seconds{job="pushgateway"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> prometheus/rules/pushgateway.yml:7:15 (alert `MetricsApiPushStale`)
             = tip: rewrite it (e.g. on `up{job="metrics-api"} == 0 or absent(up{job="metrics-api"})`) or delete it; pullover does not edit rules in this phase
      todo [rule-on-gateway-series] alert `PushgatewayDown` reads what goes away with the Pushgateway: `up{job="pushgateway"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
             --> prometheus/rules/pushgateway.yml:16:15 (alert `PushgatewayDown`)
             = tip: rewrite it (e.g. on `up{job="metrics-api"}`) or delete it; pullover does not edit rules in this phase
    hazard [rule-on-pushed-series] rule `job:page_views:rate5m` still selects the pushed series, which stop with the Pushgateway
             --> prometheus/rules/pushgateway.yml:24:15 (rule `job:page_views:rate5m`)
             = tip: apply the `dashboards` phase first: it rewrites rule queries to the scraped series
    hazard [rule-on-pushed-series] rule `job:http_requests:rate5m` still selects the pushed series, which stop with the Pushgateway
             --> prometheus/rules/pushgateway.yml:27:15 (rule `job:http_requests:rate5m`)
             = tip: apply the `dashboards` phase first: it rewrites rule queries to the scraped series
    hazard [panel-on-pushed-series] 13 queries of dashboard "Metrics API" still select the pushed series, which stop with the Pushgateway: panel "Requests / s by status" in row "Requests", panel "Request latency" in row "Requests", panel "p95 latency by route" in row "Requests", panel "Views of $page, last hour" in row "Pages", panel "Views of $page / s, change since yesterday" in row "Pages", panel "Heap used" in row "Runtime", panel "Event loop lag" in row "Runtime", variable "method", variable "page"
             --> grafana/dashboards/metrics-api.json:124:19 (panel "Requests / s by status" in row "Requests")
             = tip: apply the `dashboards` phase first: it rewrites them to the scraped series
      todo [panel-on-gateway-series] 6 queries of dashboard "Pushgateway Health" read what goes away with the Pushgateway (its own metrics, push times): panel "Pushgateway up", panel "Stale push groups (> 5m)", panel "Last push failed", panel "Gateway memory", panel "Seconds since last push (metrics-api)", panel "Pushgateway requests / s"
             --> grafana/dashboards/pushgateway-health.json:99:19 (panel "Pushgateway up")
             = tip: rewrite or delete them; the `dashboards` phase suggested replacements
      todo [panel-on-gateway-series] 1 query of dashboard "Website Overview" read what goes away with the Pushgateway (its own metrics, push times): panel "Seconds since last push" in row "Traffic"
             --> grafana/dashboards/website-overview.json:184:19 (panel "Seconds since last push" in row "Traffic")
             = tip: rewrite or delete them; the `dashboards` phase suggested replacements
    hazard [panel-on-pushed-series] 12 queries of dashboard "Website Overview" still select the pushed series, which stop with the Pushgateway: annotation "metrics-api restarts", panel "Page views (total)" in row "Traffic", panel "Requests / s" in row "Traffic", panel "Error ratio" in row "Traffic", panel "Page views / s by page" in row "Traffic", panel "Page views / s by country" in row "Traffic", panel "Views by page and country (5m rate)" in row "Per page", panel "Top pages, last 24h" in row "Per page", variable "instance", variable "page"
             --> grafana/dashboards/website-overview.json:22:17 (annotation "metrics-api restarts")
             = tip: apply the `dashboards` phase first: it rewrites them to the scraped series

    Plan: 2 files to change, 0 to create, 2 to delete (+0 −30 lines).
    Apply it with `pullover apply remove`.
    "#);
}

#[test]
fn anchors_remove_plan_keeps_the_shared_volume_and_drops_the_unused_anchor() {
    let p = pullover().stack("anchors");
    let run = p.run(["plan", "remove"]);
    run.success();
    assert!(
        run.stderr.contains("`scrape` is not applied yet"),
        "planning ahead says apply will refuse:\n{}",
        run.stderr
    );
    insta::assert_snapshot!(p.clean(&run.stdout), @r#"
    Phase 4/5 `remove`: remove the Pushgateway service, its scrape job and the dual-run artefacts

    diff --git a/docker-compose.yaml b/docker-compose.yaml
    --- a/docker-compose.yaml
    +++ b/docker-compose.yaml
    @@ -11,48 +11,26 @@
       restart: unless-stopped
       logging: *default-logging
     
    -x-pushgateway-healthcheck: &pgw-healthcheck
    -  test: ["CMD", "wget", "-q", "--spider", "http://localhost:9091/-/healthy"]
    -  interval: 10s
    -  timeout: 3s
    -  retries: 5
    -
     services:
       worker:
         <<: *common
         build: ./worker
         env_file: ./worker.env
         environment:
    -      PUSH_GATEWAY: "http://pushgateway:9091"
           WORKER_ID: "worker-1"
           QUEUE_URL: "redis://redis:6379/0"
           METRICS_PORT: "9100"
         expose:
           - "9100"
         depends_on:
    -      pushgateway:
    -        condition: service_healthy
           redis:
             condition: service_started
    -    links: [pushgateway]
     
       redis:
         <<: *common
         image: redis:7.2-alpine
         volumes:
           - redis_data:/data
    -
    -  pushgateway:
    -    <<: *common
    -    image: prom/pushgateway:v1.7.0
    -    profiles: [metrics]
    -    command:
    -      - --persistence.file=/data/pushgateway.db
    -    volumes:
    -      - pushgateway_data:/data
    -    ports:
    -      - "127.0.0.1:9091:9091"
    -    healthcheck: *pgw-healthcheck
     
       prometheus:
         <<: *common

    diff --git a/prometheus/prometheus.yml b/prometheus/prometheus.yml
    --- a/prometheus/prometheus.yml
    +++ b/prometheus/prometheus.yml
    @@ -13,21 +13,6 @@
         static_configs:
           - targets: [localhost:9090]
     
    -  # Batch and queue jobs push here; keep the job/instance they pushed with.
    -  - job_name: batch
    -    honor_labels: true
    -    scrape_interval: 15s
    -    static_configs:
    -      - targets:
    -          - pushgateway:9091
    -        labels:
    -          team: platform
    -    metric_relabel_configs:
    -      # The gateway's own Go runtime metrics are noise on this job.
    -      - source_labels: [__name__]
    -        regex: 'go_(gc|memstats)_.*'
    -        action: drop
    -
       - job_name: node
         file_sd_configs:
           - files:

    Findings:
    hazard [app-not-scraped] worker has no scrape job `worker` yet: without the Pushgateway its metrics would stop
             --> prometheus/prometheus.yml:17:15
             = tip: apply the `scrape` phase (and check it with `pullover verify`) before this one
      info [orphan-container] `docker compose up -d` alone leaves the running pushgateway container behind
             --> docker-compose.yaml:45:3
             = tip: deploy with `docker compose up -d --remove-orphans`, or stop it with `docker compose rm -sf pushgateway` first
      info [env-var-removed] removed `PUSH_GATEWAY` from worker: its code reads it as optional, so the app still starts
             --> worker/worker.py:14:27
             = tip: the push logic still runs (against its default address, if any) until it is removed (`--remove-push-code`)
      info [shared-volume-kept] volume `pushgateway_data` is kept: backup also mounts it
             --> docker-compose.yaml:93:3
             = tip: it still holds the gateway's data; remove that mount and the volume by hand when no longer needed
      info [profile-unused] profile `metrics` enabled only pushgateway; no service uses it now
             --> docker-compose.yaml:48:5
             = tip: drop `--profile metrics` from scripts and docs that start the stack
      todo [push-logic] worker still pushes to the Pushgateway (`pushadd_to_gateway`)
             --> worker/worker.py:11:1
             = tip: remove the push calls (and their client set-up); Prometheus scrapes /metrics now; `--remove-push-code` plans that for prom-client, prometheus_client, client_golang and simpleclient
      todo [push-logic] worker still pushes to the Pushgateway (`pushadd_to_gateway`)
             --> worker/worker.py:56:9
             = tip: remove the push calls (and their client set-up); Prometheus scrapes /metrics now; `--remove-push-code` plans that for prom-client, prometheus_client, client_golang and simpleclient
      todo [env-file-entry] `PUSHGATEWAY_ADDR` in worker.env still points at the Pushgateway
             --> worker.env:5:1
             = tip: pullover does not edit env files: remove it by hand once worker no longer pushes
      todo [rule-on-gateway-series] alert `QueueWorkerSilent` reads what goes away with the Pushgateway: `push_time_seconds{job="queue-worker"}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged
             --> prometheus/alerts.yml:6:15 (alert `QueueWorkerSilent`)
             = tip: rewrite it (e.g. on `up{job="worker"} == 0 or absent(up{job="worker"})`) or delete it; pullover does not edit rules in this phase
    hazard [rule-on-pushed-series] alert `QueueWorkerFailing` still selects the pushed series, which stop with the Pushgateway
             --> prometheus/alerts.yml:14:15 (alert `QueueWorkerFailing`)
             = tip: apply the `dashboards` phase first: it rewrites rule queries to the scraped series
    hazard [rule-on-pushed-series] rule `queue:worker_queue_depth:max` still selects the pushed series, which stop with the Pushgateway
             --> prometheus/alerts.yml:24:15 (rule `queue:worker_queue_depth:max`)
             = tip: apply the `dashboards` phase first: it rewrites rule queries to the scraped series
      todo [rule-on-gateway-series] alert `BatchGatewayDown` reads what goes away with the Pushgateway: `up{job="batch"}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged
             --> prometheus/alerts.yml:29:15 (alert `BatchGatewayDown`)
             = tip: rewrite it (e.g. on `up{job="worker"}`) or delete it; pullover does not edit rules in this phase
      todo [panel-on-gateway-series] 3 queries of dashboard "Queue worker" read what goes away with the Pushgateway (its own metrics, push times): panel "Seconds since last push" in row "Scraping", panel "Pushed groups" in row "Scraping", panel "Gateway and nodes up" in row "Scraping"
             --> grafana/dashboards/queue-worker.json:498:19 (panel "Seconds since last push" in row "Scraping")
             = tip: rewrite or delete them; the `dashboards` phase suggested replacements
    hazard [panel-on-pushed-series] 5 queries of dashboard "Queue worker" still select the pushed series, which stop with the Pushgateway: panel "Jobs / s by status" in row "Jobs", panel "Job duration p90 by queue" in row "Jobs", panel "Queue depth" in row "Jobs", variable "queue"
             --> grafana/dashboards/queue-worker.json:124:19 (panel "Jobs / s by status" in row "Jobs")
             = tip: apply the `dashboards` phase first: it rewrites them to the scraped series

    Plan: 2 files to change, 0 to create, 0 to delete (+0 −37 lines).
    Apply it with `pullover apply remove`.
    "#);
}

/// Whether `new` is `old` with one contiguous piece taken out, and that piece names `needle`.
fn is_one_piece_removed(old: &str, new: &str, needle: &str) -> bool {
    let Some(cut) = old.len().checked_sub(new.len()) else {
        return false;
    };
    (0..=new.len()).filter(|i| old.is_char_boundary(*i)).any(|i| {
        old.get(i..i + cut).is_some_and(|piece| piece.contains(needle))
            && old
                .get(..i)
                .zip(old.get(i + cut..))
                .is_some_and(|(a, b)| format!("{a}{b}") == new)
    })
}

#[test]
fn every_remove_diff_only_deletes_what_belongs_to_the_gateway() {
    for name in stacks() {
        let p = ready_for_remove(&name);
        let stack = load(&p);
        let plan = plan_remove(&p);
        let gateway = stack.settings.gateway.clone().unwrap();
        for change in plan.changes.iter().filter(|c| c.kind() == ChangeKind::Modify) {
            let (before, after) = (text(&change.before), text(&change.after));
            let diff = similar::TextDiff::from_lines(&before, &after);
            for group in diff.grouped_ops(0) {
                let mut removed = Vec::new();
                let mut added = Vec::new();
                for op in &group {
                    for c in diff.iter_changes(op) {
                        match c.tag() {
                            similar::ChangeTag::Delete => removed.push(c.value().to_string()),
                            similar::ChangeTag::Insert => added.push(c.value().to_string()),
                            similar::ChangeTag::Equal => {}
                        }
                    }
                }
                let hunk = format!("{name}: {}\n-{}+{}", change.path, removed.concat(), added.concat());
                // New lines only where a flow list lost its gateway item.
                match (removed.as_slice(), added.as_slice()) {
                    (_, []) => {}
                    ([old], [new]) => assert!(
                        is_one_piece_removed(old, new, &gateway.host)
                            || is_one_piece_removed(old, new, DUAL_RUN_RULE_FILE),
                        "a line changed beyond losing one gateway item:\n{hunk}"
                    ),
                    _ => panic!("the remove phase added lines:\n{hunk}"),
                }
                // No hunk removes only comments and blank lines: those belong to what they sit by.
                assert!(
                    removed.is_empty()
                        || removed.iter().any(|l| {
                            let t = l.trim();
                            !t.is_empty() && !t.starts_with('#')
                        }),
                    "a hunk removes only comments or blank lines:\n{hunk}"
                );
                // At most one blank line goes with each removed block.
                let blocks = removed
                    .iter()
                    .zip(std::iter::once(&String::new()).chain(removed.iter()))
                    .filter(|(line, previous)| !line.trim().is_empty() && previous.trim().is_empty())
                    .count();
                assert!(
                    removed.iter().filter(|l| l.trim().is_empty()).count() <= blocks,
                    "more blank lines removed than blocks:\n{hunk}"
                );
            }
            let double_blank = |t: &str| t.replace("\r\n", "\n").contains("\n\n\n");
            assert!(
                !double_blank(&after) || double_blank(&before),
                "{name}: {} gained a double blank line:\n{after}",
                change.path
            );
        }
    }
}

/// The Compose file as it should read without the gateway: an oracle written
/// from the specification of the phase, not from the planner.
fn expected_compose(before: &Value, gateway: &str, kept_env: &[String]) -> Value {
    let mut value = before.clone();
    let Some(services) = value.get_mut("services").and_then(Value::as_mapping_mut) else {
        return value;
    };
    let gateway_service = services.shift_remove(gateway).unwrap_or(Value::Null);
    let mut still_mounted = Vec::new();
    for (_, service) in services.iter_mut() {
        let Some(service) = service.as_mapping_mut() else {
            continue;
        };
        for key in ["depends_on", "links", "volumes_from", "external_links"] {
            let emptied = match service.get_mut(key) {
                Some(Value::Sequence(items)) => {
                    items.retain(|i| i.as_str().and_then(|s| s.split(':').next()) != Some(gateway));
                    items.is_empty()
                }
                Some(Value::Mapping(map)) => {
                    map.shift_remove(gateway);
                    map.is_empty()
                }
                _ => false,
            };
            if emptied {
                service.shift_remove(key);
            }
        }
        let gateway_env = |key: &str, value: Option<&str>| {
            let named =
                key.to_ascii_uppercase().contains("PUSHGATEWAY") || key.to_ascii_uppercase().contains("PUSH_GATEWAY");
            let points = value.is_some_and(|v| {
                v.contains(&format!("{gateway}:")) || v.contains(&format!("//{gateway}")) || v == gateway
            });
            (named || points) && !kept_env.iter().any(|k| k == key)
        };
        let emptied = match service.get_mut("environment") {
            Some(Value::Sequence(items)) => {
                items.retain(|i| {
                    let entry = i.as_str().unwrap_or_default();
                    let (k, v) = entry.split_once('=').map_or((entry, None), |(k, v)| (k, Some(v)));
                    !gateway_env(k, v)
                });
                items.is_empty()
            }
            Some(Value::Mapping(map)) => {
                map.retain(|k, v| !gateway_env(k.as_str().unwrap_or_default(), v.as_str()));
                map.is_empty()
            }
            _ => false,
        };
        if emptied {
            service.shift_remove("environment");
        }
        if let Some(Value::Sequence(mounts)) = service.get("volumes") {
            for mount in mounts {
                let source = match mount {
                    Value::String(s) => s.split(':').next().map(str::to_string),
                    other => other.get("source").and_then(Value::as_str).map(str::to_string),
                };
                still_mounted.extend(source);
            }
        }
    }
    let gateway_volumes: Vec<String> = gateway_service
        .get("volumes")
        .and_then(Value::as_sequence)
        .map(|mounts| {
            mounts
                .iter()
                .filter_map(|m| match m {
                    Value::String(s) => s.split(':').next().map(str::to_string),
                    other => other.get("source").and_then(Value::as_str).map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(volumes) = value.get_mut("volumes").and_then(Value::as_mapping_mut) {
        for volume in gateway_volumes.iter().filter(|v| !still_mounted.contains(v)) {
            volumes.shift_remove(volume.as_str());
        }
        if volumes.is_empty() {
            value.as_mapping_mut().unwrap().shift_remove("volumes");
        }
    }
    value
}

/// prometheus.yml without the gateway: jobs that only scrape it (or the job
/// pinned as its own) go, a job that scrapes it among others loses that
/// target, and the dual-run rule file is unloaded.
/// `comments_under_rule_files`: a `rule_files:` that held only comments before dual-run made it
/// a list keeps them, with no value, when the list empties.
fn expected_prometheus(before: &Value, address: &str, pinned: Option<&str>, comments_under_rule_files: bool) -> Value {
    let mut value = before.clone();
    let root = value.as_mapping_mut().unwrap();
    if let Some(Value::Sequence(jobs)) = root.get_mut("scrape_configs") {
        jobs.retain(|job| {
            let name = job.get("job_name").and_then(Value::as_str);
            let targets: Vec<&str> = job
                .get("static_configs")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
                .filter_map(|c| c.get("targets").and_then(Value::as_sequence))
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let discovers = job
                .as_mapping()
                .is_some_and(|m| m.keys().any(|k| k.as_str().is_some_and(|k| k.ends_with("_sd_configs"))));
            let only_gateway = !targets.is_empty() && targets.iter().all(|t| *t == address) && !discovers;
            // A Docker service-discovery job finds other containers too: it stays.
            let docker_sd = job.get("docker_sd_configs").is_some();
            let pinned_alone = name.is_some() && name == pinned && targets.iter().all(|t| *t == address) && !docker_sd;
            !(only_gateway || pinned_alone)
        });
        for job in jobs.iter_mut() {
            if let Some(Value::Sequence(configs)) = job.get_mut("static_configs") {
                for config in configs.iter_mut() {
                    if let Some(Value::Sequence(targets)) = config.get_mut("targets") {
                        targets.retain(|t| t.as_str() != Some(address));
                    }
                }
            }
        }
    }
    if let Some(Value::Sequence(files)) = root.get_mut("rule_files") {
        files.retain(|f| f.as_str() != Some(DUAL_RUN_RULE_FILE));
        if files.is_empty() {
            if comments_under_rule_files {
                root.insert("rule_files".into(), Value::Null);
            } else {
                root.shift_remove("rule_files");
            }
        }
    }
    value
}

fn typed(text: &str) -> Value {
    yaml_serde::from_str(text.strip_prefix('\u{feff}').unwrap_or(text)).unwrap()
}

#[test]
fn every_remove_plan_means_exactly_the_intended_change() {
    for name in stacks() {
        let p = ready_for_remove(&name);
        let stack = load(&p);
        let plan = plan_remove(&p);
        let gateway = stack.settings.gateway.clone().unwrap();
        let kept_env: Vec<String> = plan
            .findings
            .iter()
            .filter(|f| f.id == "env-var-kept")
            .filter_map(|f| f.message.split('`').nth(1).map(str::to_string))
            .collect();
        let compose = stack.compose.as_ref().unwrap();
        let change = |path: &RelPath| {
            plan.changes
                .iter()
                .find(|c| &c.path == path)
                .unwrap_or_else(|| panic!("{name}: {path} is not changed"))
        };
        // An external gateway (no Compose service) leaves the Compose file alone.
        let Some(service) = gateway.service.as_deref() else {
            assert!(
                plan.changes.iter().all(|c| c.path != compose.file.path),
                "{name}: the Compose file is changed, though the gateway is not one of its services"
            );
            continue;
        };
        let compose_after = typed(&text(&change(&compose.file.path).after));
        let mut expected = expected_compose(compose.doc.value(), service, &kept_env);
        // `x-` blocks only the gateway used go too; which ones is the anchors' business.
        let drop_unused_extensions = |v: &mut Value, keep: &Value| {
            if let Some(map) = v.as_mapping_mut() {
                map.retain(|k, _| !k.as_str().is_some_and(|k| k.starts_with("x-")) || keep.get(k).is_some());
            }
        };
        drop_unused_extensions(&mut expected, &compose_after);
        assert_eq!(
            compose_after, expected,
            "{name}: the Compose file does not mean what was intended"
        );

        let prom_after = typed(&text(&change(&stack.prometheus.file.path).after));
        let prom_text = stack.prometheus.file.text();
        let comments_under_rule_files = prom_text
            .lines()
            .skip_while(|l| !l.starts_with("rule_files:"))
            .nth(1)
            .is_some_and(|l| l.trim_start().starts_with('#'));
        let expected = expected_prometheus(
            stack.prometheus.doc.value(),
            &gateway.address(),
            gateway.job.as_deref(),
            comments_under_rule_files,
        );
        assert_eq!(
            prom_after, expected,
            "{name}: prometheus.yml does not mean what was intended"
        );

        let deleted: Vec<&str> = plan
            .changes
            .iter()
            .filter(|c| c.kind() == ChangeKind::Delete)
            .map(|c| c.path.file_name())
            .collect();
        assert_eq!(deleted, [DUAL_RUN_DASHBOARD, DUAL_RUN_RULE_FILE], "{name}");
        // The scrape phase's job for each app stays.
        for app in &stack.settings.apps {
            assert!(
                prom_after
                    .get("scrape_configs")
                    .unwrap()
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .any(|j| j.get("job_name").and_then(Value::as_str) == Some(app.job.as_str())),
                "{name}: the scrape job of {} went",
                app.service
            );
        }
    }
}

#[test]
fn promtool_accepts_every_prometheus_yml_remove_writes() {
    if !require_tool("promtool") {
        return;
    }
    for name in stacks() {
        // Planned ahead on the stack as it is, and at the end of the real chain.
        for p in [pullover().stack(&name), ready_for_remove(&name)] {
            let plan = plan_remove(&p);
            write_plan(&p, &plan);
            let config = p.file(load_prometheus_path(&p).as_str());
            if let Err(out) = promtool_check_config(&config) {
                panic!(
                    "{name}: promtool rejects the config pullover wrote:\n{out}\n{}",
                    std::fs::read_to_string(&config).unwrap()
                );
            }
        }
    }
}

fn load_prometheus_path(p: &Pullover) -> RelPath {
    // After remove the gateway is gone, but discovery of prometheus.yml does not need it.
    load(p).prometheus.file.path
}

#[test]
fn every_compose_file_remove_writes_follows_the_compose_specification() {
    let Some(validator) = compose_schema::validator() else {
        return;
    };
    for name in stacks() {
        let p = pullover().stack(&name);
        let stack = load(&p);
        let compose = stack.compose.as_ref().unwrap();
        let before = compose_schema::violations(&validator, compose.file.text());
        assert_eq!(
            before,
            Vec::<String>::new(),
            "{name}: the fixture itself breaks the schema"
        );
        let plan = plan_remove(&p);
        // A stack whose gateway runs elsewhere (no Compose service) keeps its
        // Compose file as it is, and that file was checked above.
        let Some(after) = plan.changes.iter().find(|c| c.path == compose.file.path) else {
            assert!(
                stack.settings.gateway.as_ref().is_some_and(|g| g.service.is_none()),
                "{name}: remove leaves the Compose file alone though the gateway runs in it"
            );
            continue;
        };
        let violations = compose_schema::violations(&validator, &text(&after.after));
        assert_eq!(
            violations,
            Vec::<String>::new(),
            "{name}: the Compose file pullover writes breaks the schema:\n{}",
            text(&after.after)
        );
    }
}

#[test]
fn apply_then_rollback_is_sha256_identity_for_every_stack_and_phase() {
    for name in stacks() {
        let pristine = pullover().stack(&name).hashes();
        let p = ready_for_remove(&name);
        let before_remove = p.hashes();
        let run = p.run(["apply", "--yes"]);
        run.success();
        assert!(run.stdout.contains("Applied phase `remove`"), "{name}: {}", run.stdout);
        let after_remove = p.hashes();
        assert_ne!(after_remove, before_remove, "{name}: remove changed nothing");
        assert!(
            !after_remove
                .keys()
                .any(|k| k.ends_with(DUAL_RUN_RULE_FILE) || k.ends_with(DUAL_RUN_DASHBOARD)),
            "{name}: the dual-run artefacts are still there"
        );
        // Planning again finds nothing left to remove.
        let again = p.run(["plan", "remove", "--detailed-exitcode"]);
        again.code(0);
        assert!(
            again.stdout.contains("No changes") || again.stdout.contains("No file changes:"),
            "{name}: {}",
            again.stdout
        );

        p.run(["rollback", "--yes"]).success();
        assert_eq!(p.hashes(), before_remove, "{name}: rollback of remove");
        p.run(["rollback", "--to", "baseline", "--yes"]).success();
        assert_eq!(p.hashes(), pristine, "{name}: rollback to baseline");
    }
}

#[test]
fn a_compose_file_without_a_pushgateway_has_nothing_to_remove() {
    let p = pullover().stack("seed");
    let compose = p.read("docker-compose.yml");
    p.write(
        "docker-compose.yml",
        &compose
            .replace("prom/pushgateway:v1.5.1", "nginx")
            .replace("  pushgateway:\n", "  cache:\n"),
    );
    // And no scrape job that looks like a gateway's (that would be an external gateway).
    let prom = p.read("prometheus/prometheus.yml");
    p.write(
        "prometheus/prometheus.yml",
        &prom
            .replace("job_name: pushgateway", "job_name: cache")
            .replace("honor_labels: true", "honor_labels: false")
            .replace("pushgateway:9091", "cache:80"),
    );
    let before = p.hashes();
    let run = p.run(["plan", "remove", "--detailed-exitcode"]);
    run.code(1);
    insta::assert_snapshot!(p.clean(&run.stderr), @r#"
    note: `scrape` is not applied yet; `pullover apply remove` refuses until it is
    error: no Pushgateway found in this stack: phase `remove` has nothing to act on
     = help: found no Compose service running prom/pushgateway (or named pushgateway), and no scrape job pinned as the gateway's
     = help: name it with --gateway SERVICE, `gateway: {service: …}` in pullover.yaml, or for a gateway outside Compose `gateway: {job: …}`; nothing was written
    "#);
    assert_eq!(p.hashes(), before);
}

#[test]
fn bad_input_is_an_error_at_its_line_and_changes_nothing() {
    let cases: [(&str, &str, &str, &str); 4] = [
        // (file, replace, with, expected in stderr)
        (
            "docker-compose.yml",
            "    image: prom/pushgateway:v1.5.1",
            "    image: [prom/pushgateway:v1.5.1",
            "--> docker-compose.yml:27:12",
        ),
        (
            "docker-compose.yml",
            "    restart: unless-stopped\n\n  # Pushgateway",
            "    restart: unless-stopped\n    restart: always\n\n  # Pushgateway",
            "duplicate key `restart`",
        ),
        (
            "prometheus/prometheus.yml",
            "  - job_name: prometheus",
            "  - job_name: pushgateway",
            "found multiple scrape configs with job name \"pushgateway\"",
        ),
        (
            "prometheus/prometheus.yml",
            "scrape_configs:",
            "scrape_configs:\n  scrape_configs: x",
            "--> prometheus/prometheus.yml:16:3",
        ),
    ];
    for (file, from, to, expected) in cases {
        let p = pullover().stack("seed");
        let original = p.read(file);
        assert!(original.contains(from), "{file} has no `{from}`");
        p.write(file, &original.replacen(from, to, 1));
        let before = p.hashes();
        let run = p.run(["plan", "remove"]);
        run.code(1);
        assert!(run.stderr.contains(expected), "expected `{expected}`:\n{}", run.stderr);
        assert_eq!(p.hashes(), before, "nothing changed");
    }
}

#[test]
fn an_anchor_the_gateway_defines_for_others_stops_the_plan_with_its_line() {
    let p = ready_for_remove("seed");
    let compose = p.read("docker-compose.yml");
    // The gateway's restart policy becomes an anchor the prometheus service reuses.
    let compose = compose
        .replacen(
            "      - \"9091:9091\"\n    restart: unless-stopped",
            "      - \"9091:9091\"\n    restart: &restart unless-stopped",
            1,
        )
        .replacen(
            "      - metrics-api\n    restart: unless-stopped",
            "      - metrics-api\n    restart: *restart",
            1,
        );
    p.write("docker-compose.yml", &compose);
    let before = p.hashes();
    let run = p.run(["apply", "--yes"]);
    run.code(1);
    insta::assert_snapshot!(p.clean(&run.stderr), @"
    error: docker-compose.yml: cannot remove `services.pushgateway`: it defines the anchor `&restart`, which `*restart` on line 51 still uses
      --> docker-compose.yml:34:14
       |
    34 |     restart: &restart unless-stopped
       |              ^^^^^^^^^^^^^^^^^^^^^^^
       = help: move `&restart` to an `x-` block that stays, or write its value out where `*restart` is; nothing was written
    ");
    assert_eq!(p.hashes(), before, "nothing was written");
}

/// One rule on Compose and Kubernetes: an app's push settings stay, reported, where its code is
/// not in the stack to show it can do without them (removed, one its code reads without a
/// fallback would stop it starting; kept, it only points a failing push at no gateway).
#[test]
fn push_settings_stay_where_the_apps_code_is_not_in_the_stack_on_compose_and_on_kubernetes() {
    // Compose: metrics-api runs an image built elsewhere.
    let p = crate::support::pullover().stack("seed");
    let compose = p.read("docker-compose.yml");
    assert!(compose.contains("    build: ./metrics-api\n"), "the fixture changed");
    p.write(
        "docker-compose.yml",
        &compose.replace(
            "    build: ./metrics-api\n",
            "    image: registry.example.com/shop/metrics-api:1.4.2\n",
        ),
    );
    let run = p.run(["plan", "remove"]);
    run.success();
    assert!(
        run.stdout.contains("todo [env-var-kept] kept `PUSHGATEWAY_URL` on metrics-api: metrics-api runs an image whose code is not in the stack"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("-      - PUSHGATEWAY_URL"), "{}", run.stdout);

    // Kubernetes: the code is never in a folder of manifests.
    let p = crate::support::pullover().stack("k8s-raw");
    let run = p.run(["--format", "json", "plan", "remove"]);
    run.success();
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let changed: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["path"].as_str())
        .collect();
    assert!(!changed.contains(&"manifests/metrics-api.yaml"), "{changed:?}");
    let kept: Vec<String> = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "env-var-kept")
        .map(|f| {
            format!(
                "{} @{}",
                f["message"].as_str().unwrap().split('`').nth(1).unwrap(),
                f["location"]["line"]
            )
        })
        .collect();
    let manifest = p.read("manifests/metrics-api.yaml");
    let line_of = |name: &str| {
        manifest
            .lines()
            .position(|l| l.contains(&format!("name: {name}")))
            .unwrap()
            + 1
    };
    assert_eq!(
        kept,
        [
            format!("PUSHGATEWAY_URL @{}", line_of("PUSHGATEWAY_URL")),
            format!("PUSH_INTERVAL_SECONDS @{}", line_of("PUSH_INTERVAL_SECONDS")),
        ]
    );
}
