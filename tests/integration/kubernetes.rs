//! Stacks kept as Kubernetes manifests (`stacks/k8s-*`), through the real CLI: what is read,
//! the five phases applied in order with every written manifest checked (kind and apiVersion,
//! `kubectl kustomize` of every kustomization, `promtool check rules` of every rule group), the
//! shapes `scrape` does not handle yet refusing with exit 1, and `rollback --to baseline` giving
//! every byte back.

use std::path::Path;
use std::process::Command;

use pullover::edit::yaml::YamlStream;
use yaml_serde::Value;

use crate::support::kube::{objects, objects_of_kind};
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
        "Ingress" | "NetworkPolicy" => "networking.k8s.io/v1",
        "Application" => "argoproj.io/v1alpha1",
        "HelmRelease" => "helm.toolkit.fluxcd.io/v2",
        _ => return None,
    })
}

/// Which checking tools are installed (in CI each must be: `scripts/test` installs them).
#[derive(Clone, Copy)]
struct Tools {
    kubectl: bool,
    promtool: bool,
    schemas: bool,
    crd_schemas: bool,
}

impl Tools {
    fn find() -> Tools {
        Tools {
            kubectl: require_tool("kubectl"),
            promtool: require_tool("promtool"),
            schemas: require_tool("kubernetes-validate"),
            crd_schemas: operator_models().is_some(),
        }
    }
}

/// The folder `scripts/test` installs `@kubernetes-models/prometheus-operator` into (npm): its
/// validators are compiled from the Prometheus Operator's CRD schemas. `None` (and a note)
/// outside CI when it is missing; in CI a missing one fails the test.
fn operator_models() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("PROMETHEUS_OPERATOR_MODELS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::support::repo_root().join("target/prometheus-operator-models"));
    let package = dir.join("node_modules/@kubernetes-models/prometheus-operator/package.json");
    if package.is_file() && require_tool("node") {
        return Some(dir);
    }
    let how = "run scripts/test (it installs @kubernetes-models/prometheus-operator@6.0.0 with npm), or set PROMETHEUS_OPERATOR_MODELS to such a folder";
    if std::env::var_os("CI").is_some() {
        panic!(
            "the Prometheus Operator CRD validators are missing in {}: {how}",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: the Prometheus Operator CRD validators are missing in {}: {how}",
        dir.display()
    );
    None
}

/// Runs each object through the validator of its kind; reads `[{file, object}]` on stdin, prints
/// one line per object that breaks its CRD schema, exits 1 when any does.
const CRD_CHECK: &str = r#"
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
const models = join(process.argv[2], "node_modules/@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1");
const objects = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
for (const { file, object } of objects) {
  const kind = object.kind;
  const module = await import(pathToFileURL(join(models, `${kind}.js`)).href);
  try {
    new module[kind](object).validate();
  } catch (error) {
    failed += 1;
    console.log(`${file}: ${kind} ${object.metadata?.name}: ${error.message}`);
  }
}
console.log(`${objects.length} checked`);
process.exit(failed ? 1 : 0);
"#;

/// Every ServiceMonitor, PodMonitor and PrometheusRule of the stack against the Prometheus
/// Operator's CRD schemas (types, required fields, enums).
fn check_crd_schemas(root: &Path, what: &str) {
    if let Some(Err(report)) = crd_violations(root) {
        panic!("{what}: an object breaks the Prometheus Operator's CRD schema:\n{report}");
    }
}

/// What node's run of the CRD validators printed: `Ok` when every object passed; `None` when
/// the validators are missing (outside CI).
fn crd_violations(root: &Path) -> Option<Result<String, String>> {
    let models = operator_models()?;
    let objects: Vec<serde_json::Value> = objects(root)
        .into_iter()
        .filter(|(_, o)| {
            matches!(
                o["kind"].as_str(),
                Some("ServiceMonitor" | "PodMonitor" | "PrometheusRule")
            )
        })
        .map(|(file, object)| serde_json::json!({"file": file, "object": serde_json::to_value(&object).unwrap()}))
        .collect();
    if objects.is_empty() {
        return Some(Ok(String::new()));
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("check.mjs");
    std::fs::write(&script, CRD_CHECK).unwrap();
    let mut child = Command::new("node")
        .arg(&script)
        .arg(&models)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(serde_json::to_string(&objects).unwrap().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(if out.status.success() { Ok(report) } else { Err(report) })
}

#[test]
fn the_crd_check_refuses_what_the_operator_would() {
    let p = pullover().stack("k8s-raw");
    let Some(Ok(report)) = crd_violations(&p.path()) else {
        panic!("the stack as written breaks a CRD schema, or the check is missing in CI");
    };
    assert!(report.contains("2 checked"), "{report}");
    let monitor = p
        .read("manifests/pushgateway.yaml")
        .replace("honorLabels: true", "honorLabels: \"yes\"");
    p.write("manifests/pushgateway.yaml", &monitor);
    let Some(Err(report)) = crd_violations(&p.path()) else {
        panic!("a string honorLabels passed the CRD check");
    };
    assert!(report.contains("honorLabels must be boolean"), "{report}");
}

/// Kinds with the apiVersion Kubernetes serves them as, a name, and (for what pullover writes)
/// the fields a ServiceMonitor needs; `kubectl kustomize` renders every kustomization; promtool
/// accepts every rule group.
fn check_manifests(root: &Path, what: &str, tools: Tools) {
    let Tools {
        kubectl,
        promtool,
        schemas,
        crd_schemas,
    } = tools;
    if crd_schemas {
        check_crd_schemas(root, what);
    }
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
        // A monitor names the port it scrapes; a wrong name validates and scrapes nothing.
        let endpoints = match kind {
            "ServiceMonitor" => Some("endpoints"),
            "PodMonitor" => Some("podMetricsEndpoints"),
            _ => None,
        };
        if let Some(endpoints) = endpoints {
            let endpoints = object["spec"][endpoints].as_sequence().expect("endpoints");
            // (A PodMonitor may select an unnamed container port by `portNumber`.)
            assert!(
                endpoints
                    .iter()
                    .all(|e| e["port"].as_str().is_some() || (kind == "PodMonitor" && e["portNumber"].is_u64())),
                "{what}: {path}: a {kind} endpoint without a named port"
            );
        }
        if promtool {
            let held: Vec<Value> = object["data"]
                .as_mapping()
                .into_iter()
                .flat_map(|data| data.values())
                .filter_map(Value::as_str)
                .filter_map(|text| yaml_serde::from_str::<Value>(text).ok())
                .collect();
            let groups: Vec<Value> = match kind {
                "PrometheusRule" => vec![object["spec"].clone()],
                "ConfigMap" => held.iter().filter(|v| v.get("groups").is_some()).cloned().collect(),
                _ => Vec::new(),
            };
            for groups in groups {
                promtool_check("rules", &groups, &format!("{what}: {path}"));
            }
            if kind == "ConfigMap" {
                for config in held.iter().filter(|v| v.get("scrape_configs").is_some()) {
                    promtool_check("config", &without_rule_files(config), &format!("{what}: {path}"));
                }
            }
        }
    }
    // Helm values: kube-prometheus-stack's scrape jobs (a list, or the list as a string) as a
    // prometheus.yml, and its rules map's groups as rule files.
    if promtool {
        for (path, values) in values_files(root) {
            let spec = &values["prometheus"]["prometheusSpec"];
            let jobs = match &spec["additionalScrapeConfigs"] {
                Value::String(text) => yaml_serde::from_str::<Value>(text).unwrap(),
                other => other.clone(),
            };
            if jobs.is_sequence() {
                let mut config = yaml_serde::Mapping::new();
                config.insert("scrape_configs".into(), jobs);
                promtool_check("config", &Value::Mapping(config), &format!("{what}: {path}"));
            }
            for (_, rules) in values["additionalPrometheusRulesMap"]
                .as_mapping()
                .into_iter()
                .flatten()
            {
                promtool_check("rules", rules, &format!("{what}: {path}"));
            }
            // The prometheus chart: its server's files (prometheus.yml, rule files), and
            // `extraScrapeConfigs`, a string of jobs it appends to prometheus.yml's.
            let mut server_config = None;
            for (name, file) in values["serverFiles"].as_mapping().into_iter().flatten() {
                if file.get("groups").is_some() {
                    promtool_check("rules", file, &format!("{what}: {path} serverFiles.{name:?}"));
                }
                if name.as_str() == Some("prometheus.yml") {
                    server_config = Some(without_rule_files(file));
                }
            }
            if let Some(Value::String(extra)) = values.get("extraScrapeConfigs") {
                let extra: Value = yaml_serde::from_str(extra).unwrap();
                let config = server_config.get_or_insert_with(|| Value::Mapping(Default::default()));
                let jobs = config
                    .as_mapping_mut()
                    .unwrap()
                    .entry("scrape_configs".into())
                    .or_insert(Value::Sequence(Vec::new()));
                jobs.as_sequence_mut()
                    .unwrap()
                    .extend(extra.as_sequence().unwrap().iter().cloned());
            }
            if let Some(config) = server_config {
                promtool_check("config", &config, &format!("{what}: {path}"));
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

/// The stack's Helm values: YAML files of one document without `kind`, and the inline values
/// of Argo CD Applications (`helm.valuesObject`, or `helm.values` as a string) and Flux
/// HelmReleases (`spec.values`).
fn values_files(root: &Path) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = tree(root)
        .into_iter()
        .filter(|(path, _)| (path.ends_with(".yaml") || path.ends_with(".yml")) && !path.starts_with(".pullover"))
        .filter_map(|(path, _)| {
            let text = std::fs::read_to_string(root.join(&path)).unwrap();
            let value: Value = yaml_serde::from_str(&text).ok()?;
            (value.get("kind").is_none() && value.is_mapping()).then_some((path, value))
        })
        .collect();
    for (path, object) in objects(root) {
        let helm = &object["spec"]["source"]["helm"];
        let inline = match object["kind"].as_str() {
            Some("Application") if helm["valuesObject"].is_mapping() => helm["valuesObject"].clone(),
            Some("Application") if helm["values"].is_string() => yaml_serde::from_str(helm["values"].as_str().unwrap())
                .unwrap_or_else(|e| panic!("{path}: the values string of an Application does not parse: {e}")),
            Some("HelmRelease") if object["spec"]["values"].is_mapping() => object["spec"]["values"].clone(),
            _ => continue,
        };
        out.push((
            format!("{path} ({})", object["metadata"]["name"].as_str().unwrap_or_default()),
            inline,
        ));
    }
    out
}

/// A `prometheus.yml` held in a ConfigMap names rule files by where the ConfigMap is mounted,
/// which promtool cannot read here: the rules are checked on their own.
fn without_rule_files(config: &Value) -> Value {
    let mut config = config.clone();
    if let Some(map) = config.as_mapping_mut() {
        map.remove("rule_files");
    }
    config
}

/// Debian's promtool is built without Kubernetes service discovery and refuses
/// `kubernetes_sd_configs` outright. Each one is checked here for the fields Prometheus knows
/// (role among the Kubernetes roles, `namespaces.names` a list) and replaced by a static target,
/// so promtool still checks the rest of the job: its name unique, `relabel_configs`,
/// `metrics_path`, intervals.
fn kubernetes_sd_as_static(config: &Value, what: &str) -> Value {
    const ROLES: [&str; 6] = ["pod", "service", "endpoints", "endpointslice", "node", "ingress"];
    const KEYS: [&str; 7] = [
        "role",
        "namespaces",
        "selectors",
        "api_server",
        "kubeconfig_file",
        "attach_metadata",
        "follow_redirects",
    ];
    let mut config = config.clone();
    let jobs = config.get_mut("scrape_configs").and_then(Value::as_sequence_mut);
    for job in jobs.into_iter().flatten() {
        let Some(map) = job.as_mapping_mut() else { continue };
        let Some(sd) = map.remove("kubernetes_sd_configs") else {
            continue;
        };
        for entry in sd.as_sequence().expect("kubernetes_sd_configs is a list") {
            let entry = entry.as_mapping().expect("a kubernetes_sd_configs entry is a mapping");
            for key in entry.keys() {
                assert!(
                    KEYS.contains(&key.as_str().unwrap_or_default()),
                    "{what}: kubernetes_sd_configs has an unknown field {key:?}"
                );
            }
            let role = entry.get("role").and_then(Value::as_str).unwrap_or_default();
            assert!(ROLES.contains(&role), "{what}: kubernetes_sd_configs role {role:?}");
            if let Some(namespaces) = entry.get("namespaces") {
                assert!(
                    namespaces["names"]
                        .as_sequence()
                        .is_some_and(|n| n.iter().all(Value::is_string)),
                    "{what}: namespaces.names is no list of names"
                );
            }
        }
        map.insert(
            "static_configs".into(),
            yaml_serde::from_str("[{targets: ['kubernetes-sd-checked-apart:80']}]").unwrap(),
        );
    }
    config
}

/// `promtool check rules|config` of `value` written as a file.
fn promtool_check(what_kind: &str, value: &Value, what: &str) {
    let value = &if what_kind == "config" {
        kubernetes_sd_as_static(value, what)
    } else {
        value.clone()
    };
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), yaml_serde::to_string(value).unwrap()).unwrap();
    let out = Command::new("promtool")
        .args(["check", what_kind])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what}: promtool check {what_kind} rejects:\n{}{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        yaml_serde::to_string(value).unwrap()
    );
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
        // The gateway's Service is named by Helm from the Application's release `pushgateway`.
        (
            "k8s-argocd",
            "pushgateway",
            true,
            &[("invoices", "invoices", "invoices")],
        ),
        // The gateway chart's own ServiceMonitor (`serviceMonitor.enabled`), honorLabels at the
        // chart's default (true).
        (
            "k8s-chart-servicemonitor",
            "prometheus-pushgateway",
            true,
            &[("payments", "payments", "payments")],
        ),
        (
            "k8s-cronjob",
            "pushgateway",
            true,
            &[("inventory-api", "inventory-api", "inventory-api")],
        ),
        ("k8s-flux", "pushgateway", true, &[("shipping", "shipping", "shipping")]),
        ("k8s-helm", "pushgateway", true, &[("checkout", "checkout", "checkout")]),
        (
            "k8s-honor-false",
            "pushgateway",
            false,
            // `jobLabel: app.kubernetes.io/name`, which orders-sync's Service sets to `orders`.
            &[("orders-sync", "orders-sync", "orders")],
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
            "k8s-podmonitor",
            "monitoring/pushgateway",
            true,
            &[("ledger", "ledger", "payments/ledger")],
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
fn all_five_phases_apply_on_each_shape_and_roll_back_to_baseline() {
    let tools = Tools::find();
    let kubectl = tools.kubectl;
    assert_eq!(
        kube_stacks().len(),
        10,
        "a new Kubernetes stack goes through the phases here too"
    );
    for name in kube_stacks() {
        let name = name.as_str();
        let p = pullover().stack(name);
        let original = tree(&p.path());
        check_manifests(&p.path(), &format!("{name} as written"), tools);
        // The workloads that push: their code is not in the stack, so `remove` keeps their push
        // settings (and says so) rather than risk an app that no longer starts.
        let pushers: Vec<Value> = objects(&p.path())
            .into_iter()
            .map(|(_, o)| o)
            .filter(|o| matches!(o["kind"].as_str(), Some("Deployment" | "StatefulSet" | "DaemonSet")))
            .filter(|o| {
                let images = o["spec"]["template"]["spec"]["containers"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["image"].as_str());
                let gateway = images
                    .into_iter()
                    .any(|i| i.rsplit('/').next().unwrap_or(i).starts_with("pushgateway:"));
                // A pusher names the gateway's address (a patch of the gateway names only it).
                let text = yaml_serde::to_string(o).unwrap();
                !gateway && (text.contains(":9091") || text.contains(".svc"))
            })
            .collect();
        assert!(!pushers.is_empty(), "{name}: no pusher found by the test");
        for phase in ["scrape", "dual-run", "dashboards", "remove"] {
            let what = format!("{name} {phase}");
            let run = p.run(["apply", phase, "--yes"]);
            assert_eq!(run.code, Some(0), "{what}: {}{}", run.stdout, run.stderr);
            if phase == "remove" {
                assert!(
                    run.stdout.contains("todo [env-var-kept]")
                        || run.stdout.contains("todo [command-points-at-gateway]"),
                    "{what}: the kept push settings are not reported:\n{}",
                    run.stdout
                );
            }
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
            // (billing's own push setting stays, its code being elsewhere.)
            let without_setting = out.replace("value: pushgateway.monitoring.svc.cluster.local:9091", "");
            assert!(
                !without_setting.contains("pushgateway"),
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
        let now = objects(&p.path());
        for pusher in &pushers {
            let same = now
                .iter()
                .find(|(_, o)| o["kind"] == pusher["kind"] && o["metadata"]["name"] == pusher["metadata"]["name"]);
            assert_eq!(
                same.map(|(_, o)| o),
                Some(pusher),
                "{name}: a pusher's workload changed"
            );
        }
        if name != "k8s-cronjob" {
            // Nothing left but the pushers' own settings routes to the gateway or names it: no
            // NetworkPolicy or Ingress route, no job. (Dashboards and rules keep their
            // `push_time_seconds` panels: reported, never rewritten.)
            let kept = |o: &Value| {
                o["kind"] == "PrometheusRule"
                    || !o["metadata"]["labels"]["grafana_dashboard"].is_null()
                    || pushers.contains(o)
            };
            for (file, object) in objects(&p.path()).into_iter().filter(|(_, o)| !kept(o)) {
                let text = yaml_serde::to_string(&object).unwrap();
                assert!(
                    !text.to_lowercase().contains("pushgateway") && !text.contains("PUSH_"),
                    "{name}: {file} still names the gateway:\n{text}"
                );
            }
        }
        if name == "k8s-podmonitor" {
            let ledger = p.read("manifests/ledger.yaml");
            assert!(
                ledger.contains("name: LEDGER_DB"),
                "a setting of the app's own went:\n{ledger}"
            );
        }
        if name == "k8s-raw" {
            let ingress = p.read("manifests/ingress.yaml");
            assert!(ingress.contains("host: grafana.shop.example.com"), "{ingress}");
            assert!(
                ingress.contains("        - grafana.shop.example.com\n      secretName"),
                "{ingress}"
            );
            let network = p.read("manifests/network.yaml");
            assert!(network.contains("name: metrics-api-egress"), "{network}");
            assert!(network.contains("k8s-app: kube-dns"), "{network}");
        }
        if name == "k8s-helm" || name == "k8s-chart-servicemonitor" {
            assert!(
                !p.file("values/prometheus-pushgateway.yaml").exists(),
                "the pushgateway chart's values stay"
            );
        }
        if name == "k8s-chart-servicemonitor" {
            // The app's Service gained the named port its new ServiceMonitor scrapes.
            let app = p.read("apps/payments.yaml");
            assert!(
                app.contains("    - name: metrics\n      port: 9400\n      targetPort: metrics\n"),
                "{app}"
            );
            assert!(p.file("apps/payments-servicemonitor.yaml").is_file());
        }
        // No scrape job of the gateway is left, and the apps' own are there.
        let configs: String = ["values/kube-prometheus-stack.yaml", "prometheus/server-configmap.yaml"]
            .iter()
            .filter(|f| p.file(f).exists())
            .map(|f| p.read(f))
            .collect();
        assert!(!configs.contains("pushgateway.monitoring.svc"), "{name}: {configs}");
        assert!(
            !configs.contains("job_name: prometheus-pushgateway"),
            "{name}: {configs}"
        );
        assert!(!configs.contains("pullover-dual-run"), "{name}: {configs}");
        if name == "k8s-helm" || name == "k8s-plain-prometheus" {
            assert!(
                configs.contains("regex: checkout") || configs.contains("regex: \"reports\""),
                "{name}: {configs}"
            );
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

/// The queries of the promql rewrite table (`src/promql/tests/cases/`, one file per topic).
fn table_queries() -> Vec<String> {
    let folder = crate::support::repo_root().join("src/promql/tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let source: String = files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
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

#[test]
fn helm_values_and_a_server_configmap_get_each_apps_job_next_to_the_gateways() {
    for name in ["k8s-helm", "k8s-plain-prometheus"] {
        let p = pullover().stack(name);
        let scrape = p.run(["plan", "scrape"]);
        scrape.success();
        insta::assert_snapshot!(format!("{name}_scrape"), p.clean(&scrape.stdout));
        p.run(["apply", "scrape", "--yes"]).success();
        let dual_run = p.run(["plan", "dual-run"]);
        dual_run.success();
        insta::assert_snapshot!(format!("{name}_dual_run"), p.clean(&dual_run.stdout));
    }
}

#[test]
fn the_gateway_charts_own_servicemonitor_is_its_scrape_path_and_lends_its_labels() {
    let p = pullover().stack("k8s-chart-servicemonitor");
    let scrape = p.run(["plan", "scrape"]);
    scrape.success();
    // The new ServiceMonitor carries the chart's `additionalLabels`, not the chart's own labels.
    insta::assert_snapshot!("k8s_chart_servicemonitor_scrape", p.clean(&scrape.stdout));
    p.run(["apply", "scrape", "--yes"]).success();
    let dual_run = p.run(["plan", "dual-run"]);
    dual_run.success();
    // Next to the sidecar dashboards (a values folder is not applied), in the gateway's namespace.
    insta::assert_snapshot!("k8s_chart_servicemonitor_dual_run", p.clean(&dual_run.stdout));

    // `honorLabels: false` written in the values: pushed series carry exported_job.
    let q = pullover().stack("k8s-chart-servicemonitor");
    let values = q.read("values/prometheus-pushgateway.yaml");
    q.write(
        "values/prometheus-pushgateway.yaml",
        &values.replace("  interval: 30s\n", "  interval: 30s\n  honorLabels: false\n"),
    );
    let run = q.run(["--format", "json", "analyze"]);
    run.success();
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["gateway"]["honor_labels"], false);
    q.run(["apply", "scrape", "--yes"]).success();
    let dual_run = q.run(["plan", "dual-run"]);
    dual_run.success();
    assert!(
        dual_run
            .stdout
            .contains(r#"count({job=\"prometheus-pushgateway\", exported_job=\"payments\"})"#),
        "{}",
        dual_run.stdout
    );

    // Disabled (the chart's default): nothing in the stack scrapes the gateway.
    let r = pullover().stack("k8s-chart-servicemonitor");
    r.write(
        "values/prometheus-pushgateway.yaml",
        &values.replace(
            "  enabled: true\n  additionalLabels",
            "  enabled: false\n  additionalLabels",
        ),
    );
    let refused = r.run(["plan", "scrape"]);
    refused.code(1);
    assert!(
        refused
            .stderr
            .contains("nothing in the stack is seen scraping the gateway"),
        "{}",
        refused.stderr
    );
}

#[test]
fn the_prometheus_charts_pushgateway_subchart_names_the_gateway_after_its_release() {
    let p = pullover().stack("k8s-helm");
    // The gateway comes with the prometheus chart (release `prometheus`, installed by Argo CD),
    // not from a chart of its own: the subchart's Service is `prometheus-prometheus-pushgateway`.
    std::fs::remove_file(p.file("values/prometheus-pushgateway.yaml")).unwrap();
    p.write(
        "values/prometheus-app.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: prometheus\n  namespace: argocd\nspec:\n  project: monitoring\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: monitoring\n  source:\n    repoURL: https://prometheus-community.github.io/helm-charts\n    chart: prometheus\n    targetRevision: 25.8.0\n    helm:\n      valuesObject:\n        alertmanager:\n          enabled: false\n        # prometheus-pushgateway: enabled by the chart's default\n",
    );
    for file in ["apps/checkout.yaml", "values/kube-prometheus-stack.yaml"] {
        let text = p.read(file);
        assert!(text.contains("prometheus-pushgateway.monitoring.svc"), "{file}");
        p.write(
            file,
            &text.replace(
                "prometheus-pushgateway.monitoring.svc",
                "prometheus-prometheus-pushgateway.monitoring.svc",
            ),
        );
    }
    let run = p.run(["--format", "json", "analyze"]);
    run.success();
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        report["gateway"]["service"], "prometheus-prometheus-pushgateway",
        "{}",
        run.stdout
    );
    assert_eq!(report["apps"][0]["service"], "checkout", "{}", run.stdout);
    p.run(["apply", "scrape", "--yes"]).success();

    // `fullnameOverride` in the subchart's values names it; a disabled subchart is no gateway.
    let values = p.read("values/prometheus-app.yaml");
    p.write(
        "values/prometheus-app.yaml",
        &values.replace(
            "        # prometheus-pushgateway: enabled by the chart's default\n",
            "        prometheus-pushgateway:\n          fullnameOverride: gateway\n",
        ),
    );
    let run = p.run(["--format", "json", "analyze"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["gateway"]["service"], "gateway", "{}", run.stdout);
    p.write(
        "values/prometheus-app.yaml",
        &values.replace(
            "        # prometheus-pushgateway: enabled by the chart's default\n",
            "        prometheus-pushgateway:\n          enabled: false\n",
        ),
    );
    let run = p.run(["--format", "json", "analyze"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(report["gateway"].is_null(), "{}", run.stdout);
}

#[test]
fn additional_scrape_configs_written_as_a_string_are_edited_inside_the_block() {
    let p = pullover().stack("k8s-helm");
    // The same jobs as the user often writes them: one YAML string, as the chart passes it on.
    let values = "# kube-prometheus-stack values\nprometheus:\n  prometheusSpec:\n    additionalScrapeConfigs: |\n      # the gateway\n      - job_name: pushgateway\n        honor_labels: true\n        static_configs:\n          - targets: [\"prometheus-pushgateway.monitoring.svc:9091\"]\n    retention: 15d\n";
    p.write("values/kube-prometheus-stack.yaml", values);
    let original = tree(&p.path());
    for phase in ["scrape", "dual-run", "dashboards"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    let after = p.read("values/kube-prometheus-stack.yaml");
    // Every line of the file is still there, in order; the new ones are inside the block.
    let mut old_lines = values.lines().peekable();
    for line in after.lines() {
        if old_lines.peek() == Some(&line) {
            old_lines.next();
        }
    }
    assert_eq!(old_lines.next(), None, "a line of the values changed:\n{after}");
    let doc: Value = yaml_serde::from_str(&after).unwrap();
    let text = doc["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"]
        .as_str()
        .expect("still a string");
    let jobs: Vec<Value> = yaml_serde::from_str(text).unwrap();
    let names: Vec<&str> = jobs.iter().filter_map(|j| j["job_name"].as_str()).collect();
    assert_eq!(names, ["pushgateway", "checkout"]);
    assert!(after.contains("\n      - job_name: checkout\n"), "{after}");
    check_manifests(&p.path(), "string-form values", Tools::find());
    p.run(["apply", "remove", "--yes"]).success();
    let removed: Value = yaml_serde::from_str(&p.read("values/kube-prometheus-stack.yaml")).unwrap();
    let jobs: Vec<Value> = yaml_serde::from_str(
        removed["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["job_name"].as_str(), Some("checkout"));
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    let changed: Vec<String> = differing(&original, &tree(&p.path()))
        .into_iter()
        .filter(|path| !path.starts_with(".pullover"))
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
}

#[test]
fn a_job_label_on_the_gateways_servicemonitor_names_the_new_job_and_the_rewrite_follows_it() {
    let p = pullover().stack("k8s-honor-false");
    p.run(["apply", "scrape", "--yes"]).success();
    let monitor = p.read("orders-sync-servicemonitor.yaml");
    assert!(monitor.contains("  jobLabel: app.kubernetes.io/name\n"), "{monitor}");
    assert!(monitor.contains("get job=\"orders\""), "{monitor}");
    p.run(["apply", "dual-run", "--yes"]).success();
    let dual_run = p.read("pullover-dual-run.yaml");
    assert!(
        dual_run.contains(r#"job=\"orders\", namespace=\"orders\", service=\"orders-sync\""#),
        "{dual_run}"
    );
    p.run(["apply", "dashboards", "--yes"]).success();
    let rules = p.read("all.yaml");
    assert!(
        rules.contains(r#"sum by (job) (orders_backlog{job="orders"}) > 1000"#),
        "{rules}"
    );
}

#[test]
fn where_the_cluster_scrapes_by_podmonitor_each_app_gets_one_and_the_job_is_namespace_slash_name() {
    let p = pullover().stack("k8s-podmonitor");
    let analyze = p.run(["analyze"]);
    analyze.success();
    assert!(
        analyze.stdout.contains("`scrape` adds a PodMonitor for it"),
        "{}",
        analyze.stdout
    );
    p.run(["apply", "scrape", "--yes"]).success();
    let monitor = p.read("manifests/ledger-podmonitor.yaml");
    let value: Value = yaml_serde::from_str(&monitor).unwrap();
    assert_eq!(value["kind"].as_str(), Some("PodMonitor"));
    assert_eq!(value["metadata"]["labels"]["prometheus"].as_str(), Some("main"));
    assert_eq!(
        value["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"].as_str(),
        Some("ledger")
    );
    assert_eq!(
        value["spec"]["podMetricsEndpoints"][0]["port"].as_str(),
        Some("metrics")
    );
    assert!(
        p.read("manifests/kustomization.yaml")
            .contains("- ledger-podmonitor.yaml")
    );
    p.run(["apply", "dual-run", "--yes"]).success();
    let dual_run = p.read("manifests/pullover-dual-run.yaml");
    assert!(
        dual_run.contains(r#"job=\"ledger\", pod=~\"pushgateway-.*\""#)
            && dual_run.contains(r#"job=\"payments/ledger\", namespace=\"payments\", pod=~\"ledger-.*\""#),
        "{dual_run}"
    );
    p.run(["apply", "dashboards", "--yes"]).success();
    let rules = p.read("manifests/monitoring.yaml");
    assert!(
        rules.contains(r#"ledger_postings_failed_total{job="payments/ledger"}"#),
        "{rules}"
    );
    assert!(
        rules.contains(r#"ledger_postings_total{job=\"payments/ledger\"}"#),
        "{rules}"
    );
}

#[test]
fn a_scrape_config_held_in_a_quoted_string_is_refused_with_its_place_and_nothing_is_written() {
    let p = pullover().stack("k8s-helm");
    p.write(
        "values/kube-prometheus-stack.yaml",
        "prometheus:\n  prometheusSpec:\n    additionalScrapeConfigs: \"- job_name: pushgateway\\n  honor_labels: true\\n  static_configs:\\n    - targets: ['prometheus-pushgateway.monitoring.svc:9091']\\n\"\n",
    );
    let before = p.hashes();
    let run = p.run(["apply", "scrape", "--yes"]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("values/kube-prometheus-stack.yaml"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("literal block"), "{}", run.stderr);
    assert!(!run.stdout.contains("No changes"));
    assert_eq!(p.hashes(), before, "a refused phase wrote something");
}

#[test]
fn a_gateway_nothing_is_seen_scraping_refuses_scrape_and_says_why() {
    let p = pullover().stack("k8s-raw");
    // The gateway's ServiceMonitor lives elsewhere (another repository, say).
    let manifests = p.read("manifests/pushgateway.yaml");
    let without_monitor: Vec<&str> = manifests
        .split("\n---\n")
        .filter(|doc| !doc.contains("kind: ServiceMonitor"))
        .collect();
    p.write("manifests/pushgateway.yaml", &without_monitor.join("\n---\n"));
    let before = p.hashes();
    for phase in ["scrape", "dual-run"] {
        let run = p.run(["plan", phase]);
        assert_eq!(run.code, Some(1), "{phase}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("cannot yet be planned on this Kubernetes stack"),
            "{phase}: {}",
            run.stderr
        );
        assert!(!run.stdout.contains("No changes"));
    }
    assert_eq!(p.hashes(), before, "a refused phase wrote something");
}

#[test]
fn remove_turns_the_pushgateway_subchart_of_the_prometheus_chart_off() {
    let p = pullover().stack("k8s-helm");
    // The prometheus chart installed only for its Pushgateway subchart, next to the release.
    let values = "# helm upgrade --install gateway prometheus-community/prometheus -f values/prometheus.yaml\nserver:\n  enabled: false\nalertmanager:\n  enabled: false\nprometheus-pushgateway:\n  enabled: true   # checkout pushes here\n";
    p.write("values/prometheus.yaml", values);
    for phase in ["scrape", "dual-run", "dashboards", "remove"] {
        let run = p.run(["apply", phase, "--yes"]);
        assert_eq!(run.code, Some(0), "{phase}: {}{}", run.stdout, run.stderr);
    }
    assert_eq!(
        p.read("values/prometheus.yaml"),
        values.replace("enabled: true   # checkout", "enabled: false   # checkout"),
        "only the subchart's flag changes"
    );
}

#[test]
fn argo_cd_and_flux_inline_values_are_edited_in_place_and_the_gateways_release_goes() {
    // Argo CD: kube-prometheus-stack's values as one `helm.values: |` string.
    let p = pullover().stack("k8s-argocd");
    let analyze = p.run(["--format", "json", "analyze"]);
    analyze.success();
    let report: serde_json::Value = serde_json::from_str(&analyze.stdout).unwrap();
    assert_eq!(
        report["gateway"]["address"], "pushgateway-prometheus-pushgateway.monitoring.svc:9091",
        "Helm names the chart's Service after the release"
    );
    let before = p.read("apps/monitoring.yaml");
    p.run(["apply", "scrape", "--yes"]).success();
    let after = p.read("apps/monitoring.yaml");
    // Every line of the file is still there, in order; the new ones are inside the block, at its
    // indentation, and its empty line stays empty.
    let mut old_lines = before.lines().peekable();
    for line in after.lines() {
        if old_lines.peek() == Some(&line) {
            old_lines.next();
        }
    }
    assert_eq!(old_lines.next(), None, "a line of the Application changed:\n{after}");
    assert!(after.contains("\n            - job_name: invoices\n"), "{after}");
    assert!(!after.lines().any(|l| !l.is_empty() && l.trim().is_empty()), "{after}");
    let stream = YamlStream::parse(&after).unwrap();
    let values: Value = yaml_serde::from_str(
        stream.docs()[1].doc.value()["spec"]["source"]["helm"]["values"]
            .as_str()
            .expect("still a string"),
    )
    .unwrap();
    let jobs: Vec<&str> = values["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|j| j["job_name"].as_str())
        .collect();
    assert_eq!(jobs, ["pushgateway", "invoices"]);
    for phase in ["dual-run", "dashboards"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    let remove = p.run(["apply", "remove", "--yes"]);
    remove.success();
    assert!(
        remove
            .stdout
            .contains("[kube-gateway-release-removed] Application/pushgateway"),
        "{}",
        remove.stdout
    );
    let removed = p.read("apps/monitoring.yaml");
    assert!(
        removed.starts_with(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: kube-prometheus-stack"
        ),
        "the gateway's Application goes, and no `---` is left before the one now first:\n{removed}"
    );

    // Argo CD without the resources finalizer leaves the chart's objects running: a to-do.
    let p = pullover().stack("k8s-argocd");
    let without =
        p.read("apps/monitoring.yaml")
            .replacen("  finalizers:\n    - resources-finalizer.argocd.argoproj.io\n", "", 1);
    p.write("apps/monitoring.yaml", &without);
    for phase in ["scrape", "dual-run", "dashboards"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    let plan = p.run(["plan", "remove"]);
    plan.success();
    assert!(
        plan.stdout
            .contains("todo [kube-gateway-release-orphaned] Application/pushgateway"),
        "{}",
        plan.stdout
    );

    // Flux: `spec.values` objects; the gateway's HelmRelease is alone in its file.
    let p = pullover().stack("k8s-flux");
    for phase in ["scrape", "dual-run"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    let kustomization = p.read("kustomization.yaml");
    assert!(
        kustomization.contains("  - infrastructure/pullover-dual-run.yaml\n"),
        "the dual-run dashboard is deployed with the sidecar's:\n{kustomization}"
    );
    let monitoring: Value = yaml_serde::from_str(
        p.read("infrastructure/monitoring.yaml")
            .split("\n---\n")
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(
        monitoring["spec"]["values"]["additionalPrometheusRulesMap"]["pullover-dual-run"].is_mapping(),
        "the dual-run rules go into the release's values"
    );
    for phase in ["dashboards", "remove"] {
        p.run(["apply", phase, "--yes"]).success();
    }
    assert!(!p.file("infrastructure/pushgateway.yaml").exists());
    let kustomization = p.read("kustomization.yaml");
    assert!(!kustomization.contains("pushgateway"), "{kustomization}");
    assert!(!kustomization.contains("pullover-dual-run"), "{kustomization}");
}

#[test]
fn a_podmonitor_kept_apart_from_the_pods_gets_a_namespace_selector_and_an_unnamed_port_is_said() {
    let p = pullover().stack("k8s-podmonitor");
    // The cluster keeps its PodMonitors in a namespace of their own, selecting the pods' one;
    // ledger's metrics port has no name.
    let gateway = p.read("manifests/pushgateway.yaml").replace(
        "  name: pushgateway\n  namespace: monitoring\n  labels:\n    prometheus: main\n    app.kubernetes.io/name: pushgateway\nspec:\n",
        "  name: pushgateway\n  namespace: monitors\n  labels:\n    prometheus: main\n    app.kubernetes.io/name: pushgateway\nspec:\n  namespaceSelector:\n    matchNames: [monitoring]\n",
    );
    assert!(gateway.contains("namespace: monitors"), "the fixture changed");
    p.write("manifests/pushgateway.yaml", &gateway);
    let ledger = p
        .read("manifests/ledger.yaml")
        .replace("- {name: metrics, containerPort: 9400}", "- {containerPort: 9400}");
    p.write("manifests/ledger.yaml", &ledger);
    let run = p.run(["apply", "scrape", "--yes"]);
    run.success();
    assert!(
        run.stdout
            .contains("hazard [kube-podmonitor-port-number] Deployment/ledger"),
        "{}",
        run.stdout
    );
    let monitor: Value = yaml_serde::from_str(&p.read("manifests/ledger-podmonitor.yaml")).unwrap();
    assert_eq!(monitor["metadata"]["namespace"].as_str(), Some("monitors"));
    assert_eq!(
        monitor["spec"]["namespaceSelector"]["matchNames"][0].as_str(),
        Some("payments")
    );
    assert_eq!(
        monitor["spec"]["podMetricsEndpoints"][0]["portNumber"].as_u64(),
        Some(9400)
    );
    assert!(monitor["spec"]["podMetricsEndpoints"][0]["port"].is_null());
    check_manifests(&p.path(), "PodMonitor kept apart", Tools::find());
    // Its targets' job is `<the PodMonitor's namespace>/<its name>`.
    let analyze = p.run(["--format", "json", "analyze"]);
    let report: serde_json::Value = serde_json::from_str(&analyze.stdout).unwrap();
    assert_eq!(report["apps"][0]["scrape_job"], "monitors/ledger");
}

#[test]
fn a_field_the_operators_crd_does_not_know_is_refused_with_its_place_and_nothing_is_written() {
    let p = pullover().stack("k8s-raw");
    let manifests = p.read("manifests/pushgateway.yaml");
    assert!(manifests.contains("honorLabels: true"), "the fixture changed");
    p.write(
        "manifests/pushgateway.yaml",
        &manifests.replace("honorLabels: true", "honorLabel: true"),
    );
    let line = p
        .read("manifests/pushgateway.yaml")
        .lines()
        .position(|l| l.contains("honorLabel: true"))
        .unwrap()
        + 1;
    let before = p.hashes();
    for args in [&["analyze"][..], &["apply", "scrape", "--yes"][..]] {
        let run = p.run(args);
        assert_eq!(run.code, Some(1), "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!("manifests/pushgateway.yaml:{line}:")),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("did you mean `honorLabels`?"), "{}", run.stderr);
        assert!(!run.stdout.contains("No changes"));
    }
    assert_eq!(p.hashes(), before, "a refused run wrote something");
}

/// The fields `pullover::stack::kube::schema` knows at each level are those of the operator's
/// CRDs, as the models `scripts/test` installs were compiled from them (the class members of
/// each type's `.d.ts`).
#[test]
fn the_known_crd_fields_are_the_operators() {
    let Some(models) = operator_models() else { return };
    let packages = models.join("node_modules/@kubernetes-models");
    let member = regex::Regex::new(r#"(?m)^\s+"([A-Za-z0-9_]+)"\??:"#).unwrap();
    for level in pullover::stack::kube::schema::LEVELS {
        let file = match level.model {
            "ObjectMeta" | "LabelSelector" => packages.join(format!("apimachinery/apis/meta/v1/{}.d.ts", level.model)),
            model => packages.join(format!("prometheus-operator/monitoring.coreos.com/v1/{model}.d.ts")),
        };
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let class = &text[text.find("export declare class").unwrap_or(0)..];
        let mut theirs: Vec<&str> = member
            .captures_iter(class)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        theirs.sort_unstable();
        theirs.dedup();
        let mut ours = level.fields.to_vec();
        ours.sort_unstable();
        assert_eq!(ours, theirs, "{}", level.model);
    }
}

/// The prometheus chart's own shapes: the gateway's job in `serverFiles."prometheus.yml"` and
/// in `extraScrapeConfigs` (a string); the app's job goes next to it, the dual-run rules into a
/// server file of their own named in `rule_files`, and everything goes back on rollback.
#[test]
fn the_prometheus_charts_server_files_and_extra_scrape_configs_hold_the_gateways_job() {
    let server_files = "# helm upgrade --install prometheus prometheus-community/prometheus -f values/prometheus.yaml\nserver:\n  retention: 15d\nserverFiles:\n  prometheus.yml:\n    rule_files:\n      - /etc/config/recording_rules.yml\n      - /etc/config/alerting_rules.yml\n    scrape_configs:\n      - job_name: prometheus\n        static_configs:\n          - targets: [localhost:9090]\n      # the gateway, installed as a release of its own\n      - job_name: pushgateway\n        honor_labels: true\n        static_configs:\n          - targets: [\"prometheus-pushgateway.monitoring.svc:9091\"]\n";
    let extra = "server:\n  retention: 15d\n# appended to the chart's own jobs\nextraScrapeConfigs: |\n  - job_name: pushgateway\n    honor_labels: true\n    static_configs:\n      - targets:\n          - prometheus-pushgateway.monitoring.svc:9091\n";
    for (shape, values) in [("serverFiles", server_files), ("extraScrapeConfigs", extra)] {
        let p = pullover().stack("k8s-helm");
        std::fs::remove_file(p.file("values/kube-prometheus-stack.yaml")).unwrap();
        p.write("values/prometheus.yaml", values);
        let original = tree(&p.path());
        let analyze = p.run(["analyze"]);
        analyze.success();
        assert!(
            analyze
                .stdout
                .contains("scraped by job `pushgateway` with honor_labels: true"),
            "{shape}: {}",
            analyze.stdout
        );
        for phase in ["scrape", "dual-run", "dashboards"] {
            let run = p.run(["apply", phase, "--yes"]);
            assert_eq!(run.code, Some(0), "{shape} {phase}: {}{}", run.stdout, run.stderr);
            check_manifests(
                &p.path(),
                &format!("{shape} {phase}"),
                Tools {
                    schemas: false,
                    ..Tools::find()
                },
            );
        }
        let after: Value = yaml_serde::from_str(&p.read("values/prometheus.yaml")).unwrap();
        let jobs: Vec<Value> = match shape {
            "serverFiles" => after["serverFiles"]["prometheus.yml"]["scrape_configs"]
                .as_sequence()
                .unwrap()
                .clone(),
            _ => yaml_serde::from_str(after["extraScrapeConfigs"].as_str().expect("still a string")).unwrap(),
        };
        let names: Vec<&str> = jobs.iter().filter_map(|j| j["job_name"].as_str()).collect();
        assert!(names.ends_with(&["pushgateway", "checkout"]), "{shape}: {names:?}");
        assert!(
            after["serverFiles"]["pullover-dual-run.yml"]["groups"].is_sequence(),
            "{shape}: the dual-run rules are a server file"
        );
        let rule_files: Vec<String> = after["serverFiles"]["prometheus.yml"]["rule_files"]
            .as_sequence()
            .expect("rule_files")
            .iter()
            .filter_map(|f| f.as_str().map(str::to_string))
            .collect();
        assert!(
            rule_files.contains(&"/etc/config/pullover-dual-run.yml".to_string()),
            "{shape}: {rule_files:?}"
        );
        let run = p.run(["apply", "remove", "--yes"]);
        assert_eq!(run.code, Some(0), "{shape} remove: {}{}", run.stdout, run.stderr);
        let removed = p.read("values/prometheus.yaml");
        assert!(!removed.contains("pushgateway.monitoring.svc"), "{shape}: {removed}");
        assert!(!removed.contains("pullover-dual-run"), "{shape}: {removed}");
        assert!(removed.contains("job_name: checkout"), "{shape}: {removed}");
        if shape == "extraScrapeConfigs" {
            assert_eq!(
                removed.lines().take(4).collect::<Vec<_>>(),
                values.lines().take(4).collect::<Vec<_>>()
            );
            assert!(
                !removed.contains("serverFiles"),
                "the server files dual-run added stay:\n{removed}"
            );
        }
        p.run(["rollback", "--to", "baseline", "--yes"]).success();
        let changed: Vec<String> = differing(&original, &tree(&p.path()))
            .into_iter()
            .filter(|path| !path.starts_with(".pullover"))
            .collect();
        assert!(changed.is_empty(), "{shape}: {changed:?}");
    }
}
