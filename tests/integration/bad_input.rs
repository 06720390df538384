//! Bad input: a clear error at file:line:col, exit 1, no file changed, no
//! journal entry.

use crate::support::pullover;

#[test]
fn a_malformed_prometheus_yml_is_an_error_at_its_line() {
    let p = pullover().stack("seed");
    let text = p
        .read("prometheus/prometheus.yml")
        .replace("    honor_labels: true", "     honor_labels: true");
    p.write("prometheus/prometheus.yml", &text);
    let before = p.hashes();
    let run = p.run(["apply", "--yes"]);
    run.code(1);
    insta::assert_snapshot!(p.clean(&run.stderr), @"
    error: prometheus/prometheus.yml is not valid YAML: mapping values are not allowed in this context
      --> prometheus/prometheus.yml:21:18
       |
    21 |      honor_labels: true
       |                  ^^^^^^
       = help: fix prometheus/prometheus.yml and run pullover again; nothing was written
    ");
    assert_eq!(p.hashes(), before);
    assert!(!p.path().join(".pullover/journal.jsonl").exists(), "no journal entry");
}

#[test]
fn a_malformed_compose_file_is_an_error_at_its_line() {
    let p = pullover().stack("seed");
    let text = p.read("docker-compose.yml").replace(
        "    image: prom/pushgateway:v1.5.1",
        "    image: [prom/pushgateway:v1.5.1",
    );
    p.write("docker-compose.yml", &text);
    let before = p.hashes();
    let run = p.run(["plan"]);
    run.code(1);
    assert!(run.stderr.contains("--> docker-compose.yml:"), "{}", run.stderr);
    assert_eq!(p.hashes(), before);
}

#[test]
fn duplicate_keys_and_duplicate_jobs_are_refused() {
    let p = pullover().stack("seed");
    let text = p
        .read("prometheus/prometheus.yml")
        .replace("  - job_name: pushgateway", "  - job_name: prometheus");
    p.write("prometheus/prometheus.yml", &text);
    let run = p.run(["plan"]);
    run.code(1);
    assert!(
        run.stderr
            .contains("found multiple scrape configs with job name \"prometheus\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--> prometheus/prometheus.yml:20:15"),
        "{}",
        run.stderr
    );

    let p = pullover().stack("seed");
    let text = p
        .read("prometheus/prometheus.yml")
        .replace("global:\n", "global:\n  scrape_interval: 1m\n");
    p.write("prometheus/prometheus.yml", &text);
    let run = p.run(["plan"]);
    run.code(1);
    assert!(run.stderr.contains("duplicate key `scrape_interval`"), "{}", run.stderr);
}

#[test]
fn a_stack_without_pushgateway_has_nothing_to_do() {
    let p = pullover().stack("seed");
    let compose = p.read("docker-compose.yml");
    // Rename the gateway so nothing points at it any more.
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
    // Nothing to act on because the gateway is missing: an error that says so, not a no-op.
    let run = p.run(["plan", "--detailed-exitcode"]);
    run.code(1);
    assert!(run.stderr.contains("no Pushgateway found"), "{}", run.stderr);
}

#[test]
fn no_stack_folder_is_a_clear_error() {
    let p = pullover();
    let run = p.run(["plan"]);
    run.code(1);
    assert!(run.stderr.contains("--stack DIR"), "{}", run.stderr);
}
