//! prometheus_client (Python): `start_http_server(port)` on the registry the push uses, as
//! the first statement of `main()` (or of the `if __name__ == "__main__":` block), for
//! scripts and workers. A Flask or FastAPI app already listens on its port: mounting the
//! library's WSGI/ASGI app there is left to a person, with the snippet ([`Unplanned`]).

use std::sync::LazyLock;

use regex::Regex;

use super::Unplanned;
use super::style::{Style, indent_of_next_line, next_line_start};

static FROM_IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^from\s+prometheus_client\s+import\s+(?P<names>[^\n(\\#]*[^\s(\\#])[ \t]*\r?$")
        .expect("static regex")
});
/// `from prometheus_client import (` … `)` over several lines.
static PAREN_IMPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^from\s+prometheus_client\s+import\s*\(").expect("static regex"));
static MODULE_IMPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^import\s+prometheus_client[ \t]*\r?$").expect("static regex"));
static REGISTRY_ARG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:push_to_gateway|pushadd_to_gateway)\s*\([^)]*?\bregistry\s*=\s*(?P<reg>[\w.]+)")
        .expect("static regex")
});
static MAIN_DEF: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^def\s+main\s*\([^)]*\)\s*(?:->[^:]+)?:[ \t]*\r?$").expect("static regex"));
static MAIN_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?m)^if\s+__name__\s*==\s*['"]__main__['"]\s*:[ \t]*\r?$"#).expect("static regex"));
static OS_IMPORT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?m)^import\s+os\s*$").expect("static regex"));
static WEB_APP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?P<kind>Flask|FastAPI)\s*\(").expect("static regex"));

/// `text` with prometheus_client's HTTP server started on `port`.
pub fn plan(text: &str, port: u16) -> Result<String, Unplanned> {
    let style = Style::of(text, "    ");
    let registry = REGISTRY_ARG
        .captures(text)
        .and_then(|c| c.name("reg"))
        .map(|m| m.as_str())
        .filter(|r| !r.ends_with("REGISTRY"));
    let registry_arg = registry.map(|r| format!(", registry={r}")).unwrap_or_default();
    if let Some(kind) = WEB_APP.captures(text).and_then(|c| c.name("kind")) {
        let (wrapper, mount) = if kind.as_str() == "Flask" {
            (
                "make_wsgi_app",
                format!(
                    "from werkzeug.middleware.dispatcher import DispatcherMiddleware\napp.wsgi_app = DispatcherMiddleware(app.wsgi_app, {{\"/metrics\": make_wsgi_app({})}})",
                    registry.unwrap_or("")
                ),
            )
        } else {
            (
                "make_asgi_app",
                format!("app.mount(\"/metrics\", make_asgi_app({}))", registry.unwrap_or("")),
            )
        };
        return Err(Unplanned::new(format!(
            "a {} app serves its own port: mount prometheus_client's {wrapper} at /metrics on it",
            kind.as_str()
        ))
        .snippet(format!("from prometheus_client import {wrapper}\n{mount}")));
    }
    // Where the server starts: first thing in main(), else in the __main__ block.
    let Some(block) = MAIN_DEF.find(text).or_else(|| MAIN_BLOCK.find(text)) else {
        return Err(Unplanned::new(
            "found no `def main():` and no `if __name__ == \"__main__\":` block to start the server in",
        )
        .snippet(format!(
            "from prometheus_client import start_http_server\nstart_http_server({port}{registry_arg})"
        )));
    };
    let mut at = next_line_start(text, block.end());
    let indent = indent_of_next_line(text, at)
        .filter(|i| !i.is_empty())
        .map_or_else(|| style.unit.clone(), str::to_string);
    at = after_docstring(text, at);
    let (function, import) = if let Some(open) = PAREN_IMPORT.find(text) {
        ("start_http_server".to_string(), add_to_parenthesised(text, open.end(), style.newline)?)
    } else if let Some(import) = FROM_IMPORT.captures(text) {
        let names = import
            .name("names")
            .ok_or_else(|| Unplanned::new("cannot read the import"))?;
        let already = names.as_str().split(',').any(|n| n.trim() == "start_http_server");
        let edit = (!already).then(|| (names.end(), ", start_http_server".to_string()));
        ("start_http_server".to_string(), edit)
    } else if MODULE_IMPORT.is_match(text) {
        ("prometheus_client.start_http_server".to_string(), None)
    } else {
        return Err(Unplanned::new(
            "cannot read how prometheus_client is imported (`from prometheus_client import …`, parenthesised or not, or `import prometheus_client`)",
        ));
    };
    // Where the file reads its settings from the environment, the port is one of them.
    let port_arg = if OS_IMPORT.is_match(text) {
        format!("int(os.environ.get('METRICS_PORT', '{port}'))")
    } else {
        port.to_string()
    };
    let line = style.render(&indent, &[&format!("{function}({port_arg}{registry_arg})")]);
    let mut out = String::with_capacity(text.len() + line.len() + 20);
    let mut last = 0;
    if let Some((import_end, added)) = &import {
        out.push_str(text.get(..*import_end).unwrap_or(""));
        out.push_str(added);
        last = *import_end;
    }
    out.push_str(text.get(last..at).unwrap_or(""));
    out.push_str(&line);
    out.push_str(text.get(at..).unwrap_or(""));
    Ok(out)
}

/// Where `start_http_server` joins a parenthesised import list whose `(` ends at `open`, and
/// what is inserted there: a line of its own like the names above it (one a line), or
/// `, start_http_server` after the last name (names on one line). `None` when it is there.
fn add_to_parenthesised(text: &str, open: usize, newline: &str) -> Result<Option<(usize, String)>, Unplanned> {
    let unreadable = || Unplanned::new("cannot read the parenthesised `from prometheus_client import (…)`");
    let close = text.get(open..).and_then(|t| t.find(')')).map(|i| open + i).ok_or_else(unreadable)?;
    let inner = text.get(open..close).ok_or_else(unreadable)?;
    // Each name with the offset just after it (comments left out).
    let mut names: Vec<(&str, usize)> = Vec::new();
    let mut line_start = open;
    for line in inner.split_inclusive('\n') {
        let code = line.split('#').next().unwrap_or("");
        let mut at = 0;
        for part in code.split(',') {
            let name = part.trim();
            if !name.is_empty() {
                let end = line_start + at + part.trim_end().len();
                names.push((name.split_whitespace().last().unwrap_or(name), end));
            }
            at += part.len() + 1;
        }
        line_start += line.len();
    }
    if names.iter().any(|(n, _)| *n == "start_http_server") {
        return Ok(None);
    }
    let Some(&(_, last_end)) = names.last() else {
        return Err(unreadable());
    };
    if !inner.contains('\n') {
        return Ok(Some((last_end, ", start_http_server".to_string())));
    }
    let last_line = text.get(..last_end).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let indent = super::style::indent_at(text, last_line).to_string();
    let comma_follows = text.get(last_end..).is_some_and(|t| t.trim_start_matches([' ', '\t']).starts_with(','));
    let close_line = text.get(..close).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let close_alone = text.get(close_line..close).is_some_and(|t| t.trim().is_empty());
    if comma_follows && close_alone {
        return Ok(Some((close_line, format!("{indent}start_http_server,{newline}"))));
    }
    Ok(Some((last_end, format!(",{newline}{indent}start_http_server"))))
}

/// Past a docstring that opens the block at `at`, if there is one.
fn after_docstring(text: &str, at: usize) -> usize {
    let rest = text.get(at..).unwrap_or("");
    let trimmed = rest.trim_start();
    let Some(quote) = ["\"\"\"", "'''"].into_iter().find(|q| trimmed.starts_with(q)) else {
        return at;
    };
    let open = at + (rest.len() - trimmed.len()) + 3;
    match text.get(open..).and_then(|t| t.find(quote)) {
        Some(close) => next_line_start(text, open + close + 3),
        None => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_starts_the_server_first_thing_in_main_on_the_pushed_registry() {
        let py = "import os\nfrom prometheus_client import CollectorRegistry, Counter, push_to_gateway\n\nregistry = CollectorRegistry()\n\ndef push():\n    push_to_gateway(GW, job=\"etl\", registry=registry)\n\ndef main():\n    \"\"\"Loop.\"\"\"\n    while True:\n        push()\n";
        let after = plan(py, 9102).unwrap();
        assert_eq!(
            after,
            "import os\nfrom prometheus_client import CollectorRegistry, Counter, push_to_gateway, start_http_server\n\nregistry = CollectorRegistry()\n\ndef push():\n    push_to_gateway(GW, job=\"etl\", registry=registry)\n\ndef main():\n    \"\"\"Loop.\"\"\"\n    start_http_server(int(os.environ.get(\"METRICS_PORT\", \"9102\")), registry=registry)\n    while True:\n        push()\n"
        );
    }

    #[test]
    fn a_parenthesised_import_gets_a_line_of_its_own() {
        let py = "from prometheus_client import (\r\n    CollectorRegistry,\r\n    push_to_gateway,  # the push\r\n)\r\n\r\ndef main():\r\n    push_to_gateway(GW, job='a')\r\n";
        let after = plan(py, 9100).unwrap();
        assert_eq!(
            after,
            "from prometheus_client import (\r\n    CollectorRegistry,\r\n    push_to_gateway,  # the push\r\n    start_http_server,\r\n)\r\n\r\ndef main():\r\n    start_http_server(9100)\r\n    push_to_gateway(GW, job='a')\r\n"
        );
        let one_line = "from prometheus_client import (Counter, push_to_gateway)\nif __name__ == '__main__':\n    push_to_gateway(GW, job='a')\n";
        assert!(
            plan(one_line, 8000)
                .unwrap()
                .starts_with("from prometheus_client import (Counter, push_to_gateway, start_http_server)\n")
        );
    }

    #[test]
    fn flask_is_a_snippet_not_a_guess() {
        let py = "from flask import Flask\nfrom prometheus_client import push_to_gateway\napp = Flask(__name__)\n";
        let err = plan(py, 8000).unwrap_err();
        assert!(
            err.snippet.as_deref().is_some_and(|s| s.contains("make_wsgi_app")),
            "{err:?}"
        );
    }
}
