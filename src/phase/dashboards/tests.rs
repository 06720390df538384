//! The dashboards phase on small stacks written for each story, and on every stack in `stacks/`.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use crate::stack::ObservedPush;
use crate::stack::settings::Overrides;

const COMPOSE: &str = "\
services:
  metrics-api:
    image: node:20
    environment:
      - PUSHGATEWAY_URL=http://pushgateway:9091
    expose: [\"8080\"]
  pushgateway:
    image: prom/pushgateway:v1.5.1
";

const PROMETHEUS: &str = "\
rule_files:
  - rules/*.yml
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ['pushgateway:9091']
";

/// A Classic dashboard with one panel per `(title, expr)`.
fn dashboard(title: &str, panels: &[(&str, &str)]) -> String {
    let panels: Vec<serde_json::Value> = panels
        .iter()
        .enumerate()
        .map(|(index, (title, expr))| {
            serde_json::json!({
                "id": index + 1,
                "title": title,
                "type": "timeseries",
                "targets": [{"expr": expr, "legendFormat": "__auto", "refId": "A"}]
            })
        })
        .collect();
    let mut text =
        serde_json::to_string_pretty(&serde_json::json!({"title": title, "panels": panels, "schemaVersion": 39}))
            .unwrap();
    text.push('\n');
    text
}

/// A stack folder with the base files plus `files`, and the stack read from it.
fn given(files: &[(&str, &str)]) -> (tempfile::TempDir, Stack) {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        ("docker-compose.yml", COMPOSE),
        ("prometheus/prometheus.yml", PROMETHEUS),
    ];
    for (path, text) in base.iter().chain(files) {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    let stack = Stack::load(dir.path(), &Overrides::default()).unwrap_or_else(|e| panic!("{}", e.render(false)));
    (dir, stack)
}

fn after<'c>(changes: &'c ChangeSet, path: &str) -> Option<&'c str> {
    changes
        .changes
        .iter()
        .find(|c| c.path.as_str() == path)
        .and_then(|c| c.after.as_ref())
        .map(|s| std::str::from_utf8(&s.bytes).unwrap())
}

fn ids(changes: &ChangeSet) -> Vec<&'static str> {
    changes.findings.iter().map(|f| f.id.as_str()).collect()
}

#[test]
fn an_instance_learnt_from_one_panel_moves_every_query_that_names_it() {
    let board = dashboard(
        "API",
        &[
            (
                "Requests",
                r#"sum(rate(http_requests_total{job="metrics-api", instance="app-1"}[5m]))"#,
            ),
            (
                "Heap",
                r#"nodejs_heap_size_used_bytes{job="metrics-api", instance=~"app-1"}"#,
            ),
        ],
    );
    let (_dir, stack) = given(&[("grafana/dashboards/api.json", &board)]);
    let plan = plan(&stack).unwrap();
    let text = after(&plan, "grafana/dashboards/api.json").expect("the dashboard changes");
    assert_eq!(text.matches("metrics-api:8080").count(), 2, "{text}");
    assert!(!text.contains("app-1"), "{text}");
    let learnt = plan.findings.iter().find(|f| f.id == "pushed-identity").unwrap();
    assert!(learnt.message.contains("instance \"app-1\""), "{}", learnt.message);
    assert_eq!(
        learnt.location.as_ref().and_then(|l| l.context.as_deref()),
        Some("dashboard \"API\" › panel \"Requests\"")
    );
}

#[test]
fn instances_pinned_in_pullover_yaml_win_over_what_the_queries_say() {
    let board = dashboard("API", &[("Requests", r#"sum(x{job="metrics-api", instance="app-1"})"#)]);
    let settings = "apps:\n  - service: metrics-api\n    pushed_instances: [app-9]\n";
    let (_dir, stack) = given(&[("grafana/dashboards/api.json", &board), ("pullover.yaml", settings)]);
    let plan = plan(&stack).unwrap();
    assert!(plan.is_empty(), "app-1 is not a pushed instance once app-9 is pinned");
    let identity = plan.findings.iter().find(|f| f.id == "pushed-identity").unwrap();
    assert!(
        identity
            .message
            .starts_with("metrics-api pushes as job \"metrics-api\", instance \"app-9\":"),
        "{}",
        identity.message
    );
}

#[test]
fn pushed_label_sets_seen_live_teach_what_the_queries_cannot() {
    // A regex with a variable names no instance for certain, so the queries alone teach nothing.
    let query = r#"sum(x{job="metrics-api", instance=~"app-7|$extra"})"#;
    let board = dashboard("API", &[("Requests", query)]);
    let (_dir, mut stack) = given(&[("grafana/dashboards/api.json", &board)]);
    assert!(plan(&stack).unwrap().is_empty());
    stack.observe(vec![ObservedPush {
        job: "metrics-api".into(),
        instance: "app-7".into(),
        metrics: vec!["x".into()],
        source: "Prometheus at http://127.0.0.1:9090".into(),
    }]);
    let plan = plan(&stack).unwrap();
    let text = after(&plan, "grafana/dashboards/api.json").expect("the live instance is rewritten");
    assert!(text.contains(r#"instance=~\"metrics-api:8080|$extra\""#), "{text}");
    let learnt = plan.findings.iter().find(|f| f.id == "pushed-identity").unwrap();
    assert!(learnt.message.contains("the live Prometheus"), "{}", learnt.message);
}

#[test]
fn a_file_is_rewritten_wholly_or_not_at_all() {
    // An explicit indentation indicator is a block scalar pullover does not edit: then neither
    // rule of the file changes, and the dashboard (another file) still does.
    let rules = "groups:\n  - name: api\n    rules:\n      - record: a\n        expr: |2\n            sum(x{job=\"metrics-api\", instance=\"app-1\"})\n      - record: b\n        expr: sum(y{job=\"metrics-api\", instance=\"app-1\"})\n";
    let board = dashboard("API", &[("Requests", r#"sum(x{job="metrics-api", instance="app-1"})"#)]);
    let (_dir, stack) = given(&[
        ("prometheus/rules/api.yml", rules),
        ("grafana/dashboards/api.json", &board),
    ]);
    let plan = plan(&stack).unwrap();
    assert!(
        after(&plan, "prometheus/rules/api.yml").is_none(),
        "the rule file stays as it is"
    );
    assert!(after(&plan, "grafana/dashboards/api.json").is_some());
    let failed = plan.findings.iter().find(|f| f.id == "file-not-rewritten").unwrap();
    assert_eq!(failed.severity, Severity::Hazard);
    assert!(
        failed.message.contains("explicit indentation indicator"),
        "{}",
        failed.message
    );
    let left: Vec<&Finding> = plan.findings.iter().filter(|f| f.id == "query-not-rewritten").collect();
    assert_eq!(left.len(), 2, "{:#?}", plan.findings);
    assert!(left[1].message.contains("metrics-api:8080"), "{}", left[1].message);
}

#[test]
fn the_dual_run_artefacts_compare_old_and_new_on_purpose_and_are_skipped() {
    let board = dashboard(
        "Dual run",
        &[(
            "Pushed vs scraped",
            r#"sum(rate(x{instance="app-1"}[5m])) - sum(rate(x{instance="metrics-api:8080"}[5m]))"#,
        )],
    );
    let rules = "groups:\n  - name: dual-run\n    rules:\n      - record: x:pushed\n        expr: sum(x{job=\"metrics-api\", instance=\"app-1\"})\n";
    let (_dir, stack) = given(&[
        ("grafana/dashboards/pullover-dual-run.json", &board),
        ("prometheus/rules/pullover-dual-run.yml", rules),
    ]);
    let plan = plan(&stack).unwrap();
    assert!(plan.is_empty());
    let skipped: Vec<&str> = ids(&plan)
        .into_iter()
        .filter(|id| !id.starts_with("pushed-identity"))
        .collect();
    assert_eq!(skipped, ["dual-run-artefact-skipped", "dual-run-artefact-skipped"]);
}

#[test]
fn an_unparseable_query_is_reported_with_its_panel_and_the_others_still_move() {
    let board = dashboard(
        "API",
        &[
            ("Broken", r#"sum(rate(x{job="metrics-api", instance="app-1"}[5m])"#),
            ("Fine", r#"sum(x{job="metrics-api", instance="app-1"})"#),
        ],
    );
    let (_dir, stack) = given(&[("grafana/dashboards/api.json", &board)]);
    let plan = plan(&stack).unwrap();
    let text = after(&plan, "grafana/dashboards/api.json").unwrap();
    assert!(
        text.contains(r#"sum(rate(x{job=\"metrics-api\", instance=\"app-1\"}[5m])"#),
        "the broken query stays byte for byte"
    );
    assert!(text.contains(r#"sum(x{job=\"metrics-api\", instance=\"metrics-api:8080\"})"#));
    let broken = plan.findings.iter().find(|f| f.id == "unparseable-query").unwrap();
    assert_eq!(
        broken.location.as_ref().and_then(|l| l.context.as_deref()),
        Some("dashboard \"API\" › panel \"Broken\"")
    );
}

#[test]
fn a_legend_naming_exported_labels_is_reported_at_its_line_when_its_query_moves() {
    let prometheus = PROMETHEUS.replace("honor_labels: true", "honor_labels: false");
    let classic = r#"{
  "title": "ETL",
  "panels": [
    {
      "title": "Rows by job",
      "targets": [
        {
          "expr": "sum by (exported_job) (rate(x{exported_job=\"metrics-api\"}[5m]))",
          "legendFormat": "{{ exported_job }} on {{exported_instance}}"
        }
      ]
    },
    {
      "title": "Node",
      "targets": [{ "expr": "node_load1{job=\"node\"}", "legendFormat": "{{exported_job}}" }]
    }
  ]
}
"#;
    let v2 = r#"{
  "apiVersion": "dashboard.grafana.app/v2beta1",
  "kind": "Dashboard",
  "metadata": { "name": "etl-v2" },
  "spec": {
    "title": "ETL v2",
    "elements": {
      "panel-1": {
        "kind": "Panel",
        "spec": {
          "title": "Rows v2",
          "data": { "kind": "QueryGroup", "spec": { "queries": [ { "kind": "PanelQuery", "spec": {
            "query": { "kind": "prometheus", "spec": {
              "expr": "rate(x{exported_job=\"metrics-api\"}[5m])",
              "legendFormat": "{{exported_instance}}"
            } }
          } } ] } }
        }
      }
    }
  }
}
"#;
    let (_dir, stack) = given(&[
        ("prometheus/prometheus.yml", &prometheus),
        ("grafana/dashboards/etl.json", classic),
        ("grafana/dashboards/etl-v2.json", v2),
    ]);
    let plan = plan(&stack).unwrap();
    let legends: Vec<String> = plan
        .findings
        .iter()
        .filter(|f| f.id == "legend-uses-exported-label")
        .map(|f| {
            let at = f.location.as_ref().unwrap();
            format!(
                "{}:{} {} | {}",
                at.path,
                at.line,
                at.context.as_deref().unwrap_or(""),
                f.message
            )
        })
        .collect();
    insta::assert_snapshot!(legends.join("\n"), @r#"
    grafana/dashboards/etl-v2.json:15 dashboard "ETL v2" › panel "Rows v2" | the legend `{{exported_instance}}` shows `exported_instance`, which scraped series do not have: it goes blank after the migration
    grafana/dashboards/etl.json:9 dashboard "ETL" › panel "Rows by job" | the legend `{{ exported_job }} on {{exported_instance}}` shows `exported_job` and `exported_instance`, which scraped series do not have: it goes blank after the migration
    "#);
}

#[test]
fn a_stack_without_a_pushgateway_has_nothing_to_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("docker-compose.yml"),
        "services:\n  web:\n    image: nginx\n",
    )
    .unwrap();
    fs::write(dir.path().join("prometheus.yml"), "scrape_configs: []\n").unwrap();
    let stack = Stack::load(dir.path(), &Overrides::default()).unwrap();
    // Nothing to act on is an error, not an empty phase journalled as applied.
    let error = plan(&stack).unwrap_err();
    assert!(error.message.contains("no Pushgateway found"), "{}", error.message);
}

#[test]
fn label_values_queries_split_into_selector_and_label() {
    assert_eq!(
        label_values_parts("label_values(up{job=\"a,b\"}, instance)"),
        Some((Some("up{job=\"a,b\"}"), "instance"))
    );
    assert_eq!(label_values_parts(" label_values( job ) "), Some((None, "job")));
    assert_eq!(label_values_parts("query_result(up)"), None);
}

fn repo_stacks() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks");
    let mut stacks: Vec<PathBuf> = fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        // `stacks/push-only/` holds push-only apps, with no dashboards: not a stack.
        .filter(|p| p.is_dir() && !p.ends_with("push-only"))
        .collect();
    stacks.sort();
    stacks
}

#[test]
fn every_rewritten_query_in_the_stacks_parses_and_rewriting_twice_changes_nothing() {
    let mut rewritten = 0;
    for root in repo_stacks() {
        let stack = Stack::load(&root, &Overrides::default()).unwrap();
        let survey = survey(&stack).unwrap();
        let mapping = survey.mapping.as_ref().unwrap();
        for query in survey.queries.iter().filter(|q| q.action == QueryAction::Rewrite) {
            let text = query.rewritten.as_deref().unwrap();
            let again = crate::promql::rewrite_query(text, mapping)
                .unwrap_or_else(|e| panic!("{}: `{text}` does not parse: {}", root.display(), e.message));
            assert_eq!(again.text, None, "{}: `{text}` changes again", root.display());
            rewritten += 1;
        }
    }
    assert!(rewritten >= 30, "only {rewritten} queries rewritten over all stacks");
}

mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::stack::source::{RelPath, SourceFile};

    const LABELS: &[&str] = &["job", "instance", "exported_job", "exported_instance", "page"];
    const VALUES: &[&str] = &[
        "metrics-api",
        "app-1",
        "pushgateway",
        "pushgateway:9091",
        "metrics-api:8080",
        "app-1|app-2",
        "$job",
        "${instance}",
        ".*",
        "other",
        "",
    ];
    const METRICS: &[&str] = &[
        "x",
        "page_views_total",
        "push_time_seconds",
        "up",
        "process_cpu_seconds_total",
        "",
    ];
    /// Query shapes from real dashboards; `{s}`/`{t}` are selectors, `{l}` a label.
    const SHAPES: &[&str] = &[
        "{s}",
        "sum(rate({s}[5m]))",
        "sum by ({l}) (rate({s}[$__rate_interval]))",
        "histogram_quantile(0.9, sum by (le, {l}) (rate({s}[5m])))",
        "{s} / on({l}) group_left {t}",
        "time() - {s} > 300",
        "label_values({s}, {l})",
        "{s} unless {t} or vector(0)",
        "max_over_time({s}[1h:5m] offset 1h)",
        "label_replace({s}, \"app\", \"$1\", \"{l}\", \"(.*)\")",
    ];

    const PINNED: &str = "apps:\n  - service: metrics-api\n    pushed_job: metrics-api\n    pushed_instances: [app-1, app-2]\n    metrics: [x, page_views_total]\n";

    fn selector() -> impl Strategy<Value = String> {
        let matcher = (
            prop::sample::select(LABELS),
            prop::sample::select(&["=", "=~", "!=", "!~"][..]),
            prop::sample::select(VALUES),
        )
            .prop_map(|(label, op, value)| format!("{label}{op}\"{value}\""));
        (prop::sample::select(METRICS), prop::collection::vec(matcher, 0..3)).prop_map(|(metric, matchers)| {
            let metric = if metric.is_empty() && matchers.is_empty() {
                "x"
            } else {
                metric
            };
            format!("{metric}{{{}}}", matchers.join(", "))
        })
    }

    fn query() -> impl Strategy<Value = String> {
        (
            prop::sample::select(SHAPES),
            selector(),
            selector(),
            prop::sample::select(LABELS),
        )
            .prop_map(|(shape, s, t, l)| shape.replace("{s}", &s).replace("{t}", &t).replace("{l}", l))
    }

    fn with_dashboard(stack: &Stack, text: &str) -> Stack {
        let mut stack = stack.clone();
        let path = RelPath::new("grafana/dashboards/fuzz.json").unwrap();
        let known = crate::stack::grafana::known(&stack.datasources);
        stack.dashboards = vec![crate::stack::DashboardFile::read(
            SourceFile::from_text(path, text, 0o644),
            &known,
        )];
        stack
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]

        /// Any query: the plan never panics, and planning again on its output changes nothing.
        /// The label sets are pinned: what the queries teach can go with the queries a rewrite
        /// changes (the `learnt-*` findings say to pin it for that reason).
        #[test]
        fn any_query_plans_without_panic_and_a_second_plan_changes_nothing(
            queries in prop::collection::vec(query(), 1..4),
            honor_labels in any::<bool>(),
        ) {
            let prometheus = PROMETHEUS.replace("honor_labels: true", &format!("honor_labels: {honor_labels}"));
            let (_dir, base) = given(&[("prometheus/prometheus.yml", &prometheus), ("pullover.yaml", PINNED)]);
            let titles: Vec<String> = (0..queries.len()).map(|i| format!("panel {i}")).collect();
            let panels: Vec<(&str, &str)> = titles.iter().map(String::as_str).zip(queries.iter().map(String::as_str)).collect();
            let stack = with_dashboard(&base, &dashboard("Fuzz", &panels));
            let first = plan(&stack).unwrap();
            if let Some(text) = after(&first, "grafana/dashboards/fuzz.json") {
                let again = plan(&with_dashboard(&base, text)).unwrap();
                prop_assert!(again.is_empty(), "a second plan changes more:\n{text}");
            }
        }

        /// Any file in the dashboards folder: a plan or an error, never a panic.
        #[test]
        fn any_dashboard_text_is_a_plan_or_an_error(text in "[ -~\n\t{}\\[\\]\":,é]{0,200}") {
            let (_dir, base) = given(&[]);
            let _ = plan(&with_dashboard(&base, &text));
        }
    }
}
