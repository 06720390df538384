//! simpleclient (Java): `new HTTPServer.Builder().withPort(port).withRegistry(registry).build();`
//! as the first statement of `main` (after the registry, where `main` makes it), on the
//! registry the push sends (`gateway.pushAdd(registry, "job")`), with the `HTTPServer` import
//! among the other `io.prometheus` ones. The server lives in `simpleclient_httpserver`: where
//! the build (pom.xml, build.gradle) lists `simpleclient_pushgateway`, the same dependency is
//! added beside it for `simpleclient_httpserver` ([`dependency`]). A `main` that declares no
//! `throws` for the server's `IOException`, or a registry out of its reach, gets the snippet.

use std::sync::LazyLock;

use regex::Regex;

use super::Unplanned;
use super::style::{Style, indent_of_next_line, insert_all, next_line_start};
use crate::stack::app_code::{call_arguments, split_arguments};

const HTTP_SERVER: &str = "io.prometheus.client.exporter.HTTPServer";

static PUSH: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\.\s*(?:pushAdd|push)\s*\(").expect("static regex"));
static MAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)\bstatic\s+void\s+main\s*\([^)]*\)\s*(?P<throws>throws\s+[\w.,\s]+)?\{[ \t]*\r?\n")
        .expect("static regex")
});
static IMPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^import\s+(?P<path>[\w.]+)\s*;[ \t]*\r?$").expect("static regex"));

/// The registry the push sends: the push call's first argument.
fn registry(text: &str) -> Option<String> {
    let call = PUSH.find(text)?;
    let args = call_arguments(text, call.end());
    let arguments = split_arguments(args);
    (arguments.len() >= 2).then(|| arguments[0].to_string())
}

/// What to add by hand: the server on `registry`, its import and its dependency.
pub fn snippet(registry: &str, port: u16) -> String {
    format!(
        "import io.prometheus.client.exporter.HTTPServer;\nnew HTTPServer.Builder().withPort({port}).withRegistry({registry}).build();\n(and the dependency io.prometheus:simpleclient_httpserver, the version of simpleclient)"
    )
}

/// `text` with simpleclient's HTTPServer started in `main`.
pub fn plan(text: &str, port: u16) -> Result<String, Unplanned> {
    let style = Style::of(text, "    ");
    let Some(registry) = registry(text) else {
        return Err(
            Unplanned::new("cannot read the registry its push sends (`push(registry, \"job\")`)")
                .snippet(snippet("registry", port)),
        );
    };
    let Some(main) = MAIN.captures(text) else {
        return Err(
            Unplanned::new("found no `static void main(…)` to start simpleclient's HTTPServer in")
                .snippet(snippet(&registry, port)),
        );
    };
    let (Some(whole), throws) = (main.get(0), main.name("throws")) else {
        return Err(Unplanned::new("cannot read `main`"));
    };
    if !throws.is_some_and(|t| {
        t.as_str().split([',', ' ', '\t', '\n']).any(|e| {
            matches!(
                e.trim(),
                "Exception" | "IOException" | "java.io.IOException" | "Throwable"
            )
        })
    }) {
        return Err(Unplanned::new(
            "its `main` declares no `throws` for the server's IOException: where to handle it is the author's call",
        )
        .snippet(snippet(&registry, port)));
    }
    let body = whole.end();
    let root = registry.split('.').next().unwrap_or(&registry);
    let field = Regex::new(&format!(
        r"\bstatic\s+(?:final\s+)?CollectorRegistry\s+{}\b",
        regex::escape(root)
    ))
    .is_ok_and(|re| re.is_match(text));
    let at = if registry == "CollectorRegistry.defaultRegistry" || field {
        body
    } else {
        // A registry made in main: the server starts on the line after it.
        let local = Regex::new(&format!(
            r"(?m)^[ \t]*(?:final\s+)?CollectorRegistry\s+{}\s*=[^;\n]*;[ \t]*\r?$",
            regex::escape(root)
        ))
        .ok()
        .and_then(|re| re.find(text.get(body..).unwrap_or("")));
        match local {
            Some(m) => next_line_start(text, body + m.end()),
            None => {
                return Err(Unplanned::new(format!(
                    "the registry its push sends (`{registry}`) is not in reach in `main`"
                ))
                .snippet(snippet(&registry, port)));
            }
        }
    };
    let indent = indent_of_next_line(text, at)
        .filter(|i| !i.is_empty())
        .map_or_else(|| style.unit.clone(), str::to_string);
    let port_arg = if text.contains("System.getenv") {
        format!("Integer.parseInt(System.getenv().getOrDefault(\"METRICS_PORT\", \"{port}\"))")
    } else {
        port.to_string()
    };
    let mut edits = vec![(
        at,
        format!(
            "{indent}new HTTPServer.Builder().withPort({port_arg}).withRegistry({registry}).build();{}",
            style.newline
        ),
    )];
    edits.extend(import(text, style.newline));
    Ok(insert_all(text, edits))
}

/// The `HTTPServer` import among the `io.prometheus` ones, in their order (none where it is).
fn import(text: &str, newline: &str) -> Option<(usize, String)> {
    let imports: Vec<(usize, usize, &str)> = IMPORT
        .captures_iter(text)
        .filter_map(|c| {
            let whole = c.get(0)?;
            Some((
                whole.start(),
                next_line_start(text, whole.end()),
                c.name("path")?.as_str(),
            ))
        })
        .collect();
    if imports
        .iter()
        .any(|(_, _, p)| *p == HTTP_SERVER || *p == "io.prometheus.client.exporter.*")
    {
        return None;
    }
    let ours: Vec<&(usize, usize, &str)> = imports
        .iter()
        .filter(|(_, _, p)| p.starts_with("io.prometheus."))
        .collect();
    let line = format!("import {HTTP_SERVER};{newline}");
    let at = ours
        .iter()
        .find(|(_, _, p)| *p > HTTP_SERVER)
        .map(|(start, _, _)| *start)
        .or_else(|| ours.last().map(|(_, end, _)| *end))
        .or_else(|| imports.last().map(|(_, end, _)| *end))?;
    Some((at, line))
}

/// The build file with `simpleclient_httpserver` beside `simpleclient_pushgateway` (the same
/// dependency, the artifact renamed: same group, version, scope), or `None` where it lists
/// the server already or lists no Pushgateway client to copy.
pub fn dependency(path: &str, text: &str) -> Option<String> {
    if text.contains("simpleclient_httpserver") {
        return None;
    }
    let at = text.find("simpleclient_pushgateway")?;
    let (start, end) = if path.ends_with("pom.xml") {
        let start = text.get(..at)?.rfind("<dependency>")?;
        let start = text.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
        let close = at + text.get(at..)?.find("</dependency>")? + "</dependency>".len();
        (start, next_line_start(text, close))
    } else {
        let start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
        (start, next_line_start(text, at))
    };
    let copy = text
        .get(start..end)?
        .replace("simpleclient_pushgateway", "simpleclient_httpserver");
    // From its `<dependency>` line: a comment above it stays the push's alone.
    Some(insert_all(text, vec![(end, copy)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOB: &str = "package a;\n\nimport io.prometheus.client.CollectorRegistry;\nimport io.prometheus.client.exporter.PushGateway;\n\nclass Job {\n    static final CollectorRegistry registry = new CollectorRegistry();\n\n    public static void main(String[] args) throws Exception {\n        run();\n        new PushGateway(\"gw:9091\").pushAdd(registry, \"job\");\n    }\n}\n";

    #[test]
    fn main_starts_the_server_on_the_pushed_registry_first() {
        assert_eq!(
            plan(JOB, 9100).unwrap(),
            "package a;\n\nimport io.prometheus.client.CollectorRegistry;\nimport io.prometheus.client.exporter.HTTPServer;\nimport io.prometheus.client.exporter.PushGateway;\n\nclass Job {\n    static final CollectorRegistry registry = new CollectorRegistry();\n\n    public static void main(String[] args) throws Exception {\n        new HTTPServer.Builder().withPort(9100).withRegistry(registry).build();\n        run();\n        new PushGateway(\"gw:9091\").pushAdd(registry, \"job\");\n    }\n}\n"
        );
        let local = JOB
            .replace(
                "    static final CollectorRegistry registry = new CollectorRegistry();\n\n",
                "",
            )
            .replace(
                "        run();\n",
                "        CollectorRegistry registry = new CollectorRegistry();\n        run();\n",
            );
        assert!(plan(&local, 9100).unwrap().contains(
            "        CollectorRegistry registry = new CollectorRegistry();\n        new HTTPServer.Builder()"
        ));
    }

    #[test]
    fn a_main_without_throws_gets_the_snippet() {
        let err = plan(&JOB.replace(" throws Exception", ""), 9100).unwrap_err();
        assert!(err.reason.contains("throws"), "{err:?}");
        assert!(err.snippet.is_some_and(|s| s.contains("withRegistry(registry)")));
    }

    #[test]
    fn the_server_dependency_is_the_pushgateway_one_renamed() {
        let gradle = "dependencies {\n    implementation 'io.prometheus:simpleclient:0.16.0'\n    implementation 'io.prometheus:simpleclient_pushgateway:0.16.0'\n}\n";
        assert_eq!(
            dependency("build.gradle", gradle).unwrap(),
            "dependencies {\n    implementation 'io.prometheus:simpleclient:0.16.0'\n    implementation 'io.prometheus:simpleclient_pushgateway:0.16.0'\n    implementation 'io.prometheus:simpleclient_httpserver:0.16.0'\n}\n"
        );
        let pom = "  <dependencies>\n    <dependency>\n      <groupId>io.prometheus</groupId>\n      <artifactId>simpleclient_pushgateway</artifactId>\n    </dependency>\n  </dependencies>\n";
        assert_eq!(
            dependency("pom.xml", pom).unwrap(),
            "  <dependencies>\n    <dependency>\n      <groupId>io.prometheus</groupId>\n      <artifactId>simpleclient_pushgateway</artifactId>\n    </dependency>\n    <dependency>\n      <groupId>io.prometheus</groupId>\n      <artifactId>simpleclient_httpserver</artifactId>\n    </dependency>\n  </dependencies>\n"
        );
        assert_eq!(dependency("pom.xml", "<artifactId>simpleclient</artifactId>"), None);
    }
}
