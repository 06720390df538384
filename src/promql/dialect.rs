//! Which Prometheus reads the queries: its version and the `--enable-feature=` flags it runs
//! with, and what of the query language that server accepts.
//!
//! promql-parser follows Prometheus 3.x. pullover parses the union of what 2.x and 3.x accept
//! (the 2.x-only `holt_winters` is registered with the parser under its own name, so no byte of
//! the query changes for the parser, see `parser.rs`) and then checks each
//! query against the stack's own server: a function, modifier or syntax that server rejects is
//! a finding naming the version ([`findings`]), and the query is left as written.
//!
//! The facts below are from Prometheus's release notes (2.40 to 3.11) and its 3.0 migration
//! guide; each entry names the release that brought it, and says so where it rests on less.
//! Functions older than 2.40 (`last_over_time`, `present_over_time`, `sgn`, …) are taken as read
//! by every 2.x release.

use std::fmt;
use std::ops::Range;

use promql_parser::parser::token::{
    T_ANCHORED, T_AT, T_BY, T_COLON, T_COMMA, T_DURATION, T_EQL, T_EQL_REGEX, T_FILL, T_FILL_LEFT, T_FILL_RIGHT,
    T_GROUP_LEFT, T_GROUP_RIGHT, T_IDENTIFIER, T_IGNORING, T_LEFT_BRACE, T_LEFT_BRACKET, T_LEFT_PAREN, T_LIMIT_RATIO,
    T_LIMITK, T_NEQ, T_NEQ_REGEX, T_NUMBER, T_OFFSET, T_ON, T_RIGHT_BRACE, T_RIGHT_BRACKET, T_RIGHT_PAREN, T_SMOOTHED,
    T_STEP, T_STRING, T_SUB, T_WITHOUT,
};

use super::model::{QueryFinding, QueryFindingKind};
use super::structure::Token;

/// A Prometheus release line: `2.45`, `3.1`. Patch releases change no query syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PrometheusVersion {
    pub major: u32,
    pub minor: u32,
}

impl PrometheusVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        PrometheusVersion { major, minor }
    }

    /// The newest release whose query language pullover knows (its release notes were read).
    pub const NEWEST_KNOWN: PrometheusVersion = PrometheusVersion::new(3, 11);

    /// Reads `2.45`, `v2.45.0`, `2.45.0-rc.1`, `v3.1.0-distroless`, `3`. `None` for anything else
    /// (`latest`, `main`, a digest).
    pub fn parse(text: &str) -> Option<PrometheusVersion> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let core = text.split(['-', '+', '_']).next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse::<u32>().ok()?;
        let minor = match parts.next() {
            Some(minor) => minor.parse::<u32>().ok()?,
            None => 0,
        };
        if let Some(patch) = parts.next() {
            patch.parse::<u32>().ok()?;
        }
        if parts.next().is_some() || !(1..=9).contains(&major) {
            return None;
        }
        Some(PrometheusVersion { major, minor })
    }
}

impl fmt::Display for PrometheusVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// How the version was learnt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSource {
    /// The image tag of the Compose service running Prometheus.
    ImageTag { service: String, image: String },
    /// `prometheus_version:` in pullover.yaml.
    Settings,
    /// `/api/v1/status/buildinfo` of the live server.
    Live { url: String },
    /// Nothing said which: the newest release pullover knows is assumed, for the reason given.
    Assumed { reason: String },
}

/// The Prometheus that reads a stack's queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    pub version: PrometheusVersion,
    /// The `--enable-feature=` values of its command line.
    pub features: Vec<String>,
    pub source: VersionSource,
}

impl Dialect {
    pub fn new(version: PrometheusVersion, features: Vec<String>, source: VersionSource) -> Self {
        Dialect {
            version,
            features,
            source,
        }
    }

    /// The newest release pullover knows, assumed because nothing said otherwise.
    pub fn assumed(reason: impl Into<String>) -> Self {
        Dialect::new(
            PrometheusVersion::NEWEST_KNOWN,
            Vec::new(),
            VersionSource::Assumed { reason: reason.into() },
        )
    }

    pub fn is_assumed(&self) -> bool {
        matches!(self.source, VersionSource::Assumed { .. })
    }

    pub fn has_feature(&self, flag: &str) -> bool {
        self.features.iter().any(|f| f == flag)
    }

    /// "Prometheus 2.42 (image prom/prometheus:v2.42.0 of service prometheus)", as findings say it.
    pub fn describe(&self) -> String {
        format!("Prometheus {} ({})", self.version, self.source_text())
    }

    /// Where the version came from, as a person reads it.
    pub fn source_text(&self) -> String {
        match &self.source {
            VersionSource::ImageTag { service, image } => format!("image {image} of service {service}"),
            VersionSource::Settings => "prometheus_version in pullover.yaml".to_string(),
            VersionSource::Live { url } => format!("reported by {url}"),
            VersionSource::Assumed { reason } => format!("assumed: {reason}"),
        }
    }
}

/// `--enable-feature=a,b` (or `--enable-feature a,b`, repeated) of a command line.
pub fn enabled_features<S: AsRef<str>>(command: &[S]) -> Vec<String> {
    let mut features = Vec::new();
    let mut take_next = false;
    for arg in command {
        let arg = arg.as_ref().trim();
        let value = if take_next {
            take_next = false;
            Some(arg)
        } else if let Some(value) = arg.strip_prefix("--enable-feature=") {
            Some(value)
        } else {
            take_next = arg == "--enable-feature";
            None
        };
        for feature in value.into_iter().flat_map(|v| v.split(',')) {
            let feature = feature.trim().trim_matches(|c| c == '"' || c == '\'');
            if !feature.is_empty() && !features.iter().any(|f| f == feature) {
                features.push(feature.to_string());
            }
        }
    }
    features
}

const EXPERIMENTAL_FUNCTIONS: &str = "promql-experimental-functions";
const DURATION_EXPR: &str = "promql-duration-expr";
const EXTENDED_RANGE_SELECTORS: &str = "promql-extended-range-selectors";
const FILL_MODIFIERS: &str = "promql-binop-fill-modifiers";
const UTF8_NAMES: &str = "utf8-names";
const AT_MODIFIER: &str = "promql-at-modifier";
const NEGATIVE_OFFSET: &str = "promql-negative-offset";

/// What a release line accepts of one piece of the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Support {
    /// The first release that reads it (with `flag` until `stable`); `None`: no release up to
    /// [`PrometheusVersion::NEWEST_KNOWN`] pullover knows of.
    since: Option<PrometheusVersion>,
    /// The `--enable-feature=` value it needs from `since` on, until `stable`.
    flag: Option<&'static str>,
    /// From this release on, no flag is needed.
    stable: Option<PrometheusVersion>,
    /// The first release that no longer reads it, and what replaced it.
    removed: Option<(PrometheusVersion, &'static str)>,
}

const fn v(major: u32, minor: u32) -> Option<PrometheusVersion> {
    Some(PrometheusVersion::new(major, minor))
}

const fn experimental(since: Option<PrometheusVersion>, flag: &'static str) -> Support {
    Support {
        since,
        flag: Some(flag),
        stable: None,
        removed: None,
    }
}

const fn stable(since: Option<PrometheusVersion>) -> Support {
    Support {
        since,
        flag: None,
        stable: None,
        removed: None,
    }
}

/// Functions whose support differs between the releases pullover knows. A function not listed
/// here is read by every 2.x and 3.x release pullover expects to meet.
fn function_support(name: &str) -> Option<Support> {
    Some(match name {
        // 3.0: "`holt_winters` is now called `double_exponential_smoothing` and moves behind the
        // experimental-promql-functions feature flag" (#14930).
        "holt_winters" => Support {
            since: v(2, 0),
            flag: None,
            stable: None,
            removed: Some((PrometheusVersion::new(3, 0), "double_exponential_smoothing")),
        },
        "double_exponential_smoothing" => experimental(v(3, 0), EXPERIMENTAL_FUNCTIONS),
        // 2.40 (native histograms), 2.47, 2.51.
        "histogram_count" | "histogram_sum" | "histogram_fraction" => stable(v(2, 40)),
        "histogram_stddev" | "histogram_stdvar" => stable(v(2, 47)),
        "histogram_avg" => stable(v(2, 51)),
        // 2.49: the promql-experimental-functions flag, with these.
        "mad_over_time" | "sort_by_label" | "sort_by_label_desc" => experimental(v(2, 49), EXPERIMENTAL_FUNCTIONS),
        // 2.55: experimental `info` (#14495).
        "info" => experimental(v(2, 55), EXPERIMENTAL_FUNCTIONS),
        // 3.5, 3.7, 3.11.
        "ts_of_min_over_time" | "ts_of_max_over_time" | "ts_of_last_over_time" => {
            experimental(v(3, 5), EXPERIMENTAL_FUNCTIONS)
        }
        "first_over_time" | "ts_of_first_over_time" => experimental(v(3, 7), EXPERIMENTAL_FUNCTIONS),
        "histogram_quantiles" => experimental(v(3, 11), EXPERIMENTAL_FUNCTIONS),
        // 3.6: `step()` and min/max on durations, behind promql-duration-expr.
        "step" | "min_of" | "max_of" => experimental(v(3, 6), DURATION_EXPR),
        // promql-parser knows these; no release notes up to 3.11 name them.
        "start" | "end" | "range" => experimental(None, DURATION_EXPR),
        "integral" => experimental(None, EXPERIMENTAL_FUNCTIONS),
        _ => return None,
    })
}

/// One use, in a query, of something not every release reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Use {
    pub(crate) what: Construct,
    /// Byte range in the expression's text.
    pub(crate) span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Construct {
    Function(String),
    /// `limitk` / `limit_ratio` (2.54, experimental).
    Aggregation(&'static str),
    /// `{"http.server.duration"}`, `{"service.name"="x"}`, `by ("service.name")`.
    QuotedName,
    /// `@ 1609746000`, `@ start()`.
    AtModifier,
    /// `offset -5m`.
    NegativeOffset,
    /// `[5m] anchored`, `[5m] smoothed`. promql-parser 0.11 does not read these yet (nor
    /// duration arithmetic or `1_000`): such queries are `unparseable-query` today, and
    /// reported by version here once it does.
    RangeModifier(&'static str),
    /// `fill(0)`, `fill_left(0)`, `fill_right(0)` on a binary operator.
    FillModifier(&'static str),
    /// Arithmetic in a range or offset: `[5m * 2]`, `offset (1h - 5m)`.
    DurationArithmetic,
    /// `1_000_000`.
    NumberUnderscores,
    /// A plain number as a range or offset: `[300]`, `offset 60`.
    NumberAsDuration,
}

impl Construct {
    fn support(&self) -> Option<Support> {
        match self {
            Construct::Function(name) => function_support(name),
            // 2.54: "add limitk() and limit_ratio() aggregation operators" (#12503), gated like
            // the experimental functions.
            Construct::Aggregation(_) => Some(experimental(v(2, 54), EXPERIMENTAL_FUNCTIONS)),
            // 2.55: UTF-8 names behind `utf8-names`; 3.0: on by default (#14705).
            Construct::QuotedName => Some(Support {
                since: v(2, 55),
                flag: Some(UTF8_NAMES),
                stable: v(3, 0),
                removed: None,
            }),
            // 2.25: `@` behind promql-at-modifier (Prometheus's feature-flags post of 2021), the
            // default from 2.33; 3.0 removed the flag (migration guide). Negative offsets went the
            // same way behind promql-negative-offset; their first release (2.26) and the 2.33
            // default are not from the release notes pullover read.
            Construct::AtModifier => Some(Support {
                since: v(2, 25),
                flag: Some(AT_MODIFIER),
                stable: v(2, 33),
                removed: None,
            }),
            Construct::NegativeOffset => Some(Support {
                since: v(2, 26),
                flag: Some(NEGATIVE_OFFSET),
                stable: v(2, 33),
                removed: None,
            }),
            // 3.7 (#16457).
            Construct::RangeModifier(_) => Some(experimental(v(3, 7), EXTENDED_RANGE_SELECTORS)),
            // 3.10 (#17644).
            Construct::FillModifier(_) => Some(experimental(v(3, 10), FILL_MODIFIERS)),
            // 3.4 (#16249).
            Construct::DurationArithmetic => Some(experimental(v(3, 4), DURATION_EXPR)),
            // 2.54 (#12821).
            Construct::NumberUnderscores => Some(stable(v(2, 54))),
            // 2.54: "float literal numbers and durations are now interchangeable" (#9138).
            Construct::NumberAsDuration => Some(stable(v(2, 54))),
        }
    }

    fn describe(&self) -> String {
        match self {
            Construct::Function(name) => format!("the function `{name}`"),
            Construct::Aggregation(name) => format!("the aggregation `{name}`"),
            Construct::QuotedName => "a quoted (UTF-8) metric or label name".to_string(),
            Construct::AtModifier => "the `@` modifier".to_string(),
            Construct::NegativeOffset => "a negative offset".to_string(),
            Construct::RangeModifier(name) => format!("the `{name}` range modifier"),
            Construct::FillModifier(name) => format!("the `{name}` modifier"),
            Construct::DurationArithmetic => "arithmetic in a duration".to_string(),
            Construct::NumberUnderscores => "a number written with underscores".to_string(),
            Construct::NumberAsDuration => "a number without a unit as a duration".to_string(),
        }
    }
}

/// Why `dialect` rejects `construct`, or `None` when it reads it.
fn rejection(construct: &Construct, dialect: &Dialect) -> Option<String> {
    let support = construct.support()?;
    let version = dialect.version;
    let what = construct.describe();
    if let Some((removed, replacement)) = support.removed
        && version >= removed
    {
        let flag_note = function_support(replacement)
            .and_then(|s| s.flag)
            .filter(|flag| !dialect.has_feature(flag))
            .map(|flag| format!(" (behind --enable-feature={flag}, which the server's command does not set)"))
            .unwrap_or_default();
        return Some(format!(
            "{what} is gone since Prometheus {removed}; it is called `{replacement}` there{flag_note}"
        ));
    }
    match support.since {
        None => {
            return Some(format!(
                "{what} is in no Prometheus release pullover knows (up to {})",
                PrometheusVersion::NEWEST_KNOWN
            ));
        }
        Some(since) if version < since => return Some(format!("{what} came with Prometheus {since}")),
        Some(_) => {}
    }
    let needs_flag = support.stable.is_none_or(|stable| version < stable);
    match support.flag {
        Some(flag) if needs_flag && !dialect.has_feature(flag) => Some(format!(
            "{what} needs --enable-feature={flag}, which the server's command does not set"
        )),
        _ => None,
    }
}

/// A finding for each use `dialect` rejects: the query already fails on that server, so it is
/// left as written. Spans are in the expression's text.
pub(crate) fn findings(uses: &[Use], dialect: &Dialect) -> Vec<QueryFinding> {
    uses.iter()
        .filter_map(|u| {
            let reason = rejection(&u.what, dialect)?;
            Some(QueryFinding {
                kind: QueryFindingKind::RejectedByPrometheusVersion,
                message: format!(
                    "{} rejects this query: {reason}. It fails there as written; left unchanged",
                    dialect.describe()
                ),
                suggestion: None,
                range: Some(u.span.clone()),
                blocks_rewrite: QueryFindingKind::RejectedByPrometheusVersion.blocks_rewrite(),
            })
        })
        .collect()
}

/// Everything in a query (its tokens, of the text with Grafana variables masked) that not every
/// release reads. Spans are the tokens', valid in the original text too.
pub(crate) fn uses(masked: &str, tokens: &[Token]) -> Vec<Use> {
    let id = |i: usize| tokens.get(i).map(|t| t.id);
    let text = |i: usize| tokens.get(i).and_then(|t| masked.get(t.span.clone())).unwrap_or("");
    let span = |i: usize| tokens.get(i).map_or(0..0, |t| t.span.clone());
    let mut found = Vec::new();
    let mut push = |what: Construct, span: Range<usize>| found.push(Use { what, span });
    // Whether the tokens at this depth are inside `{…}`, `[…]` or a label list.
    let mut braces = false;
    let mut brackets: Option<usize> = None;
    let mut label_list = false;
    for (index, token) in tokens.iter().enumerate() {
        let next = id(index + 1);
        let previous = index.checked_sub(1).and_then(id);
        match token.id {
            T_LEFT_BRACE => braces = true,
            T_RIGHT_BRACE => braces = false,
            T_LEFT_BRACKET => brackets = Some(index),
            T_RIGHT_BRACKET => {
                if let Some(open) = brackets.take() {
                    let arithmetic = (open + 1..index)
                        .filter_map(id)
                        .any(|inner| !matches!(inner, T_DURATION | T_NUMBER | T_COLON));
                    // `step()` inside is reported as the function it is.
                    let step = (open + 1..index).filter_map(id).any(|inner| inner == T_STEP);
                    let plain_number = (open + 1..index).filter_map(id).any(|inner| inner == T_NUMBER);
                    if arithmetic && !step {
                        push(Construct::DurationArithmetic, span(open).start..span(index).end);
                    } else if plain_number {
                        push(Construct::NumberAsDuration, span(open).start..span(index).end);
                    }
                }
            }
            T_LEFT_PAREN
                if matches!(
                    previous,
                    Some(T_BY | T_WITHOUT | T_ON | T_IGNORING | T_GROUP_LEFT | T_GROUP_RIGHT)
                ) =>
            {
                label_list = true;
            }
            T_RIGHT_PAREN if label_list => label_list = false,
            T_IDENTIFIER if next == Some(T_LEFT_PAREN) && !label_list && !braces => {
                let name = text(index);
                if function_support(name).is_some() {
                    push(Construct::Function(name.to_string()), span(index));
                }
            }
            T_STEP if next == Some(T_LEFT_PAREN) => push(Construct::Function("step".to_string()), span(index)),
            T_LIMITK | T_LIMIT_RATIO if matches!(next, Some(T_LEFT_PAREN | T_BY | T_WITHOUT)) => {
                let name = if token.id == T_LIMITK { "limitk" } else { "limit_ratio" };
                push(Construct::Aggregation(name), span(index));
            }
            T_STRING if label_list => push(Construct::QuotedName, span(index)),
            T_STRING if braces => {
                let after_item_start = matches!(previous, Some(T_LEFT_BRACE | T_COMMA));
                let is_label = matches!(next, Some(T_EQL | T_NEQ | T_EQL_REGEX | T_NEQ_REGEX));
                let is_metric_name = matches!(next, Some(T_COMMA | T_RIGHT_BRACE));
                if after_item_start && (is_label || is_metric_name) {
                    push(Construct::QuotedName, span(index));
                }
            }
            T_AT => push(Construct::AtModifier, span(index)),
            T_OFFSET if next == Some(T_SUB) => push(Construct::NegativeOffset, span(index).start..span(index + 1).end),
            T_OFFSET if next == Some(T_LEFT_PAREN) => push(Construct::DurationArithmetic, span(index)),
            T_OFFSET if next == Some(T_NUMBER) => {
                push(Construct::NumberAsDuration, span(index).start..span(index + 1).end)
            }
            T_ANCHORED | T_SMOOTHED if previous == Some(T_RIGHT_BRACKET) => {
                let name = if token.id == T_ANCHORED { "anchored" } else { "smoothed" };
                push(Construct::RangeModifier(name), span(index));
            }
            T_FILL | T_FILL_LEFT | T_FILL_RIGHT => {
                let name = match token.id {
                    T_FILL => "fill",
                    T_FILL_LEFT => "fill_left",
                    _ => "fill_right",
                };
                push(Construct::FillModifier(name), span(index));
            }
            T_NUMBER if text(index).contains('_') => push(Construct::NumberUnderscores, span(index)),
            _ => {}
        }
    }
    found
}
