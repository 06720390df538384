//! `expose`, the phase before `scrape`: an app that only pushes gets a /metrics endpoint in
//! its own code. Checked as a diff (only inserted lines, plus the one import it extends;
//! rollback gives the bytes back) and for real: the changed app runs (node with its npm
//! dependencies, python with prometheus_client), pushes to a real Pushgateway, and serves at
//! /metrics valid exposition text holding the families it pushes.
//!
//! At the other end of the migration, `remove --remove-push-code` takes the push logic out
//! of the same apps: only deletions (of lines, or of names in a line), rollback byte for
//! byte, and the app run again still serves those families while a Pushgateway it is pointed
//! at receives nothing.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pullover::live::exposition::{Exposition, Family as ExpositionFamily};
use pullover::live::parse_exposition;

use crate::support::live::real_app::{RealApp, get, go_build, node_modules, python_with};
use crate::support::live::stack::{PUSHGATEWAY_BIN, ServerProcess, binaries_or_skip};
use crate::support::live::{free_port, http_request};
use crate::support::{pullover, stacks};

/// The stacks whose app only pushes, with the file `expose` changes.
const PUSH_ONLY: &[(&str, &str)] = &[
    ("seed", "metrics-api/server.js"),
    ("push-only/node-express", "api/app.js"),
    ("push-only/node-koa", "checkout/server.js"),
    ("push-only/node-fastify", "search/index.js"),
    ("push-only/python-worker", "worker/reindex.py"),
    ("push-only/python-batch", "exporter/export.py"),
    ("push-only/python-flask", "invoices/app.py"),
    ("push-only/python-fastapi", "shipping/main.py"),
    ("push-only/go-worker", "thumbnailer/main.go"),
    ("push-only/go-http", "resizer/main.go"),
    (
        "push-only/java-simpleclient",
        "reports/src/main/java/com/example/reports/ReportJob.java",
    ),
];

#[test]
fn expose_inserts_only_the_lines_it_must_and_rolls_back_byte_for_byte() {
    for (stack, code) in PUSH_ONLY {
        let p = pullover().stack(stack);
        let original = p.hashes();
        let before = p.read(code);
        let plan = p.run(["plan"]);
        plan.success();
        assert!(
            plan.stdout.contains("Phase 0/5 `expose`"),
            "{stack}: the first phase is expose\n{}",
            plan.stdout
        );
        p.run(["apply", "expose", "--yes"]).success();
        let after = p.read(code);
        let diff = similar::TextDiff::from_lines(&before, &after);
        let removed: Vec<&str> = diff
            .iter_all_changes()
            .filter(|c| c.tag() == similar::ChangeTag::Delete)
            .map(|c| c.value())
            .collect();
        let inserted: Vec<&str> = diff
            .iter_all_changes()
            .filter(|c| c.tag() == similar::ChangeTag::Insert)
            .map(|c| c.value())
            .collect();
        // Only the import it extends is changed; everything else is inserted.
        assert!(removed.len() <= 1, "{stack}: lines removed: {removed:?}");
        for line in &removed {
            let extended = inserted
                .iter()
                .any(|new| new.starts_with(line.trim_end()) && new.len() > line.len());
            assert!(extended, "{stack}: `{line}` is changed, not extended");
        }
        assert!(
            inserted
                .iter()
                .any(|l| l.contains("/metrics") || l.contains("start_http_server") || l.contains("new HTTPServer")),
            "{stack}: no endpoint inserted: {inserted:?}"
        );
        // Indentation of every inserted line is a multiple of the file's unit.
        let unit = if stack.contains("node-express") || stack.contains("python") {
            4
        } else {
            2
        };
        for line in &inserted {
            let lead = line.len() - line.trim_start_matches(' ').len();
            assert_eq!(lead % unit, 0, "{stack}: `{line}` is not indented like the file");
        }
        // What scrape adds next targets what expose chose.
        let scrape = p.run(["plan", "scrape"]);
        scrape.success();
        assert!(
            !scrape.stdout.contains("app-serves-no-metrics"),
            "{stack}:\n{}",
            scrape.stdout
        );
        p.run(["rollback", "--yes"]).success();
        assert_eq!(
            p.hashes(),
            original,
            "{stack}: rollback of expose is not byte-identical"
        );
        // Skipping expose is allowed, and scrape says what that means.
        let scrape = p.run(["plan", "scrape"]);
        assert!(
            scrape.stdout.contains("hazard [app-serves-no-metrics]"),
            "{stack}:\n{}",
            scrape.stdout
        );
    }
}

#[test]
fn apps_that_serve_metrics_already_get_no_change_from_expose() {
    let push_only: BTreeSet<&str> = PUSH_ONLY.iter().map(|(s, _)| *s).collect();
    for stack in stacks().iter().filter(|s| !push_only.contains(s.as_str())) {
        let p = pullover().stack(stack);
        let run = p.run(["plan", "expose", "--detailed-exitcode"]);
        assert_eq!(
            run.code,
            Some(0),
            "{stack}: expose plans a change\n{}{}",
            run.stdout,
            run.stderr
        );
    }
}

/// `remove --remove-push-code` on every push-only stack, after the phases before it: the
/// app's code loses lines (and parts of lines: an import's name, the push before an exit)
/// and gains none; no push call is left; without the flag the code is not touched; rollback
/// gives every byte back.
#[test]
fn remove_push_code_only_deletes_push_logic_and_rolls_back_byte_for_byte() {
    for (stack, code) in PUSH_ONLY {
        let p = pullover().stack(stack);
        for phase in ["expose", "scrape", "dual-run", "dashboards"] {
            p.run(["apply", phase, "--yes"]).success();
        }
        let before_remove = p.hashes();
        let before = p.read(code);
        assert!(
            !pullover::stack::app_code::push_calls(&before).is_empty(),
            "{stack}: the fixture pushes"
        );
        let kept = p.run(["plan", "remove"]);
        kept.success();
        assert!(
            !kept.stdout.contains(&format!("diff --git a/{code}")) && kept.stdout.contains("todo [push-logic]"),
            "{stack}: without the flag the push logic is kept and listed\n{}",
            kept.stdout
        );
        let plan = p.run(["plan", "remove", "--remove-push-code"]);
        plan.success();
        assert!(
            plan.stdout.contains(&format!("diff --git a/{code}")) && !plan.stdout.contains("push-code-kept"),
            "{stack}:\n{}",
            plan.stdout
        );
        p.run(["apply", "remove", "--yes", "--remove-push-code"]).success();
        let after = p.read(code);
        assert_eq!(
            pullover::stack::app_code::push_calls(&after),
            [],
            "{stack}: a push call is left\n{after}"
        );
        assert!(!after.contains("Pushgateway("), "{stack}: the client is left\n{after}");
        let diff = similar::TextDiff::from_lines(&before, &after);
        let removed: Vec<&str> = diff
            .iter_all_changes()
            .filter(|c| c.tag() == similar::ChangeTag::Delete)
            .map(|c| c.value())
            .collect();
        let inserted: Vec<&str> = diff
            .iter_all_changes()
            .filter(|c| c.tag() == similar::ChangeTag::Insert)
            .map(|c| c.value())
            .collect();
        assert!(removed.len() >= 3, "{stack}: {removed:?}");
        // A changed line is an old line with parts deleted, nothing added.
        for line in &inserted {
            assert!(
                removed.iter().any(|old| is_subsequence(line, old)),
                "{stack}: `{line}` is not an old line shortened"
            );
        }
        // Line endings are the file's own.
        assert_eq!(
            after.matches("\r\n").count() > 0,
            before.matches("\r\n").count() > 0,
            "{stack}"
        );
        p.run(["rollback", "--yes"]).success();
        assert_eq!(
            p.hashes(),
            before_remove,
            "{stack}: rollback of remove is not byte-identical"
        );
    }
}

/// Whether `short`'s characters appear in `long` in order.
fn is_subsequence(short: &str, long: &str) -> bool {
    let mut rest = long.chars();
    short.chars().all(|c| rest.any(|l| l == c))
}

/// How one push-only app runs: its folder, its program, the job it pushes as, and a request
/// that makes its own counters count.
struct PushOnlyApp {
    stack: &'static str,
    folder: &'static str,
    main: &'static str,
    runtime: Runtime,
    job: &'static str,
    exercise: fn(SocketAddr),
}

/// What runs the app.
enum Runtime {
    /// `node` with the npm dependencies of its package.json.
    Node,
    /// `python3` with these packages from PyPI.
    Python(&'static [&'static str]),
    /// Its package built with `go` (GOPATH mode, Debian's client_golang), then vetted.
    Go,
}

fn no_requests(_: SocketAddr) {}

fn request(addr: SocketAddr, method: &str, path: &str, body: &str) {
    let (status, answer) = http_request(addr, method, path, body, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    assert!(status < 500, "{method} {path}: {status} {answer}");
}

/// The user's story for one app: after `expose` it serves at /metrics the families it pushes
/// (to a real Pushgateway); after `remove --remove-push-code` it still starts and serves the
/// same families, and a fresh Pushgateway it is pointed at receives nothing.
fn serves_then_stops_pushing(test: &str, app: &PushOnlyApp) {
    if !binaries_or_skip(test) {
        return;
    }
    let p = pullover().stack(app.stack);
    let program = match app.runtime {
        Runtime::Python(packages) => {
            let Some(python) = python_with(test, packages) else {
                return;
            };
            python
        }
        Runtime::Node => {
            if node_modules(test, &p.file(&format!("{}/package.json", app.folder))).is_none() {
                return;
            }
            PathBuf::from("node")
        }
        Runtime::Go => PathBuf::new(),
    };
    p.run(["apply", "expose", "--yes"]).success();
    let Some(program) = built(test, &p, app, program) else {
        return;
    };
    let (gateway, gateway_addr) = start_gateway(&p.path());
    let running = start(&p, app, &program, gateway_addr);
    (app.exercise)(running.addr);
    let Families {
        pushed,
        declared,
        seen_empty,
    } = same_families(&running, gateway_addr, app.job);
    drop(running);
    drop(gateway);

    for phase in ["scrape", "dual-run", "dashboards"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    p.run(["apply", "remove", "--yes", "--remove-push-code"]).success();
    let Some(program) = built(test, &p, app, program) else {
        return;
    };
    let (gateway, gateway_addr) = start_gateway(&p.path());
    let running = start(&p, app, &program, gateway_addr);
    (app.exercise)(running.addr);
    // Which families hold samples can depend on the runtime (a GC histogram is empty until the
    // first collection), so the check is: the same families declared, and every pushed one
    // served, bar those the app itself was seen serving empty before.
    let required: BTreeSet<String> = pushed.difference(&seen_empty).cloned().collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = metrics(&running);
        assert_eq!(status, 200, "GET /metrics:\n{body}\nlog:\n{}", running.log_text());
        let exposition = parse_exposition(&body);
        assert_eq!(
            exposition.errors().count(),
            0,
            "/metrics is not valid exposition text:\n{body}"
        );
        let now = Families::served(&exposition);
        // Eventually: client_golang declares a labelled family at its first child (the first
        // thumbnail rendered), as the pushes carried it.
        if now.declared == declared && required.is_subset(&now.pushed) {
            break;
        }
        assert!(
            Instant::now() < deadline || now.declared == declared,
            "after remove --remove-push-code the app declares other families: {:?}, before {declared:?}",
            now.declared
        );
        assert!(
            Instant::now() < deadline,
            "after remove --remove-push-code the app no longer serves samples of {:?}",
            required.difference(&now.pushed).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // The old code pushed every 0.5 s (every round): many times over by now.
    std::thread::sleep(Duration::from_secs(3));
    let (_, text) = get(gateway_addr, "/metrics").expect("gateway /metrics");
    let received: BTreeSet<String> = parse_exposition(&text)
        .samples
        .iter()
        .filter(|s| s.family == "push_time_seconds" || s.labels.iter().any(|(k, v)| k == "job" && v == app.job))
        .map(|s| s.family.clone())
        .collect();
    assert!(
        received.is_empty(),
        "the Pushgateway still receives pushes: {received:?}\napp log:\n{}",
        running.log_text()
    );
    drop(running);
    drop(gateway);
}

/// The program that runs the app as its code now reads: a Go app is built (and vetted) anew,
/// the others run their source.
fn built(test: &str, p: &crate::support::Pullover, app: &PushOnlyApp, program: PathBuf) -> Option<PathBuf> {
    match app.runtime {
        Runtime::Go => go_build(test, &p.file(app.folder)),
        Runtime::Node | Runtime::Python(_) => Some(program),
    }
}

/// Starts the stack's app (as its code now reads) pointed at `gateway`, on a free port.
fn start(p: &crate::support::Pullover, app: &PushOnlyApp, program: &Path, gateway: SocketAddr) -> RealApp {
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    if let Runtime::Go = app.runtime {
        let env = [
            ("PUSHGATEWAY_URL", format!("http://{gateway}")),
            ("PUSH_INTERVAL_SECONDS", "0.5".into()),
            ("METRICS_PORT", port.to_string()),
            ("PORT", port.to_string()),
        ];
        return RealApp::start(program, &[], &p.file(app.folder), &env, addr);
    }
    let env: Vec<(&str, String)> = if let Runtime::Python(_) = app.runtime {
        vec![
            ("HOST", "127.0.0.1".into()),
            ("PORT", port.to_string()),
            ("PUSHGATEWAY", gateway.to_string()),
            ("ROUND_SECONDS", "0.5".into()),
            ("BATCHES", "2".into()),
            ("METRICS_PORT", port.to_string()),
        ]
    } else {
        let modules =
            node_modules("start", &p.file(&format!("{}/package.json", app.folder))).expect("installed before");
        vec![
            ("NODE_PATH", modules.display().to_string()),
            ("HOST", "127.0.0.1".into()),
            ("PORT", port.to_string()),
            ("PUSHGATEWAY_URL", format!("http://{gateway}")),
            ("PUSH_INTERVAL_SECONDS", "0.5".into()),
        ]
    };
    RealApp::start(program, &[app.main], &p.file(app.folder), &env, addr)
}

#[test]
fn the_seed_serves_what_it_pushes_and_stops_pushing() {
    serves_then_stops_pushing(
        "the_seed_serves_what_it_pushes_and_stops_pushing",
        &PushOnlyApp {
            stack: "seed",
            folder: "metrics-api",
            main: "server.js",
            runtime: Runtime::Node,
            job: "pushgateway",
            exercise: |addr| request(addr, "POST", "/events", r#"{"page": "/", "country": "de"}"#),
        },
    );
}

#[test]
fn an_express_app_serves_what_it_pushes_and_stops_pushing() {
    serves_then_stops_pushing(
        "an_express_app_serves_what_it_pushes_and_stops_pushing",
        &PushOnlyApp {
            stack: "push-only/node-express",
            folder: "api",
            main: "app.js",
            runtime: Runtime::Node,
            job: "orders-api",
            exercise: no_requests,
        },
    );
}

#[test]
fn a_koa_app_serves_what_it_pushes_and_stops_pushing() {
    serves_then_stops_pushing(
        "a_koa_app_serves_what_it_pushes_and_stops_pushing",
        &PushOnlyApp {
            stack: "push-only/node-koa",
            folder: "checkout",
            main: "server.js",
            runtime: Runtime::Node,
            job: "checkout",
            exercise: |addr| request(addr, "POST", "/checkout", ""),
        },
    );
}

#[test]
fn a_fastify_app_serves_what_it_pushes_and_stops_pushing() {
    serves_then_stops_pushing(
        "a_fastify_app_serves_what_it_pushes_and_stops_pushing",
        &PushOnlyApp {
            stack: "push-only/node-fastify",
            folder: "search",
            main: "index.js",
            runtime: Runtime::Node,
            job: "search-api",
            exercise: |addr| request(addr, "GET", "/search?index=docs", ""),
        },
    );
}

#[test]
fn a_python_worker_serves_what_it_pushes_and_stops_pushing() {
    serves_then_stops_pushing(
        "a_python_worker_serves_what_it_pushes_and_stops_pushing",
        &PushOnlyApp {
            stack: "push-only/python-worker",
            folder: "worker",
            main: "reindex.py",
            runtime: Runtime::Python(&["prometheus_client"]),
            job: "reindexer",
            exercise: no_requests,
        },
    );
}

#[test]
fn a_python_batch_exporter_serves_what_it_pushes_and_stops_pushing() {
    serves_then_stops_pushing(
        "a_python_batch_exporter_serves_what_it_pushes_and_stops_pushing",
        &PushOnlyApp {
            stack: "push-only/python-batch",
            folder: "exporter",
            main: "export.py",
            runtime: Runtime::Python(&["prometheus_client"]),
            job: "order-exporter",
            exercise: no_requests,
        },
    );
}

#[test]
fn a_go_worker_serves_what_it_pushes_and_stops_pushing() {
    serves_then_stops_pushing(
        "a_go_worker_serves_what_it_pushes_and_stops_pushing",
        &PushOnlyApp {
            stack: "push-only/go-worker",
            folder: "thumbnailer",
            main: "main.go",
            runtime: Runtime::Go,
            job: "thumbnailer",
            exercise: no_requests,
        },
    );
}

#[test]
fn a_go_http_server_serves_what_it_pushes_and_stops_pushing() {
    serves_then_stops_pushing(
        "a_go_http_server_serves_what_it_pushes_and_stops_pushing",
        &PushOnlyApp {
            stack: "push-only/go-http",
            folder: "resizer",
            main: "main.go",
            runtime: Runtime::Go,
            job: "resizer",
            exercise: |addr| request(addr, "GET", "/resize?width=120", ""),
        },
    );
}

/// `GET /metrics`, after the one redirect a mounted ASGI app answers with (Starlette sends
/// `/metrics` on to `/metrics/`; Prometheus follows redirects, as `pullover verify` does).
fn metrics(app: &RealApp) -> (u16, String) {
    match app.get("/metrics") {
        (307 | 308, _) => app.get("/metrics/"),
        answer => answer,
    }
}

fn start_gateway(dir: &Path) -> (ServerProcess, SocketAddr) {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let gateway = ServerProcess::spawn(
        "pushgateway",
        PUSHGATEWAY_BIN,
        &[
            format!("--web.listen-address={addr}"),
            "--persistence.file=".to_string(),
        ],
        addr,
        dir,
    );
    (gateway, addr)
}

/// The app's /metrics is valid exposition text, and the metric families with samples there
/// are the ones the Pushgateway holds for its pushed job (eventually: the next push carries
/// what the last requests added).
/// The families an app's /metrics page names: `declared` by HELP/TYPE or samples, those with
/// samples (what a push carries, so named `pushed` here), and those seen declared but empty.
struct Families {
    pushed: BTreeSet<String>,
    declared: BTreeSet<String>,
    seen_empty: BTreeSet<String>,
}

impl Families {
    fn served(exposition: &Exposition) -> Families {
        let with_samples = |f: &&ExpositionFamily| f.samples > 0;
        Families {
            pushed: exposition
                .families
                .iter()
                .filter(with_samples)
                .map(|f| f.name.clone())
                .collect(),
            declared: exposition.families.iter().map(|f| f.name.clone()).collect(),
            seen_empty: exposition
                .families
                .iter()
                .filter(|f| f.samples == 0)
                .map(|f| f.name.clone())
                .collect(),
        }
    }
}

/// Waits until the families the app serves with samples are the families the gateway holds
/// for its job, and returns them with the families the page declares (and every family it was
/// seen serving empty on the way).
fn same_families(app: &RealApp, gateway: SocketAddr, job: &str) -> Families {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen_empty = BTreeSet::new();
    loop {
        let (status, body) = metrics(app);
        assert_eq!(status, 200, "GET /metrics:\n{body}\nlog:\n{}", app.log_text());
        let exposition = parse_exposition(&body);
        let errors: Vec<String> = exposition.errors().map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "/metrics is not valid exposition text: {errors:#?}\n{body}"
        );
        let mut served = Families::served(&exposition);
        seen_empty.append(&mut served.seen_empty);
        let (_, text) = get(gateway, "/metrics").expect("gateway /metrics");
        let pushed: BTreeSet<String> = parse_exposition(&text)
            .samples
            .iter()
            .filter(|s| s.labels.iter().any(|(k, v)| k == "job" && v == job))
            .map(|s| s.family.clone())
            .filter(|f| f != "push_time_seconds" && f != "push_failure_time_seconds")
            .collect();
        if !pushed.is_empty() && served.pushed == pushed {
            return Families { seen_empty, ..served };
        }
        if Instant::now() > deadline {
            panic!(
                "served and pushed families differ\nonly served: {:?}\nonly pushed: {:?}\napp log:\n{}",
                served.pushed.difference(&pushed).collect::<Vec<_>>(),
                pushed.difference(&served.pushed).collect::<Vec<_>>(),
                app.log_text()
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn a_flask_app_serves_what_it_pushes_and_stops_pushing() {
    serves_then_stops_pushing(
        "a_flask_app_serves_what_it_pushes_and_stops_pushing",
        &PushOnlyApp {
            stack: "push-only/python-flask",
            folder: "invoices",
            main: "app.py",
            runtime: Runtime::Python(&["prometheus_client", "flask"]),
            job: "invoices",
            exercise: |addr| request(addr, "POST", "/invoices", ""),
        },
    );
}

#[test]
fn a_fastapi_app_serves_what_it_pushes_and_stops_pushing() {
    serves_then_stops_pushing(
        "a_fastapi_app_serves_what_it_pushes_and_stops_pushing",
        &PushOnlyApp {
            stack: "push-only/python-fastapi",
            folder: "shipping",
            main: "main.py",
            runtime: Runtime::Python(&["prometheus_client", "fastapi", "uvicorn"]),
            job: "shipping",
            exercise: |addr| request(addr, "GET", "/quote?carrier=dhl", ""),
        },
    );
}

/// The Spring Boot apps that push with Micrometer, with the config file that turns the push
/// on. They are checked by their config alone: their Maven/Gradle dependencies are not fetched
/// here and the apps do not run.
const SPRING: &[(&str, &str, &str)] = &[
    (
        "push-only/spring-yaml",
        "billing",
        "billing/src/main/resources/application.yml",
    ),
    (
        "push-only/spring-properties",
        "ledger",
        "ledger/src/main/resources/application.properties",
    ),
];

/// The lines of `before` that `after` removes, and the lines it inserts.
fn changed_lines(before: &str, after: &str) -> (Vec<String>, Vec<String>) {
    let diff = similar::TextDiff::from_lines(before, after);
    let of = |tag| {
        diff.iter_all_changes()
            .filter(|c| c.tag() == tag)
            .map(|c| c.value().to_string())
            .collect()
    };
    (of(similar::ChangeTag::Delete), of(similar::ChangeTag::Insert))
}

/// The `metrics_path` of the job named `job` in the stack's prometheus.yml.
fn metrics_path_of(p: &crate::support::Pullover, job: &str) -> Option<String> {
    let prometheus: yaml_serde::Value =
        yaml_serde::from_str(&p.read("prometheus/prometheus.yml")).expect("prometheus.yml parses");
    let jobs = prometheus.get("scrape_configs")?.as_sequence()?;
    let job = jobs
        .iter()
        .find(|j| j.get("job_name").and_then(|n| n.as_str()) == Some(job))?;
    Some(
        job.get("metrics_path")
            .and_then(|m| m.as_str())
            .unwrap_or("/metrics (Prometheus' default)")
            .to_string(),
    )
}

#[test]
fn a_spring_app_is_exposed_by_its_config_alone_and_scraped_at_the_actuator_path() {
    use pullover::stack::app_code::spring::SpringConfig;
    for (stack, app, config) in SPRING {
        let p = pullover().stack(stack);
        let original = p.hashes();
        let before = p.read(config);
        let read = SpringConfig::read(config, &before).expect("a Spring config");
        assert!(
            read.push_enabled().is_some() && !read.exposes_prometheus(),
            "{stack}: the fixture pushes and serves nothing"
        );
        // Skipping expose is allowed, and scrape says what that means.
        let scrape = p.run(["plan", "scrape"]);
        assert!(
            scrape.stdout.contains("hazard [app-serves-no-metrics]"),
            "{stack}:\n{}",
            scrape.stdout
        );
        p.run(["apply", "expose", "--yes"]).success();
        let after = p.read(config);
        let (removed, inserted) = changed_lines(&before, &after);
        assert_eq!(inserted.len(), 1, "{stack}: {inserted:?}");
        assert!(removed.len() <= 1, "{stack}: {removed:?}");
        // An include line it had is extended, keeping what it listed; else one line is added.
        for old in &removed {
            let kept = old.trim_end();
            assert!(
                inserted[0].starts_with(kept) && inserted[0].trim_end() == format!("{kept},prometheus"),
                "{stack}: `{old}` became `{}`",
                inserted[0]
            );
        }
        // The file's line ending and spacing.
        assert_eq!(inserted[0].ends_with("\r\n"), before.contains("\r\n"), "{stack}");
        let exposed = SpringConfig::read(config, &after).expect("still a Spring config");
        assert!(exposed.exposes_prometheus(), "{stack}:\n{after}");
        assert!(exposed.push_enabled().is_some(), "{stack}: the push stays until remove");
        // Everything but the config is as it was (the Compose service has its port already).
        let mut others = p.hashes();
        others.remove(*config);
        let mut original_others = original.clone();
        original_others.remove(*config);
        assert_eq!(others, original_others, "{stack}: expose changed another file");

        let scrape = p.run(["plan", "scrape"]);
        scrape.success();
        assert!(
            !scrape.stdout.contains("app-serves-no-metrics"),
            "{stack}:\n{}",
            scrape.stdout
        );
        p.run(["apply", "scrape", "--yes"]).success();
        assert_eq!(
            metrics_path_of(&p, app).as_deref(),
            Some("/actuator/prometheus"),
            "{stack}:\n{}",
            p.read("prometheus/prometheus.yml")
        );
        assert_eq!(
            metrics_path_of(&p, "pushgateway").as_deref(),
            Some("/metrics (Prometheus' default)"),
            "{stack}: the gateway's job is not touched"
        );
        p.run(["rollback", "--yes"]).success();
        p.run(["rollback", "--yes"]).success();
        assert_eq!(p.hashes(), original, "{stack}: rollback is not byte-identical");
    }
}

#[test]
fn the_plans_of_a_spring_app_change_one_config_line_and_scrape_the_actuator_path() {
    let p = pullover().stack("push-only/spring-yaml");
    let run = p.run(["plan", "expose"]);
    run.success();
    insta::assert_snapshot!(p.clean(&run.stdout), @"
    Phase 0/5 `expose`: make each app that only pushes serve its metrics at /metrics

    diff --git a/billing/src/main/resources/application.yml b/billing/src/main/resources/application.yml
    --- a/billing/src/main/resources/application.yml
    +++ b/billing/src/main/resources/application.yml
    @@ -11,7 +11,7 @@
         web:
           exposure:
             # health for the load balancer, info for the release dashboard
    -        include: health,info
    +        include: health,info,prometheus
       endpoint:
         health:
           probes:

    Plan: 1 file to change, 0 to create, 0 to delete (+1 −1 lines).
    Apply it with `pullover apply expose`.
    ");
    p.run(["apply", "expose", "--yes"]).success();
    let run = p.run(["plan", "scrape"]);
    run.success();
    insta::assert_snapshot!(p.clean(&run.stdout), @r#"
    Phase 1/5 `scrape`: add a direct scrape job for each app

    diff --git a/prometheus/prometheus.yml b/prometheus/prometheus.yml
    --- a/prometheus/prometheus.yml
    +++ b/prometheus/prometheus.yml
    @@ -6,3 +6,9 @@
         honor_labels: true
         static_configs:
           - targets: ["pushgateway:9091"]
    +  # billing: scraped directly instead of through the Pushgateway (pullover: scrape)
    +  - job_name: billing
    +    scrape_interval: 15s
    +    metrics_path: /actuator/prometheus
    +    static_configs:
    +      - targets: ["billing:8080"]

    Findings:
    hazard [double-count-during-dual-run] pushed and scraped series of billing will both carry job="billing" and differ only by instance
             = tip: sums over job alone double-count until the `remove` phase; the `dashboards` phase lists those queries

    Plan: 1 file to change, 0 to create, 0 to delete (+6 −0 lines).
    Apply it with `pullover apply scrape`.
    "#);
    let p = pullover().stack("push-only/spring-properties");
    let run = p.run(["plan", "expose"]);
    run.success();
    insta::assert_snapshot!(p.clean(&run.stdout), @"
    Phase 0/5 `expose`: make each app that only pushes serve its metrics at /metrics

    diff --git a/ledger/src/main/resources/application.properties b/ledger/src/main/resources/application.properties
    --- a/ledger/src/main/resources/application.properties
    +++ b/ledger/src/main/resources/application.properties
    @@ -9,3 +9,4 @@
     management.metrics.export.prometheus.pushgateway.shutdown-operation = PUSH
     
     management.endpoint.health.show-details = always
    +management.endpoints.web.exposure.include = health,prometheus

    Plan: 1 file to change, 0 to create, 0 to delete (+1 −0 lines).
    Apply it with `pullover apply expose`.
    ");
}

/// A `metrics_path` the user sets in pullover.yaml is theirs, for every app.
#[test]
fn a_metrics_path_set_in_pullover_yaml_wins_over_the_actuator_path() {
    let p = pullover().stack("push-only/spring-yaml");
    p.write("pullover.yaml", "scrape:\n  metrics_path: /internal/metrics\n");
    p.run(["apply", "expose", "--yes"]).success();
    p.run(["apply", "scrape", "--yes"]).success();
    assert_eq!(metrics_path_of(&p, "billing").as_deref(), Some("/internal/metrics"));
}

#[test]
fn remove_push_code_switches_the_micrometer_push_off_in_the_same_file() {
    use pullover::stack::app_code::spring::SpringConfig;
    for (stack, _, config) in SPRING {
        let p = pullover().stack(stack);
        for phase in ["expose", "scrape", "dual-run", "dashboards"] {
            p.run(["apply", phase, "--yes"]).success();
        }
        let before_remove = p.hashes();
        let before = p.read(config);
        let kept = p.run(["plan", "remove"]);
        kept.success();
        assert!(
            !kept.stdout.contains(&format!("diff --git a/{config}")) && kept.stdout.contains("todo [push-logic]"),
            "{stack}: without the flag the config is not touched, and its push is listed\n{}",
            kept.stdout
        );
        let plan = p.run(["plan", "remove", "--remove-push-code"]);
        plan.success();
        assert!(
            plan.stdout.contains("info [push-settings-left]") && !plan.stdout.contains("push-code-kept"),
            "{stack}:\n{}",
            plan.stdout
        );
        p.run(["apply", "remove", "--yes", "--remove-push-code"]).success();
        let after = p.read(config);
        let (removed, inserted) = changed_lines(&before, &after);
        assert_eq!(removed.len(), 1, "{stack}: {removed:?}");
        assert_eq!(
            inserted,
            [removed[0].replace("true", "false")],
            "{stack}: only the switch turns"
        );
        let read = SpringConfig::read(config, &after).expect("still a Spring config");
        assert!(
            read.push_enabled().is_none() && read.configures_push(),
            "{stack}:\n{after}"
        );
        assert!(read.exposes_prometheus(), "{stack}: still served");
        p.run(["rollback", "--yes"]).success();
        assert_eq!(
            p.hashes(),
            before_remove,
            "{stack}: rollback of remove is not byte-identical"
        );
    }
}

/// A Spring app whose push is in its Java code (simpleclient), its Micrometer push off: the
/// config is not what pushes, so it is not edited; the snippet says what to add.
#[test]
fn a_spring_app_pushing_from_its_java_code_gets_a_snippet_and_no_config_edit() {
    let p = pullover().stack("push-only/spring-yaml");
    let config = "billing/src/main/resources/application.yml";
    p.write(config, &p.read(config).replace("enabled: true", "enabled: false"));
    p.write(
        "billing/src/main/java/com/example/billing/NightlyPush.java",
        "package com.example.billing;\n\nimport io.prometheus.client.CollectorRegistry;\nimport io.prometheus.client.exporter.PushGateway;\n\nclass NightlyPush {\n    void push(CollectorRegistry registry) throws Exception {\n        new PushGateway(\"pushgateway:9091\").pushAdd(registry, \"billing\");\n    }\n}\n",
    );
    let run = p.run(["plan", "expose"]);
    run.success();
    assert!(
        run.stdout.contains("todo [serve-metrics-by-hand]")
            && run.stdout.contains("simpleclient")
            && !run.stdout.contains("diff --git"),
        "{}",
        run.stdout
    );
    p.run(["apply", "scrape", "--yes"]).success();
    assert_eq!(
        metrics_path_of(&p, "billing").as_deref(),
        Some("/metrics"),
        "its Micrometer push is off: the snippet's HTTPServer serves /metrics"
    );
}

/// A Java app pushing with simpleclient: no Maven Central here, so it is not run. It is
/// compiled with `javac` against small stand-ins for simpleclient's classes (their API only,
/// `tests/integration/support/java-stubs`): as the user has it, after `expose` (the HTTPServer
/// started in `main`, its import, `simpleclient_httpserver` beside `simpleclient_pushgateway` in
/// pom.xml), and after `remove --remove-push-code`.
#[test]
fn a_java_simpleclient_app_compiles_after_expose_and_after_remove_push_code() {
    let code = "reports/src/main/java/com/example/reports/ReportJob.java";
    let p = pullover().stack("push-only/java-simpleclient");
    let compiles = |stage: &str| {
        let out = p.path().join(format!("classes-{stage}"));
        let stubs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/support/java-stubs");
        let run = std::process::Command::new("javac")
            .arg("-d")
            .arg(&out)
            .arg("-sourcepath")
            .arg(&stubs)
            .arg(p.file(code))
            .output();
        match run {
            Ok(run) => assert!(
                run.status.success(),
                "{stage}: javac:\n{}\n{}",
                String::from_utf8_lossy(&run.stderr),
                p.read(code)
            ),
            Err(e) if std::env::var_os("CI").is_none() => eprintln!("SKIP javac ({stage}): {e}"),
            Err(e) => panic!("javac: {e}"),
        }
    };
    compiles("before");
    let pom = p.read("reports/pom.xml");
    p.run(["apply", "expose", "--yes"]).success();
    let after = p.read(code);
    assert!(after.contains(".withRegistry(REGISTRY).build();"), "{after}");
    compiles("expose");
    let (removed, inserted) = changed_lines(&pom, &p.read("reports/pom.xml"));
    assert!(removed.is_empty(), "{removed:?}");
    assert_eq!(
        inserted.join(""),
        "    <dependency>\n      <groupId>io.prometheus</groupId>\n      <artifactId>simpleclient_httpserver</artifactId>\n      <version>${prometheus.version}</version>\n    </dependency>\n"
    );
    for phase in ["scrape", "dual-run", "dashboards"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    p.run(["apply", "remove", "--yes", "--remove-push-code"]).success();
    let after = p.read(code);
    assert!(
        !after.contains("PushGateway") && after.contains("new HTTPServer.Builder()"),
        "{after}"
    );
    compiles("remove");
}
