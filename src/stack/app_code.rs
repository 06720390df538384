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
        let args = balanced_args(text, whole.end());
        let (name, read) = if let Some(name) = caps.name("js") {
            (name, js_push(args, text))
        } else if let Some(name) = caps.name("py") {
            (name, Some(py_push(args, text)))
        } else if let Some(name) = caps.name("go") {
            (name, Some(go_push(args, whole.end(), text)))
        } else if let Some(name) = caps.name("url") {
            (name, url_push(text.get(name.end()..).unwrap_or("")))
        } else {
            continue;
        };
        if let Some((job, instance)) = read {
            calls.push(PushCall {
                function: name.as_str().to_string(),
                span: name.range(),
                job,
                instance,
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

/// What a call's job and grouping key say.
type JobAndInstance = (Option<Expr>, Instance);

/// prom-client's `.pushAdd(`/`.push(`, or Java simpleclient's `push(registry, "job")`. `.push(`
/// is every array's push: only a call with a jobName, or a registry then a job, is one.
fn js_push(args: &str, text: &str) -> Option<JobAndInstance> {
    let java_job = first_positional(args)
        .filter(|first| first.to_ascii_lowercase().contains("registry"))
        .and_then(|_| second_positional(args))
        .map(|job| expr_of(job, text));
    let job = value_after(&JS_JOB, args, text).or(java_job)?;
    Some((Some(job), grouping_instance(args, &JS_GROUPINGS, text)))
}

/// prometheus_client's `push_to_gateway(gateway, job=…, grouping_key=…)`.
fn py_push(args: &str, text: &str) -> JobAndInstance {
    let job = value_after(&PY_JOB, args, text).or_else(|| second_positional(args).map(|a| expr_of(a, text)));
    (job, grouping_instance(args, &PY_GROUPING, text))
}

/// client_golang's `push.New(url, "job")`, its `.Grouping("instance", …)` read from the chain
/// that follows (`args_start` is where its arguments begin).
fn go_push(args: &str, args_start: usize, text: &str) -> JobAndInstance {
    let job = GO_JOB
        .captures(args)
        .and_then(|c| c.get(1))
        .map(|m| Expr::Literal(m.as_str().to_string()));
    let chain = text.get(args_start..(args_start + 400).min(text.len())).unwrap_or("");
    (job, instance_of(value_after(&GO_GROUPING, chain, text)))
}

/// A push URL (`curl …/metrics/job/backup/instance/$HOST`): `rest` follows `/metrics/job/`.
fn url_push(rest: &str) -> Option<JobAndInstance> {
    let path = URL_PATH.captures(rest)?;
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
    Some((part(path.name("job")), instance_of(part(path.name("inst")))))
}

/// A grouping key's `instance` read as a value, or none at all.
fn instance_of(value: Option<Expr>) -> Instance {
    match value {
        Some(e) => Instance::Value(e),
        None => Instance::None,
    }
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

/// Quotes of the languages whose calls are read (JS template literals included).
const QUOTES: &[char] = &['\'', '"', '`'];

/// Each character of `text` with its byte index and, outside a quoted string (`quotes`) and
/// not a quote itself, the bracket depth it stands at: how calls are read without a parser.
fn structure<'t>(text: &'t str, quotes: &'static [char]) -> impl Iterator<Item = (usize, char, Option<usize>)> + 't {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    text.char_indices().map(move |(i, c)| {
        let at = match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                None
            }
            None if quotes.contains(&c) => {
                quote = Some(c);
                None
            }
            None => Some(depth),
        };
        match (at, c) {
            (Some(_), '(' | '{' | '[') => depth += 1,
            (Some(_), ')' | '}' | ']') => depth = depth.saturating_sub(1),
            _ => {}
        }
        (i, c, at)
    })
}

/// Call arguments split at their top-level commas (brackets and quotes kept whole).
pub fn split_arguments(args: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c, depth) in structure(args, QUOTES) {
        if c == ',' && depth == Some(0) {
            parts.push(args.get(start..i).unwrap_or("").trim());
            start = i + 1;
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
    for (i, c, depth) in structure(rest, QUOTES) {
        if i > 2000 || (matches!(c, ')' | '}' | ']') && depth == Some(0)) {
            return rest.get(..i).unwrap_or("");
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
    instance_of(value_after(&INSTANCE_KEY, map, text))
}

/// The text up to the end of one argument: a `,` or closing bracket outside
/// quotes and brackets, or the end of the line.
fn one_argument(rest: &str) -> &str {
    structure(rest, QUOTES)
        .find(|&(_, c, depth)| matches!(c, ',' | ')' | '}' | ']' | '\n') && depth == Some(0))
        .map_or(rest, |(i, _, _)| rest.get(..i).unwrap_or(rest))
}

/// The second argument of a call, trimmed, unless it is a keyword argument (`job=…`).
fn second_positional(args: &str) -> Option<&str> {
    // Only `'` and `"` quote here: a backtick in these arguments is read as text.
    let mut starts = vec![0];
    starts.extend(
        structure(args, &['\'', '"'])
            .filter(|&(_, c, depth)| c == ',' && depth == Some(0))
            .map(|(i, _, _)| i + 1),
    );
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

    /// What each case shows, the code, and the calls read from it.
    const CASES: &[(&str, &str, &[&str])] = &[
        (
            "prom-client's pushAdd with literals",
            "await gateway.pushAdd({ jobName: 'metrics-api', groupings: { instance: 'app-1' } });\n",
            &["pushAdd job \"metrics-api\", instance \"app-1\""],
        ),
        (
            "no groupings: no instance",
            "gateway.pushAdd({ jobName: 'api' }).catch((err) => {\n  console.error(err);\n});\n",
            &["pushAdd job \"api\", no instance"],
        ),
        (
            "Java simpleclient names its job after the registry",
            "PushGateway pg = new PushGateway(\"pushgateway:9091\");\npg.pushAdd(registry, \"pushgateway\");\n",
            &["pushAdd job \"pushgateway\", no instance"],
        ),
        (
            "Micrometer names its job in a property",
            "management.prometheus.metrics.export.pushgateway.job=billing\n",
            &["management.prometheus.metrics.export.pushgateway.job job \"billing\", instance unknown"],
        ),
        (
            "an array's push is not a push call",
            "chunks.push(chunk);\nitems.push({ a: 1 });\n",
            &[],
        ),
        (
            "a positional job, and a grouping key built elsewhere",
            "pushadd_to_gateway(GW, 'nightly', registry=r, grouping_key=keys)\n",
            &["pushadd_to_gateway job \"nightly\", instance unknown"],
        ),
        (
            "a name followed to its env read and fallback",
            "const JOB = process.env.JOB_NAME || 'api';\ngw.push({ jobName: JOB });\n",
            &["push job $JOB_NAME (default \"api\"), no instance"],
        ),
        (
            "client_golang's chain",
            "pusher := push.New(url, \"db_backup\").\n\tCollector(c).\n\tGrouping(\"instance\", \"db1\")\n",
            &["push.New job \"db_backup\", instance \"db1\""],
        ),
        (
            "a curl push URL",
            "cat m | curl --data-binary @- \"$GW/metrics/job/backup/instance/${HOSTNAME}\"\n",
            &["/metrics/job/ job \"backup\", instance $HOSTNAME"],
        ),
        (
            "a template literal is unknown, not guessed",
            "gateway.pushAdd({ jobName: `${prefix}-api`, groupings: labels() });\n",
            &["pushAdd job ``${prefix}-api``, instance unknown"],
        ),
        (
            "an expression is unknown, not its first name",
            "gateway.pushAdd({ jobName: prefix + '-api' });\n",
            &["pushAdd job `prefix + '-api'`, no instance"],
        ),
    ];

    #[test]
    fn each_client_library_call_reads_as_the_job_and_instance_it_pushes() {
        for (what, code, calls) in CASES {
            assert_eq!(summary(code), *calls, "{what}");
        }
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
}
