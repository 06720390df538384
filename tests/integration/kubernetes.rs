//! Stacks kept as Kubernetes manifests (`stacks/k8s-*`), through the real CLI: what is read,
//! the five phases applied in order with every written manifest checked (kind and apiVersion,
//! `kubectl kustomize` of every kustomization, `promtool check rules` of every rule group), the
//! shapes `scrape` does not handle yet refusing with exit 1, and `rollback --to baseline` giving
//! every byte back.

use std::path::Path;
use std::process::Command;

use pullover::edit::yaml::YamlStream;
use yaml_serde::Value;

use crate::support::tree::{differing, tree};
use crate::support::{Pullover, kube_stacks, pullover, require_tool};

/// The apiVersion each kind is served as (Kubernetes 1.25+, Prometheus Operator v1), written
/// here independently of pullover's own table.
fn served_as(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" => "apps/v1",
        "Service" | "ConfigMap" | "Secret" | "PersistentVolumeClaim" => "v1",
        "CronJob" | "Job" => "batch/v1",
        "ServiceMonitor" | "PodMonitor" | "PrometheusRule" => "monitoring.coreos.com/v1",
        _ => return None,
    })
}

/// Every YAML document of the stack with a `kind`, as `(file, value)`.
fn objects(root: &Path) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (path, _) in tree(root) {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) || path.starts_with(".pullover") {
            continue;
        }
        let text = std::fs::read_to_string(root.join(&path)).unwrap();
        let stream = YamlStream::parse(&text).unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
        for doc in stream.docs() {
            if doc.doc.value().get("kind").is_some() {
                out.push((path.clone(), doc.doc.value().clone()));
            }
        }
    }
    out
}

fn objects_of_kind(root: &Path, kind: &str) -> Vec<(String, Value)> {
    objects(root)
        .into_iter()
        .filter(|(_, o)| o["kind"].as_str() == Some(kind))
        .collect()
}

/// Which checking tools are installed (in CI each must be: `scripts/test` installs them).
#[derive(Clone, Copy)]
struct Tools {
    kubectl: bool,
    promtool: bool,
    schemas: bool,
}

impl Tools {
    fn find() -> Tools {
        Tools {
            kubectl: require_tool("kubectl"),
            promtool: require_tool("promtool"),
            schemas: require_tool("kubernetes-validate"),
        }
    }
}

/// Kinds with the apiVersion Kubernetes serves them as, a name, and (for what pullover writes)
/// the fields a ServiceMonitor needs; `kubectl kustomize` renders every kustomization; promtool
/// accepts every rule group.
fn check_manifests(root: &Path, what: &str, tools: Tools) {
    let Tools {
        kubectl,
        promtool,
        schemas,
    } = tools;
    for (path, object) in objects(root) {
        let kind = object["kind"].as_str().unwrap_or_default();
        if kind == "Kustomization" {
            continue;
        }
        if let Some(api_version) = served_as(kind) {
            assert_eq!(
                object["apiVersion"].as_str(),
                Some(api_version),
                "{what}: {path}: {kind}"
            );
        }
        assert!(
            object["metadata"]["name"].as_str().is_some(),
            "{what}: {path}: {kind} has no name"
        );
        if kind == "ServiceMonitor" {
            let endpoints = object["spec"]["endpoints"].as_sequence().expect("endpoints");
            assert!(
                endpoints.iter().all(|e| e["port"].as_str().is_some()),
                "{what}: {path}: a ServiceMonitor endpoint without a named port"
            );
        }
        if promtool {
            let groups = match kind {
                "PrometheusRule" => Some(object["spec"].clone()),
                "ConfigMap" => object["data"].as_mapping().and_then(|data| {
                    data.values()
                        .filter_map(Value::as_str)
                        .filter_map(|text| yaml_serde::from_str::<Value>(text).ok())
                        .find(|v| v.get("groups").is_some())
                }),
                _ => None,
            };
            if let Some(groups) = groups {
                let file = tempfile::NamedTempFile::new().unwrap();
                std::fs::write(file.path(), yaml_serde::to_string(&groups).unwrap()).unwrap();
                let out = Command::new("promtool")
                    .args(["check", "rules"])
                    .arg(file.path())
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{what}: {path}: promtool rejects the rules of {}:\n{}",
                    object["metadata"]["name"].as_str().unwrap_or_default(),
                    String::from_utf8_lossy(&out.stdout)
                );
            }
        }
    }
    if schemas {
        // Core kinds against Kubernetes' own schemas, unknown fields refused; a patch is a part
        // of an object, not one. (The CRD kinds only get a warning from it: not checked here.)
        let patches: Vec<String> = objects_of_kind(root, "Kustomization")
            .iter()
            .flat_map(|(file, k)| {
                let folder = Path::new(file).parent().unwrap().to_path_buf();
                k["patches"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["path"].as_str())
                    .map(move |p| folder.join(p).to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        let files: Vec<String> = objects(root)
            .into_iter()
            .map(|(file, _)| file)
            .filter(|file| !file.ends_with("kustomization.yaml") && !patches.contains(file))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let out = Command::new("kubernetes-validate")
            .args(["--strict", "--quiet", "--no-warn", "-k", "1.30.0"])
            .args(&files)
            .current_dir(root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{what}: kubernetes-validate rejects a manifest:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if kubectl {
        for (path, _) in tree(root) {
            if !path.ends_with("kustomization.yaml") || path.starts_with(".pullover") {
                continue;
            }
            let dir = root.join(&path).parent().unwrap().to_path_buf();
            let out = Command::new("kubectl").arg("kustomize").arg(&dir).output().unwrap();
            assert!(
                out.status.success(),
                "{what}: kubectl kustomize {path} fails:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

fn rendered(p: &Pullover, folder: &str) -> String {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(p.path().join(folder))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_kubernetes_stack_is_read_as_the_user_keeps_it() {
    // (stack, gateway job, honor_labels, [(app, pushed job, new job)])
    type Apps = &'static [(&'static str, &'static str, &'static str)];
    let expected: &[(&str, &str, bool, Apps)] = &[
        (
            "k8s-cronjob",
            "pushgateway",
            true,
            &[("inventory-api", "inventory-api", "inventory-api")],
        ),
        ("k8s-helm", "pushgateway", true, &[("checkout", "checkout", "checkout")]),
        (
            "k8s-honor-false",
            "pushgateway",
            false,
            &[("orders-sync", "orders-sync", "orders-sync")],
        ),
        (
            "k8s-kustomize",
            "pushgateway",
            true,
            &[("billing", "billing", "billing")],
        ),
        (
            "k8s-plain-prometheus",
            "prometheus-pushgateway",
            true,
            &[("reports", "reports", "reports")],
        ),
        (
            "k8s-raw",
            "pushgateway",
            true,
            &[("metrics-api", "pushgateway", "metrics-api")],
        ),
    ];
    assert_eq!(
        kube_stacks(),
        expected.iter().map(|e| e.0.to_string()).collect::<Vec<_>>(),
        "a new Kubernetes stack needs its row here"
    );
    for (name, job, honor_labels, apps) in expected {
        let p = pullover().stack(name);
        let run = p.run(["--format", "json", "analyze"]);
        run.success();
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(report["gateway"]["job"], *job, "{name}");
        assert_eq!(report["gateway"]["honor_labels"], *honor_labels, "{name}");
        let found: Vec<(String, String, String)> = report["apps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let s = |k: &str| a[k].as_str().unwrap_or_default().to_string();
                (s("service"), s("pushed_job"), s("scrape_job"))
            })
            .collect();
        let wanted: Vec<(String, String, String)> = apps
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        assert_eq!(found, wanted, "{name}");
        // Every reference points into a real file of the stack, never at a view.
        for reference in report["references"].as_array().unwrap() {
            let path = reference["path"].as_str().unwrap();
            assert!(p.file(path).is_file(), "{name}: a reference to {path}");
        }
    }
}

#[test]
fn a_cronjob_that_pushes_keeps_the_gateway_and_its_queries() {
    let p = pullover().stack("k8s-cronjob");
    let run = p.run(["plan", "dashboards"]);
    run.success();
    assert!(
        run.stdout
            .contains("[kube-batch-pusher-keeps-gateway] CronJob/inventory-export"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("[kube-batch-query-stays]"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("push_time_seconds{job=\"inventory-api\"}"),
        "{}",
        run.stdout
    );
    // The CronJob is no app: only the Deployment gets a ServiceMonitor.
    let scrape = p.run(["plan", "scrape"]);
    scrape.success();
    assert!(scrape.stdout.contains("inventory-api-servicemonitor.yaml"));
    assert!(!scrape.stdout.contains("inventory-export-servicemonitor"));
}

#[test]
fn remove_push_code_on_manifests_says_the_code_is_elsewhere() {
    let p = pullover().stack("k8s-raw");
    let asked = p.run(["plan", "remove", "--remove-push-code"]);
    asked.success();
    assert!(
        asked.stdout.contains("todo [push-code-kept] --remove-push-code"),
        "{}",
        asked.stdout
    );
    let plain = p.run(["plan", "remove"]);
    assert!(!plain.stdout.contains("push-code-kept"), "{}", plain.stdout);
}

#[test]
fn shapes_whose_scrape_path_is_not_a_servicemonitor_refuse_scrape_and_say_why() {
    for (name, path) in [
        (
            "k8s-helm",
            "additionalScrapeConfigs in values/kube-prometheus-stack.yaml",
        ),
        ("k8s-plain-prometheus", "ConfigMap prometheus-server"),
    ] {
        let p = pullover().stack(name);
        let before = p.hashes();
        let run = p.run(["apply", "scrape", "--yes"]);
        assert_eq!(run.code, Some(1), "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("cannot yet be planned on this Kubernetes stack"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(path), "{name}: {}", run.stderr);
        assert!(!run.stdout.contains("No changes"));
        assert_eq!(p.hashes(), before, "{name}: a refused phase wrote something");
    }
}

#[test]
fn all_five_phases_apply_on_each_servicemonitor_shape_and_roll_back_to_baseline() {
    let tools = Tools::find();
    let kubectl = tools.kubectl;
    for name in ["k8s-raw", "k8s-honor-false", "k8s-kustomize", "k8s-cronjob"] {
        let p = pullover().stack(name);
        let original = tree(&p.path());
        check_manifests(&p.path(), &format!("{name} as written"), tools);
        for phase in ["scrape", "dual-run", "dashboards", "remove"] {
            let what = format!("{name} {phase}");
            let run = p.run(["apply", phase, "--yes"]);
            assert_eq!(run.code, Some(0), "{what}: {}{}", run.stdout, run.stderr);
            // The schema check (a slow Python tool) runs after the phases that write objects
            // other than rules and dashboards: scrape and remove.
            let schemas = tools.schemas && matches!(phase, "scrape" | "remove");
            check_manifests(&p.path(), &what, Tools { schemas, ..tools });
            // Planning it again changes nothing.
            let again = p.run(["--format", "json", "plan", phase]);
            let plan: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
            // (After `remove` the gateway is gone, so planning `remove` again finds none, except
            // where a CronJob keeps it.)
            if phase == "dashboards" || (phase == "remove" && name == "k8s-cronjob") {
                assert_eq!(
                    plan["changes"].as_array().map(Vec::len),
                    Some(0),
                    "{what}: planned again"
                );
            }
        }
        if kubectl && name == "k8s-kustomize" {
            let out = rendered(&p, "overlays/prod");
            assert!(
                out.contains("name: billing\n  namespace: billing\nspec:\n  endpoints:"),
                "{out}"
            );
            assert!(
                !out.contains("pushgateway"),
                "{name}: the gateway is still rendered:\n{out}"
            );
            assert!(
                !p.file("overlays/prod/pushgateway-resources.yaml").exists(),
                "the patch of the gateway stays"
            );
        }
        let images: Vec<String> = objects(&p.path())
            .iter()
            .filter_map(|(_, o)| yaml_serde::to_string(o).ok())
            .filter(|text| text.contains("pushgateway:v"))
            .collect();
        if name == "k8s-cronjob" {
            assert_eq!(images.len(), 1, "{name}: the gateway must stay for the CronJob");
            assert!(
                p.read("manifests/inventory-export.yaml")
                    .contains("pushgateway.inventory.svc")
            );
        } else {
            assert!(images.is_empty(), "{name}: the gateway is still deployed");
        }
        assert!(
            !objects(&p.path()).iter().any(|(f, _)| f.contains("pullover-dual-run")),
            "{name}: dual-run left"
        );
        let run = p.run(["apply", "docs", "--yes"]);
        assert_eq!(run.code, Some(0), "{name} docs: {}{}", run.stdout, run.stderr);
        check_manifests(
            &p.path(),
            &format!("{name} docs"),
            Tools {
                schemas: false,
                ..tools
            },
        );
        p.run(["rollback", "--to", "baseline", "--yes"]).success();
        let back = tree(&p.path());
        let changed: Vec<String> = differing(&original, &back)
            .into_iter()
            .filter(|path| !path.starts_with(".pullover"))
            .collect();
        assert!(
            changed.is_empty(),
            "{name}: after rollback --to baseline these differ: {changed:?}"
        );
    }
}

#[test]
fn raw_manifests_plans_read_as_a_reviewer_expects() {
    let p = pullover().stack("k8s-raw");
    let scrape = p.run(["plan", "scrape"]);
    scrape.success();
    insta::assert_snapshot!("k8s_raw_scrape", p.clean(&scrape.stdout));
    p.run(["apply", "scrape", "--yes"]).success();
    p.run(["apply", "dual-run", "--yes"]).success();
    let dashboards = p.run(["plan", "dashboards"]);
    dashboards.success();
    insta::assert_snapshot!("k8s_raw_dashboards", p.clean(&dashboards.stdout));
}

#[test]
fn kustomize_scrape_adds_its_file_to_the_kustomization() {
    let p = pullover().stack("k8s-kustomize");
    let run = p.run(["plan", "scrape"]);
    run.success();
    insta::assert_snapshot!("k8s_kustomize_scrape", p.clean(&run.stdout));
}

/// The queries of the promql rewrite table (`src/promql/tests/cases.rs`).
fn table_queries() -> Vec<String> {
    let source = std::fs::read_to_string(crate::support::repo_root().join("src/promql/tests/cases.rs")).unwrap();
    let pattern = regex::Regex::new(r##"table\(r#"(.*?)"#\)"##).unwrap();
    pattern.captures_iter(&source).map(|c| c[1].to_string()).collect()
}

#[test]
fn the_rewrite_table_gives_the_same_queries_in_a_configmap_as_in_a_json_file() {
    let queries = table_queries();
    assert!(
        queries.len() >= 20,
        "only {} queries read from the table",
        queries.len()
    );
    let panels: Vec<serde_json::Value> = queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            serde_json::json!({
                "id": i + 1,
                "title": format!("row {i}"),
                "type": "timeseries",
                "datasource": {"type": "prometheus", "uid": "prometheus"},
                "targets": [{"refId": "A", "expr": q}]
            })
        })
        .collect();
    let dashboard = serde_json::to_string_pretty(&serde_json::json!({
        "title": "Rewrite table", "uid": "table", "schemaVersion": 39, "panels": panels
    }))
    .unwrap();
    let p = pullover().stack("k8s-raw");
    // One copy in a sidecar ConfigMap's block scalar, one as a file a configMapGenerator reads.
    let mut configmap = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: table\n  namespace: monitoring\n  labels:\n    grafana_dashboard: \"1\"\ndata:\n  table.json: |\n",
    );
    for line in dashboard.lines() {
        configmap.push_str(&format!("    {line}\n"));
    }
    p.write("manifests/table.yaml", &configmap);
    p.write("dashboards/table.json", &format!("{dashboard}\n"));
    p.write(
        "dashboards/kustomization.yaml",
        "configMapGenerator:\n  - name: table-file\n    files:\n      - table.json\n",
    );
    for phase in ["scrape", "dual-run", "dashboards"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    let file_after = p.read("dashboards/table.json");
    assert_ne!(
        file_after,
        format!("{dashboard}\n"),
        "the table rewrote nothing in the JSON file"
    );
    let manifest_after = p.read("manifests/table.yaml");
    let stream = YamlStream::parse(&manifest_after).unwrap();
    let in_configmap = stream.docs()[0].doc.value()["data"]["table.json"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        in_configmap, file_after,
        "the ConfigMap's dashboard differs from the file's"
    );
    // Only lines holding a rewritten query changed, each still indented as it was.
    let before_lines: Vec<&str> = configmap.lines().collect();
    let after_lines: Vec<&str> = manifest_after.lines().collect();
    assert_eq!(before_lines.len(), after_lines.len());
    let changed = before_lines
        .iter()
        .zip(&after_lines)
        .filter(|(a, b)| a != b)
        .inspect(|(a, b)| {
            let indent = |line: &str| line.len() - line.trim_start().len();
            assert!(a.trim_start().starts_with("\"expr\""), "{a}\n{b}");
            assert_eq!(indent(a), indent(b), "{a}\n{b}");
        })
        .count();
    assert!(changed >= 5, "only {changed} queries rewritten");
}
