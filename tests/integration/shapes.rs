//! Real-world stack shapes (issue 14): what pullover writes is what the running stack loads.
//! Each test runs the real CLI on a stack of one shape in `stacks/`.

use crate::support::{Pullover, pullover};

/// Applies every phase in order, then rolls everything back: each phase must apply, and the
/// stack must come back byte for byte.
#[track_caller]
fn all_phases_and_back(p: &Pullover) {
    let original = p.hashes();
    for phase in ["scrape", "dual-run", "dashboards", "remove", "docs"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    assert_eq!(
        p.hashes(),
        original,
        "rollback --to baseline did not give the stack back"
    );
}

/// The lines of `text` from the one starting with `from` up to (not including) the first
/// blank line after it.
fn block(text: &str, from: &str) -> String {
    text.lines()
        .skip_while(|l| !l.starts_with(from))
        .take_while(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn rule_files_with_only_comments_becomes_a_list_keeping_them_and_remove_gives_them_back() {
    let p = pullover().stack("null-rule-files");
    let original = p.read("prometheus/prometheus.yml");
    p.run(["apply", "scrape", "--yes"]).success();
    p.run(["apply", "dual-run", "--yes"]).success();
    insta::assert_snapshot!(block(&p.read("prometheus/prometheus.yml"), "rule_files:"), @r#"
    rule_files:
      # - "first_rules.yml"
      # - "second_rules.yml"
      - pullover-dual-run.yml
    "#);
    if crate::support::require_tool("promtool") {
        crate::support::promtool_check_config(&p.file("prometheus/prometheus.yml")).unwrap();
    }
    p.run(["apply", "dashboards", "--yes"]).success();
    p.run(["apply", "remove", "--yes"]).success();
    // The comments are back under a key with no value, as in the sample config.
    assert_eq!(
        block(&p.read("prometheus/prometheus.yml"), "rule_files:"),
        block(&original, "rule_files:")
    );
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    assert_eq!(p.read("prometheus/prometheus.yml"), original);
    all_phases_and_back(&p);
}

#[test]
fn the_new_job_scrapes_as_often_as_the_gateway_job_keeps_its_target_labels_and_short_ranges_are_reported() {
    let p = pullover().stack("fast-gateway");
    let run = p.run(["plan", "scrape"]);
    run.success();
    insta::assert_snapshot!(p.clean(&run.stdout), @r#"
    Phase 1/5 `scrape`: add a direct scrape job for each app

    diff --git a/prometheus/prometheus.yml b/prometheus/prometheus.yml
    --- a/prometheus/prometheus.yml
    +++ b/prometheus/prometheus.yml
    @@ -18,3 +18,12 @@
           - targets: ["pushgateway:9091"]
             labels:
               cluster: prod
    +
    +  # worker: scraped directly instead of through the Pushgateway (pullover: scrape)
    +  - job_name: worker
    +    scrape_interval: 5s
    +    metrics_path: /metrics
    +    static_configs:
    +      - targets: ["worker:9500"]
    +        labels:
    +          cluster: prod

    Findings:
    hazard [double-count-during-dual-run] pushed and scraped series of worker will both carry job="worker" and differ only by instance
             = tip: sums over job alone double-count until the `remove` phase; the `dashboards` phase lists those queries
      info [target-labels-copied] the gateway's target in job `pushgateway` adds cluster: prod, and queries select worker's series on it: the new target gets it too
    hazard [range-under-four-intervals] `[15s]` over worker_jobs_total is shorter than 4× the interval worker will be scraped at (5s): at most 3 sample(s) per window
             --> grafana/dashboards/worker.json:91:19 (panel "Jobs / s, instant" panel query)
             = tip: widen the range to at least 20s or use $__rate_interval, or scrape more often with `scrape: {interval: …}` in pullover.yaml

    Plan: 1 file to change, 0 to create, 0 to delete (+9 −0 lines).
    Apply it with `pullover apply scrape`.
    "#);
    all_phases_and_back(&p);
}

#[test]
fn a_pinned_interval_wins_over_the_gateway_jobs() {
    let p = pullover().stack("fast-gateway");
    p.write("pullover.yaml", "scrape:\n  interval: 1m\n");
    let run = p.run(["plan", "scrape"]);
    run.success();
    assert!(run.stdout.contains("scrape_interval: 1m"), "{}", run.stdout);
    // Three [1m] (two rules, a panel) and the [15s] panel are now under 4 × 1m: each is reported.
    assert_eq!(
        run.stdout.matches("[range-under-four-intervals]").count(),
        4,
        "{}",
        run.stdout
    );
}

#[test]
fn panels_naming_their_data_source_by_name_or_uid_are_read_with_grafanas_provisioning() {
    let p = pullover().stack("datasource-by-name");
    p.run(["apply", "scrape", "--yes"]).success();
    p.run(["apply", "dual-run", "--yes"]).success();
    let run = p.run(["plan", "dashboards"]);
    run.success();
    assert!(!run.stdout.contains("has no type"), "{}", run.stdout);
    // The panel that names "metrics" is rewritten; the Loki panel is not touched.
    assert!(
        run.stdout.contains(r#"+          "expr": "sum by (kind) (rate(billing_invoices_total{job=\"billing\", instance=\"billing:9600\"}[5m]))","#),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("count_over_time"), "{}", run.stdout);
    // The uid-only and default panels are read as PromQL: their double count is reported.
    assert_eq!(
        run.stdout.matches("[double-count-during-dual-run]").count(),
        2,
        "{}",
        run.stdout
    );
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    all_phases_and_back(&p);
}

#[test]
fn section_comments_stay_with_the_blocks_they_head_and_a_banner_naming_the_gateway_goes_with_it() {
    let p = pullover().stack("section-comments");
    for phase in ["scrape", "dual-run", "dashboards", "remove"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    insta::assert_snapshot!(block(&p.read("prometheus/prometheus.yml"), "  # -- batch and exporters"), @r#"
    # -- batch and exporters --------------------------------------------
      # exporters
    - job_name: node
      static_configs:
        - targets: ["node-exporter:9100"]
    # batch: scraped directly instead of through the Pushgateway (pullover: scrape)
    - job_name: batch
      scrape_interval: 15s
      metrics_path: /metrics
      static_configs:
        - targets: ["batch:9700"]
    "#);
    insta::assert_snapshot!(p.read("docker-compose.yml").lines().take(16).collect::<Vec<_>>().join("\n"), @r#"
    services:
      # -- apps -----------------------------------------------------------
      batch:
        build: ./batch
        expose:
          - "9700"

      # -- monitoring -----------------------------------------------------
      prometheus:
        image: prom/prometheus:v2.53.0
        volumes:
          - ./prometheus:/etc/prometheus:ro
        ports:
          - "9090:9090"

      node-exporter:
    "#);
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    all_phases_and_back(&p);
}

/// The files the Prometheus service of the stack's Compose file sees, copied to where it sees
/// them under `root` (`/etc/prometheus/prometheus.yml` → `root/etc/prometheus/prometheus.yml`);
/// absolute `rule_files` of the config are moved under `root` too. Returns the config's path.
fn container_view_of_prometheus(p: &Pullover, root: &std::path::Path) -> std::path::PathBuf {
    use pullover::stack::Stack;
    use pullover::stack::settings::Overrides;
    let stack = Stack::load(&p.path(), &Overrides::default()).unwrap();
    let compose = stack.compose.as_ref().unwrap();
    let service = compose.services.iter().find(|s| s.name == "prometheus").unwrap();
    let config_target = service
        .command
        .iter()
        .find_map(|arg| arg.strip_prefix("--config.file="))
        .unwrap_or("/etc/prometheus/prometheus.yml")
        .to_string();
    for mount in service.volumes.iter().filter(|m| m.bind) {
        let source = mount.source.as_deref().unwrap();
        let host = p
            .path()
            .join(compose.file.path.parent())
            .join(source.trim_start_matches("./"));
        let target = root.join(mount.target.trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        if host.is_dir() {
            crate::support::copy_dir(&host, &target);
        } else if host.is_file() {
            std::fs::copy(&host, &target).unwrap();
        }
    }
    let config = root.join(config_target.trim_start_matches('/'));
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("- /", &format!("- {}/", root.display()))).unwrap();
    config
}

/// Starts a real Prometheus on `config` and returns what `/api/v1/rules` says once it is ready.
fn rules_loaded_by_prometheus(config: &std::path::Path, data: &std::path::Path) -> String {
    use crate::support::live::{free_port, http_request};
    use std::time::{Duration, Instant};
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let port = free_port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let log = data.join("prometheus.log");
    std::fs::create_dir_all(data).unwrap();
    let out = std::fs::File::create(&log).unwrap();
    let mut server = Killed(
        std::process::Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg(format!("--storage.tsdb.path={}", data.join("tsdb").display()))
            .stdin(std::process::Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start prometheus"),
    );
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!(
                "prometheus exited with {status}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        if let Ok((200, _)) = http_request(addr, "GET", "/-/ready", "", Duration::from_millis(500)) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "prometheus not ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, body) = http_request(addr, "GET", "/api/v1/rules", "", Duration::from_secs(5)).unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn prometheus_started_with_only_the_files_compose_mounts_loads_the_dual_run_rules() {
    if !crate::support::live::stack::binaries_or_skip("prometheus_started_with_only_the_files_compose_mounts")
        || !crate::support::require_tool("promtool")
    {
        return;
    }
    for name in ["mount-config-only", "mount-rule-files"] {
        let p = pullover().stack(name);
        p.run(["apply", "scrape", "--yes"]).success();
        let run = p.run(["apply", "dual-run", "--yes"]);
        run.success();
        assert!(run.stdout.contains("[mount-added]"), "{name}: {}", run.stdout);
        let view = tempfile::tempdir().unwrap();
        let config = container_view_of_prometheus(&p, &view.path().join("root"));
        if let Err(out) = crate::support::promtool_check_config(&config) {
            panic!("{name}: promtool rejects the container's view:\n{out}");
        }
        let rules = rules_loaded_by_prometheus(&config, &view.path().join("data"));
        assert!(
            rules.contains("\"name\":\"pullover-dual-run\"") && rules.contains("pullover_dual_run_divergence"),
            "{name}: the dual-run rules are not loaded: {rules}"
        );
        // The stack's own rule file is loaded too (it is mounted on its own in mount-rule-files).
        if name == "mount-rule-files" {
            assert!(rules.contains("MailerStalled"), "{rules}");
        }
        // remove takes the mounts out again; rolling back gives the stack back.
        p.run(["apply", "dashboards", "--yes"]).success();
        p.run(["apply", "remove", "--yes"]).success();
        let compose = std::fs::read_dir(p.path())
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().contains("compose"))
            .unwrap()
            .path();
        let compose = std::fs::read_to_string(compose).unwrap();
        assert!(!compose.contains("pullover-dual-run"), "{name}: {compose}");
        p.run(["rollback", "--to", "baseline", "--yes"]).success();
        all_phases_and_back(&p);
    }
}

#[test]
fn a_phase_with_no_gateway_to_act_on_says_what_is_missing_exits_1_and_is_not_journalled() {
    let p = pullover().stack("null-rule-files");
    let compose = p.read("compose.yaml");
    p.write(
        "compose.yaml",
        &compose
            .replace("prom/pushgateway:v1.9.0", "nginx")
            .replace("  pushgateway:\n", "  cache:\n"),
    );
    let prom = p.read("prometheus/prometheus.yml");
    p.write(
        "prometheus/prometheus.yml",
        &prom
            .replace("job_name: \"pushgateway\"", "job_name: \"cache\"")
            .replace("honor_labels: true", "honor_labels: false")
            .replace("pushgateway:9091", "cache:80"),
    );
    let before = p.hashes();
    let run = p.run(["apply", "scrape", "--yes"]);
    run.code(1);
    assert!(run.stderr.contains("no Pushgateway found"), "{}", run.stderr);
    assert!(run.stderr.contains("--gateway SERVICE"), "{}", run.stderr);
    assert_eq!(p.hashes(), before);
    let history = p.run(["history"]);
    assert!(!history.stdout.contains("scrape"), "{}", history.stdout);
}

#[test]
fn docs_after_remove_works_from_the_journal_without_a_pullover_yaml() {
    let p = pullover().stack("null-rule-files");
    for phase in ["scrape", "dual-run", "dashboards", "remove"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    let run = p.run(["apply", "docs", "--yes"]);
    run.success();
    assert!(
        p.read("README.md")
            .contains("Export (9400) /metrics ←scrape─ Prometheus (9090) → Grafana (3000)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("[pushgateway-mention]"), "{}", run.stdout);
    // The checklist holds what analyze still finds: the panel that reads push_time_seconds.
    assert!(
        run.stdout.contains("[panel-on-gateway-series]") && run.stdout.contains("\"Since last push\""),
        "{}",
        run.stdout
    );
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
}

#[test]
fn a_gateway_scrape_job_with_no_compose_service_is_an_external_gateway_whose_job_remove_takes() {
    let p = pullover().stack("external-gateway");
    let run = p.run(["apply", "scrape", "--yes"]);
    run.success();
    assert!(run.stdout.contains("[external-gateway]"), "{}", run.stdout);
    for phase in ["dual-run", "dashboards"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    let compose = p.read("docker-compose.yml");
    let run = p.run(["apply", "remove", "--yes"]);
    run.success();
    assert!(run.stdout.contains("[gateway-not-in-compose]"), "{}", run.stdout);
    assert_eq!(p.read("docker-compose.yml"), compose, "no service is touched");
    let prom = p.read("prometheus/prometheus.yml");
    assert!(!prom.contains("pushgw.example.internal"), "{prom}");
    assert!(prom.contains("job_name: uploader"), "{prom}");
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    all_phases_and_back(&p);
}

#[test]
fn two_jobs_that_look_like_gateways_and_no_service_is_an_error_naming_the_key() {
    let p = pullover().stack("external-gateway");
    let prom = p.read("prometheus/prometheus.yml");
    p.write(
        "prometheus/prometheus.yml",
        &format!("{prom}\n  - job_name: other\n    static_configs:\n      - targets: [\"pgw2:9091\"]\n"),
    );
    let run = p.run(["plan", "scrape"]);
    run.code(1);
    assert!(
        run.stderr
            .contains("several scrape jobs look like one: pushgateway, other"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("`gateway: {job: …}`"), "{}", run.stderr);
}

#[test]
fn a_gateway_found_by_docker_labels_names_its_job_and_remove_keeps_the_discovery_job() {
    let p = pullover().stack("docker-sd-gateway");
    let run = p.run(["analyze"]);
    run.success();
    assert!(!run.stdout.contains("(none)"), "{}", run.stdout);
    for phase in ["scrape", "dual-run", "dashboards"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    let run = p.run(["apply", "remove", "--yes"]);
    run.success();
    assert!(run.stdout.contains("[gateway-by-docker-labels]"), "{}", run.stdout);
    assert!(!run.stdout.contains("[no-gateway-job]"), "{}", run.stdout);
    let compose = p.read("docker-compose.yml");
    assert!(!compose.contains("pushgateway:"), "{compose}");
    assert_eq!(
        compose.matches("prometheus-scrape.enabled").count(),
        1,
        "the exporter keeps its labels: {compose}"
    );
    assert!(p.read("prometheus/prometheus.yml").contains("job_name: docker"));
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    all_phases_and_back(&p);
}

#[test]
fn a_gateway_job_scraping_the_published_host_port_is_named_with_why_and_removed() {
    let p = pullover().stack("null-rule-files");
    let compose = p.read("compose.yaml");
    p.write("compose.yaml", &compose.replace("\"9091:9091\"", "\"9092:9091\""));
    let prom = p.read("prometheus/prometheus.yml");
    p.write(
        "prometheus/prometheus.yml",
        &prom
            .replace("job_name: \"pushgateway\"", "job_name: \"batch\"")
            .replace("pushgateway:9091", "host.docker.internal:9092"),
    );
    let run = p.run(["init", "--yes"]);
    run.success();
    assert!(
        run.stdout.contains("gateway.job: batch")
            && run
                .stdout
                .contains("its static target host.docker.internal:9092 is the host port Compose publishes"),
        "{}",
        run.stdout
    );
    std::fs::remove_file(p.file("pullover.yaml")).unwrap();
    for phase in ["scrape", "dual-run", "dashboards", "remove"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    let prom = p.read("prometheus/prometheus.yml");
    assert!(!prom.contains("host.docker.internal:9092"), "{prom}");
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
}
