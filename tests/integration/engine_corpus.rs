//! A regression corpus nobody here wrote: the queries of promql-parser's own parser tests.
//!
//! promql-parser (crates.io, Apache-2.0), the parser pullover reads PromQL with, keeps its parser,
//! lexer and printer test tables as Rust string literals in its sources; most are ported from
//! Prometheus's own parser tests (promql/parser/*_test.go, Apache-2.0). This file reads them at
//! test time from the copy cargo fetched from crates.io for this build
//! (`$CARGO_HOME/registry/src/*/promql-parser-<the version Cargo.lock pins>`), keeps the ones
//! promql-parser parses, and checks pullover against them. Nothing of that corpus is copied into
//! this repository. Without the crate's sources on disk (a vendored build, say) the tests say
//! SKIPPED, and fail under CI.
//!
//! - None of them selects a pushed series, so none may change, under either `honor_labels`.
//! - Each one whose selectors can be made to select an app's pushed series (the pushed job's
//!   matchers added to every selector) must come back as the same expression with the scraped
//!   job's matchers in their place: byte for byte, everything else as written. It is read as the
//!   Prometheus that accepts it: 2.45, or 3.x (flags on) for `double_exponential_smoothing`, quoted
//!   UTF-8 names and the like.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pullover::promql::{
    AppMapping, Dialect, PrometheusVersion, QueryFindingKind, SeriesMapping, VersionSource, accepted_by,
    rewrite_query_in, selectors,
};

use promql_parser::parser::Expr;
use promql_parser::util::{ExprVisitor, walk_expr};

use crate::support::repo_root;

/// The files of promql-parser whose test tables make the corpus, and where in each they start.
const SOURCES: &[(&str, &str)] = &[
    ("src/parser/parse.rs", "mod tests {"),
    ("src/parser/lex.rs", "mod tests {"),
    ("src/parser/ast.rs", "mod tests {"),
    ("tests/ser.rs", ""),
];

/// Fewer than this many expressions means the extraction broke, not that the corpus shrank.
const FLOOR: usize = 300;

/// The corpus, or `None` (after saying so) when promql-parser's sources are not on disk.
fn corpus() -> Option<Vec<String>> {
    let Some(dir) = promql_parser_sources() else {
        let why = "promql-parser's sources are not in $CARGO_HOME/registry/src (`cargo fetch` puts them there)";
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!("{why}");
        }
        eprintln!("SKIPPED: {why}");
        return None;
    };
    let mut seen = BTreeSet::new();
    let mut corpus = Vec::new();
    for (file, start) in SOURCES {
        let path = dir.join(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let section = text.find(start).map_or("", |at| &text[at..]);
        for query in test_table_strings(section) {
            let query = query.trim().to_string();
            if !query.is_empty() && promql_parser::parser::parse(&query).is_ok() && seen.insert(query.clone()) {
                corpus.push(query);
            }
        }
    }
    assert!(
        corpus.len() >= FLOOR,
        "only {} expressions read from {}",
        corpus.len(),
        dir.display()
    );
    Some(corpus)
}

/// `$CARGO_HOME/registry/src/<index>/promql-parser-<version>` (`~/.cargo` without `CARGO_HOME`),
/// for the version Cargo.lock pins.
fn promql_parser_sources() -> Option<PathBuf> {
    let lock = std::fs::read_to_string(repo_root().join("Cargo.lock")).expect("read Cargo.lock");
    let versions = locked_versions(&lock, "promql-parser");
    assert_eq!(versions.len(), 1, "promql-parser versions in Cargo.lock: {versions:?}");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))?;
    let mut indexes: Vec<PathBuf> = std::fs::read_dir(cargo_home.join("registry/src"))
        .ok()?
        .flatten()
        .map(|entry| entry.path())
        .collect();
    indexes.sort();
    indexes
        .into_iter()
        .map(|index| index.join(format!("promql-parser-{}", versions[0])))
        .find(|dir| dir.join("src/parser/parse.rs").is_file())
}

/// The versions of `name` in a Cargo.lock.
fn locked_versions(lock: &str, name: &str) -> Vec<String> {
    lock.split("[[package]]")
        .filter(|block| block.lines().any(|line| line.trim() == format!("name = \"{name}\"")))
        .filter_map(|block| {
            block.lines().find_map(|line| {
                let value = line.trim().strip_prefix("version = ")?;
                Some(value.trim_matches('"').to_string())
            })
        })
        .collect()
}

#[derive(Debug, PartialEq)]
enum Token {
    Str(String),
    Word,
    Punct(char),
}

/// The string literals of Rust test source that are test inputs: the first element of a tuple
/// (`("foo + bar", Expr…)`, also a macro's first argument, `assert_json_ser_eq!("foo", …)`), an
/// element of a list bound by `let` (`let cases = ["a", "b"]`, `vec![…]`), and a string bound by
/// `let` (`let case = r#"…"#;`). Which of them are PromQL the parser decides.
fn test_table_strings(source: &str) -> Vec<String> {
    let tokens = tokenize(source);
    let punct = |i: Option<usize>| {
        i.and_then(|i| tokens.get(i)).and_then(|t| match t {
            Token::Punct(c) => Some(*c),
            _ => None,
        })
    };
    // For each open bracket: the bracket, and whether it opens a list bound by `let … =`.
    let mut open: Vec<(char, bool)> = Vec::new();
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Punct(c @ ('(' | '[' | '{')) => {
                let before = |n: usize| i.checked_sub(n);
                // `= [` or `= vec![`.
                let let_list = *c == '['
                    && (punct(before(1)) == Some('=')
                        || (punct(before(1)) == Some('!')
                            && before(2).and_then(|j| tokens.get(j)) == Some(&Token::Word)
                            && punct(before(3)) == Some('=')));
                open.push((*c, let_list));
            }
            Token::Punct(')' | ']' | '}') => {
                open.pop();
            }
            Token::Str(text) => {
                let prev = punct(i.checked_sub(1));
                let next = punct(Some(i + 1));
                let tuple_first = prev == Some('(')
                    && next == Some(',')
                    && !matches!(i.checked_sub(2).and_then(|j| tokens.get(j)), Some(Token::Word));
                let list_element = matches!(open.last(), Some(('[', true)))
                    && matches!(prev, Some('[' | ','))
                    && matches!(next, Some(',' | ']'));
                let bound = prev == Some('=') && next == Some(';');
                if tuple_first || list_element || bound {
                    found.push(text.clone());
                }
            }
            _ => {}
        }
    }
    found
}

/// Rust source as string literals (their values), words and punctuation; comments, whitespace
/// and char literals dropped.
fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = |n: usize| chars.get(i + n).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(1) == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(1) == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some((value, end)) = raw_string(&chars, i) {
            tokens.push(Token::Str(value));
            i = end;
        } else if c == '"' || (c == 'b' && at(1) == Some('"')) {
            let (value, end) = quoted_string(&chars, if c == 'b' { i + 1 } else { i });
            tokens.push(Token::Str(value));
            i = end;
        } else if c == '\'' {
            // A char literal ('a', '\'', '\u{7}') or a lifetime ('a).
            if at(1) == Some('\\') {
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(2) == Some('\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if ident(c) {
            while i < chars.len() && ident(chars[i]) {
                i += 1;
            }
            tokens.push(Token::Word);
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    tokens
}

/// `r"…"`, `r#"…"#`, `br"…"` at `i` (not inside a word): its text and where it ends.
fn raw_string(chars: &[char], i: usize) -> Option<(String, usize)> {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    j += hashes;
    if chars.get(j) != Some(&'"') {
        return None;
    }
    let start = j + 1;
    let mut k = start;
    while k < chars.len() {
        if chars[k] == '"' && chars[k + 1..].iter().take(hashes).filter(|&&c| c == '#').count() == hashes {
            return Some((chars[start..k].iter().collect(), k + 1 + hashes));
        }
        k += 1;
    }
    None
}

/// The value of the `"…"` starting at `i` (escapes resolved) and where it ends.
fn quoted_string(chars: &[char], i: usize) -> (String, usize) {
    let mut value = String::new();
    let mut k = i + 1;
    while k < chars.len() {
        match chars[k] {
            '"' => return (value, k + 1),
            '\\' => {
                k += 1;
                match chars.get(k).copied() {
                    Some('n') => value.push('\n'),
                    Some('r') => value.push('\r'),
                    Some('t') => value.push('\t'),
                    Some('0') => value.push('\0'),
                    Some('x') => {
                        let hex: String = chars[k + 1..].iter().take(2).collect();
                        value.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
                        k += 2;
                    }
                    Some('u') => {
                        let close = chars[k..].iter().position(|&c| c == '}').map_or(k, |p| k + p);
                        let hex: String = chars[k + 2..close].iter().collect();
                        value.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
                        k = close;
                    }
                    Some('\n') => {
                        // A line continuation: the newline and the next line's indent go.
                        while chars.get(k + 1).is_some_and(|c| c.is_whitespace()) {
                            k += 1;
                        }
                    }
                    Some(other) => value.push(other),
                    None => {}
                }
            }
            other => value.push(other),
        }
        k += 1;
    }
    (value, k)
}

fn mapping(honor_labels: bool) -> SeriesMapping {
    SeriesMapping {
        honor_labels,
        gateway_job: "pushgateway".to_string(),
        gateway_instances: vec!["pushgateway:9091".to_string()],
        apps: vec![AppMapping {
            pushed_job: "batch-etl".to_string(),
            pushed_instances: vec!["etl-1".to_string()],
            scrape_job: "batch-etl".to_string(),
            scrape_instance: "batch-etl:9102".to_string(),
            metrics: Vec::new(),
        }],
    }
}

fn dialect(major: u32, minor: u32, features: &[&str]) -> Dialect {
    Dialect::new(
        PrometheusVersion::new(major, minor),
        features.iter().map(|f| f.to_string()).collect(),
        VersionSource::Settings,
    )
}

/// Prometheus 2.45 as most Compose stacks pin it, and the newest 3.x with every feature flag.
fn dialects() -> [Dialect; 2] {
    [
        dialect(2, 45, &[]),
        dialect(
            3,
            11,
            &[
                "promql-experimental-functions",
                "promql-duration-expr",
                "promql-extended-range-selectors",
                "promql-binop-fill-modifiers",
            ],
        ),
    ]
}

/// Expressions the parser does not read, each for a reason outside pullover's reach.
const UNREADABLE: &[&str] = &[];

#[test]
fn no_engine_test_expression_changes_when_it_selects_no_pushed_series() {
    let Some(corpus) = corpus() else {
        return;
    };
    let mut unreadable = Vec::new();
    let mut checked = 0;
    for expr in &corpus {
        for honor_labels in [true, false] {
            for dialect in &dialects() {
                match rewrite_query_in(expr, &mapping(honor_labels), dialect) {
                    Err(error) => {
                        if honor_labels && dialect.version.major == 3 {
                            unreadable.push(format!("{expr}: {}", error.message));
                        }
                    }
                    Ok(rewrite) => {
                        assert_eq!(
                            rewrite.text,
                            None,
                            "`{expr}` changed (honor_labels {honor_labels}, {})",
                            dialect.describe()
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    let unexpected: Vec<&String> = unreadable
        .iter()
        .filter(|line| !UNREADABLE.iter().any(|u| line.starts_with(&format!("{u}: "))))
        .collect();
    assert!(unexpected.is_empty(), "unreadable:\n{}", unreadable.join("\n"));
    eprintln!(
        "{checked} rewrites of {} expressions checked, none changed",
        corpus.len()
    );
}

/// The labels pushed series carry, and what their scraped twins carry, per `honor_labels`.
fn pushed_and_scraped(honor_labels: bool) -> (&'static str, &'static str) {
    if honor_labels {
        (
            r#"job="batch-etl", instance="etl-1""#,
            r#"job="batch-etl", instance="batch-etl:9102""#,
        )
    } else {
        (r#"job="pushgateway", exported_job="batch-etl""#, r#"job="batch-etl""#)
    }
}

/// `expr` with `matchers` added to every selector, or `None` when a selector already names the
/// labels a pushed series is told by (or is no app metric at all).
fn with_matchers(expr: &str, matchers: &str) -> Option<String> {
    let views = selectors(expr).ok()?;
    if views.is_empty() {
        return None;
    }
    let mut out = expr.to_string();
    for view in views.iter().rev() {
        let metric = view.metric.as_deref()?;
        let per_target = metric == "up"
            || ["scrape_", "go_", "process_", "pushgateway_", "push_"]
                .iter()
                .any(|p| metric.starts_with(p));
        if per_target || metric.contains(':') {
            return None;
        }
        if view.matchers.iter().any(|m| {
            matches!(
                m.label.as_str(),
                "job" | "instance" | "exported_job" | "exported_instance" | "__name__"
            )
        }) {
            return None;
        }
        let text = expr.get(view.span.clone())?;
        let new = match text.find('{') {
            Some(open) if text.ends_with('}') => {
                let inner = &text[open + 1..text.len() - 1];
                let glue = if inner.trim().is_empty() {
                    ""
                } else if inner.trim_end().ends_with(',') {
                    " "
                } else {
                    ", "
                };
                format!("{}{inner}{glue}{matchers}}}", &text[..=open])
            }
            _ => format!("{text}{{{matchers}}}"),
        };
        out.replace_range(view.span.clone(), &new);
    }
    Some(out)
}

/// Label lists and functions over `job`/`instance`/`exported_*` read the labels themselves:
/// such expressions are not turned into app queries by adding matchers alone.
fn reads_identity_labels(expr: &str) -> bool {
    ["job", "instance", "exported_job", "exported_instance"]
        .iter()
        .any(|label| {
            expr.contains(&format!("\"{label}\"")) || {
                // by (…, job), on(instance, job), ignoring (group, instance, job) …
                expr.split(['(', ')'])
                    .any(|part| part.split(',').any(|word| word.trim() == *label))
            }
        })
}

#[test]
fn engine_test_expressions_given_pushed_selectors_are_rewritten_exactly() {
    let Some(corpus) = corpus() else {
        return;
    };
    let mut exact = 0;
    let mut misses = Vec::new();
    let mut read_as_3x = 0;
    let mut not_prometheus = 0;
    for expr in &corpus {
        if reads_identity_labels(expr) {
            continue;
        }
        // promql-parser's own extensions (`integral`, `or` between matchers) are no Prometheus
        // query: pullover reports and keeps them, which the other test covers.
        if uses_or_between_matchers(expr) || !dialects().iter().any(|d| accepted_by(expr, d).is_ok()) {
            not_prometheus += 1;
            continue;
        }
        for honor_labels in [true, false] {
            let (pushed, scraped) = pushed_and_scraped(honor_labels);
            let (Some(input), Some(expected)) = (with_matchers(expr, pushed), with_matchers(expr, scraped)) else {
                continue;
            };
            // Read by the release that accepts it; every expression here is read by one of them.
            let Some(dialect) = dialects().into_iter().find(|d| accepted_by(&input, d).is_ok()) else {
                misses.push(format!("`{input}`: no release reads it"));
                continue;
            };
            match rewrite_query_in(&input, &mapping(honor_labels), &dialect) {
                Ok(rewrite) if rewrite.text.as_deref() == Some(expected.as_str()) => {
                    let blocking = rewrite
                        .findings
                        .iter()
                        .any(|f| f.blocks_rewrite || f.kind == QueryFindingKind::RejectedByPrometheusVersion);
                    assert!(!blocking, "`{input}`: {:?}", rewrite.findings);
                    exact += 1;
                    read_as_3x += usize::from(dialect.version.major == 3);
                }
                Ok(rewrite) => misses.push(format!(
                    "`{input}` (honor_labels {honor_labels}, {}) became {:?}, not `{expected}`; findings: {:?}",
                    dialect.describe(),
                    rewrite.text,
                    rewrite.findings.iter().map(|f| f.message.as_str()).collect::<Vec<_>>()
                )),
                Err(error) => misses.push(format!("`{input}`: {}", error.message)),
            }
        }
    }
    assert!(
        misses.is_empty(),
        "{} of {} not exact:\n{}",
        misses.len(),
        exact + misses.len(),
        misses.join("\n")
    );
    assert!(exact > 300, "only {exact} rewrites checked");
    // Some are 3.x only (quoted UTF-8 names, experimental functions), read as the 3.x they are
    // written for.
    assert!(read_as_3x > 0, "no rewrite read as 3.x");
    eprintln!(
        "{exact} rewrites exact ({read_as_3x} read as 3.x), none missed; {not_prometheus} expressions no Prometheus reads left out"
    );
}

/// `{a="1" or b="2"}`: matchers added to such a selector join its last alternative only.
fn uses_or_between_matchers(expr: &str) -> bool {
    struct Finder(bool);
    impl ExprVisitor for Finder {
        type Error = ();
        fn pre_visit(&mut self, expr: &Expr) -> Result<bool, ()> {
            let selector = match expr {
                Expr::VectorSelector(selector) => Some(selector),
                Expr::MatrixSelector(matrix) => Some(&matrix.vs),
                _ => None,
            };
            self.0 |= selector.is_some_and(|s| !s.matchers.or_matchers.is_empty());
            Ok(true)
        }
    }
    let mut finder = Finder(false);
    promql_parser::parser::parse(expr).is_ok_and(|ast| walk_expr(&mut finder, &ast).is_ok() && finder.0)
}
