//! prom-client (Node): a `GET /metrics` route answering `await register.metrics()` with
//! `register.contentType`, on the registry the push uses. Express, Koa and Fastify apps get
//! a route on their app object; a plain `http.createServer` handler gets an `if` at the top
//! of its body. Anything else is left to a person ([`Unplanned`]).

use std::sync::LazyLock;

use regex::Regex;

use super::Unplanned;
use super::style::{Style, indent_at, indent_of_next_line, insert_all, next_line_start};
use crate::stack::app_code::split_arguments;

static CLIENT_VAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?:const|let|var)\s+(?P<req>[A-Za-z_$][\w$]*)\s*=\s*require\(\s*['"]prom-client['"]\s*\)"#,
        r#"|import\s+(?:\*\s+as\s+)?(?P<imp>[A-Za-z_$][\w$]*)\s+from\s+['"]prom-client['"]"#,
        r#"|(?:const|let|var|import)\s*\{[^}]*\bregister\b[^}]*\}\s*(?:=\s*require\(\s*|from\s+)['"]prom-client['"]"#,
    ))
    .expect("static regex")
});
static PUSHGATEWAY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bnew\s+(?:[\w$]+\.)?Pushgateway\s*\(").expect("static regex"));
/// `const app = express();` and its Koa and Fastify cousins.
static APP_OBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^[ \t]*(?:const|let|var)\s+(?P<app>[\w$]+)\s*=\s*(?P<kind>express|new\s+Koa|Koa|fastify|Fastify)\s*\([^)\n]*\)[ \t]*;?[ \t]*\r?$",
    )
    .expect("static regex")
});
static CREATE_SERVER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:https?\.)?createServer\s*\(").expect("static regex"));
/// An inline handler: `(req, res) => {`, `async function (req, res) {`.
static INLINE_HANDLER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^\s*(?P<async>async\s+)?",
        r"(?:function\s*[\w$]*\s*\(\s*(?P<a>[\w$]+)\s*,\s*(?P<b>[\w$]+)[^)]*\)",
        r"|\(\s*(?P<a2>[\w$]+)\s*,\s*(?P<b2>[\w$]+)[^)]*\)\s*=>)\s*\{",
    ))
    .expect("static regex")
});
static NAMED_HANDLER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?P<name>[\w$]+)\s*[,)]").expect("static regex"));

/// The registry the push sends: the Pushgateway's third argument, else the default one.
fn registry(text: &str) -> Option<String> {
    let pushgateway = PUSHGATEWAY.find(text)?;
    let args = crate::stack::app_code::call_arguments(text, pushgateway.end());
    if let Some(third) = split_arguments(args).get(2) {
        return Some(third.trim().to_string());
    }
    let caps = CLIENT_VAR.captures(text)?;
    match caps.name("req").or(caps.name("imp")) {
        Some(client) => Some(format!("{}.register", client.as_str())),
        None => Some("register".to_string()),
    }
}

struct Handler {
    request: String,
    response: String,
    is_async: bool,
    /// Offset just after the body's `{`.
    body: usize,
}

fn handler(text: &str) -> Option<Handler> {
    let call = CREATE_SERVER.find(text)?;
    let rest = text.get(call.end()..)?;
    if let Some(caps) = INLINE_HANDLER.captures(rest) {
        let whole = caps.get(0)?;
        return Some(Handler {
            request: caps.name("a").or(caps.name("a2"))?.as_str().to_string(),
            response: caps.name("b").or(caps.name("b2"))?.as_str().to_string(),
            is_async: caps.name("async").is_some(),
            body: call.end() + whole.end(),
        });
    }
    let name = NAMED_HANDLER.captures(rest)?.name("name")?.as_str().to_string();
    let named = Regex::new(&format!(
        concat!(
            r"(?:(?P<async>async\s+)?function\s+{name}\s*\(\s*(?P<a>[\w$]+)\s*,\s*(?P<b>[\w$]+)[^)]*\)",
            r"|(?:const|let|var)\s+{name}\s*=\s*(?P<async2>async\s+)?\(\s*(?P<a2>[\w$]+)\s*,\s*(?P<b2>[\w$]+)[^)]*\)\s*=>)\s*\{{"
        ),
        name = regex::escape(&name)
    ))
    .ok()?;
    let caps = named.captures(text)?;
    Some(Handler {
        request: caps.name("a").or(caps.name("a2"))?.as_str().to_string(),
        response: caps.name("b").or(caps.name("b2"))?.as_str().to_string(),
        is_async: caps.name("async").or(caps.name("async2")).is_some(),
        body: caps.get(0)?.end(),
    })
}

/// `text` with a /metrics route added.
pub fn plan(text: &str) -> Result<String, Unplanned> {
    let style = Style::of(text, "  ");
    let Some(registry) = registry(text) else {
        return Err(Unplanned::new(
            "cannot tell which prom-client registry the push sends (no `new Pushgateway(…)` and no `require('prom-client')` read)",
        ));
    };
    let reg = registry.as_str();
    if let Some(caps) = APP_OBJECT.captures(text) {
        let (Some(line), Some(app), Some(kind)) = (caps.get(0), caps.name("app"), caps.name("kind")) else {
            return Err(Unplanned::new("cannot read the app object"));
        };
        let app = app.as_str();
        let indent = indent_at(text, line.start());
        let lines: Vec<String> = match kind.as_str() {
            "express" => vec![
                format!("{app}.get('/metrics', async (req, res) => {{"),
                format!("\u{1}res.set('Content-Type', {reg}.contentType);"),
                format!("\u{1}res.end(await {reg}.metrics());"),
                "});".into(),
            ],
            "fastify" | "Fastify" => vec![
                format!("{app}.get('/metrics', async (request, reply) => {{"),
                format!("\u{1}reply.header('Content-Type', {reg}.contentType);"),
                format!("\u{1}return {reg}.metrics();"),
                "});".into(),
            ],
            _ => vec![
                format!("{app}.use(async (ctx, next) => {{"),
                "\u{1}if (ctx.method !== 'GET' || ctx.path !== '/metrics') return next();".into(),
                format!("\u{1}ctx.type = {reg}.contentType;"),
                format!("\u{1}ctx.body = await {reg}.metrics();"),
                "});".into(),
            ],
        };
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let at = next_line_start(text, line.end());
        let mut block = style.newline.to_string();
        block.push_str(&style.render(indent, &lines));
        return Ok(insert_all(text, vec![(at, block)]));
    }
    let Some(handler) = handler(text) else {
        return Err(Unplanned::new(
            "found no Express, Koa or Fastify app and no `http.createServer` handler to add the route to",
        ));
    };
    let at = next_line_start(text, handler.body);
    let indent = match indent_of_next_line(text, at) {
        Some(indent) if !indent.is_empty() => indent.to_string(),
        _ => format!("{}{}", indent_at(text, handler.body), style.unit),
    };
    let (req, res) = (handler.request.as_str(), handler.response.as_str());
    let condition = format!("if ({req}.method === 'GET' && {req}.url.split('?')[0] === '/metrics') {{");
    let lines: Vec<String> = if handler.is_async {
        vec![
            condition,
            format!("\u{1}{res}.writeHead(200, {{ 'Content-Type': {reg}.contentType }});"),
            format!("\u{1}{res}.end(await {reg}.metrics());"),
            "\u{1}return;".into(),
            "}".into(),
        ]
    } else {
        vec![
            condition,
            format!("\u{1}{reg}.metrics().then((body) => {{"),
            format!("\u{1}\u{1}{res}.writeHead(200, {{ 'Content-Type': {reg}.contentType }});"),
            format!("\u{1}\u{1}{res}.end(body);"),
            "\u{1}}, (err) => {".into(),
            format!("\u{1}\u{1}{res}.writeHead(500);"),
            format!("\u{1}\u{1}{res}.end(String(err));"),
            "\u{1}});".into(),
            "\u{1}return;".into(),
            "}".into(),
        ]
    };
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    Ok(insert_all(text, vec![(at, style.render(&indent, &lines))]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn express_gets_a_route_after_the_app_is_made() {
        let js = "const express = require(\"express\")\nconst client = require(\"prom-client\")\n\nconst app = express()\napp.use(express.json())\n\nconst gateway = new client.Pushgateway(url)\n";
        let after = plan(js).unwrap();
        assert_eq!(
            after,
            "const express = require(\"express\")\nconst client = require(\"prom-client\")\n\nconst app = express()\n\napp.get(\"/metrics\", async (req, res) => {\n  res.set(\"Content-Type\", client.register.contentType)\n  res.end(await client.register.metrics())\n})\napp.use(express.json())\n\nconst gateway = new client.Pushgateway(url)\n"
        );
    }

    #[test]
    fn a_plain_handler_gets_an_if_at_the_top_on_the_pushed_registry() {
        let js = "const client = require('prom-client');\nconst registry = new client.Registry();\nconst server = http.createServer(handle);\nasync function handle(request, response) {\n    route(request, response);\n}\nconst gw = new client.Pushgateway(URL, {}, registry);\n";
        let after = plan(js).unwrap();
        assert!(
            after.contains("async function handle(request, response) {\n    if (request.method === 'GET' && request.url.split('?')[0] === '/metrics') {\n        response.writeHead(200, { 'Content-Type': registry.contentType });\n        response.end(await registry.metrics());\n        return;\n    }\n    route(request, response);\n"),
            "{after}"
        );
    }

    #[test]
    fn a_blank_line_after_the_app_stays_after_the_route() {
        let js = "const client = require('prom-client')\nconst app = fastify({ logger: false })\n\napp.get('/a', h)\nconst gw = new client.Pushgateway(URL)\n";
        assert_eq!(
            plan(js).unwrap(),
            "const client = require('prom-client')\nconst app = fastify({ logger: false })\n\napp.get('/metrics', async (request, reply) => {\n  reply.header('Content-Type', client.register.contentType)\n  return client.register.metrics()\n})\n\napp.get('/a', h)\nconst gw = new client.Pushgateway(URL)\n"
        );
    }

    #[test]
    fn no_server_no_guess() {
        let js = "const client = require('prom-client');\nconst gw = new client.Pushgateway(URL);\nsetInterval(() => gw.pushAdd({ jobName: 'a' }), 1000);\n";
        assert!(plan(js).is_err());
    }
}
