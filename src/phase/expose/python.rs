//! prometheus_client (Python): `start_http_server(port)` on the registry the push uses, as
//! the first statement of `main()` (or of the `if __name__ == "__main__":` block), for
//! scripts and workers. A Flask or FastAPI app already listens on its port: mounting the
//! library's WSGI/ASGI app there is left to a person, with the snippet ([`Unplanned`]).

use std::sync::LazyLock;

use regex::Regex;

use super::Unplanned;
use super::style::{Style, indent_of_next_line, insert_all, next_line_start};

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
/// `app = Flask(__name__)`, `api = FastAPI(title=…)` at module level, up to the `(`.
static APP_MADE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^(?P<app>\w+)\s*=\s*(?P<kind>Flask|FastAPI)\s*\(").expect("static regex"));
static FLASK_IMPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^(?:from\s+flask\s+import\b[^\n(]*|import\s+flask\b.*)$").expect("static regex"));
static PYTHON_IMPORT_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^(?:from\s+prometheus_client\s|import\s+prometheus_client\b)").expect("static regex")
});
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
    if WEB_APP.is_match(text) {
        return web_app(text, registry, &style);
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
    let (function, import) = import_name(text, "start_http_server", &style)?;
    // Where the file reads its settings from the environment, the port is one of them.
    let port_arg = if OS_IMPORT.is_match(text) {
        format!("int(os.environ.get('METRICS_PORT', '{port}'))")
    } else {
        port.to_string()
    };
    let line = style.render(&indent, &[&format!("{function}({port_arg}{registry_arg})")]);
    let mut edits = vec![(at, line)];
    edits.extend(import);
    Ok(insert_all(text, edits))
}

/// A Flask or FastAPI app made at module level (`app = Flask(__name__)`): the library's
/// WSGI app behind Werkzeug's `DispatcherMiddleware`, or its ASGI app mounted, at /metrics on
/// the app's own port, right after the app is made. Anything else (an app factory, an app
/// made over several statements) gets the snippet.
fn web_app(text: &str, registry: Option<&str>, style: &Style) -> Result<String, Unplanned> {
    let kind = WEB_APP
        .captures(text)
        .and_then(|c| c.name("kind"))
        .map_or("Flask", |m| m.as_str());
    let flask = kind == "Flask";
    let wrapper = if flask { "make_wsgi_app" } else { "make_asgi_app" };
    let reg = registry.unwrap_or("");
    let snippet = || {
        let mount = if flask {
            format!(
                "from werkzeug.middleware.dispatcher import DispatcherMiddleware\napp.wsgi_app = DispatcherMiddleware(app.wsgi_app, {{\"/metrics\": make_wsgi_app({reg})}})"
            )
        } else {
            format!("app.mount(\"/metrics\", make_asgi_app({reg}))")
        };
        Unplanned::new(format!(
            "found no `app = {kind}(…)` at module level to mount prometheus_client's {wrapper} on"
        ))
        .snippet(format!("from prometheus_client import {wrapper}\n{mount}"))
    };
    let Some(made) = APP_MADE
        .captures(text)
        .filter(|c| c.name("kind").is_some_and(|k| k.as_str() == kind))
    else {
        return Err(snippet());
    };
    let (Some(whole), Some(app)) = (made.get(0), made.name("app")) else {
        return Err(snippet());
    };
    let args = crate::stack::app_code::call_arguments(text, whole.end());
    let call_end = whole.end() + args.len() + 1;
    if !text
        .get(call_end..next_line_start(text, call_end))
        .is_some_and(|rest| rest.trim().is_empty())
    {
        return Err(snippet());
    }
    let (function, import) = import_name(text, wrapper, style)?;
    let app = app.as_str();
    let mut edits: Vec<(usize, String)> = import.into_iter().collect();
    let mount = if flask {
        format!("{app}.wsgi_app = DispatcherMiddleware({app}.wsgi_app, {{'/metrics': {function}({reg})}})")
    } else {
        format!("{app}.mount('/metrics', {function}({reg}))")
    };
    edits.push((next_line_start(text, call_end), style.render("", &[&mount])));
    if flask {
        // Werkzeug comes with Flask: its import goes next to Flask's.
        let at = FLASK_IMPORT
            .find(text)
            .map(|m| next_line_start(text, m.end()))
            .or_else(|| PYTHON_IMPORT_LINE.find(text).map(|m| m.start()))
            .ok_or_else(snippet)?;
        edits.push((
            at,
            style.render("", &["from werkzeug.middleware.dispatcher import DispatcherMiddleware"]),
        ));
    }
    Ok(insert_all(text, edits))
}

/// How the file names `name` of prometheus_client, and the insertion that imports it (none
/// where it is imported already, or the module is).
fn import_name(text: &str, name: &str, style: &Style) -> Result<(String, Option<(usize, String)>), Unplanned> {
    if let Some(open) = PAREN_IMPORT.find(text) {
        return Ok((
            name.to_string(),
            add_to_parenthesised(text, open.end(), name, style.newline)?,
        ));
    }
    if let Some(import) = FROM_IMPORT.captures(text) {
        let names = import
            .name("names")
            .ok_or_else(|| Unplanned::new("cannot read the import"))?;
        let already = names.as_str().split(',').any(|n| n.trim() == name);
        return Ok((name.to_string(), (!already).then(|| (names.end(), format!(", {name}")))));
    }
    if MODULE_IMPORT.is_match(text) {
        return Ok((format!("prometheus_client.{name}"), None));
    }
    Err(Unplanned::new(
        "cannot read how prometheus_client is imported (`from prometheus_client import …`, parenthesised or not, or `import prometheus_client`)",
    ))
}

/// Where `name` joins a parenthesised import list whose `(` ends at `open`, and what is
/// inserted there: a line of its own like the names above it (one a line), or `, name` after
/// the last name (names on one line). `None` when it is there.
fn add_to_parenthesised(
    text: &str,
    open: usize,
    name: &str,
    newline: &str,
) -> Result<Option<(usize, String)>, Unplanned> {
    let unreadable = || Unplanned::new("cannot read the parenthesised `from prometheus_client import (…)`");
    let close = text
        .get(open..)
        .and_then(|t| t.find(')'))
        .map(|i| open + i)
        .ok_or_else(unreadable)?;
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
    if names.iter().any(|(n, _)| *n == name) {
        return Ok(None);
    }
    let Some(&(_, last_end)) = names.last() else {
        return Err(unreadable());
    };
    if !inner.contains('\n') {
        return Ok(Some((last_end, format!(", {name}"))));
    }
    let last_line = text.get(..last_end).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let indent = super::style::indent_at(text, last_line).to_string();
    let comma_follows = text
        .get(last_end..)
        .is_some_and(|t| t.trim_start_matches([' ', '\t']).starts_with(','));
    let close_line = text.get(..close).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let close_alone = text.get(close_line..close).is_some_and(|t| t.trim().is_empty());
    if comma_follows && close_alone {
        return Ok(Some((close_line, format!("{indent}{name},{newline}"))));
    }
    Ok(Some((last_end, format!(",{newline}{indent}{name}"))))
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
    fn flask_gets_the_wsgi_app_mounted_and_fastapi_the_asgi_app() {
        let py = "import os\n\nfrom flask import Flask, jsonify\nfrom prometheus_client import CollectorRegistry, pushadd_to_gateway\n\nregistry = CollectorRegistry()\napp = Flask(__name__)\n\ndef push():\n    pushadd_to_gateway(GW, job='a', registry=registry)\n";
        assert_eq!(
            plan(py, 5000).unwrap(),
            "import os\n\nfrom flask import Flask, jsonify\nfrom werkzeug.middleware.dispatcher import DispatcherMiddleware\nfrom prometheus_client import CollectorRegistry, pushadd_to_gateway, make_wsgi_app\n\nregistry = CollectorRegistry()\napp = Flask(__name__)\napp.wsgi_app = DispatcherMiddleware(app.wsgi_app, {'/metrics': make_wsgi_app(registry)})\n\ndef push():\n    pushadd_to_gateway(GW, job='a', registry=registry)\n"
        );
        let api = "from fastapi import FastAPI\nimport prometheus_client\n\napi = FastAPI(\n    title=\"quotes\",\n)\n\nprometheus_client.push_to_gateway(GW, job=\"q\", registry=prometheus_client.REGISTRY)\n";
        assert_eq!(
            plan(api, 8000).unwrap(),
            "from fastapi import FastAPI\nimport prometheus_client\n\napi = FastAPI(\n    title=\"quotes\",\n)\napi.mount(\"/metrics\", prometheus_client.make_asgi_app())\n\nprometheus_client.push_to_gateway(GW, job=\"q\", registry=prometheus_client.REGISTRY)\n"
        );
    }

    #[test]
    fn an_app_factory_is_a_snippet_not_a_guess() {
        let py = "from flask import Flask\nfrom prometheus_client import push_to_gateway\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n";
        let err = plan(py, 8000).unwrap_err();
        assert!(
            err.snippet.as_deref().is_some_and(|s| s.contains("make_wsgi_app")),
            "{err:?}"
        );
    }
}
