//! A big stack for the plan benchmark, in the seed stack's shape: Compose with `services`
//! services (of which `apps` push to the Pushgateway through `PUSHGATEWAY_URL` and say so in
//! their code), a `prometheus.yml` with `jobs` scrape jobs and a rule file, and `dashboards`
//! Grafana dashboards of `panels` panels each (rows, templating, `job="pushgateway"` panels,
//! pushed-series queries with and without `instance`). Deterministic: the same size gives the
//! same bytes, so runs compare.
//!
//! Shared by `benches/plan` and the integration test that plans a small one
//! (`tests/integration/bench_stack.rs`), so the benchmark's stack is known to plan.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub dashboards: usize,
    pub panels: usize,
    pub jobs: usize,
    pub services: usize,
    pub apps: usize,
    /// The user's shape: every app pushes as job `pushgateway` (the gateway's own job name),
    /// told apart by instance, and the queries select `job="pushgateway"`.
    pub pushed_as_gateway: bool,
}

impl Size {
    /// The size issue 7 names: 1,000 dashboards × 30 panels, 1,000 jobs, 300 services.
    pub const BIG: Size = Size {
        dashboards: 1000,
        panels: 30,
        jobs: 1000,
        services: 300,
        apps: 50,
        pushed_as_gateway: false,
    };
}

/// The metrics each app pushes (and serves, once scraped).
const METRICS: &[&str] = &[
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "jobs_processed_total",
    "queue_depth",
];

fn app(i: usize) -> String {
    format!("app-{i:03}")
}

/// The job app `i` pushes under.
fn pushed(i: usize, size: Size) -> String {
    if size.pushed_as_gateway {
        "pushgateway".to_string()
    } else {
        app(i)
    }
}

/// Writes the stack under `root` (which must exist and be empty).
pub fn write_stack(root: &Path, size: Size) -> io::Result<()> {
    assert!(size.apps >= 1 && size.services >= size.apps + 4, "{size:?}");
    fs::create_dir_all(root.join("prometheus/rules"))?;
    fs::create_dir_all(root.join("grafana/provisioning/dashboards"))?;
    fs::create_dir_all(root.join("grafana/provisioning/datasources"))?;
    fs::create_dir_all(root.join("grafana/dashboards"))?;
    fs::write(root.join("docker-compose.yml"), compose(size))?;
    fs::write(root.join("prometheus/prometheus.yml"), prometheus(size))?;
    fs::write(root.join("prometheus/rules/apps.yml"), rules(size))?;
    fs::write(root.join("grafana/provisioning/dashboards/dashboards.yml"), PROVIDER)?;
    fs::write(root.join("grafana/provisioning/datasources/prometheus.yml"), DATASOURCE)?;
    for i in 0..size.apps {
        let dir = root.join(app(i));
        fs::create_dir_all(&dir)?;
        fs::write(dir.join("server.js"), server_js(i, size))?;
    }
    for d in 0..size.dashboards {
        let path = root.join(format!("grafana/dashboards/dashboard-{d:04}.json"));
        fs::write(path, dashboard(d, size))?;
    }
    fs::write(
        root.join("README.md"),
        "# Big stack\n\nApps → Pushgateway (9091) → Prometheus (9090) → Grafana\n\n\
         The apps push to the Pushgateway (`PUSHGATEWAY_URL`).\n",
    )?;
    Ok(())
}

fn compose(size: Size) -> String {
    let mut out = String::from("services:\n");
    for i in 0..size.apps {
        let name = app(i);
        let _ = write!(
            out,
            "  {name}:\n    build: ./{name}\n    expose: [\"8080\"]\n    environment:\n      \
             - PUSHGATEWAY_URL=http://pushgateway:9091\n    depends_on:\n      - pushgateway\n\n"
        );
    }
    // The rest: services that do not push (caches, workers, exporters).
    for i in 0..size.services - size.apps - 3 {
        let _ = write!(
            out,
            "  worker-{i:03}:\n    image: busybox:1.36\n    command: [\"sleep\", \"infinity\"]\n    \
             restart: unless-stopped\n\n"
        );
    }
    out.push_str(
        "  # Pushgateway: the apps push here, Prometheus scrapes them from here.\n  pushgateway:\n    \
         image: prom/pushgateway:v1.5.1\n    ports:\n      - \"9091:9091\"\n\n  prometheus:\n    \
         image: prom/prometheus:v2.42.0\n    volumes:\n      - ./prometheus:/etc/prometheus:ro\n    \
         command:\n      - --config.file=/etc/prometheus/prometheus.yml\n    depends_on:\n      \
         - pushgateway\n\n  grafana:\n    image: grafana/grafana:10.4.2\n    volumes:\n      \
         - ./grafana/provisioning:/etc/grafana/provisioning:ro\n      \
         - ./grafana/dashboards:/var/lib/grafana/dashboards:ro\n    depends_on:\n      - prometheus\n",
    );
    out
}

fn prometheus(size: Size) -> String {
    let mut out = String::from(
        "# Prometheus for the big stack.\nglobal:\n  scrape_interval: 15s\n\nrule_files:\n  \
         - \"rules/*.yml\"\n\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      \
         - targets: ['localhost:9090']\n\n  # The apps push; honor_labels keeps their job and instance.\n  \
         - job_name: pushgateway\n    honor_labels: true\n    static_configs:\n      \
         - targets: ['pushgateway:9091']\n",
    );
    // Exporters on hosts outside Compose: the jobs nobody migrates.
    for j in 0..size.jobs.saturating_sub(2) {
        let _ = write!(
            out,
            "\n  - job_name: node-{j:04}\n    scrape_interval: 30s\n    static_configs:\n      \
             - targets: ['10.{}.{}.{}:9100']\n        labels:\n          rack: r{}\n",
            j / 65536 % 256,
            j / 256 % 256,
            j % 256,
            j % 40
        );
    }
    out
}

fn rules(size: Size) -> String {
    let mut out = String::from("groups:\n  - name: apps\n    rules:\n");
    for i in 0..size.apps {
        let name = app(i);
        let job = pushed(i, size);
        let _ = write!(
            out,
            "      - alert: {}PushStale\n        expr: time() - push_time_seconds{{job=\"{job}\", instance=\"{name}-1\"}} > 300\n        \
             for: 2m\n      - record: job:http_requests:rate5m\n        \
             expr: sum by (code) (rate(http_requests_total{{job=\"{job}\", instance=\"{name}-1\"}}[5m]))\n",
            name.replace('-', "_")
        );
    }
    out
}

const PROVIDER: &str = "apiVersion: 1\n\nproviders:\n  - name: apps\n    type: file\n    \
                        options:\n      path: /var/lib/grafana/dashboards\n";

const DATASOURCE: &str = "apiVersion: 1\n\ndatasources:\n  - name: Prometheus\n    type: prometheus\n    \
                          uid: prometheus\n    url: http://prometheus:9090\n    isDefault: true\n";

fn server_js(i: usize, size: Size) -> String {
    let name = app(i);
    let job = pushed(i, size);
    format!(
        "'use strict';\n// {name}: serves /metrics and pushes its registry to the Pushgateway.\n\
         const http = require('http');\nconst client = require('prom-client');\n\n\
         const gateway = new client.Pushgateway(process.env.PUSHGATEWAY_URL, {{ timeout: 5000 }});\n\
         setInterval(() => gateway.pushAdd({{ jobName: '{job}', groupings: {{ instance: '{name}-1' }} }}), 15000);\n\n\
         http.createServer(async (req, res) => {{\n  res.end(await client.register.metrics());\n}}).listen(8080);\n"
    )
}

/// The query of panel `p` on dashboard `d`: mostly the pushed series of one app, now and then
/// the gateway's own metrics or a push age (which stay and are reported).
fn query(d: usize, p: usize, size: Size) -> String {
    let i = (d * 7 + p) % size.apps;
    let name = app(i);
    let job = pushed(i, size);
    let metric = METRICS[(d + p) % METRICS.len()];
    match p % 6 {
        0 => format!("sum by (code) (rate({metric}{{job=\"{job}\", code=~\"$code\"}}[$__rate_interval]))"),
        1 => format!(
            "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{{job=\"{job}\", \
             instance=\"{name}-1\"}}[5m])))"
        ),
        2 => format!("{metric}{{job=\"{job}\", instance=\"{name}-1\"}}"),
        3 => "up{job=\"pushgateway\"}".to_string(),
        4 => format!("time() - push_time_seconds{{job=\"{job}\", instance=\"{name}-1\"}}"),
        _ => format!(
            "sum(increase({metric}{{job=\"{job}\", instance=\"{name}-1\"}}[1h])) / sum(increase({metric}{{job=\"{job}\"}}[1h] offset 1d))"
        ),
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn dashboard(d: usize, size: Size) -> String {
    let job = pushed(d % size.apps, size);
    let mut panels = Vec::with_capacity(size.panels);
    for p in 0..size.panels {
        let (x, y) = ((p % 2) * 12, (p / 2) * 8);
        if p % 10 == 0 {
            panels.push(format!(
                "    {{\n      \"collapsed\": false,\n      \"gridPos\": {{ \"h\": 1, \"w\": 24, \"x\": 0, \"y\": {y} }},\n      \
                 \"id\": {},\n      \"panels\": [],\n      \"title\": \"Row {}\",\n      \"type\": \"row\"\n    }}",
                p + 1,
                p / 10 + 1
            ));
            continue;
        }
        panels.push(format!(
            "    {{\n      \"datasource\": {{ \"type\": \"prometheus\", \"uid\": \"${{datasource}}\" }},\n      \
             \"fieldConfig\": {{ \"defaults\": {{ \"unit\": \"short\" }}, \"overrides\": [] }},\n      \
             \"gridPos\": {{ \"h\": 8, \"w\": 12, \"x\": {x}, \"y\": {y} }},\n      \"id\": {},\n      \
             \"options\": {{ \"legend\": {{ \"displayMode\": \"list\", \"placement\": \"bottom\" }} }},\n      \
             \"targets\": [\n        {{\n          \"datasource\": {{ \"type\": \"prometheus\", \"uid\": \"${{datasource}}\" }},\n          \
             \"expr\": {},\n          \"legendFormat\": \"{{{{code}}}}\",\n          \"refId\": \"A\"\n        }}\n      ],\n      \
             \"title\": \"Panel {p}\",\n      \"type\": \"timeseries\"\n    }}",
            p + 1,
            json_string(&query(d, p, size))
        ));
    }
    format!(
        "{{\n  \"annotations\": {{ \"list\": [] }},\n  \"editable\": true,\n  \"id\": null,\n  \"panels\": [\n{}\n  ],\n  \
         \"schemaVersion\": 39,\n  \"tags\": [\"apps\"],\n  \"templating\": {{\n    \"list\": [\n      {{\n        \
         \"current\": {{ \"text\": \"Prometheus\", \"value\": \"prometheus\" }},\n        \"name\": \"datasource\",\n        \
         \"query\": \"prometheus\",\n        \"type\": \"datasource\"\n      }},\n      {{\n        \
         \"datasource\": {{ \"type\": \"prometheus\", \"uid\": \"${{datasource}}\" }},\n        \
         \"definition\": {def},\n        \"includeAll\": true,\n        \"multi\": true,\n        \"name\": \"code\",\n        \
         \"query\": {def},\n        \"refresh\": 1,\n        \"type\": \"query\"\n      }}\n    ]\n  }},\n  \
         \"time\": {{ \"from\": \"now-6h\", \"to\": \"now\" }},\n  \"title\": \"Dashboard {d}\",\n  \"uid\": \"dash-{d:04}\",\n  \
         \"version\": 1\n}}\n",
        panels.join(",\n"),
        def = json_string(&format!("label_values(http_requests_total{{job=\"{job}\"}}, code)")),
    )
}
