//! Saved plans (issue 15): `plan --out FILE` saves the plan, `apply FILE` writes exactly it, and
//! refuses, naming FILE and writing nothing, when anything it was planned from changed since.

use std::os::unix::fs::PermissionsExt;

use crate::support::{Pullover, pullover};

fn saved(p: &Pullover) -> String {
    let file = p.path().parent().unwrap().join("scrape.plan");
    let run = p.run(["plan", "scrape", "--out", file.to_str().unwrap()]);
    run.success();
    assert!(run.stderr.contains("saved the plan to"), "{}", run.stderr);
    file.to_str().unwrap().to_string()
}

#[test]
fn a_saved_plan_is_applied_exactly() {
    let p = pullover().stack("seed");
    let file = saved(&p);
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600,
        "it holds the real bytes: only its owner reads it"
    );
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(json["format"], "pullover-saved-plan");
    assert_eq!(json["version"], 1);
    assert_eq!(json["phase"], "scrape");
    assert!(
        json["inputs"]["prometheus/prometheus.yml"].is_string() && json["inputs"]["docker-compose.yml"].is_string(),
        "{json}"
    );

    let run = p.run(["apply", &file, "--yes"]);
    run.success();
    assert!(run.stdout.contains("Applied phase `scrape`"), "{}", run.stdout);
    let direct = pullover().stack("seed");
    direct.run(["apply", "scrape", "--yes"]).success();
    assert_eq!(
        p.hashes(),
        direct.hashes(),
        "the saved plan wrote what a plain apply writes"
    );
    let after = json["changes"][0]["after"]["text"].as_str().unwrap();
    assert_eq!(
        p.read("prometheus/prometheus.yml"),
        after,
        "the bytes in the file, exactly"
    );
}

#[test]
fn a_saved_plan_is_refused_after_an_input_changed() {
    let p = pullover().stack("seed");
    let file = saved(&p);
    // A dashboard edited: not a file the scrape phase changes, but one it was planned from.
    let dashboard = "grafana/dashboards/website-overview.json";
    p.write(
        dashboard,
        &p.read(dashboard)
            .replacen("\"title\"", "\"description\": \"x\", \"title\"", 1),
    );
    let before = p.hashes();
    let run = p.run(["apply", &file, "--yes"]);
    run.code(1);
    assert!(
        run.stderr.contains(&format!(
            "saved plan {file}: the files it was planned from changed since: {dashboard} (changed); nothing was written"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("plan again: pullover plan --out"), "{}", run.stderr);
    assert_eq!(p.hashes(), before);
    assert!(p.run(["history"]).stdout.contains("No history"));

    // A new dashboard is a new input.
    let q = pullover().stack("seed");
    let file = saved(&q);
    q.write("grafana/dashboards/new.json", &q.read(dashboard));
    let run = q.run(["apply", &file, "--yes"]);
    run.code(1);
    assert!(
        run.stderr.contains("grafana/dashboards/new.json (new)"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_saved_plan_is_stale_once_the_journal_moved_on() {
    let p = pullover().stack("seed");
    let file = saved(&p);
    p.run(["apply", "--yes"]).success();
    p.run(["rollback", "--yes"]).success();
    // The files are as planned again, but the state is not the one planned from.
    let run = p.run(["apply", &file, "--yes"]);
    run.code(1);
    assert!(run.stderr.contains("it is stale"), "{}", run.stderr);
}

#[test]
fn an_edited_saved_plan_or_a_name_that_is_neither_is_refused() {
    let p = pullover().stack("seed");
    let file = saved(&p);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen("job_name: metrics-api", "job_name: evil", 1)).unwrap();
    let run = p.run(["apply", &file, "--yes"]);
    run.code(1);
    assert!(run.stderr.contains("does not match its sha256"), "{}", run.stderr);
    let run = p.run(["apply", "scrap", "--yes"]);
    run.code(1);
    assert!(
        run.stderr.contains("`scrap` is neither a phase nor a saved plan file"),
        "{}",
        run.stderr
    );
    assert!(p.run(["history"]).stdout.contains("No history"));
}
