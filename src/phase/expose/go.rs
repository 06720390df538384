//! client_golang (Go): promhttp's handler on `/metrics`, on the registry the push gathers
//! (`push.New(url, job).Gatherer(registry)`). A program that serves HTTP already gets
//! `http.Handle("/metrics", …)` (or `mux.Handle`) on the mux its `ListenAndServe` serves,
//! just before that call; one that serves nothing gets a goroutine listening on the app's
//! port (`METRICS_PORT` where the program reads its settings with `os`), just before the push
//! is set up in `main()`. The imports it lacks (`net/http`, `promhttp`) join the import block
//! in gofmt's order. A push of single collectors (`.Collector(c)`, no registry to serve), or a
//! registry out of reach where the handler goes, gets the snippet ([`Unplanned`]).

use std::sync::LazyLock;

use regex::Regex;

use super::Unplanned;
use super::style::{Style, indent_at, insert_all};
use crate::stack::app_code::{call_arguments, split_arguments};

const NET_HTTP: &str = "net/http";
const PROMHTTP: &str = "github.com/prometheus/client_golang/prometheus/promhttp";

static PUSH_NEW: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bpush\.New\s*\(").expect("static regex"));
static LISTEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?P<on>\w+)\.ListenAndServe(?:TLS)?\s*\(").expect("static regex"));
static MAIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^func\s+main\s*\(\s*\)\s*\{[ \t]*\r?\n").expect("static regex"));
static FUNC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?m)^func\b").expect("static regex"));
static IMPORT_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^import\s*\([ \t]*\r?\n").expect("static regex"));
static IMPORT_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^import\s+(?:(?P<alias>[\w.]+)\s+)?"(?P<path>[^"\n]+)"[ \t]*\r?$"#).expect("static regex")
});
static SPEC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(?P<indent>[ \t]*)(?:(?P<alias>[\w.]+)\s+)?"(?P<path>[^"\n]+)"[ \t]*(?://.*)?\r?$"#)
        .expect("static regex")
});

/// One import of the file: its path, the name the code uses, and where its line is.
#[derive(Debug, Clone)]
struct Import {
    path: String,
    name: String,
    /// Byte offsets of the spec's line (start, and just after its newline).
    line: (usize, usize),
    indent: String,
    /// Specs of one parenthesised block separated by a blank line are groups (gofmt sorts
    /// within a group).
    group: usize,
}

/// The file's imports, and where the parenthesised block closes (its `)` line), if it has one.
fn imports(text: &str) -> (Vec<Import>, Option<usize>) {
    let mut found = Vec::new();
    let mut close = None;
    if let Some(open) = IMPORT_BLOCK.find(text) {
        let mut at = open.end();
        let mut group = 0;
        while at < text.len() {
            let end = text
                .get(at..)
                .and_then(|t| t.find('\n'))
                .map_or(text.len(), |i| at + i + 1);
            let line = text.get(at..end).unwrap_or("");
            let trimmed = line.trim();
            if trimmed.starts_with(')') {
                close = Some(at);
                break;
            }
            if trimmed.is_empty() {
                group += 1;
            } else if let Some(caps) = SPEC.captures(line.trim_end_matches('\n')) {
                let path = caps.name("path").map_or("", |m| m.as_str()).to_string();
                found.push(Import {
                    name: package_name(caps.name("alias").map(|m| m.as_str()), &path),
                    path,
                    line: (at, end),
                    indent: caps.name("indent").map_or("", |m| m.as_str()).to_string(),
                    group,
                });
            }
            at = end;
        }
    }
    for caps in IMPORT_LINE.captures_iter(text) {
        let (Some(whole), Some(path)) = (caps.get(0), caps.name("path")) else {
            continue;
        };
        let end = text
            .get(whole.end()..)
            .and_then(|t| t.find('\n'))
            .map_or(text.len(), |i| whole.end() + i + 1);
        found.push(Import {
            name: package_name(caps.name("alias").map(|m| m.as_str()), path.as_str()),
            path: path.as_str().to_string(),
            line: (whole.start(), end),
            indent: String::new(),
            group: usize::MAX,
        });
    }
    (found, close)
}

/// The name a package is used by: its alias, else the last element of its path.
fn package_name(alias: Option<&str>, path: &str) -> String {
    alias
        .map(str::to_string)
        .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path).to_string())
}

/// Whether an import path is the standard library's (no dot in its first element).
fn is_std(path: &str) -> bool {
    !path.split('/').next().unwrap_or("").contains('.')
}

/// The name `path` is used by in the file, and the insertion that imports it (none where it
/// is imported already).
fn import(text: &str, path: &str, newline: &str) -> Result<(String, Option<(usize, String)>), Unplanned> {
    let (found, close) = imports(text);
    if let Some(import) = found.iter().find(|i| i.path == path) {
        return Ok((import.name.clone(), None));
    }
    let name = package_name(None, path);
    let in_block: Vec<&Import> = found.iter().filter(|i| i.group != usize::MAX).collect();
    if let Some(close) = close {
        // The group it belongs with: the standard library's, or the one sharing the most of its path.
        let shared = |i: &Import| {
            if is_std(path) {
                usize::from(is_std(&i.path))
            } else if is_std(&i.path) {
                0
            } else {
                i.path.chars().zip(path.chars()).take_while(|(a, b)| a == b).count() + 1
            }
        };
        let best = in_block.iter().map(|i| shared(i)).max().unwrap_or(0);
        let group: Vec<&&Import> = in_block.iter().filter(|i| best > 0 && shared(i) == best).collect();
        let Some(last) = group.last() else {
            // A group of its own at the end of the block.
            let indent = in_block.first().map_or("\t", |i| i.indent.as_str());
            let lead = if in_block.is_empty() { "" } else { newline };
            return Ok((name, Some((close, format!("{lead}{indent}\"{path}\"{newline}")))));
        };
        let group_no = last.group;
        let same: Vec<&&Import> = in_block.iter().filter(|i| i.group == group_no).collect();
        let at = same
            .iter()
            .find(|i| i.path.as_str() > path)
            .map_or(last.line.1, |i| i.line.0);
        return Ok((name, Some((at, format!("{}\"{path}\"{newline}", last.indent)))));
    }
    match found.last() {
        Some(last) => Ok((name, Some((last.line.1, format!("import \"{path}\"{newline}"))))),
        None => Err(Unplanned::new(
            "found no import of client_golang to add promhttp's import next to",
        )),
    }
}

/// What the push gathers: `.Gatherer(x)` on the `push.New(…)` chain.
fn gatherer(text: &str) -> Result<String, Unplanned> {
    let unreadable = || Unplanned::new("cannot read the `push.New(…)` call");
    let call = PUSH_NEW.find(text).ok_or_else(unreadable)?;
    let mut at = call.end() + call_arguments(text, call.end()).len() + 1;
    let mut collectors = false;
    // The chain: `.Name(args)` links, over lines.
    loop {
        let rest = text.get(at..).unwrap_or("");
        let link = rest.trim_start();
        let Some(after_dot) = link.strip_prefix('.') else { break };
        let after_dot = after_dot.trim_start();
        let name: String = after_dot
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let Some(open) = after_dot.get(name.len()..).and_then(|t| t.strip_prefix('(')) else {
            break;
        };
        let args_start = at + (rest.len() - open.len());
        let args = call_arguments(text, args_start);
        match name.as_str() {
            "Gatherer" => return Ok(args.trim().to_string()),
            "Collector" => collectors = true,
            _ => {}
        }
        at = args_start + args.len() + 1;
    }
    Err(if collectors {
        Unplanned::new("its push sends single collectors (`.Collector(c)`), not a registry a handler could serve")
    } else {
        Unplanned::new("found no `.Gatherer(registry)` on its `push.New(…)` call")
    })
}

/// Whether `name` (a gatherer's root identifier) is in reach at `at`: a package-level
/// variable, a package's (`prometheus.DefaultGatherer`), or declared in the function around
/// `at` before it (parameters included).
fn in_reach(text: &str, name: &str, qualified: bool, at: usize) -> bool {
    if qualified {
        return true;
    }
    let word = regex::escape(name);
    let package_level = Regex::new(&format!(
        r"(?m)^(?:var\s+{word}\b|[ \t]+{word}\s*(?:=|\s[\w.*\[\]]+\s*=))"
    ))
    .ok()
    .and_then(|re| re.find(text))
    .is_some_and(|m| outside_functions(text, m.start()));
    if package_level {
        return true;
    }
    let Some(func) = FUNC.find_iter(text.get(..at).unwrap_or("")).last() else {
        return false;
    };
    let scope = text.get(func.start()..at).unwrap_or("");
    Regex::new(&format!(
        r"\b{word}\s*:=|\bvar\s+{word}\b|\b{word}\s*,[^=\n]*:=|[(,]\s*{word}\s+[\w.*\[\]]"
    ))
    .ok()
    .is_some_and(|re| re.is_match(scope))
}

/// Whether `offset` is outside every function body (package level), by the last `func` and
/// the first line at column 0 closing it.
fn outside_functions(text: &str, offset: usize) -> bool {
    let before = text.get(..offset).unwrap_or("");
    match FUNC.find_iter(before).last() {
        None => true,
        Some(func) => Regex::new(r"(?m)^\}")
            .ok()
            .and_then(|re| re.find(text.get(func.start()..offset).unwrap_or("")))
            .is_some(),
    }
}

/// The handler expression serving `gatherer`.
fn handler(gatherer: &str, promhttp: &str) -> String {
    if gatherer == "prometheus.DefaultGatherer" {
        format!("{promhttp}.Handler()")
    } else {
        format!("{promhttp}.HandlerFor({gatherer}, {promhttp}.HandlerOpts{{}})")
    }
}

/// The start of the line `offset` is on.
fn line_start(text: &str, offset: usize) -> usize {
    text.get(..offset).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1)
}

/// `text` with promhttp's handler served at /metrics (on `port` where it serves nothing yet).
pub fn plan(text: &str, port: u16) -> Result<String, Unplanned> {
    let style = Style::of(text, "\t");
    let nl = style.newline;
    let gatherer = gatherer(text).map_err(|u| u.snippet(snippet("registry", port)))?;
    let root = gatherer.split('.').next().unwrap_or(&gatherer).to_string();
    let qualified = gatherer.contains('.');
    let http_name = imports(text)
        .0
        .iter()
        .find(|i| i.path == NET_HTTP)
        .map_or_else(|| "http".to_string(), |i| i.name.clone());

    let (at, lines) = if let Some(listen) = LISTEN.captures_iter(text).find(|c| {
        c.name("on")
            .is_some_and(|on| on.as_str() == http_name || server_of(text, on.as_str()).is_some())
    }) {
        // It serves HTTP: the route joins the mux that call serves.
        let (Some(whole), Some(on)) = (listen.get(0), listen.name("on")) else {
            return Err(Unplanned::new("cannot read its `ListenAndServe` call"));
        };
        let on = on.as_str();
        let mux = if on == http_name {
            let args = call_arguments(text, whole.end());
            split_arguments(args).get(1).map(|a| a.to_string())
        } else {
            server_of(text, on).flatten()
        };
        let at = line_start(text, whole.start());
        let route_on = match mux.as_deref() {
            None | Some("nil") => http_name.clone(),
            Some(mux) if is_new_mux(text, mux, &http_name) => mux.to_string(),
            Some(other) => {
                return Err(Unplanned::new(format!(
                    "its server's handler `{other}` is not a mux made with `http.NewServeMux()` pullover can add the route to"
                ))
                .snippet(format!("{}\n(on the mux that serves `{other}`)", route_line("mux", &gatherer))));
            }
        };
        if !in_reach(text, &root, qualified, at) {
            return Err(out_of_reach(&gatherer, port));
        }
        let indent = indent_at(text, at).to_string();
        (
            at,
            vec![format!("{indent}{route_on}.Handle(\"/metrics\", {{handler}})")],
        )
    } else {
        // It serves nothing: a listener of its own, started where the push is set up in main().
        let Some(main) = MAIN.find(text) else {
            return Err(
                Unplanned::new("found no `func main()` to start the metrics listener in")
                    .snippet(snippet(&gatherer, port)),
            );
        };
        let body = main.end();
        let main_end = Regex::new(r"(?m)^\}")
            .ok()
            .and_then(|re| re.find(text.get(body..).unwrap_or("")))
            .map_or(text.len(), |m| body + m.start());
        let first = text
            .get(body..main_end)
            .and_then(|b| b.lines().find(|l| !l.trim().is_empty()))
            .map_or("\t", |l| &l[..l.len() - l.trim_start().len()])
            .to_string();
        let at = match PUSH_NEW.find(text).filter(|m| (body..main_end).contains(&m.start())) {
            Some(call) => statement_start(text, body, line_start(text, call.start()), &first),
            None => body,
        };
        if !in_reach(text, &root, qualified, at) {
            return Err(out_of_reach(&gatherer, port));
        }
        let has = |path: &str| imports(text).0.iter().find(|i| i.path == path).map(|i| i.name.clone());
        let unit = style.unit.as_str();
        let mut lines = vec![format!("{first}go func() {{")];
        let inner = format!("{first}{unit}");
        let addr = match has("os") {
            Some(os) => {
                lines.extend([
                    format!("{inner}port := {os}.Getenv(\"METRICS_PORT\")"),
                    format!("{inner}if port == \"\" {{"),
                    format!("{inner}{unit}port = \"{port}\""),
                    format!("{inner}}}"),
                ]);
                "\":\"+port".to_string()
            }
            None => format!("\":{port}\""),
        };
        lines.push(format!("{inner}{http_name}.Handle(\"/metrics\", {{handler}})"));
        match has("log") {
            Some(log) => lines.push(format!("{inner}{log}.Fatal({http_name}.ListenAndServe({addr}, nil))")),
            None => lines.extend([
                format!("{inner}if err := {http_name}.ListenAndServe({addr}, nil); err != nil {{"),
                format!("{inner}{unit}panic(err)"),
                format!("{inner}}}"),
            ]),
        }
        lines.push(format!("{first}}}()"));
        (at, lines)
    };
    let (promhttp, promhttp_import) = import(text, PROMHTTP, nl)?;
    let mut edits: Vec<(usize, String)> = Vec::new();
    if let (_, Some(insert)) = import(text, NET_HTTP, nl)? {
        edits.push(insert);
    }
    edits.extend(promhttp_import);
    let handler = handler(&gatherer, &promhttp);
    let block: String = lines
        .iter()
        .map(|l| format!("{}{nl}", l.replace("{handler}", &handler)))
        .collect();
    edits.push((at, block));
    Ok(insert_all(text, edits))
}

/// The server `name` is (`srv := &http.Server{…}`): `Some(handler)` (`None` inside for no
/// `Handler:` field, the default mux), or `None` when `name` is no such server.
fn server_of(text: &str, name: &str) -> Option<Option<String>> {
    let re = Regex::new(&format!(
        r"\b{}\s*:?=\s*&?\s*(?:\w+\.)?Server\s*\{{",
        regex::escape(name)
    ))
    .ok()?;
    let found = re.find(text)?;
    let fields = call_arguments(text, found.end());
    let handler = Regex::new(r"\bHandler\s*:\s*([\w.]+)")
        .ok()?
        .captures(fields)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string());
    Some(handler)
}

fn is_new_mux(text: &str, name: &str, http: &str) -> bool {
    Regex::new(&format!(
        r"\b{}\s*:?=\s*{}\.NewServeMux\s*\(\s*\)",
        regex::escape(name),
        regex::escape(http)
    ))
    .is_ok_and(|re| re.is_match(text))
}

/// The first line of the statement of `main`'s body (indented `indent`) that holds the line
/// starting at `line`, with the comment lines right above it.
fn statement_start(text: &str, body: usize, line: usize, indent: &str) -> usize {
    let mut at = line;
    // Up to the line at the body's indentation that starts the statement.
    while at > body {
        let this = text.get(at..).and_then(|t| t.lines().next()).unwrap_or("");
        let lead = &this[..this.len() - this.trim_start().len()];
        if lead == indent && !this.trim_start().starts_with('}') && !this.trim_start().starts_with(')') {
            break;
        }
        at = line_start(text, at - 1);
    }
    // Comments right above go with it.
    while at > body {
        let above = line_start(text, at - 1);
        let line = text.get(above..at).unwrap_or("").trim();
        if !line.starts_with("//") {
            break;
        }
        at = above;
    }
    at
}

fn route_line(on: &str, gatherer: &str) -> String {
    format!("{on}.Handle(\"/metrics\", {})", handler(gatherer, "promhttp"))
}

/// What to add by hand: a listener of its own serving `gatherer`.
pub fn snippet(gatherer: &str, port: u16) -> String {
    format!(
        "go func() {{\n\t{}\n\tlog.Fatal(http.ListenAndServe(\":{port}\", nil))\n}}()",
        route_line("http", gatherer)
    )
}

fn out_of_reach(gatherer: &str, port: u16) -> Unplanned {
    Unplanned::new(format!(
        "the registry its push gathers (`{gatherer}`) is not in reach where the handler would go"
    ))
    .snippet(snippet(gatherer, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKER: &str = "package main\n\nimport (\n\t\"log\"\n\t\"os\"\n\t\"time\"\n\n\t\"github.com/prometheus/client_golang/prometheus\"\n\t\"github.com/prometheus/client_golang/prometheus/push\"\n)\n\nfunc main() {\n\tregistry := prometheus.NewRegistry()\n\n\t// The gateway.\n\tpusher := push.New(os.Getenv(\"GW\"), \"w\").\n\t\tGatherer(registry)\n\tfor range time.Tick(time.Second) {\n\t\tif err := pusher.Add(); err != nil {\n\t\t\tlog.Print(err)\n\t\t}\n\t}\n}\n";

    #[test]
    fn a_worker_gets_its_own_listener_where_the_push_is_set_up() {
        let after = plan(WORKER, 9102).unwrap();
        assert_eq!(
            after,
            "package main\n\nimport (\n\t\"log\"\n\t\"net/http\"\n\t\"os\"\n\t\"time\"\n\n\t\"github.com/prometheus/client_golang/prometheus\"\n\t\"github.com/prometheus/client_golang/prometheus/promhttp\"\n\t\"github.com/prometheus/client_golang/prometheus/push\"\n)\n\nfunc main() {\n\tregistry := prometheus.NewRegistry()\n\n\tgo func() {\n\t\tport := os.Getenv(\"METRICS_PORT\")\n\t\tif port == \"\" {\n\t\t\tport = \"9102\"\n\t\t}\n\t\thttp.Handle(\"/metrics\", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))\n\t\tlog.Fatal(http.ListenAndServe(\":\"+port, nil))\n\t}()\n\t// The gateway.\n\tpusher := push.New(os.Getenv(\"GW\"), \"w\").\n\t\tGatherer(registry)\n\tfor range time.Tick(time.Second) {\n\t\tif err := pusher.Add(); err != nil {\n\t\t\tlog.Print(err)\n\t\t}\n\t}\n}\n"
        );
    }

    #[test]
    fn a_server_gets_the_route_on_the_mux_it_serves() {
        let go = "package main\n\nimport (\n\t\"net/http\"\n\n\t\"github.com/prometheus/client_golang/prometheus\"\n\t\"github.com/prometheus/client_golang/prometheus/push\"\n)\n\nvar registry = prometheus.NewRegistry()\n\nfunc main() {\n\tmux := http.NewServeMux()\n\tmux.HandleFunc(\"/a\", a)\n\tgo push.New(\"gw\", \"j\").Gatherer(registry).Push()\n\thttp.ListenAndServe(\":8080\", mux)\n}\n";
        let after = plan(go, 8080).unwrap();
        assert!(
            after.contains("\tmux.Handle(\"/metrics\", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))\n\thttp.ListenAndServe(\":8080\", mux)\n"),
            "{after}"
        );
        assert!(after.contains("\t\"github.com/prometheus/client_golang/prometheus\"\n\t\"github.com/prometheus/client_golang/prometheus/promhttp\"\n"), "{after}");
        // The default mux, and a server struct on it.
        let default = go
            .replace("mux := http.NewServeMux()\n\tmux.HandleFunc", "http.HandleFunc")
            .replace(", mux)", ", nil)");
        assert!(plan(&default, 8080).unwrap().contains("\thttp.Handle(\"/metrics\", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))\n\thttp.ListenAndServe(\":8080\", nil)\n"));
        let server = go.replace(
            "http.ListenAndServe(\":8080\", mux)",
            "srv := &http.Server{Addr: \":8080\", Handler: mux}\n\tlog.Fatal(srv.ListenAndServe())",
        );
        assert!(plan(&server, 8080).unwrap().contains("\tmux.Handle(\"/metrics\", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))\n\tlog.Fatal(srv.ListenAndServe())\n"));
    }

    #[test]
    fn single_collectors_or_a_registry_out_of_reach_get_the_snippet() {
        let collectors = WORKER.replace("\n\t\tGatherer(registry)", "\n\t\tCollector(done)");
        let err = plan(&collectors, 8000).unwrap_err();
        assert!(err.reason.contains("single collectors"), "{err:?}");
        assert!(err.snippet.is_some_and(|s| s.contains("promhttp")));
        let elsewhere = "package main\n\nimport \"github.com/prometheus/client_golang/prometheus/push\"\n\nfunc run() {\n\treg := prometheus.NewRegistry()\n\tpush.New(\"gw\", \"j\").Gatherer(reg).Push()\n}\n\nfunc main() {\n\trun()\n}\n";
        assert!(plan(elsewhere, 8000).unwrap_err().reason.contains("not in reach"));
    }

    #[test]
    fn no_os_no_log_single_imports() {
        let go = "package main\n\nimport \"github.com/prometheus/client_golang/prometheus/push\"\n\nfunc main() {\n\tpush.New(\"gw\", \"j\").Gatherer(prometheus.DefaultGatherer).Push()\n}\n";
        assert_eq!(
            plan(go, 8000).unwrap(),
            "package main\n\nimport \"github.com/prometheus/client_golang/prometheus/push\"\nimport \"net/http\"\nimport \"github.com/prometheus/client_golang/prometheus/promhttp\"\n\nfunc main() {\n\tgo func() {\n\t\thttp.Handle(\"/metrics\", promhttp.Handler())\n\t\tif err := http.ListenAndServe(\":8000\", nil); err != nil {\n\t\t\tpanic(err)\n\t\t}\n\t}()\n\tpush.New(\"gw\", \"j\").Gatherer(prometheus.DefaultGatherer).Push()\n}\n"
        );
    }
}
