//! The operator's and reviewer's workflow (issue 15): where am I, teaching errors, machine-readable
//! errors and gates, small wording, and the plan as a pull-request description.

use std::fs;

use crate::support::pullover;

// --- Where am I: the stack root is found by walking up to the Compose file. ---

#[test]
fn apply_from_a_subfolder_finds_the_stack_root_and_writes_there() {
    let p = pullover().stack("seed");
    let run = p.run_in("prometheus", ["apply", "scrape", "--yes"]);
    run.success();
    assert!(
        run.stderr
            .contains("the stack is .. (the folder holding docker-compose.yml)"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("Applied phase `scrape`"), "{}", run.stdout);
    assert!(p.read("prometheus/prometheus.yml").contains("job_name: metrics-api"));
    assert!(p.file(".pullover").is_dir(), "the journal lives at the stack root");
    assert!(
        !p.file("prometheus/.pullover").exists(),
        "nothing is written in the subfolder"
    );
    // Two levels down, `status` reads the same journal.
    let status = p.run_in("grafana/dashboards", ["status"]);
    status.success();
    assert!(status.stdout.contains("scrape"), "{}", status.stdout);
}

#[test]
fn without_a_compose_file_anywhere_up_pullover_refuses_and_writes_nothing() {
    let p = pullover().stack("seed");
    // A folder beside the stack: no Compose file in it or above it.
    let outside = p.path().parent().unwrap().join("elsewhere");
    fs::create_dir_all(&outside).unwrap();
    let before = p.hashes();
    let run = p.run_in("../elsewhere", ["apply", "--yes"]);
    run.code(1);
    assert!(run.stderr.contains("no Compose file in"), "{}", run.stderr);
    assert!(run.stderr.contains("pass --stack DIR"), "{}", run.stderr);
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0, "nothing written");
    assert_eq!(p.hashes(), before);
    assert!(!p.file(".pullover").exists());
}

#[test]
fn an_explicit_stack_is_taken_as_given_without_walking_up() {
    let p = pullover().stack("seed");
    // `--stack prometheus` names a folder with no Compose file: pullover does not look above it.
    let run = p.run_in("prometheus", ["--stack", ".", "plan"]);
    assert!(!run.stderr.contains("the stack is"), "{}", run.stderr);
    assert!(!run.stdout.contains("job_name: metrics-api"), "{}", run.stdout);
}

// --- Mistakes get a teaching error, not a quiet guess. ---

#[test]
fn a_typo_in_app_is_an_error_naming_the_nearest_service() {
    let p = pullover().stack("seed");
    let before = p.hashes();
    let run = p.run(["--app", "metrics-apy:8080", "apply", "--yes"]);
    run.code(1);
    assert!(
        run.stderr
            .contains("no service metrics-apy in docker-compose.yml; did you mean metrics-api?"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--app metrics-api:8080"), "{}", run.stderr);
    assert!(run.stderr.contains("external:metrics-apy:8080"), "{}", run.stderr);
    assert_eq!(p.hashes(), before, "nothing written");
    let journal = p.run(["history"]);
    assert!(
        !journal.stdout.contains("scrape"),
        "nothing journaled: {}",
        journal.stdout
    );
}

#[test]
fn a_typo_in_gateway_is_an_error_naming_the_nearest_service() {
    let p = pullover().stack("seed");
    let run = p.run(["--gateway", "pushgatway", "plan"]);
    run.code(1);
    assert!(
        run.stderr
            .contains("no service pushgatway in docker-compose.yml; did you mean pushgateway?"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("points at"), "{}", run.stderr);
}

#[test]
fn a_typo_in_pullover_yaml_is_an_error_at_its_place_naming_the_nearest_service() {
    let p = pullover().stack("seed");
    p.write("pullover.yaml", "apps:\n  - service: metrics-apy\n    port: 8080\n");
    let before = p.hashes();
    let run = p.run(["apply", "scrape", "--yes"]);
    run.code(1);
    assert!(
        run.stderr.contains(
            "pullover.yaml: `service: metrics-apy` under `apps:` is not a service of docker-compose.yml; did you mean metrics-api?"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--> pullover.yaml:2:14"), "{}", run.stderr);
    assert!(run.stderr.contains("help: service: metrics-api"), "{}", run.stderr);
    assert_eq!(p.hashes(), before, "nothing written");

    p.write("pullover.yaml", "gateway:\n  service: \"pushgatway\"\n");
    let run = p.run(["--format", "json", "plan"]);
    run.code(1);
    let error = json_error(&run.stdout);
    assert_eq!(error["id"], "unknown-service", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .ends_with("did you mean pushgateway?"),
        "{error}"
    );
    // A host outside Compose spelled as one is still fine.
    p.write(
        "pullover.yaml",
        "apps:\n  - service: metrics.example\n    port: 8080\n    pushed_job: pushgateway\n",
    );
    let run = p.run(["plan", "scrape"]);
    assert!(!run.stderr.contains("not a service"), "{}", run.stderr);
}

#[test]
fn a_name_far_from_every_service_lists_the_services() {
    let p = pullover().stack("seed");
    let run = p.run(["--app", "zzz:1", "plan"]);
    run.code(1);
    assert!(
        run.stderr.contains("no service zzz in docker-compose.yml\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("its services are: "), "{}", run.stderr);
    assert!(run.stderr.contains("metrics-api"), "{}", run.stderr);
}

#[test]
fn a_host_outside_compose_is_accepted_when_spelled_as_one_and_said_so() {
    for (flag, target) in [
        ("worker.example:9100", "worker.example:9100"),
        ("10.0.0.5:9100", "10.0.0.5:9100"),
        ("external:worker:9100", "worker:9100"),
    ] {
        let p = pullover().stack("seed");
        let run = p.run(["--app", flag, "--format", "json", "plan", "scrape"]);
        run.success();
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let diff = json["changes"][0]["diff"].as_str().unwrap();
        assert!(diff.contains(&format!("'{target}'")), "{flag}: {diff}");
        let said = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "app-not-in-compose");
        assert!(
            said,
            "{flag}: the plan says the host is outside Compose: {}",
            run.stdout
        );
    }
}

// --- Machine-readable everything: JSON errors, plan --fail-on. ---

fn json_error(stdout: &str) -> serde_json::Value {
    let json: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("stdout is JSON ({e}): {stdout}"));
    assert_eq!(json["version"], 1, "{json}");
    json["error"].clone()
}

#[test]
fn with_format_json_an_error_is_json_on_stdout_and_the_exit_code_stays_1() {
    let p = pullover().stack("seed");
    let run = p.run(["--format", "json", "--app", "metrics-apy:8080", "plan"]);
    run.code(1);
    let error = json_error(&run.stdout);
    assert_eq!(error["id"], "unknown-service");
    assert_eq!(error["severity"], "error");
    assert_eq!(
        error["message"],
        "no service metrics-apy in docker-compose.yml; did you mean metrics-api?"
    );
    assert!(
        error["tip"].as_str().unwrap().contains("--app metrics-api:8080"),
        "{error}"
    );
    // People still read it on stderr.
    assert!(run.stderr.contains("error: no service metrics-apy"), "{}", run.stderr);
}

#[test]
fn a_json_error_with_a_place_carries_its_location() {
    let p = pullover().stack("seed");
    p.write(
        "prometheus/prometheus.yml",
        "scrape_configs:\n  - job_name: [unclosed\n",
    );
    let run = p.run(["--format", "json", "plan"]);
    run.code(1);
    let error = json_error(&run.stdout);
    assert_eq!(error["id"], "error");
    assert_eq!(error["location"]["path"], "prometheus/prometheus.yml", "{error}");
    assert!(error["location"]["line"].as_u64().unwrap() >= 2, "{error}");
    assert!(error["location"]["column"].as_u64().unwrap() >= 1, "{error}");
}

#[test]
fn a_usage_error_with_format_json_is_json_too() {
    let p = pullover().stack("seed");
    let run = p.run(["--format", "json", "plan", "--no-such-flag"]);
    run.code(1);
    let error = json_error(&run.stdout);
    assert_eq!(error["id"], "usage");
    assert!(error["message"].as_str().unwrap().contains("--no-such-flag"), "{error}");
}

#[test]
fn apply_with_format_json_prints_one_document_the_plan_with_its_error_or_its_history_entry() {
    let p = pullover().stack("seed");
    // No terminal to confirm on and no --yes: the plan and the refusal, in one document.
    let run = p.run(["--format", "json", "apply", "expose"]);
    run.code(1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}): {}", run.stdout));
    assert_eq!(json["version"], 1, "{json}");
    assert_eq!(json["command"], "apply", "{json}");
    assert_eq!(json["phase"], "expose", "{json}");
    assert!(
        json["changes"][0]["diff"]
            .as_str()
            .is_some_and(|d| d.contains("/metrics")),
        "{json}"
    );
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("needs a confirmation"),
        "{json}"
    );
    assert!(json.get("applied").is_none(), "{json}");
    assert!(
        !p.path().join(".pullover/journal.jsonl").exists(),
        "nothing was applied"
    );
    assert!(
        run.stderr.contains("error: apply needs a confirmation"),
        "{}",
        run.stderr
    );

    let run = p.run(["--format", "json", "apply", "expose", "--yes"]);
    run.success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}): {}", run.stdout));
    assert_eq!(json["applied"], serde_json::json!({"history": 1}), "{json}");
    assert!(json.get("error").is_none(), "{json}");
}

#[test]
fn without_format_json_stdout_stays_empty_on_error() {
    let p = pullover().stack("seed");
    let run = p.run(["--app", "metrics-apy:8080", "plan"]);
    run.code(1);
    assert_eq!(run.stdout, "");
}

#[test]
fn plan_fail_on_exits_4_when_findings_at_or_above_the_level_remain() {
    let p = pullover().stack("seed-own-job");
    // The scrape phase of this stack has a double-count hazard.
    let run = p.run(["plan", "scrape", "--fail-on", "hazard"]);
    run.code(4);
    assert!(
        run.stderr
            .contains("1 finding at or above `hazard` remains (--fail-on hazard): exit 4"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("double-count"),
        "the plan is still shown: {}",
        run.stdout
    );
    p.run(["plan", "scrape", "--fail-on", "todo"]).code(4);
    // It wins over --detailed-exitcode's 2.
    p.run(["plan", "scrape", "--fail-on", "hazard", "--detailed-exitcode"])
        .code(4);
    // Planned before the other phases, docs lists panels and rules still on pushed series
    // (hazards) and mentions left (todos).
    p.run(["plan", "docs", "--fail-on", "hazard"]).code(4);
    p.run(["--format", "json", "plan", "docs", "--fail-on", "todo"]).code(4);
}

#[test]
fn plan_fail_on_passes_when_nothing_reaches_the_level() {
    let p = pullover().stack("seed");
    // Without `expose` first, scrape's plan holds a hazard: the app serves no /metrics.
    p.run(["plan", "scrape", "--fail-on", "hazard"]).code(4);
    p.run(["apply", "expose", "--yes"]).success();
    p.run(["plan", "scrape", "--fail-on", "todo"]).success();
    p.run(["plan", "scrape", "--fail-on", "todo", "--detailed-exitcode"])
        .code(2);
}

// --- Small things that read as carelessness. ---

#[test]
fn history_numbers_entries_as_a_person_reads_them_and_rollback_takes_them() {
    let p = pullover().stack("seed");
    p.run(["apply", "scrape", "--yes"]).success();
    p.run(["apply", "dual-run", "--yes"]).success();
    p.run(["rollback", "--yes"]).success();
    p.run(["apply", "dual-run", "--yes"]).success();
    let history = p.run(["history"]);
    history.success();
    let numbers: Vec<&str> = history
        .stdout
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(numbers, ["#1", "#2", "#3", "#4"], "{}", history.stdout);
    assert!(
        history
            .stdout
            .lines()
            .next()
            .unwrap()
            .contains("apply    scrape     done")
    );

    // #2 applied dual-run, but #3 rolled that back: not a point to return to.
    let gone = p.run(["rollback", "--to", "2", "--yes"]);
    gone.code(1);
    assert!(
        gone.stderr
            .contains("entry #2 applied `dual-run`, and that apply is no longer in place"),
        "{}",
        gone.stderr
    );
    let rollback_entry = p.run(["rollback", "--to", "3", "--yes"]);
    rollback_entry.code(1);
    assert!(
        rollback_entry.stderr.contains("entry #3 is a rollback of `dual-run`"),
        "{}",
        rollback_entry.stderr
    );
    p.run(["rollback", "--to", "9", "--yes"]).code(1);

    // Back to just after #1: scrape stays, the dual-run of #4 is undone.
    let after_scrape = p.read("prometheus/prometheus.yml");
    p.run(["rollback", "--to", "1", "--yes"]).success();
    let status = p.run(["--format", "json", "status"]);
    status.success();
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let applied: Vec<String> = json["phases"]
        .as_array()
        .unwrap_or_else(|| panic!("{json}"))
        .iter()
        .filter(|p| p["state"] == "applied")
        .map(|p| p["phase"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(applied, ["scrape"], "{json}");
    assert!(after_scrape.contains("job_name: metrics-api"));
    // --to 0 is the baseline.
    p.run(["rollback", "--to", "0", "--yes"]).success();
    assert!(!p.read("prometheus/prometheus.yml").contains("job_name: metrics-api"));
}

#[test]
fn history_names_the_user_when_no_user_variable_is_set() {
    let p = pullover().stack("seed");
    let output = p
        .command(["apply", "scrape", "--yes"])
        .env_remove("USER")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let history = p.run(["history"]);
    let name = std::process::Command::new("id").arg("-un").output().unwrap();
    let name = String::from_utf8_lossy(&name.stdout).trim().to_string();
    assert!(!name.is_empty());
    assert!(
        history.stdout.contains(&format!("by {name} with")),
        "{}",
        history.stdout
    );
    assert!(!history.stdout.contains("by uid"), "{}", history.stdout);
}

#[test]
fn the_docs_finding_reads_as_english_for_one_doc() {
    let p = pullover().stack("seed");
    // One doc left, with nothing for the docs phase to update.
    fs::remove_file(p.file("METRICS.md")).unwrap();
    p.write("README.md", "# Seed\n\nA stack.\n");
    let run = p.run(["--format", "json", "plan", "docs"]);
    run.success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "no-docs-spot")
        .unwrap_or_else(|| panic!("{json}"))
        .clone();
    let message = finding["message"].as_str().unwrap();
    assert!(message.starts_with("README.md holds no architecture line"), "{message}");
}

#[test]
fn the_scrape_target_is_named_once_when_the_app_cannot_be_reached() {
    let p = pullover().stack("seed");
    let run = p.run(["verify", "--timeout", "2s"]);
    // An app that does not answer is a failed check (exit 3), not an error.
    run.code(3);
    assert!(!run.stdout.contains("metrics-api:metrics-api"), "{}", run.stdout);
    assert!(run.stdout.contains("scrape target metrics-api:8080"), "{}", run.stdout);
}

// --- Reviewable anywhere: plan --format markdown, read by a real CommonMark/GFM parser. ---

/// What a Markdown reader sees: headings, tables (header and rows of cell text), fenced code
/// blocks (info string and text), and raw HTML, parsed by pulldown-cmark with GFM tables.
#[derive(Debug, Default)]
struct Rendered {
    headings: Vec<(u8, String)>,
    tables: Vec<(Vec<String>, Vec<Vec<String>>)>,
    code: Vec<(String, String)>,
    html: String,
}

fn parse_markdown(text: &str) -> Rendered {
    use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
    let mut out = Rendered::default();
    let mut heading: Option<(u8, String)> = None;
    let mut code: Option<(String, String)> = None;
    let mut row: Option<Vec<String>> = None;
    let mut cell: Option<String> = None;
    let mut in_head = false;
    for event in Parser::new_ext(text, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level as u8, String::new())),
            Event::End(TagEnd::Heading(_)) => out.headings.extend(heading.take()),
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => code = Some((info.to_string(), String::new())),
            Event::End(TagEnd::CodeBlock) => out.code.extend(code.take()),
            Event::Start(Tag::Table(_)) => out.tables.push((Vec::new(), Vec::new())),
            Event::Start(Tag::TableHead) => {
                in_head = true;
                row = Some(Vec::new());
            }
            Event::End(TagEnd::TableHead) => {
                in_head = false;
                out.tables.last_mut().unwrap().0 = row.take().unwrap();
            }
            Event::Start(Tag::TableRow) => row = Some(Vec::new()),
            Event::End(TagEnd::TableRow) if !in_head => out.tables.last_mut().unwrap().1.extend(row.take()),
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => row.as_mut().unwrap().extend(cell.take()),
            Event::Html(html) | Event::InlineHtml(html) => out.html.push_str(&html),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, text)) = code.as_mut() {
                    text.push_str(&t);
                } else if let Some(c) = cell.as_mut() {
                    c.push_str(&t);
                } else if let Some((_, h)) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn plan_as_markdown_is_a_pull_request_description_a_parser_reads() {
    let p = pullover().stack("seed-own-job");
    let run = p.run(["plan", "dashboards", "--format", "markdown"]);
    run.success();
    let md = parse_markdown(&run.stdout);
    let json: serde_json::Value =
        serde_json::from_str(&p.run(["--format", "json", "plan", "dashboards"]).stdout).unwrap();

    // The phase, then findings, changes and the gate that comes next.
    assert_eq!(md.headings[0], (2, "pullover plan: phase 3/5 dashboards".to_string()));
    let titles: Vec<&str> = md.headings.iter().map(|(_, t)| t.as_str()).collect();
    for title in ["Findings", "Changes", "Next"] {
        assert!(titles.contains(&title), "{titles:?}");
    }
    assert!(run.stdout.contains("3 files to change"), "{}", run.stdout);
    assert!(
        run.stdout.contains("`pullover apply remove` refuses until it passes"),
        "{}",
        run.stdout
    );

    // Findings grouped by severity, most severe first, one table each, every finding a row.
    let findings = json["findings"].as_array().unwrap();
    let count = |s: &str| findings.iter().filter(|f| f["severity"] == s).count();
    let groups: Vec<&str> = titles.iter().copied().filter(|t| t.contains(" (")).collect();
    assert_eq!(
        groups,
        [
            format!("Hazard ({})", count("hazard")),
            format!("Todo ({})", count("todo")),
            format!("Info ({})", count("info"))
        ]
    );
    assert_eq!(md.tables.len(), 3);
    for (header, rows) in &md.tables {
        assert_eq!(header, &["Finding", "What", "Where", "Tip"]);
        for row in rows {
            assert_eq!(row.len(), 4, "a pipe in a message must not split its cell: {row:?}");
        }
    }
    let rows: Vec<&Vec<String>> = md.tables.iter().flat_map(|(_, rows)| rows).collect();
    assert_eq!(rows.len(), findings.len());
    for (row, finding) in rows.iter().zip(findings.iter().filter(|f| f["severity"] == "hazard")) {
        assert_eq!(row[0], finding["id"].as_str().unwrap());
        // The message as a reader sees it: its `code` spans rendered, so without backticks.
        assert_eq!(row[1], finding["message"].as_str().unwrap().replace('`', ""));
    }

    // Each file's diff in a fenced diff block, byte for byte the plan's own diff.
    let changes = json["changes"].as_array().unwrap();
    let diffs: Vec<&(String, String)> = md.code.iter().filter(|(info, _)| info == "diff").collect();
    assert_eq!(diffs.len(), changes.len());
    for ((_, text), change) in diffs.iter().zip(changes) {
        assert_eq!(text, change["diff"].as_str().unwrap());
    }
}

#[test]
fn long_diffs_are_folded_in_details() {
    let p = pullover().stack("seed");
    let run = p.run(["plan", "dual-run", "--format", "markdown"]);
    run.success();
    let md = parse_markdown(&run.stdout);
    let json: serde_json::Value =
        serde_json::from_str(&p.run(["--format", "json", "plan", "dual-run"]).stdout).unwrap();
    let long: Vec<&serde_json::Value> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["diff"].as_str().unwrap().lines().count() > 40)
        .collect();
    assert!(!long.is_empty(), "the dual-run plan creates a dashboard: a long diff");
    assert_eq!(md.html.matches("<details>").count(), long.len(), "{}", md.html);
    assert_eq!(md.html.matches("</details>").count(), long.len());
    for change in long {
        let path = change["path"].as_str().unwrap();
        assert!(
            md.html.contains(&format!("<summary><code>{path}</code>")),
            "{}",
            md.html
        );
        // Folded, the diff is still a fenced diff block a renderer shows.
        assert!(
            md.code
                .iter()
                .any(|(info, text)| info == "diff" && text == change["diff"].as_str().unwrap())
        );
    }
}

#[test]
fn markdown_is_for_plan_only() {
    let p = pullover().stack("seed");
    let run = p.run(["status", "--format", "markdown"]);
    run.code(1);
    assert!(run.stderr.contains("--format markdown is for `plan`"), "{}", run.stderr);
}

#[test]
fn the_documented_github_actions_workflow_runs_a_plan_pullover_accepts() {
    let root = crate::support::repo_root();
    let text = fs::read_to_string(root.join("docs/pullover-plan.github-actions.yml")).unwrap();
    let workflow: serde_json::Value = yaml_serde::from_str(&text).unwrap();
    assert!(
        workflow["on"]["pull_request"]["paths"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );
    assert_eq!(workflow["permissions"]["pull-requests"], "write");
    let steps = workflow["jobs"]["plan"]["steps"].as_array().unwrap();
    let script = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|run| run.contains("pullover --stack"))
        .expect("a step runs pullover");
    assert!(
        steps
            .iter()
            .any(|s| s["run"].as_str().is_some_and(|r| r.contains("gh pr comment")))
    );
    // The command as written (continuation lines joined, up to the redirect), with the
    // workflow's own FAIL_ON, must be one pullover accepts.
    let command = script.replace("\\\n", " ");
    let line = command.lines().find(|l| l.contains("pullover --stack")).unwrap();
    let fail_on = workflow["env"]["FAIL_ON"].as_str().unwrap();
    let args: Vec<String> = line
        .split('>')
        .next()
        .unwrap()
        .split_whitespace()
        .skip_while(|w| *w != "pullover")
        .skip(3) // pullover --stack "$STACK"
        .map(|w| w.replace("\"$FAIL_ON\"", fail_on))
        .collect();
    assert!(args.iter().any(|a| a == "markdown"), "{args:?}");
    let p = pullover().stack("seed");
    let run = p.run(&args);
    run.success();
    assert!(
        run.stdout.starts_with("## pullover plan: phase 0/5 `expose`"),
        "{}",
        run.stdout
    );
    // On a stack with a hazard the same command exits 4, which the workflow reports.
    let own_job = pullover().stack("seed-own-job");
    own_job.run(["apply", "expose", "--yes"]).success();
    own_job.run(&args).code(4);
    assert!(text.contains("\"$code\" -ne 4"));
}

#[test]
fn apply_rollback_and_status_name_the_history_number() {
    let p = pullover().stack("seed");
    let first = p.run(["apply", "scrape", "--yes"]);
    assert!(
        first.stdout.contains("Applied phase `scrape` (history #1)"),
        "{}",
        first.stdout
    );
    let second = p.run(["apply", "dual-run", "--yes"]);
    assert!(
        second.stdout.contains("Applied phase `dual-run` (history #2)"),
        "{}",
        second.stdout
    );
    let status = p.run(["status"]);
    assert!(status.stdout.contains("(history #2)"), "{}", status.stdout);
    let back = p.run(["rollback", "--yes"]);
    assert!(
        back.stdout.contains("Rolled back phase `dual-run` (history #3)"),
        "{}",
        back.stdout
    );
}
