//! `pullover init`: discovery written down as a pullover.yaml a person can
//! review, which then pins exactly what discovery found.

use pullover::stack::settings::SettingsFile;
use pullover::stack::source::{RelPath, SourceFile};

use crate::support::{Pullover, pullover, stacks};

/// Every plan this version can make, as JSON, for comparing runs. How each app's pushed
/// identity was decided is left out: pinned, it says "pinned"; discovered, it cites evidence.
fn plans(p: &Pullover) -> Vec<serde_json::Value> {
    ["scrape", "dual-run", "remove", "docs"]
        .iter()
        .map(|phase| {
            let run = p.run(["--format", "json", "plan", phase]);
            run.success();
            let mut plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
            if let Some(findings) = plan["findings"].as_array_mut() {
                findings.retain(|f| !f["id"].as_str().is_some_and(|id| id.starts_with("pushed-identity")));
            }
            plan
        })
        .collect()
}

#[test]
fn init_on_every_stack_writes_a_pullover_yaml_that_plans_exactly_as_discovery_did() {
    for stack in stacks() {
        let p = pullover().stack(&stack);
        if p.file("pullover.yaml").is_file() {
            // These stacks pin what discovery cannot decide (README says why);
            // init leaves a pullover.yaml a person wrote alone.
            let before = p.hashes();
            p.run(["init", "--yes"]).code(1);
            assert_eq!(p.hashes(), before, "{stack}: init refuses and writes nothing");
            continue;
        }
        let discovered = plans(&p);
        let run = p.run(["--format", "json", "init", "--yes"]);
        run.success();
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(json["written"], true, "{stack}");

        let text = p.read("pullover.yaml");
        let file = SourceFile::from_text(RelPath::new("pullover.yaml").unwrap(), text.clone(), 0o644);
        let pinned = SettingsFile::parse(&file).unwrap();
        let printed: SettingsFile = serde_json::from_value(json["settings"].clone()).unwrap();
        assert_eq!(pinned, printed, "{stack}: the file means what init printed");
        assert!(!pinned.apps.is_empty() && pinned.gateway.is_some(), "{stack}: {text}");
        assert!(text.contains("# found: "), "{stack}: every key says why:\n{text}");

        assert_eq!(
            plans(&p),
            discovered,
            "{stack}: the pinned settings plan as discovery did"
        );
        let evidence = p.run(["--format", "json", "init", "--yes", "--force"]);
        let json: serde_json::Value = serde_json::from_str(&evidence.stdout).unwrap();
        assert_eq!(
            serde_json::from_value::<SettingsFile>(json["settings"].clone()).unwrap(),
            pinned,
            "{stack}: --force discovers afresh (ignoring the file) and finds the same"
        );
    }
}

#[test]
fn seed_init_shows_each_setting_and_why() {
    let p = pullover().stack("seed");
    let run = p.run(["init", "--yes"]);
    run.success();
    insta::assert_snapshot!(p.clean(&run.stdout), @r#"
    Discovered in [STACK]:
      compose_file: docker-compose.yml
          the first Compose file name found in the stack root
      prometheus_version: 2.42
          the image tag of service prometheus (prom/prometheus:v2.42.0)
      prometheus_config: prometheus/prometheus.yml
          bind-mounted into service prometheus at /etc/prometheus/prometheus.yml
      gateway.service: pushgateway
          runs image prom/pushgateway:v1.5.1
      gateway.job: pushgateway
          its static target is pushgateway:9091
      gateway.honor_labels: true
          job `pushgateway` sets honor_labels: true
      apps: metrics-api
          its environment PUSHGATEWAY_URL points at pushgateway
      apps.metrics-api.port: 8080
          from the service's expose/ports/PORT
      apps.metrics-api.code: metrics-api
          the `build:` context of service metrics-api
      rule_files: prometheus/rules/pushgateway.yml
          matched by `rule_files: rules/*.yml` in prometheus/prometheus.yml
      dashboards: grafana/dashboards
          provisioned by grafana/provisioning/dashboards/dashboards.yml (path /var/lib/grafana/dashboards in service grafana)
      docs: README.md
          a usual docs file at the stack root
      docs: METRICS.md
          a usual docs file at the stack root
      scrape.interval: 15s
          the global `scrape_interval` in prometheus/prometheus.yml
      apps.metrics-api.pushed_job: pushgateway
          its code: `pushAdd` at metrics-api/server.js:121 pushes as job "pushgateway"; the dashboards and rules select its metrics with job="pushgateway" (32 selectors, e.g. `http_requests_total{job="pushgateway", method=~"$method"}`)

    Wrote pullover.yaml: each key says why it was chosen. Review it, then run `pullover plan`.
    "#);
    insta::assert_snapshot!(p.read("pullover.yaml"), @r#"
    # pullover.yaml: the settings `pullover init` discovered in this stack, for review.
    # Every key is optional: edit a value to pin it, delete a key to let discovery
    # decide it again on every run. Global flags (--app, --gateway,
    # --prometheus-config, --dashboards) override this file.

    # The Compose file.
    # found: the first Compose file name found in the stack root
    compose_file: docker-compose.yml

    # prometheus.yml, relative to this folder.
    # found: bind-mounted into service prometheus at /etc/prometheus/prometheus.yml
    # It loads the rule file prometheus/rules/pushgateway.yml (matched by `rule_files: rules/*.yml` in prometheus/prometheus.yml).
    prometheus_config: prometheus/prometheus.yml

    # The Prometheus release that reads the queries (2.x and 3.x differ).
    # found: the image tag of service prometheus (prom/prometheus:v2.42.0)
    # prometheus_version: "2.42"

    # The Pushgateway to migrate off.
    gateway:
      # The Compose service that runs it.
      # found: runs image prom/pushgateway:v1.5.1
      service: pushgateway
      # The Prometheus scrape job that scrapes it.
      # found: its static target is pushgateway:9091
      job: pushgateway
      # Whether that job keeps the pushed job and instance labels (honor_labels).
      # found: job `pushgateway` sets honor_labels: true
      honor_labels: true

    # The apps that push today; each gets its own scrape job, named after it.
    apps:
      # found: its environment PUSHGATEWAY_URL points at pushgateway
      - service: metrics-api
        # The port it serves /metrics on.
        # found: from the service's expose/ports/PORT
        port: 8080
        # The name of its new scrape job.
        job: metrics-api
        # The `job` it pushes as: what dashboards and rules select today.
        # found: its code: `pushAdd` at metrics-api/server.js:121 pushes as job "pushgateway"; the dashboards and rules select its metrics with job="pushgateway" (32 selectors, e.g. `http_requests_total{job="pushgateway", method=~"$method"}`)
        pushed_job: pushgateway
        # The `instance` values it pushes with ("" = no instance label).
        pushed_instances:
          - app-1
        # Its code: read for its push calls, listed by the `docs` phase.
        # found: the `build:` context of service metrics-api
        code:
          - metrics-api

    # Folders of Grafana dashboards the `dashboards` phase rewrites.
    dashboards:
      # found: provisioned by grafana/provisioning/dashboards/dashboards.yml (path /var/lib/grafana/dashboards in service grafana)
      - grafana/dashboards

    # Docs the `docs` phase updates (architecture line, metrics flow).
    docs:
      # found: a usual docs file at the stack root
      - README.md
      # found: a usual docs file at the stack root
      - METRICS.md

    # How the new scrape jobs scrape the apps.
    scrape:
      interval: 15s
      metrics_path: /metrics
    "#);
}

#[test]
fn init_refuses_to_overwrite_unless_forced() {
    let p = pullover().stack("seed");
    p.run(["init", "--yes"]).success();
    p.write("pullover.yaml", "# mine\napps: [{service: metrics-api, port: 8080}]\n");
    let refused = p.run(["init", "--yes"]);
    refused.code(1);
    insta::assert_snapshot!(p.clean(&refused.stderr), @"
    error: pullover.yaml exists already in [STACK]
     = help: review or edit it; `pullover init --force` rewrites it from discovery (the current pullover.yaml is ignored then)
    ");
    assert_eq!(
        p.read("pullover.yaml"),
        "# mine\napps: [{service: metrics-api, port: 8080}]\n"
    );
    p.run(["init", "--yes", "--force"]).success();
    assert!(p.read("pullover.yaml").starts_with("# pullover.yaml: the settings"));
}

#[test]
fn init_without_a_terminal_or_yes_shows_what_it_found_and_writes_nothing() {
    let p = pullover().stack("seed");
    let before = p.hashes();
    let run = p.run(["init"]);
    run.code(1);
    assert!(run.stdout.contains("apps: metrics-api"), "{}", run.stdout);
    assert!(run.stderr.contains("run it again with --yes"), "{}", run.stderr);
    assert_eq!(p.hashes(), before, "nothing was written");
}

/// seed plus a service that depends on the gateway and names its address in a
/// comment, but whose environment does not point at it.
fn seed_with_a_plausible_second_app() -> Pullover {
    let p = pullover().stack("seed");
    let compose = p.read("docker-compose.yml").replacen(
        "  # Pushgateway: metrics-api pushes",
        "  report-worker:\n    image: acme/report-worker:2\n    # may report to http://pushgateway:9091 one day\n    depends_on:\n      - pushgateway\n\n  # Pushgateway: metrics-api pushes",
        1,
    );
    p.write("docker-compose.yml", &compose);
    p
}

#[test]
fn a_service_that_only_looks_like_an_app_stops_init_and_plan_with_the_key_to_set() {
    let p = seed_with_a_plausible_second_app();
    let before = p.hashes();
    let run = p.run(["init", "--yes"]);
    run.code(1);
    insta::assert_snapshot!(p.clean(&run.stderr), @"
    error: cannot tell which services of docker-compose.yml push to pushgateway
     = help: metrics-api pushes: its environment PUSHGATEWAY_URL points at pushgateway
     = help: report-worker might: it depends_on pushgateway, but nothing in its environment or command points at it
     = help: set `apps:` in pullover.yaml to the services that push (e.g. `apps: [{service: metrics-api}]`), or pass --app SERVICE:PORT for each; nothing was written
    ");
    assert_eq!(p.hashes(), before, "nothing was written");
    let plan = p.run(["plan"]);
    plan.code(1);
    assert_eq!(plan.stderr, run.stderr, "every command decides as init does");

    // Either answer settles it: a flag, or the key.
    p.run(["--app", "metrics-api", "init", "--yes"]).success();
    assert!(p.read("pullover.yaml").contains("  - service: metrics-api\n"));
    p.run(["plan"]).success();
}

#[test]
fn compose_paths_from_dot_env_are_followed() {
    let p = pullover().stack("seed");
    std::fs::rename(p.file("prometheus"), p.file("monitoring-prometheus")).unwrap();
    let compose = p.read("docker-compose.yml").replace(
        "./prometheus:/etc/prometheus:ro",
        "${PROM_DIR:?set it in .env}:/etc/prometheus:ro",
    );
    p.write("docker-compose.yml", &compose);
    let unset = p.run(["init", "--yes"]);
    unset.code(1);
    assert!(
        unset.stderr.contains("set `prometheus_config:` in pullover.yaml"),
        "{}",
        unset.stderr
    );
    p.write(".env", "# paths of this host\nPROM_DIR=./monitoring-prometheus\n");
    let run = p.run(["--format", "json", "init", "--yes"]);
    run.success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        json["settings"]["prometheus_config"],
        "monitoring-prometheus/prometheus.yml"
    );
    p.run(["plan"]).success();
}

/// The seed as a team keeps it when Grafana holds its dashboards in its own database: no
/// provisioning mounts, and the exported dashboard JSON committed at the stack root.
fn dashboards_at_the_root() -> Pullover {
    let p = pullover().stack("seed");
    let compose = p.read("docker-compose.yml");
    let without_mounts = compose
        .replace("      - ./grafana/provisioning:/etc/grafana/provisioning:ro\n", "")
        .replace("      - ./grafana/dashboards:/var/lib/grafana/dashboards:ro\n", "");
    assert_ne!(compose, without_mounts);
    p.write("docker-compose.yml", &without_mounts);
    for entry in std::fs::read_dir(p.file("grafana/dashboards")).unwrap().flatten() {
        std::fs::rename(entry.path(), p.file(entry.file_name().to_str().unwrap())).unwrap();
    }
    std::fs::remove_dir_all(p.file("grafana")).unwrap();
    p
}

#[test]
fn init_on_a_stack_without_a_dashboards_folder_writes_what_plan_uses() {
    let p = dashboards_at_the_root();
    let discovered = plans(&p);
    let run = p.run(["init", "--yes"]);
    run.success();
    assert!(run.stderr.contains("no dashboards folder found"), "{}", run.stderr);
    assert!(run.stderr.contains("`.` for the stack folder itself"), "{}", run.stderr);
    assert!(
        !p.read("pullover.yaml").contains("dashboards:"),
        "{}",
        p.read("pullover.yaml")
    );
    assert_eq!(plans(&p), discovered, "the written pullover.yaml plans as plan did");
}

#[test]
fn dashboards_at_the_stack_root_are_named_with_a_dot() {
    let p = dashboards_at_the_root();
    let flagged = p.run(["--dashboards", ".", "--format", "json", "plan", "dashboards"]);
    flagged.success();
    let flagged: serde_json::Value = serde_json::from_str(&flagged.stdout).unwrap();
    let changed: Vec<&str> = flagged["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert!(
        changed.contains(&"metrics-api.json"),
        "the root's dashboards are rewritten: {changed:?}"
    );
    assert!(
        changed
            .iter()
            .filter(|p| p.ends_with(".json"))
            .all(|p| !p.contains('/')),
        "only the root's own JSON files (not the app's package.json): {changed:?}"
    );

    let run = p.run(["--dashboards", ".", "init", "--yes"]);
    run.success();
    let text = p.read("pullover.yaml");
    let file = SourceFile::from_text(RelPath::new("pullover.yaml").unwrap(), text.clone(), 0o644);
    assert_eq!(SettingsFile::parse(&file).unwrap().dashboards, ["."], "{text}");
    let pinned = p.run(["--format", "json", "plan", "dashboards"]);
    pinned.success();
    let pinned: serde_json::Value = serde_json::from_str(&pinned.stdout).unwrap();
    assert_eq!(
        pinned["changes"], flagged["changes"],
        "pullover.yaml pins what --dashboards . read"
    );
}
