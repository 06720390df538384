//! The apps' own code, read for two things: what their push calls say (the
//! `job` and `instance` they push as) and, in the `docs` phase, the mentions
//! of the gateway a person still has to remove. Parsing is pure and
//! grep-level: it reads the common client libraries' calls with literal or
//! environment-variable arguments and says "unknown" for anything else.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

pub mod serving;
pub mod spring;

/// File names (suffixes) read as app code or app config.
pub const CODE_SUFFIXES: &[&str] = &[
    ".js",
    ".mjs",
    ".cjs",
    ".ts",
    ".mts",
    ".jsx",
    ".tsx",
    ".py",
    ".go",
    ".rb",
    ".java",
    ".kt",
    ".scala",
    ".php",
    ".rs",
    ".cs",
    ".ex",
    ".exs",
    ".sh",
    ".bash",
    ".env",
    ".yml",
    ".yaml",
    ".toml",
    ".ini",
    ".conf",
    ".cfg",
    ".properties",
    ".json",
    "Dockerfile",
    // A Java app's build: which Micrometer registry it has.
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
];

/// Folders never read as app code: dependencies and build output.
pub const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    "vendor",
    "__pycache__",
    "venv",
    "target",
    "dist",
    "build",
    "site-packages",
];

/// A value in a push call, as far as it can be read without running the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Literal(String),
    /// An environment variable, with the code's fallback.
    Env {
        var: String,
        default: Option<String>,
    },
    /// Anything else, as written.
    Unknown(String),
}

impl Expr {
    /// The value, given the service's environment.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        match self {
            Expr::Literal(value) => Some(value.clone()),
            Expr::Env { var, default } => env(var).or_else(|| default.clone()),
            Expr::Unknown(_) => None,
        }
    }

    /// How the code reads it, for evidence.
    pub fn describe(&self) -> String {
        match self {
            Expr::Literal(value) => format!("\"{value}\""),
            Expr::Env { var, default: Some(d) } => format!("${var} (default \"{d}\")"),
            Expr::Env { var, default: None } => format!("${var}"),
            Expr::Unknown(text) => format!("`{text}`"),
        }
    }
}

/// The grouping key's `instance`, as far as it can be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instance {
    /// The grouping key has no `instance`: the series carry `instance=""`.
    None,
    Value(Expr),
    /// The grouping key is built in a way pullover does not read.
    Unknown,
}

/// One call that pushes to the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushCall {
    /// The called name (`pushAdd`, `push_to_gateway`, `push.New`, `/metrics/job/`).
    pub function: String,
    /// Byte span of the called name.
    pub span: Range<usize>,
    pub job: Option<Expr>,
    pub instance: Instance,
}

static CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\.(?P<js>pushAdd|push)\s*\(",
        r"|\b(?P<py>push_to_gateway|pushadd_to_gateway)\s*\(",
        r"|\b(?P<go>push\.New)\s*\(",
        r"|(?P<url>/metrics/job/)",
    ))
    .expect("static regex")
});

/// A value: a quoted string or a (dotted) name, then a delimiter (so
/// `prefix + "-api"` is not read as `prefix`).
static VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(?:'(?P<sq>[^'\\\n]*)'|"(?P<dq>[^"\\\n]*)"|`(?P<bq>[^`$\\\n]*)`|(?P<id>[A-Za-z_$][\w$.]*))\s*(?:[,})\]]|$)"#)
        .expect("static regex")
});

static JS_JOB: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bjobName\s*:\s*").expect("static regex"));
static JS_GROUPINGS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bgroupings\s*:\s*(?P<open>\{)?").expect("static regex"));
static PY_JOB: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bjob\s*=\s*").expect("static regex"));
static PY_GROUPING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bgrouping_key\s*=\s*(?P<open>\{)?").expect("static regex"));
static INSTANCE_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?:^|[{,\s])['"]?instance['"]?\s*:\s*"#).expect("static regex"));
static GO_JOB: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"^[^,]+,\s*"([^"\n]*)""#).expect("static regex"));
static GO_GROUPING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\.\s*Grouping\s*\(\s*"instance"\s*,\s*"#).expect("static regex"));
static URL_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<job>[A-Za-z0-9_.\-]+|\$\{?\w+\}?)(?:/instance/(?P<inst>[A-Za-z0-9_.\-]+|\$\{?\w+\}?))?")
        .expect("static regex")
});

/// The value right after a key's match (`jobName: `, `job=`).
fn value_after(key: &Regex, args: &str, text: &str) -> Option<Expr> {
    let end = key.find(args)?.end();
    Some(value_at(args.get(end..).unwrap_or(""), text))
}

fn value_at(rest: &str, text: &str) -> Expr {
    let Some(caps) = VALUE.captures(rest) else {
        return Expr::Unknown(one_argument(rest).trim().to_string());
    };
    if let Some(literal) = caps.name("sq").or(caps.name("dq")).or(caps.name("bq")) {
        return Expr::Literal(literal.as_str().to_string());
    }
    match caps.name("id") {
        Some(id) => expr_of(id.as_str(), text),
        None => Expr::Unknown(String::new()),
    }
}

/// Every push call in `text`. `delete` calls are not pushes and are left out
/// (the mention scanner still lists them).
pub fn push_calls(text: &str) -> Vec<PushCall> {
    let mut calls = Vec::new();
    for caps in CALL.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        let args_start = whole.end();
        let args = balanced_args(text, args_start);
        if let Some(name) = caps.name("js") {
            // `.push(` is every array's push: only a call with a jobName (prom-client) is one,
            // or a registry then a job (Java simpleclient's `push(registry, "job")`).
            let java_job = first_positional(args)
                .filter(|first| first.to_ascii_lowercase().contains("registry"))
                .and_then(|_| second_positional(args))
                .map(|job| expr_of(job, text));
            let Some(job) = value_after(&JS_JOB, args, text).or(java_job) else {
                continue;
            };
            let instance = grouping_instance(args, &JS_GROUPINGS, text);
            calls.push(PushCall {
                function: name.as_str().to_string(),
                span: name.range(),
                job: Some(job),
                instance,
            });
        } else if let Some(name) = caps.name("py") {
            let job = value_after(&PY_JOB, args, text).or_else(|| second_positional(args).map(|a| expr_of(a, text)));
            let instance = grouping_instance(args, &PY_GROUPING, text);
            calls.push(PushCall {
                function: name.as_str().to_string(),
                span: name.range(),
                job,
                instance,
            });
        } else if let Some(name) = caps.name("go") {
            let job = GO_JOB
                .captures(args)
                .and_then(|c| c.get(1))
                .map(|m| Expr::Literal(m.as_str().to_string()));
            let chain = text.get(args_start..(args_start + 400).min(text.len())).unwrap_or("");
            let instance = match value_after(&GO_GROUPING, chain, text) {
                Some(e) => Instance::Value(e),
                None => Instance::None,
            };
            calls.push(PushCall {
                function: name.as_str().to_string(),
                span: name.range(),
                job,
                instance,
            });
        } else if let Some(name) = caps.name("url") {
            let rest = text.get(name.end()..).unwrap_or("");
            let Some(path) = URL_PATH.captures(rest) else { continue };
            let part = |m: Option<regex::Match<'_>>| {
                m.map(|m| {
                    let raw = m.as_str();
                    match raw.strip_prefix('$') {
                        Some(var) => Expr::Env {
                            var: var.trim_matches(['{', '}']).to_string(),
                            default: None,
                        },
                        None => Expr::Literal(raw.to_string()),
                    }
                })
            };
            calls.push(PushCall {
                function: "/metrics/job/".into(),
                span: name.range(),
                job: part(path.name("job")),
                instance: match part(path.name("inst")) {
                    Some(e) => Instance::Value(e),
                    None => Instance::None,
                },
            });
        }
    }
    // Micrometer's Pushgateway job, as a property (`…pushgateway.job=batch`, or `: batch`).
    for caps in MICROMETER_JOB.captures_iter(text) {
        let (Some(key), Some(value)) = (caps.name("key"), caps.name("value")) else {
            continue;
        };
        calls.push(PushCall {
            function: key.as_str().to_string(),
            span: key.range(),
            job: Some(Expr::Literal(value.as_str().trim_matches(['"', '\'']).to_string())),
            instance: Instance::Unknown,
        });
    }
    calls.sort_by_key(|c| c.span.start);
    calls
}

static MICROMETER_JOB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?m)(?P<key>[\w.-]*pushgateway\.job)\s*[=:]\s*(?P<value>"[^"
]*"|'[^'
]*'|[^\s#]+)"#,
    )
    .expect("static regex")
});

/// The arguments of the call whose `(` ends just before `start`, as written.
pub fn call_arguments(text: &str, start: usize) -> &str {
    balanced_args(text, start)
}

/// Call arguments split at their top-level commas (brackets and quotes kept whole).
pub fn split_arguments(args: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in args.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '(' | '{' | '[' => depth += 1,
                ')' | '}' | ']' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    parts.push(args.get(start..i).unwrap_or("").trim());
                    start = i + 1;
                }
                _ => {}
            },
        }
    }
    let last = args.get(start..).unwrap_or("").trim();
    if !last.is_empty() {
        parts.push(last);
    }
    parts
}

/// The first argument of a call, trimmed.
fn first_positional(args: &str) -> Option<&str> {
    let end = args.find(',')?;
    args.get(..end).map(str::trim).filter(|a| !a.is_empty())
}

/// The text between `(` (just before `start`) and its closing `)`, at most a
/// few lines; quotes are skipped so a `)` in a string does not end it.
fn balanced_args(text: &str, start: usize) -> &str {
    let rest = text.get(start..).unwrap_or("");
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in rest.char_indices() {
        if i > 2000 {
            return rest.get(..i).unwrap_or("");
        }
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '(' | '{' | '[' => depth += 1,
                ')' | '}' | ']' if depth == 0 => return rest.get(..i).unwrap_or(""),
                ')' | '}' | ']' => depth -= 1,
                _ => {}
            },
        }
    }
    rest
}

/// The grouping key's instance: `groupings: {instance: …}` (JS) or
/// `grouping_key={"instance": …}` (Python).
fn grouping_instance(args: &str, key: &Regex, text: &str) -> Instance {
    let Some(caps) = key.captures(args) else {
        return Instance::None;
    };
    let (Some(whole), Some(_)) = (caps.get(0), caps.name("open")) else {
        // `grouping_key=keys`: built elsewhere.
        return Instance::Unknown;
    };
    let map = balanced_args(args, whole.end());
    match value_after(&INSTANCE_KEY, map, text) {
        Some(e) => Instance::Value(e),
        None => Instance::None,
    }
}

/// The text up to the end of one argument: a `,` or closing bracket outside
/// quotes and brackets, or the end of the line.
fn one_argument(rest: &str) -> &str {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in rest.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '(' | '{' | '[' => depth += 1,
                ',' | ')' | '}' | ']' | '\n' if depth == 0 => return rest.get(..i).unwrap_or(rest),
                ')' | '}' | ']' => depth -= 1,
                _ => {}
            },
        }
    }
    rest
}

fn second_positional(args: &str) -> Option<&str> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut starts = vec![0];
    for (i, c) in args.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' | '{' | '[' => depth += 1,
                ')' | '}' | ']' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => starts.push(i + 1),
                _ => {}
            },
        }
    }
    let start = *starts.get(1)?;
    let end = starts.get(2).map_or(args.len(), |e| e - 1);
    let arg = args.get(start..end)?.trim();
    (!arg.contains('=')).then_some(arg)
}

static ASSIGNMENT_RHS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*(?:(?:export\s+)?(?:const|let|var)\s+)?(?P<name>[A-Za-z_$][\w$]*)\s*(?::\s*\w+\s*)?=\s*(?P<rhs>[^\n;]+)")
        .expect("static regex")
});
static ENV_READ: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"^(?:process\.env\.(?P<js>\w+)|process\.env\[\s*['"](?P<jsb>\w+)['"]\s*\])"#,
        r#"(?:\s*(?:\|\||\?\?)\s*['"`](?P<jsd>[^'"`]*)['"`])?\s*$"#,
        r#"|^os\.(?:environ\.get|getenv)\(\s*['"](?P<py>\w+)['"]\s*(?:,\s*['"](?P<pyd>[^'"]*)['"]\s*)?\)\s*$"#,
        r#"|^os\.environ\[\s*['"](?P<pyb>\w+)['"]\s*\]\s*$"#,
        r#"|^os\.Getenv\(\s*"(?P<go>\w+)"\s*\)\s*$"#,
    ))
    .expect("static regex")
});

/// What an expression (a literal, an env read, or a name assigned one of
/// those in the same file) evaluates to, as far as it can be read.
fn expr_of(source: &str, text: &str) -> Expr {
    let source = source.trim();
    if let Some(literal) = quoted(source) {
        return Expr::Literal(literal.to_string());
    }
    if let Some(env) = env_read(source) {
        return env;
    }
    if source.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$') {
        let rhs = ASSIGNMENT_RHS
            .captures_iter(text)
            .find(|c| c.name("name").is_some_and(|n| n.as_str() == source))
            .and_then(|c| c.name("rhs"))
            .map(|m| m.as_str().trim().trim_end_matches(',').trim());
        if let Some(rhs) = rhs {
            if let Some(literal) = quoted(rhs) {
                return Expr::Literal(literal.to_string());
            }
            if let Some(env) = env_read(rhs) {
                return env;
            }
        }
    }
    Expr::Unknown(source.to_string())
}

fn env_read(source: &str) -> Option<Expr> {
    let caps = ENV_READ.captures(source)?;
    let var = ["js", "jsb", "py", "pyb", "go"]
        .iter()
        .find_map(|g| caps.name(g))?
        .as_str()
        .to_string();
    let default = caps.name("jsd").or(caps.name("pyd")).map(|m| m.as_str().to_string());
    Some(Expr::Env { var, default })
}

fn quoted(source: &str) -> Option<&str> {
    ['\'', '"', '`'].iter().find_map(|q| {
        let inner = source.strip_prefix(*q)?.strip_suffix(*q)?;
        let template = *q == '`' && inner.contains("${");
        (!inner.contains([*q, '\n']) && !template).then_some(inner)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(text: &str) -> Vec<String> {
        push_calls(text)
            .iter()
            .map(|c| {
                let instance = match &c.instance {
                    Instance::None => "no instance".to_string(),
                    Instance::Value(e) => format!("instance {}", e.describe()),
                    Instance::Unknown => "instance unknown".to_string(),
                };
                let job = c.job.as_ref().map_or("?".to_string(), Expr::describe);
                format!("{} job {job}, {instance}", c.function)
            })
            .collect()
    }

    #[test]
    fn prom_client_push_add_with_literals() {
        let js = "await gateway.pushAdd({ jobName: 'metrics-api', groupings: { instance: 'app-1' } });\n";
        assert_eq!(summary(js), ["pushAdd job \"metrics-api\", instance \"app-1\""]);
        let no_instance = "gateway.pushAdd({ jobName: 'api' }).catch((err) => {\n  console.error(err);\n});\n";
        assert_eq!(summary(no_instance), ["pushAdd job \"api\", no instance"]);
    }

    #[test]
    fn java_simpleclient_and_micrometer_name_their_job() {
        let java = "PushGateway pg = new PushGateway(\"pushgateway:9091\");\npg.pushAdd(registry, \"pushgateway\");\n";
        assert_eq!(summary(java), ["pushAdd job \"pushgateway\", no instance"]);
        let properties = "management.prometheus.metrics.export.pushgateway.job=billing\n";
        assert_eq!(
            summary(properties),
            ["management.prometheus.metrics.export.pushgateway.job job \"billing\", instance unknown"]
        );
    }

    #[test]
    fn array_push_is_not_a_push_call() {
        assert!(summary("chunks.push(chunk);\nitems.push({ a: 1 });\n").is_empty());
    }

    #[test]
    fn python_names_are_followed_to_their_env_reads() {
        let py = r#"
PUSHGATEWAY = os.environ.get("PUSHGATEWAY", "pushgateway:9091")
INSTANCE = os.environ.get("ETL_INSTANCE", "etl-1")

def push():
    push_to_gateway(PUSHGATEWAY, job="batch-etl", registry=registry,
                    grouping_key={"instance": INSTANCE})
"#;
        assert_eq!(
            summary(py),
            ["push_to_gateway job \"batch-etl\", instance $ETL_INSTANCE (default \"etl-1\")"]
        );
        let env = |var: &str| (var == "ETL_INSTANCE").then(|| "etl-7".to_string());
        let call = &push_calls(py)[0];
        let Instance::Value(instance) = &call.instance else {
            panic!("{call:?}")
        };
        assert_eq!(instance.resolve(&env).as_deref(), Some("etl-7"));
    }

    #[test]
    fn positional_job_js_env_fallbacks_go_and_curl() {
        let py = "pushadd_to_gateway(GW, 'nightly', registry=r, grouping_key=keys)\n";
        assert_eq!(summary(py), ["pushadd_to_gateway job \"nightly\", instance unknown"]);
        let js = "const JOB = process.env.JOB_NAME || 'api';\ngw.push({ jobName: JOB });\n";
        assert_eq!(summary(js), ["push job $JOB_NAME (default \"api\"), no instance"]);
        let go = "pusher := push.New(url, \"db_backup\").\n\tCollector(c).\n\tGrouping(\"instance\", \"db1\")\n";
        assert_eq!(summary(go), ["push.New job \"db_backup\", instance \"db1\""]);
        let sh = "cat m | curl --data-binary @- \"$GW/metrics/job/backup/instance/${HOSTNAME}\"\n";
        assert_eq!(summary(sh), ["/metrics/job/ job \"backup\", instance $HOSTNAME"]);
    }

    #[test]
    fn unreadable_arguments_are_unknown_not_guessed() {
        let js = "gateway.pushAdd({ jobName: `${prefix}-api`, groupings: labels() });\n";
        assert_eq!(summary(js), ["pushAdd job ``${prefix}-api``, instance unknown"]);
        let js = "gateway.pushAdd({ jobName: prefix + '-api' });\n";
        assert_eq!(summary(js), ["pushAdd job `prefix + '-api'`, no instance"]);
    }
}
