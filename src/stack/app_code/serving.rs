//! Whether an app's code already serves its metrics for scraping, which
//! client library it pushes with, and the counter-state hazards its calls
//! show. Grep-level and pure, like the push-call reader beside it.

use crate::changeset::finding_id::FindingId;
use std::sync::LazyLock;

use regex::Regex;

/// The Prometheus client library a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// Node's prom-client.
    PromClient,
    /// Python's prometheus_client.
    PythonClient,
    /// Go's client_golang.
    ClientGolang,
    /// Java's simpleclient (`io.prometheus.client`) or its successor (`io.prometheus.metrics`).
    JavaSimpleclient,
    /// Spring Boot's Micrometer registry (`management.prometheus.metrics.export.pushgateway`).
    Micrometer,
}

impl Client {
    pub fn name(self) -> &'static str {
        match self {
            Client::PromClient => "prom-client (Node)",
            Client::PythonClient => "prometheus_client (Python)",
            Client::ClientGolang => "client_golang (Go)",
            Client::JavaSimpleclient => "simpleclient (Java)",
            Client::Micrometer => "Micrometer (Spring Boot)",
        }
    }
}

static PROM_CLIENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"require\(\s*['"]prom-client['"]\s*\)|from\s+['"]prom-client['"]"#).expect("static regex")
});
static PYTHON_CLIENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(?:from\s+prometheus_client\b|import\s+prometheus_client\b)").expect("static regex")
});
static GO_CLIENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""github\.com/prometheus/client_golang/"#).expect("static regex"));
static JAVA_CLIENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bimport\s+io\.prometheus\.(?:client|metrics)\.").expect("static regex"));
static MICROMETER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"prometheus\.metrics\.export\.pushgateway|metrics\.export\.prometheus\.pushgateway")
        .expect("static regex")
});

/// The client library `text` (at `path`) uses, by its imports.
pub fn client_of(path: &str, text: &str) -> Option<Client> {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "js" | "mjs" | "cjs" | "ts" | "mts" => PROM_CLIENT.is_match(text).then_some(Client::PromClient),
        "py" => PYTHON_CLIENT.is_match(text).then_some(Client::PythonClient),
        "go" => GO_CLIENT.is_match(text).then_some(Client::ClientGolang),
        "java" | "kt" | "scala" => JAVA_CLIENT.is_match(text).then_some(Client::JavaSimpleclient),
        "properties" | "yml" | "yaml" => MICROMETER.is_match(text).then_some(Client::Micrometer),
        _ => None,
    }
}

/// How the code serves metrics, where it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    /// Byte offset of the evidence.
    pub offset: usize,
    /// What it is, for a person: "a `/metrics` route", "start_http_server".
    pub how: &'static str,
}

static SERVES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?P<route>['"`]/metrics['"`])"#,
        r"|\b(?P<pyserver>start_http_server|start_wsgi_server)\s*\(",
        r"|\b(?P<pyapp>make_wsgi_app|make_asgi_app)\s*\(",
        r"|\b(?P<promhttp>promhttp\.Handler(?:For)?)\s*\(",
        r"|\b(?P<java>new\s+HTTPServer\s*[(.]|HTTPServer\.builder\s*\()",
        r"|(?P<actuator>exposure\.include\s*[=:][^\n]*prometheus)",
    ))
    .expect("static regex")
});

/// Where `text` serves metrics for scraping, if it visibly does.
pub fn serves_metrics(text: &str) -> Option<Serving> {
    let caps = SERVES.captures(text)?;
    let (name, m) = ["route", "pyserver", "pyapp", "promhttp", "java", "actuator"]
        .iter()
        .find_map(|n| caps.name(n).map(|m| (*n, m)))?;
    let how = match name {
        "route" => "a `/metrics` route",
        "pyserver" => "prometheus_client's own HTTP server",
        "pyapp" => "prometheus_client's WSGI/ASGI app",
        "promhttp" => "a promhttp handler",
        "java" => "simpleclient's HTTPServer",
        _ => "the actuator's prometheus endpoint",
    };
    Some(Serving { offset: m.start(), how })
}

/// A way the pushed values may differ from what a scrape of the same process reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterHazard {
    /// Stable kebab-case id for the finding.
    pub id: FindingId,
    pub offset: usize,
    pub message: &'static str,
}

static HAZARDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?P<reset>\.(?:resetMetrics|reset)\s*\(\s*\))",
        r"|(?P<registry>\bnew\s+(?:\w+\.)?Registry\s*\(|\bCollectorRegistry\s*\(\s*\)|prometheus\.NewRegistry\s*\(\s*\))",
        r"|(?P<delta>\.set\s*\(\s*\w*(?:delta|Delta|since|Since|interval|Interval|window|Window)\w*)",
    ))
    .expect("static regex")
});

/// Counter-state hazards in a file that pushes: counters reset around a push, a registry
/// built inside the function that pushes (a fresh one each time), gauges set to per-interval
/// deltas. Only what the calls show; the dual-run comparison shows the same live.
pub fn counter_hazards(text: &str) -> Vec<CounterHazard> {
    let mut hazards = Vec::new();
    for caps in HAZARDS.captures_iter(text) {
        if let Some(m) = caps.name("reset") {
            hazards.push(CounterHazard {
                id: FindingId::CountersResetAroundPush,
                offset: m.start(),
                message: "the code resets its metrics: pushed counters restart from zero while a scrape reads them as resets, and rate() over the scraped series will not match what was pushed",
            });
        } else if let Some(m) = caps.name("registry") {
            if inside_function(text, m.start()) && !made_once(text, m.start()) {
                hazards.push(CounterHazard {
                    id: FindingId::RegistryPerPush,
                    offset: m.start(),
                    message: "a registry is created inside a function: if it runs for every push, each push starts its counters from zero, which a scrape of one long-lived registry does not",
                });
            }
        } else if let Some(m) = caps.name("delta") {
            hazards.push(CounterHazard {
                id: FindingId::GaugeSetToDelta,
                offset: m.start(),
                message: "a gauge is set to what looks like a per-interval delta: a scrape at another moment reads another interval's value",
            });
        }
    }
    hazards
}

/// Whether the registry made at `offset` is made once, though indented: in Go's `func main()`,
/// or as a Java `static` field.
fn made_once(text: &str, offset: usize) -> bool {
    static FUNC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?m)^func\b.*").expect("static regex"));
    static STATIC_FIELD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s*(?:(?:private|public|protected|final)\s+)*static\b").expect("static regex"));
    let line_start = text.get(..offset).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let in_go_main = FUNC
        .find_iter(text.get(..offset).unwrap_or(""))
        .last()
        .is_some_and(|f| f.as_str().starts_with("func main("));
    in_go_main || STATIC_FIELD.is_match(text.get(line_start..offset).unwrap_or(""))
}

/// Whether `offset` sits in an indented line (inside a function or block), as
/// opposed to module level.
fn inside_function(text: &str, offset: usize) -> bool {
    let line_start = text.get(..offset).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    text.get(line_start..offset)
        .is_some_and(|prefix| prefix.starts_with([' ', '\t']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metrics_route_or_server_counts_as_serving_and_the_push_url_does_not() {
        assert!(serves_metrics("if (route === '/metrics') {").is_some());
        assert!(serves_metrics("start_http_server(9100, registry=registry)").is_some());
        assert!(serves_metrics("http.Handle(\"/metrics\", promhttp.HandlerFor(r, o))").is_some());
        assert!(serves_metrics("management.endpoints.web.exposure.include=health,prometheus\n").is_some());
        assert_eq!(serves_metrics("fetch(`${GW}/metrics/job/api`)"), None);
        assert_eq!(serves_metrics("// counters are served on GET /metrics\n"), None);
    }

    #[test]
    fn the_client_comes_from_the_imports() {
        assert_eq!(
            client_of("a/server.js", "const client = require('prom-client');"),
            Some(Client::PromClient)
        );
        assert_eq!(
            client_of("a/w.py", "from prometheus_client import Counter\n"),
            Some(Client::PythonClient)
        );
        assert_eq!(client_of("a/w.py", "import requests\n"), None);
        assert_eq!(
            client_of(
                "main.go",
                "import \"github.com/prometheus/client_golang/prometheus/push\""
            ),
            Some(Client::ClientGolang)
        );
    }

    #[test]
    fn counter_hazards_are_read_from_the_calls() {
        let js = "async function push() {\n  const registry = new client.Registry();\n  await gw.push({ jobName: 'a' });\n  registry.resetMetrics();\n}\n";
        let ids: Vec<&str> = counter_hazards(js).iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["registry-per-push", "counters-reset-around-push"]);
        // A registry made once at module level is the normal shape.
        assert!(counter_hazards("registry = CollectorRegistry()\n").is_empty());
        let java = "class A {\n    private static final CollectorRegistry R = new CollectorRegistry();\n}\n";
        assert!(counter_hazards(java).is_empty());
        // Go's main() runs once: its registry is the program's.
        let go = "func main() {\n\tregistry := prometheus.NewRegistry()\n}\n\nfunc push() {\n\tr := prometheus.NewRegistry()\n}\n";
        let offsets: Vec<usize> = counter_hazards(go).iter().map(|h| h.offset).collect();
        assert_eq!(offsets, [go.rfind("prometheus.NewRegistry").unwrap()]);
        let py = "    last_batch.set(rows_since_last_push)\n";
        assert_eq!(counter_hazards(py)[0].id, "gauge-set-to-delta");
    }
}
