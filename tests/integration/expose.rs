//! `expose`, the phase before `scrape`: an app that only pushes gets a /metrics endpoint in
//! its own code. Checked as a diff (only inserted lines, plus the one import it extends;
//! rollback gives the bytes back) and for real: the changed app runs (node with its npm
//! dependencies, python with prometheus_client), pushes to a real Pushgateway, and serves at
//! /metrics valid exposition text holding the families it pushes.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use pullover::live::parse_exposition;

use crate::support::live::real_app::{RealApp, get, node_modules, python_with_client};
use crate::support::live::stack::{PUSHGATEWAY_BIN, ServerProcess, binaries_or_skip};
use crate::support::live::{free_port, http_request};
use crate::support::{pullover, stacks};

/// The stacks whose app only pushes, with the file `expose` changes.
const PUSH_ONLY: &[(&str, &str)] = &[
    ("seed", "metrics-api/server.js"),
    ("tests/push-only/node-express", "api/app.js"),
    ("tests/push-only/python-worker", "worker/reindex.py"),
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
                .any(|l| l.contains("/metrics") || l.contains("start_http_server")),
            "{stack}: no endpoint inserted: {inserted:?}"
        );
        // Indentation of every inserted line is a multiple of the file's unit.
        let unit = if *stack == "node-express" || stack.starts_with("python") {
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

#[test]
fn the_seed_after_expose_serves_what_it_pushes() {
    let test = "the_seed_after_expose_serves_what_it_pushes";
    run_node_app(test, "seed", "metrics-api", "server.js", |app| {
        let (status, _) = http_request(
            app,
            "POST",
            "/events",
            r#"{"page": "/", "country": "de"}"#,
            Duration::from_secs(5),
        )
        .unwrap_or_else(|e| panic!("POST /events: {e}"));
        assert_eq!(status, 204);
    });
}

#[test]
fn an_express_app_after_expose_serves_what_it_pushes() {
    let test = "an_express_app_after_expose_serves_what_it_pushes";
    run_node_app(test, "tests/push-only/node-express", "api", "app.js", |_| {});
}

#[test]
fn a_python_worker_after_expose_serves_what_it_pushes() {
    let test = "a_python_worker_after_expose_serves_what_it_pushes";
    if !binaries_or_skip(test) {
        return;
    }
    let Some(python) = python_with_client(test) else { return };
    let p = pullover().stack("tests/push-only/python-worker");
    p.run(["apply", "expose", "--yes"]).success();
    let (gateway, gateway_addr) = start_gateway(&p.path());
    let port = free_port();
    let app = RealApp::start(
        &python,
        &["reindex.py"],
        &p.file("worker"),
        &[
            ("PUSHGATEWAY", gateway_addr.to_string()),
            ("ROUND_SECONDS", "0.5".into()),
            ("METRICS_PORT", port.to_string()),
        ],
        SocketAddr::from(([127, 0, 0, 1], port)),
    );
    same_families(&app, gateway_addr, "reindexer");
    drop(gateway);
}

/// Applies `expose` to the stack, runs its node app with its npm dependencies, and checks
/// its /metrics against what reached a real Pushgateway.
fn run_node_app(test: &str, stack: &str, folder: &str, main: &str, exercise: impl Fn(SocketAddr)) {
    if !binaries_or_skip(test) {
        return;
    }
    let p = pullover().stack(stack);
    let Some(modules) = node_modules(test, &p.file(&format!("{folder}/package.json"))) else {
        return;
    };
    p.run(["apply", "expose", "--yes"]).success();
    let (gateway, gateway_addr) = start_gateway(&p.path());
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let app = RealApp::start(
        Path::new("node"),
        &[main],
        &p.file(folder),
        &[
            ("NODE_PATH", modules.display().to_string()),
            ("HOST", "127.0.0.1".into()),
            ("PORT", port.to_string()),
            ("PUSHGATEWAY_URL", format!("http://{gateway_addr}")),
            ("PUSH_INTERVAL_SECONDS", "0.5".into()),
        ],
        addr,
    );
    exercise(addr);
    let pushed_job = if stack == "seed" {
        "pushgateway"
    } else {
        stack_job(stack)
    };
    same_families(&app, gateway_addr, pushed_job);
    drop(gateway);
}

fn stack_job(stack: &str) -> &'static str {
    match stack {
        "tests/push-only/node-express" => "orders-api",
        other => panic!("no pushed job known for {other}"),
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
fn same_families(app: &RealApp, gateway: SocketAddr, job: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = app.get("/metrics");
        assert_eq!(status, 200, "GET /metrics:\n{body}\nlog:\n{}", app.log_text());
        let served = parse_exposition(&body);
        let errors: Vec<String> = served.errors().map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "/metrics is not valid exposition text: {errors:#?}\n{body}"
        );
        let served: BTreeSet<String> = served
            .families
            .iter()
            .filter(|f| f.samples > 0)
            .map(|f| f.name.clone())
            .collect();
        let (_, text) = get(gateway, "/metrics").expect("gateway /metrics");
        let pushed: BTreeSet<String> = parse_exposition(&text)
            .samples
            .iter()
            .filter(|s| s.labels.iter().any(|(k, v)| k == "job" && v == job))
            .map(|s| s.family.clone())
            .filter(|f| f != "push_time_seconds" && f != "push_failure_time_seconds")
            .collect();
        if !pushed.is_empty() && served == pushed {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "served and pushed families differ\nonly served: {:?}\nonly pushed: {:?}\napp log:\n{}",
                served.difference(&pushed).collect::<Vec<_>>(),
                pushed.difference(&served).collect::<Vec<_>>(),
                app.log_text()
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}
