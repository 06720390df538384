//! Which selectors pick pushed series, and the edits that make them pick the scraped twins.
//!
//! The label sets follow docs/label-facts.md (honor_labels, exported_job and exported_instance): with `honor_labels: true` pushed series carry
//! the pushed `job`/`instance` (no instance at all when pushed without one); with
//! `honor_labels: false` they carry the gateway's `job`/`instance` plus `exported_job` /
//! `exported_instance`.
//!
//! A query is rewritten wholly or not at all: when any part of it cannot be moved (no scraped
//! equivalent, an app that cannot be told, syntax we do not edit) the whole query is left as
//! written and every reason is reported.

use std::ops::Range;

use super::strings::{self, Alternation, Rewritten, ValueShape};
use super::structure::{Call, LabelList, MatchOp, Matcher, MetricName, Name, Selector, Structure};
use super::{AppMapping, QueryEdit, QueryFinding, QueryFindingKind, SeriesMapping, metric_family};
use promql_parser::parser::token::{T_GROUP_LEFT, T_GROUP_RIGHT, T_ON};

const JOB: &str = "job";
const INSTANCE: &str = "instance";
const EXPORTED_JOB: &str = "exported_job";
const EXPORTED_INSTANCE: &str = "exported_instance";

/// What the rewrite of one query (or one `label_values` selector) produced.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    pub(crate) edits: Vec<QueryEdit>,
    pub(crate) findings: Vec<QueryFinding>,
}

impl Analysis {
    pub(crate) fn is_blocked(&self) -> bool {
        self.findings.iter().any(|f| f.blocks_rewrite)
    }
}

/// What a metric name says about where its series come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MetricKind<'m> {
    /// `push_time_seconds`, `push_failure_time_seconds`, `pushgateway_*`: made by the gateway per
    /// pushed group or about itself; nothing scraped replaces them.
    GatewayOnly,
    /// Made by Prometheus per target (`up`, `scrape_*`) or by any Go/process exporter
    /// (`go_*`, `process_*`, `promhttp_*`): with the gateway's job they describe the gateway.
    PerTarget,
    /// Listed as pushed by this app.
    App(&'m AppMapping),
    Other,
    /// A template variable or a `__name__` regex.
    Unknown,
    /// `{job="x"}` with no name.
    Absent,
}

fn is_gateway_only(name: &str) -> bool {
    matches!(name, "push_time_seconds" | "push_failure_time_seconds") || name.starts_with("pushgateway_")
}

/// Whether `app` lists `name`'s family: a histogram's `_bucket`, `_sum` and `_count` are one
/// family, so a panel on `x_count` and a variable on `x_bucket` get the same decision.
fn lists_metric(app: &AppMapping, name: &str) -> bool {
    let family = metric_family(name);
    app.metrics.iter().any(|m| m == name || metric_family(m) == family)
}

fn is_per_target(name: &str) -> bool {
    name == "up"
        || ["scrape_", "go_", "process_", "promhttp_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

pub(crate) struct Rewriter<'m, 'a> {
    mapping: &'m SeriesMapping,
    text: &'a str,
    analysis: Analysis,
    /// Apps whose pushed series a selector picks (and is rewritten away from).
    pushed: Vec<Picked<'m>>,
    /// Apps whose scraped series a selector already picks explicitly.
    scraped: Vec<Picked<'m>>,
}

/// Whose series `job="<gateway job>"` picks in one selector under `honor_labels: true`, when an
/// app pushes under the gateway's own job name (its series and the gateway's own then share the
/// job and differ by metric name and instance: docs/label-facts.md, honor_labels).
enum OnGatewayJob<'m> {
    /// The gateway's own series (or no app pushes as its job): as before.
    Gateway,
    /// This app's pushed series.
    App(&'m AppMapping),
    /// Cannot tell: the reason, for a finding that keeps the query as written.
    Undecidable(QueryFindingKind, String),
}

/// Edits for one selector, kept apart until the selector is known to be fully handled.
#[derive(Default)]
struct Pending {
    edits: Vec<QueryEdit>,
    findings: Vec<QueryFinding>,
}

impl Pending {
    fn edit(&mut self, range: Range<usize>, replacement: impl Into<String>) {
        self.edits.push(QueryEdit {
            range,
            replacement: replacement.into(),
        });
    }
}

impl<'m, 'a> Rewriter<'m, 'a> {
    pub(crate) fn new(mapping: &'m SeriesMapping, text: &'a str) -> Self {
        Rewriter {
            mapping,
            text,
            analysis: Analysis::default(),
            pushed: Vec::new(),
            scraped: Vec::new(),
        }
    }

    pub(crate) fn finish(self) -> Analysis {
        self.analysis
    }

    /// Rewrites everything in `structure`.
    pub(crate) fn query(&mut self, structure: &Structure) {
        for selector in &structure.selectors {
            self.selector(selector);
        }
        self.comparison();
        if !self.mapping.honor_labels {
            let lists = &structure.label_lists;
            for (index, list) in lists.iter().enumerate() {
                // `on(...)` and the `group_left(...)`/`group_right(...)` after it must not share
                // a label.
                let partner = match list.keyword {
                    T_ON => lists.get(index + 1).filter(|next| {
                        matches!(next.keyword, T_GROUP_LEFT | T_GROUP_RIGHT)
                            && self.only_space_between(&list.span, &next.span)
                    }),
                    T_GROUP_LEFT | T_GROUP_RIGHT => {
                        index.checked_sub(1).and_then(|i| lists.get(i)).filter(|previous| {
                            previous.keyword == T_ON && self.only_space_between(&previous.span, &list.span)
                        })
                    }
                    _ => None,
                };
                self.label_list(list, partner);
            }
            for call in &structure.calls {
                self.label_function(call);
            }
        }
    }

    /// The label argument of Grafana's `label_values(…, label)`.
    pub(crate) fn label_values_label(&mut self, span: Range<usize>) {
        if self.mapping.honor_labels {
            return;
        }
        let Some(label) = self.text.get(span.clone()) else {
            return;
        };
        if let Some(new) = scraped_label_name(label) {
            self.analysis.edits.push(QueryEdit {
                range: span,
                replacement: new.to_string(),
            });
        }
    }

    /// A query that picks an app's pushed series in one place and its scraped twin in another
    /// compares the two (a dual-run panel): rewritten, it would compare the scraped series with
    /// themselves.
    fn comparison(&mut self) {
        let compared = self.pushed.iter().find_map(|pushed| {
            self.scraped
                .iter()
                .find(|scraped| pushed.twin_of(scraped))
                .map(|scraped| (pushed.app, pushed.span.clone(), scraped.span.clone()))
        });
        let Some((app, pushed_span, scraped_span)) = compared else {
            return;
        };
        let pushed_text = self.quoted(&pushed_span);
        let scraped_text = self.quoted(&scraped_span);
        self.finding(
            QueryFindingKind::ComparesPushedAndScraped,
            pushed_span,
            format!("the query compares pushed series (`{pushed_text}`) with their scraped twins (`{scraped_text}`) of {}: a dual-run comparison, meaningless once the Pushgateway is gone. Left unchanged", app.scrape_job),
            Some("remove the panel or rule together with the other dual-run artefacts".to_string()),
        );
    }

    fn push(&mut self, pending: Pending) {
        self.analysis.edits.extend(pending.edits);
        self.analysis.findings.extend(pending.findings);
    }

    fn finding(&mut self, kind: QueryFindingKind, range: Range<usize>, message: String, suggestion: Option<String>) {
        let blocks_rewrite = kind.blocks_rewrite();
        self.analysis.findings.push(QueryFinding {
            kind,
            message,
            suggestion,
            range: Some(range),
            blocks_rewrite,
        });
    }

    fn quoted(&self, range: &Range<usize>) -> String {
        self.text.get(range.clone()).unwrap_or("").to_string()
    }

    fn metric_kind(&self, name: &MetricName) -> MetricKind<'m> {
        match name {
            MetricName::Absent => MetricKind::Absent,
            MetricName::Unknown => MetricKind::Unknown,
            MetricName::Literal(name) if is_gateway_only(name) => MetricKind::GatewayOnly,
            // A recording rule's output: where its series come from depends on the rule.
            MetricName::Literal(name) if name.contains(':') => MetricKind::Unknown,
            MetricName::Literal(name) => match self.app_by_metric(name) {
                Some(app) => MetricKind::App(app),
                None if is_per_target(name) => MetricKind::PerTarget,
                None => MetricKind::Other,
            },
        }
    }

    fn app_by_metric(&self, name: &str) -> Option<&'m AppMapping> {
        self.mapping.apps.iter().find(|app| lists_metric(app, name))
    }

    /// A selector that already picks the scraped twin by its job (a renamed app).
    fn note_scraped_job(&mut self, job: &str, selector: &Selector) {
        let honor = self.mapping.honor_labels;
        let app = self
            .mapping
            .apps
            .iter()
            .find(|a| a.scrape_job == job && (!honor || a.pushed_job != a.scrape_job));
        self.note_scraped(app, selector);
    }

    /// A selector that already picks the scraped twin by its target.
    fn note_scraped_instance(&mut self, instance: &str, selector: &Selector) {
        let app = self.mapping.apps.iter().find(|a| a.scrape_instance == instance);
        self.note_scraped(app, selector);
    }

    fn note_scraped(&mut self, app: Option<&'m AppMapping>, selector: &Selector) {
        // `up` and `scrape_*` exist only for the scraped target: joining them is no comparison.
        let per_target = matches!(
            self.metric_kind(&selector.name),
            MetricKind::PerTarget | MetricKind::GatewayOnly
        );
        if let (Some(app), false) = (app, per_target) {
            self.scraped.push(Picked {
                app,
                metric: selector.name.clone(),
                span: selector.span.clone(),
            });
        }
    }

    fn note_pushed(&mut self, app: &'m AppMapping, selector: &Selector) {
        self.pushed.push(Picked {
            app,
            metric: selector.name.clone(),
            span: selector.span.clone(),
        });
    }

    fn app_by_pushed_job(&self, job: &str) -> Option<&'m AppMapping> {
        self.mapping.apps.iter().find(|app| app.pushed_job == job)
    }

    fn apps_pushing_instance(&self, instance: &str, within: Option<&'m AppMapping>) -> Vec<&'m AppMapping> {
        self.mapping
            .apps
            .iter()
            .filter(|app| within.is_none_or(|w| std::ptr::eq(*app, w)))
            .filter(|app| app.pushed_instances.iter().any(|i| i == instance))
            .collect()
    }

    fn is_gateway_instance(&self, instance: &str) -> bool {
        self.mapping.gateway_instances.iter().any(|i| i == instance)
    }

    /// `job="…"` for the app a suggestion is about, or all apps.
    fn job_matcher_for(&self, app: Option<&AppMapping>) -> String {
        match (app, self.mapping.apps.as_slice()) {
            (Some(app), _) | (None, [app]) => format!("job=\"{}\"", app.scrape_job),
            (None, apps) => {
                let jobs: Vec<&str> = apps.iter().map(|a| a.scrape_job.as_str()).collect();
                format!("job=~\"{}\"", jobs.join("|"))
            }
        }
    }

    /// See [`OnGatewayJob`]. Decided per metric family: the app's families are its; the
    /// gateway's own (`up`, `scrape_*`, `pushgateway_*`) are not; a family both export
    /// (`process_*`, `go_*`) is the app's only when the instance matchers say so.
    fn on_gateway_job(&self, selector: &Selector, kind: MetricKind<'m>) -> OnGatewayJob<'m> {
        let gateway_job = self.mapping.gateway_job.as_str();
        let pushing: Vec<&'m AppMapping> = self
            .mapping
            .apps
            .iter()
            .filter(|a| a.pushed_job == gateway_job)
            .collect();
        if pushing.is_empty() {
            return OnGatewayJob::Gateway;
        }
        let mut named: Vec<String> = Vec::new();
        let mut excludes_gateway = false;
        for instance in matchers(selector, INSTANCE) {
            let values: Vec<String> = match value_shape(instance) {
                ValueShape::Literal(value) => vec![value],
                ValueShape::Alternation(alternation) => alternation.literals().map(str::to_string).collect(),
                _ => Vec::new(),
            };
            if instance.op.is_positive() {
                named.extend(values);
            } else {
                excludes_gateway |= values.iter().any(|v| self.is_gateway_instance(v));
            }
        }
        if named.iter().any(|i| self.is_gateway_instance(i)) {
            return OnGatewayJob::Gateway;
        }
        let by_instance: Vec<&'m AppMapping> = pushing
            .iter()
            .copied()
            .filter(|a| named.iter().any(|i| a.pushed_instances.contains(i)))
            .collect();
        let text = self.quoted(&selector.span);
        match kind {
            MetricKind::GatewayOnly | MetricKind::Absent => OnGatewayJob::Gateway,
            MetricKind::App(_) | MetricKind::Other => {
                let MetricName::Literal(name) = &selector.name else {
                    return OnGatewayJob::Gateway;
                };
                // Apps on the gateway's job that list the metric; several apps may push the
                // same families, told apart by instance.
                let listing: Vec<&'m AppMapping> = pushing.iter().copied().filter(|a| lists_metric(a, name)).collect();
                if listing.is_empty() && matches!(kind, MetricKind::App(_)) {
                    // Another app's metric: it does not push under the gateway's job.
                    return OnGatewayJob::Gateway;
                }
                let pool = if listing.is_empty() { pushing.clone() } else { listing };
                let by_instance: Vec<&'m AppMapping> = pool
                    .iter()
                    .copied()
                    .filter(|a| named.iter().any(|i| a.pushed_instances.contains(i)))
                    .collect();
                let candidates = if by_instance.is_empty() { pool } else { by_instance };
                match candidates.as_slice() {
                    [one] => OnGatewayJob::App(one),
                    several => {
                        let names: Vec<&str> = several.iter().map(|a| a.scrape_job.as_str()).collect();
                        OnGatewayJob::Undecidable(
                            QueryFindingKind::AmbiguousApp,
                            format!(
                                "`{text}`: several apps push as job \"{gateway_job}\" ({}) and nothing in the selector says whose series these are; add an instance matcher. Left unchanged",
                                names.join(", ")
                            ),
                        )
                    }
                }
            }
            MetricKind::PerTarget => {
                let MetricName::Literal(name) = &selector.name else {
                    return OnGatewayJob::Gateway;
                };
                if name == "up" || name.starts_with("scrape_") {
                    return OnGatewayJob::Gateway;
                }
                match (by_instance.as_slice(), pushing.as_slice()) {
                    ([one], _) => OnGatewayJob::App(one),
                    ([], [one]) if excludes_gateway => OnGatewayJob::App(one),
                    _ => {
                        let hint = pushing
                            .iter()
                            .find_map(|a| a.pushed_instances.iter().find(|i| !i.is_empty()))
                            .map(|i| format!("add instance=\"{i}\" for the app's, or "))
                            .unwrap_or_default();
                        OnGatewayJob::Undecidable(
                            QueryFindingKind::AmbiguousApp,
                            format!(
                                "`{text}`: both the Pushgateway and {} export `{name}` under job \"{gateway_job}\", and nothing in the selector says whose it reads; {hint}add instance=\"{}\" for the gateway's. Left unchanged",
                                pushing
                                    .iter()
                                    .map(|a| a.scrape_job.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                self.mapping.gateway_instances.first().map_or("", String::as_str)
                            ),
                        )
                    }
                }
            }
            MetricKind::Unknown => OnGatewayJob::Undecidable(
                QueryFindingKind::VariableNeedsReview,
                format!(
                    "`{text}`: under job \"{gateway_job}\" the name may stand for an app's pushed metric or the gateway's own; check which, and rewrite it by hand"
                ),
            ),
        }
    }

    fn selector(&mut self, selector: &Selector) {
        let touches_pushed_labels = selector.matchers.iter().any(|m| {
            [JOB, INSTANCE, EXPORTED_JOB, EXPORTED_INSTANCE]
                .iter()
                .any(|label| m.label.is(label))
        });
        if selector.has_or && touches_pushed_labels {
            let text = self.quoted(&selector.span);
            self.finding(
                QueryFindingKind::UnsupportedSyntax,
                selector.span.clone(),
                format!("`{text}` uses `or` between matchers, which pullover does not rewrite; left unchanged"),
                None,
            );
            return;
        }
        if self.mapping.honor_labels {
            self.selector_honoring_labels(selector);
        } else {
            self.selector_with_exported_labels(selector);
        }
    }

    fn no_equivalent(&mut self, selector: &Selector, kind: MetricKind<'m>, app: Option<&AppMapping>) {
        let text = self.quoted(&selector.span);
        let job = self.job_matcher_for(app);
        let gateway_job = &self.mapping.gateway_job;
        let (message, suggestion) = match &selector.name {
            MetricName::Literal(name) if name == "push_time_seconds" => (
                format!(
                    "`{text}` is the time of the last push; nothing records that once the app is scraped directly. Left unchanged"
                ),
                // What fires when the app stops, once scraped: its target down, or gone altogether.
                // (`time() - timestamp(up)` stays near the scrape interval while it is down.)
                Some(format!("up{{{job}}} == 0 or absent(up{{{job}}})")),
            ),
            MetricName::Literal(name) if name == "push_failure_time_seconds" => (
                format!(
                    "`{text}` is the time of the last failed push; a failed scrape shows as `up == 0` instead. Left unchanged"
                ),
                Some(format!("up{{{job}}} == 0")),
            ),
            MetricName::Literal(name) if kind == MetricKind::GatewayOnly => (
                format!(
                    "`{text}` is a metric of the Pushgateway itself (`{name}`), which goes away with it. Left unchanged"
                ),
                Some(format!("up{{{job}}}")),
            ),
            MetricName::Literal(name) if name == "up" => (
                format!(
                    "`{text}` is the health of the Pushgateway target, which goes away; the app's own target reports `up` once scraped. Left unchanged"
                ),
                Some(format!("up{{{job}}}")),
            ),
            MetricName::Literal(name) => (
                format!(
                    "`{text}` selects the Pushgateway's own `{name}` (job \"{gateway_job}\"), which goes away with it. Left unchanged"
                ),
                None,
            ),
            _ => (
                format!(
                    "`{text}` selects every series of the Pushgateway target (job \"{gateway_job}\"), not one app's. Left unchanged"
                ),
                Some(format!("{{{job}}}")),
            ),
        };
        self.finding(
            QueryFindingKind::NoScrapedEquivalent,
            selector.span.clone(),
            message,
            suggestion,
        );
    }

    /// `honor_labels: true`: pushed series carry the pushed `job` and `instance`.
    fn selector_honoring_labels(&mut self, selector: &Selector) {
        let kind = self.metric_kind(&selector.name);
        let jobs: Vec<&Matcher> = matchers(selector, JOB).collect();
        let instances: Vec<&Matcher> = matchers(selector, INSTANCE).collect();
        let mut pending = Pending::default();
        let mut app: Option<&'m AppMapping> = None;
        let mut same_name: Option<&'m AppMapping> = None;
        let mut foreign_job = false;
        let mut job_constrained = false;
        let mut gateway = false;
        let mut gateway_alternative = false;
        let mut rewritten: Vec<&'m AppMapping> = Vec::new();
        // Jobs a negative matcher keeps out: one of a renamed app's two jobs keeps a source out.
        let mut excluded: Vec<String> = Vec::new();

        if kind == MetricKind::GatewayOnly {
            let app = jobs.iter().find_map(|m| match value_shape(m) {
                ValueShape::Literal(v) if m.op == MatchOp::Equal => self.app_by_pushed_job(&v),
                _ => None,
            });
            return self.no_equivalent(selector, kind, app);
        }
        // exported_* labels only exist with honor_labels: false.
        for exported in selector
            .matchers
            .iter()
            .filter(|m| m.op.is_positive() && m.label.text.as_deref().and_then(scraped_label_name).is_some())
        {
            let text = self.quoted(&exported.span);
            let selector_text = self.quoted(&selector.span);
            match value_shape(exported) {
                ValueShape::Literal(value) if value.is_empty() => continue,
                ValueShape::Literal(_) | ValueShape::Alternation(_) => self.finding(
                    QueryFindingKind::MatchesNothingUnderHonorLabels,
                    selector.span.clone(),
                    format!("`{selector_text}` matches nothing: `{text}` needs a label that only exists with honor_labels: false. Left unchanged"),
                    None,
                ),
                _ => self.finding(
                    QueryFindingKind::VariableNeedsReview,
                    exported.span.clone(),
                    format!("`{text}`: this label only exists with honor_labels: false; check what the variable holds"),
                    None,
                ),
            }
            return;
        }

        for job in &jobs {
            let positive = job.op.is_positive();
            match value_shape(job) {
                ValueShape::Literal(value) => {
                    if value == self.mapping.gateway_job {
                        job_constrained |= positive;
                        if !positive {
                            excluded.push(value.clone());
                            continue;
                        }
                        match self.on_gateway_job(selector, kind) {
                            OnGatewayJob::Gateway => gateway = true,
                            OnGatewayJob::App(pushed) => {
                                app = Some(pushed);
                                self.set_value(&mut pending, job, &pushed.scrape_job);
                                rewritten.push(pushed);
                            }
                            OnGatewayJob::Undecidable(kind, message) => {
                                self.finding(kind, selector.span.clone(), message, None);
                                return;
                            }
                        }
                    } else if let Some(pushed) = self.app_by_pushed_job(&value) {
                        job_constrained |= positive;
                        if !positive {
                            excluded.push(value.clone());
                        }
                        if positive {
                            app = Some(pushed);
                        }
                        if pushed.pushed_job != pushed.scrape_job {
                            self.set_value(&mut pending, job, &pushed.scrape_job);
                            rewritten.push(pushed);
                        } else if positive {
                            same_name = Some(pushed);
                        }
                    } else {
                        job_constrained |= positive;
                        if positive {
                            foreign_job = true;
                            self.note_scraped_job(&value, selector);
                        } else {
                            excluded.push(value.clone());
                        }
                    }
                }
                ValueShape::Alternation(alternation) => {
                    let gateway_job = self.mapping.gateway_job.clone();
                    let on_gateway = if positive && alternation.literals().any(|l| l == gateway_job) {
                        match self.on_gateway_job(selector, kind) {
                            OnGatewayJob::Undecidable(kind, message) => {
                                self.finding(kind, selector.span.clone(), message, None);
                                return;
                            }
                            OnGatewayJob::App(app) => Some(app),
                            OnGatewayJob::Gateway => None,
                        }
                    } else {
                        None
                    };
                    // The gateway's job stands for an app only where the metric says so.
                    let pushed_as = |literal: &str| -> Option<&'m AppMapping> {
                        if literal == gateway_job {
                            on_gateway
                        } else {
                            self.app_by_pushed_job(literal)
                        }
                    };
                    let pushed: Vec<&'m AppMapping> = alternation.literals().filter_map(pushed_as).collect();
                    job_constrained |= positive;
                    if !positive {
                        excluded.extend(alternation.literals().map(str::to_string));
                    }
                    if positive {
                        if let [only] = pushed.as_slice() {
                            app = Some(only);
                        }
                        same_name = same_name.or_else(|| pushed.iter().copied().find(|a| a.pushed_job == a.scrape_job));
                        let names_gateway =
                            on_gateway.is_none() && alternation.literals().any(|l| l == self.mapping.gateway_job);
                        let only_gateway =
                            names_gateway && alternation.literals().all(|l| l == self.mapping.gateway_job);
                        gateway |= only_gateway && !alternation.has_template();
                        gateway_alternative |= names_gateway;
                        foreign_job |= pushed.is_empty() && !alternation.has_template();
                    }
                    let before = pending.edits.len();
                    self.set_alternation(&mut pending, job, &alternation, |literal| {
                        pushed_as(literal)
                            .filter(|a| a.pushed_job != a.scrape_job)
                            .map(|a| a.scrape_job.clone())
                    });
                    if pending.edits.len() > before {
                        rewritten.extend(pushed.iter().filter(|a| a.pushed_job != a.scrape_job));
                    }
                }
                ValueShape::Template => job_constrained |= positive,
                ValueShape::MatchAll | ValueShape::Undecodable => {}
                ValueShape::Opaque => {
                    job_constrained |= positive;
                    let text = self.quoted(&job.span);
                    pending.findings.push(finding(
                        QueryFindingKind::RegexNeedsReview,
                        job.span.clone(),
                        format!("`{text}` is a regex pullover cannot read; check whether it selects a pushed job. Left unchanged"),
                        None,
                    ));
                }
            }
        }
        for instance in &instances {
            match value_shape(instance) {
                ValueShape::Literal(value) if instance.op.is_positive() => {
                    gateway |= self.is_gateway_instance(&value);
                }
                ValueShape::Alternation(alternation) if instance.op.is_positive() => {
                    gateway_alternative |= alternation.literals().any(|l| self.is_gateway_instance(l));
                }
                _ => {}
            }
        }

        let gateway_target_metric = matches!(kind, MetricKind::PerTarget | MetricKind::Absent);
        if gateway || (gateway_alternative && gateway_target_metric) {
            match kind {
                _ if gateway_target_metric => self.no_equivalent(selector, kind, app),
                MetricKind::Unknown => {
                    let text = self.quoted(&selector.span);
                    self.finding(
                        QueryFindingKind::VariableNeedsReview,
                        selector.span.clone(),
                        format!("`{text}`: with honor_labels: true, the Pushgateway target (job \"{}\") only has the gateway's own metrics; check which metric the name stands for", self.mapping.gateway_job),
                        None,
                    );
                }
                _ => {
                    let text = self.quoted(&selector.span);
                    let suggestion = match (kind, self.mapping.apps.as_slice()) {
                        (MetricKind::App(app), _) | (_, [app]) => Some(format!("job=\"{}\"", app.scrape_job)),
                        _ => None,
                    };
                    self.finding(
                        QueryFindingKind::MatchesNothingUnderHonorLabels,
                        selector.span.clone(),
                        format!("`{text}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job \"{}\") only has the gateway's own metrics. Left unchanged", self.mapping.gateway_job),
                        suggestion,
                    );
                }
            }
            return;
        }

        let mut instance_constrained = false;
        for instance in &instances {
            let positive = instance.op.is_positive();
            match value_shape(instance) {
                // `instance!=""` asks for any instance label; it names no pushed group.
                ValueShape::Literal(value) if !positive && value.is_empty() => {}
                ValueShape::Literal(value) => {
                    instance_constrained |= positive;
                    if positive {
                        self.note_scraped_instance(&value, selector);
                    }
                    if foreign_job {
                        continue;
                    }
                    match self.apps_pushing_instance(&value, app).as_slice() {
                        [] => {}
                        [owner] => {
                            self.set_value(&mut pending, instance, &owner.scrape_instance);
                            rewritten.push(owner);
                        }
                        owners => {
                            let text = self.quoted(&instance.span);
                            let names: Vec<&str> = owners.iter().map(|a| a.pushed_job.as_str()).collect();
                            pending.findings.push(finding(
                                QueryFindingKind::AmbiguousApp,
                                instance.span.clone(),
                                format!("`{text}` is pushed by several apps ({}); add a job matcher so pullover can tell which target replaces it. Left unchanged", names.join(", ")),
                                None,
                            ));
                        }
                    }
                }
                ValueShape::Alternation(alternation) => {
                    instance_constrained |= positive;
                    if foreign_job {
                        continue;
                    }
                    let mut ambiguous = false;
                    let mut owners: Vec<&'m AppMapping> = Vec::new();
                    self.set_alternation(&mut pending, instance, &alternation, |literal| {
                        match self.apps_pushing_instance(literal, app).as_slice() {
                            // `instance!~""`: "has an instance", not a pushed group.
                            _ if literal.is_empty() && !positive => None,
                            [owner] => {
                                owners.push(owner);
                                Some(owner.scrape_instance.clone())
                            }
                            [] => None,
                            _ => {
                                ambiguous = true;
                                None
                            }
                        }
                    });
                    rewritten.extend(owners);
                    if ambiguous {
                        let text = self.quoted(&instance.span);
                        pending.findings.push(finding(
                            QueryFindingKind::AmbiguousApp,
                            instance.span.clone(),
                            format!(
                                "`{text}` names an instance pushed by several apps; add a job matcher. Left unchanged"
                            ),
                            None,
                        ));
                    }
                }
                ValueShape::Template | ValueShape::Opaque => instance_constrained |= positive,
                ValueShape::MatchAll | ValueShape::Undecodable => {}
            }
        }

        if kind != MetricKind::PerTarget && !instance_constrained {
            let text = self.quoted(&selector.span);
            if let Some(app) = same_name {
                pending.findings.push(finding(
                    QueryFindingKind::DoubleCountDuringDualRun,
                    selector.span.clone(),
                    format!("`{text}` selects both the pushed and the scraped series while both run: they share job \"{}\" and differ only by instance", app.scrape_job),
                    Some(format!("instance=\"{}\"", app.scrape_instance)),
                ));
            } else if let (false, MetricKind::App(app)) = (job_constrained, kind) {
                let renamed = app.pushed_job != app.scrape_job;
                let one_source_excluded =
                    renamed && excluded.iter().any(|j| *j == app.pushed_job || *j == app.scrape_job);
                if !one_source_excluded {
                    pending.findings.push(finding(
                    QueryFindingKind::DoubleCountDuringDualRun,
                    selector.span.clone(),
                    format!("`{text}` has no job matcher that tells the pushed from the scraped series: it selects both while both run"),
                    Some(format!("job=\"{}\", instance=\"{}\"", app.scrape_job, app.scrape_instance)),
                ));
                }
            }
        }
        for app in rewritten {
            self.note_pushed(app, selector);
        }
        self.push(pending);
    }

    /// `honor_labels: false`: pushed series carry the gateway's `job`/`instance` and
    /// `exported_job`/`exported_instance`.
    fn selector_with_exported_labels(&mut self, selector: &Selector) {
        let kind = self.metric_kind(&selector.name);
        let jobs: Vec<&Matcher> = matchers(selector, JOB).collect();
        let instances: Vec<&Matcher> = matchers(selector, INSTANCE).collect();
        let exported_jobs: Vec<&Matcher> = matchers(selector, EXPORTED_JOB).collect();
        let exported_instances: Vec<&Matcher> = matchers(selector, EXPORTED_INSTANCE).collect();
        let gateway_job = self.mapping.gateway_job.clone();

        if kind == MetricKind::GatewayOnly {
            let app = exported_jobs.iter().find_map(|m| match value_shape(m) {
                ValueShape::Literal(v) if m.op == MatchOp::Equal => self.app_by_pushed_job(&v),
                _ => None,
            });
            return self.no_equivalent(selector, kind, app);
        }
        let mut gateway_jobs = Vec::new();
        let mut other_job = false;
        let mut one_source_excluded = false;
        for job in &jobs {
            let shape = value_shape(job);
            if !job.op.is_positive() {
                // Keeping out the gateway's job keeps out every pushed series; keeping out the
                // app's scrape job keeps out the scraped ones.
                let app_job = match kind {
                    MetricKind::App(app) => Some(app.scrape_job.as_str()),
                    _ => None,
                };
                let keeps_out = |job: &str| job == gateway_job || Some(job) == app_job;
                one_source_excluded |= match &shape {
                    ValueShape::Literal(value) => keeps_out(value),
                    ValueShape::Alternation(a) => a.literals().any(keeps_out),
                    _ => false,
                };
                continue;
            }
            match shape {
                ValueShape::Literal(value) if value == gateway_job => gateway_jobs.push(*job),
                ValueShape::Alternation(a) if a.literals().any(|l| l == gateway_job) => gateway_jobs.push(*job),
                ValueShape::MatchAll => {}
                ValueShape::Opaque => {
                    let text = self.quoted(&job.span);
                    let mut review = finding(
                        QueryFindingKind::RegexNeedsReview,
                        job.span.clone(),
                        format!(
                            "`{text}` is a regex pullover cannot read; it may select the Pushgateway's job \"{gateway_job}\". Left unchanged"
                        ),
                        None,
                    );
                    // It may stay on the gateway, so the query's grouping labels must too.
                    review.blocks_rewrite = true;
                    self.analysis.findings.push(review);
                    return;
                }
                ValueShape::Literal(value) => {
                    self.note_scraped_job(&value, selector);
                    other_job = true;
                }
                _ => other_job = true,
            }
        }
        let mut gateway_instances = Vec::new();
        for instance in &instances {
            if !instance.op.is_positive() {
                continue;
            }
            match value_shape(instance) {
                ValueShape::Literal(value) if self.is_gateway_instance(&value) => gateway_instances.push(*instance),
                ValueShape::Alternation(a) if a.literals().any(|l| self.is_gateway_instance(l)) => {
                    gateway_instances.push(*instance)
                }
                _ => {}
            }
        }
        let through_gateway = !gateway_jobs.is_empty()
            || !gateway_instances.is_empty()
            || !exported_jobs.is_empty()
            || !exported_instances.is_empty();

        if !through_gateway {
            let instance_constrained = instances.iter().any(|m| m.op.is_positive());
            if let (MetricKind::App(app), false, false, false) =
                (kind, other_job, instance_constrained, one_source_excluded)
            {
                let text = self.quoted(&selector.span);
                self.finding(
                    QueryFindingKind::DoubleCountDuringDualRun,
                    selector.span.clone(),
                    format!("`{text}` has no job matcher that tells the pushed from the scraped series: it selects both while both run"),
                    Some(format!("job=\"{}\"", app.scrape_job)),
                );
            }
            return;
        }
        let exported_app = exported_jobs.first().and_then(|m| match value_shape(m) {
            ValueShape::Literal(v) if m.op == MatchOp::Equal => self.app_by_pushed_job(&v),
            _ => None,
        });
        let pushed_labels = !exported_jobs.is_empty() || !exported_instances.is_empty();
        if matches!(kind, MetricKind::PerTarget | MetricKind::Absent) && !pushed_labels {
            return self.no_equivalent(selector, kind, exported_app);
        }
        if other_job || gateway_jobs.len() > 1 || gateway_instances.len() > 1 {
            let text = self.quoted(&selector.span);
            self.finding(
                QueryFindingKind::AmbiguousApp,
                selector.span.clone(),
                format!(
                    "`{text}` combines job or instance matchers in a way pullover does not rewrite. Left unchanged"
                ),
                None,
            );
            return;
        }
        let gateway_job_matcher = gateway_jobs.first().copied();
        let gateway_instance = gateway_instances.first().copied();

        let target = match exported_jobs.as_slice() {
            [] => self.target_from_instances(&exported_instances, kind, selector),
            [exported] => self.target_from_exported_job(exported),
            _ => Target::Unreadable(
                "several exported_job matchers in one selector".to_string(),
                QueryFindingKind::UnsupportedSyntax,
            ),
        };
        let mut pending = Pending::default();
        let mut deletions: Vec<&Matcher> = Vec::new();
        match target {
            Target::Unreadable(reason, kind) => {
                let text = self.quoted(&selector.span);
                let mut unreadable = finding(
                    kind,
                    selector.span.clone(),
                    format!("`{text}`: {reason}. Left unchanged"),
                    None,
                );
                // The selector stays on the gateway, so its grouping labels must too.
                unreadable.blocks_rewrite = true;
                self.analysis.findings.push(unreadable);
                return;
            }
            Target::Template => {
                let Some(exported) = exported_jobs.first() else {
                    return;
                };
                if gateway_job_matcher.is_some_and(|m| m.op != MatchOp::Equal) || gateway_instance.is_some() {
                    return self.ambiguous(selector);
                }
                self.set_label(&mut pending, &exported.label, JOB);
                deletions.extend(gateway_job_matcher);
                if self.mapping.apps.iter().any(|a| a.pushed_job != a.scrape_job) {
                    let text = self.quoted(&exported.span);
                    pending.findings.push(finding(
                        QueryFindingKind::VariableNeedsReview,
                        exported.span.clone(),
                        format!("`{text}` now filters `job`: the variable must offer the scrape job names ({}), not the pushed ones", self.scrape_jobs().join(", ")),
                        None,
                    ));
                }
                for exported_instance in &exported_instances {
                    match value_shape(exported_instance) {
                        ValueShape::Template | ValueShape::MatchAll => {
                            self.rename_instance_variable(&mut pending, exported_instance);
                        }
                        _ => return self.ambiguous(selector),
                    }
                }
            }
            Target::Apps(apps) => match apps.as_slice() {
                [] => {
                    let text = self.quoted(&selector.span);
                    self.finding(
                        QueryFindingKind::AmbiguousApp,
                        selector.span.clone(),
                        format!("`{text}` selects no app that is being migrated. Left unchanged"),
                        None,
                    );
                    return;
                }
                [app] => {
                    self.note_pushed(app, selector);
                    match gateway_job_matcher {
                        Some(job) => {
                            match value_shape(job) {
                                ValueShape::Alternation(alternation) if exported_jobs.is_empty() => {
                                    self.set_alternation(&mut pending, job, &alternation, |literal| {
                                        (literal == gateway_job).then(|| app.scrape_job.clone())
                                    });
                                }
                                _ => {
                                    if job.op != MatchOp::Equal {
                                        pending.edit(job.op_span.clone(), "=");
                                    }
                                    self.set_value(&mut pending, job, &app.scrape_job);
                                }
                            }
                            deletions.extend(exported_jobs.iter().copied());
                        }
                        None => {
                            if let Some(exported) = exported_jobs.first() {
                                self.set_label(&mut pending, &exported.label, JOB);
                                if exported.op != MatchOp::Equal {
                                    pending.edit(exported.op_span.clone(), "=");
                                }
                                self.set_value(&mut pending, exported, &app.scrape_job);
                            }
                        }
                    }
                    if let Some(instance) = gateway_instance {
                        match value_shape(instance) {
                            ValueShape::Alternation(alternation) => {
                                self.set_alternation(&mut pending, instance, &alternation, |literal| {
                                    self.is_gateway_instance(literal).then(|| app.scrape_instance.clone())
                                });
                            }
                            _ => self.set_value(&mut pending, instance, &app.scrape_instance),
                        }
                    }
                    for exported_instance in &exported_instances {
                        match self.exported_instance(&mut pending, exported_instance, app, gateway_instance.is_some()) {
                            Ok(true) => deletions.push(exported_instance),
                            Ok(false) => {}
                            Err(reason) => {
                                let text = self.quoted(&exported_instance.span);
                                self.finding(
                                    QueryFindingKind::AmbiguousApp,
                                    exported_instance.span.clone(),
                                    format!("`{text}`: {reason}. Left unchanged"),
                                    None,
                                );
                                return;
                            }
                        }
                    }
                }
                several => {
                    let Some(exported) = exported_jobs.first() else {
                        return self.ambiguous(selector);
                    };
                    for app in several {
                        self.note_pushed(app, selector);
                    }
                    if gateway_job_matcher.is_some_and(|m| m.op != MatchOp::Equal) || gateway_instance.is_some() {
                        return self.ambiguous(selector);
                    }
                    let mut escaped = Vec::new();
                    for app in several {
                        match strings::regex_escape(&app.scrape_job, exported.value.quote) {
                            Some(job) => escaped.push(job),
                            None => return self.unwritable(selector, &app.scrape_job),
                        }
                    }
                    self.set_label(&mut pending, &exported.label, JOB);
                    if exported.op != MatchOp::Regex {
                        pending.edit(exported.op_span.clone(), "=~");
                    }
                    self.set_value(&mut pending, exported, &escaped.join("|"));
                    deletions.extend(gateway_job_matcher);
                    for exported_instance in &exported_instances {
                        match value_shape(exported_instance) {
                            ValueShape::Template | ValueShape::MatchAll => {
                                self.rename_instance_variable(&mut pending, exported_instance);
                            }
                            _ => return self.ambiguous(selector),
                        }
                    }
                }
            },
        }
        if !deletions.is_empty() {
            match deletion_edits(self.text, selector, &deletions) {
                Some(edits) => pending.edits.extend(edits),
                None => {
                    let text = self.quoted(&selector.span);
                    self.finding(
                        QueryFindingKind::UnsupportedSyntax,
                        selector.span.clone(),
                        format!("`{text}` would be left without matchers. Left unchanged"),
                        None,
                    );
                    return;
                }
            }
        }
        self.push(pending);
    }

    fn scrape_jobs(&self) -> Vec<&str> {
        self.mapping.apps.iter().map(|a| a.scrape_job.as_str()).collect()
    }

    fn ambiguous(&mut self, selector: &Selector) {
        let text = self.quoted(&selector.span);
        let apps: Vec<&str> = self.mapping.apps.iter().map(|a| a.pushed_job.as_str()).collect();
        self.finding(
            QueryFindingKind::AmbiguousApp,
            selector.span.clone(),
            format!(
                "`{text}` selects pushed series of several apps ({}) and nothing in it says which; the scrape jobs differ per app. Left unchanged",
                apps.join(", ")
            ),
            Some(format!(
                "add exported_job=\"<app>\" to the selector, or rewrite it by hand with {}",
                self.job_matcher_for(None)
            )),
        );
    }

    fn unwritable(&mut self, selector: &Selector, value: &str) {
        let text = self.quoted(&selector.span);
        self.finding(
            QueryFindingKind::UnsupportedSyntax,
            selector.span.clone(),
            format!("`{text}`: \"{value}\" cannot be written in this string's quote style. Left unchanged"),
            None,
        );
    }

    fn rename_instance_variable(&mut self, pending: &mut Pending, matcher: &Matcher) {
        self.set_label(pending, &matcher.label, INSTANCE);
        let text = self.quoted(&matcher.span);
        pending.findings.push(finding(
            QueryFindingKind::VariableNeedsReview,
            matcher.span.clone(),
            format!("`{text}` now filters `instance`: the variable must offer the scrape targets (host:port), not the pushed instance names"),
            None,
        ));
    }

    /// Rewrites an `exported_instance` matcher for `app`. `Ok(true)`: delete it (the gateway's
    /// instance matcher already became the app's).
    fn exported_instance(
        &self,
        pending: &mut Pending,
        matcher: &Matcher,
        app: &AppMapping,
        instance_rewritten: bool,
    ) -> Result<bool, String> {
        let pushed_by_app =
            |instance: &str| app.pushed_instances.is_empty() || app.pushed_instances.iter().any(|i| i == instance);
        match value_shape(matcher) {
            ValueShape::Literal(value) if pushed_by_app(&value) => {
                if instance_rewritten {
                    return Ok(true);
                }
                self.set_label(pending, &matcher.label, INSTANCE);
                self.set_value(pending, matcher, &app.scrape_instance);
                Ok(false)
            }
            ValueShape::Literal(value) => Err(format!("\"{value}\" is not an instance {} pushes", app.pushed_job)),
            ValueShape::Alternation(alternation) if !alternation.has_template() => {
                if let Some(unknown) = alternation.literals().find(|l| !pushed_by_app(l)) {
                    return Err(format!("\"{unknown}\" is not an instance {} pushes", app.pushed_job));
                }
                if instance_rewritten {
                    return Ok(true);
                }
                self.set_label(pending, &matcher.label, INSTANCE);
                self.set_alternation(pending, matcher, &alternation, |_| Some(app.scrape_instance.clone()));
                Ok(false)
            }
            ValueShape::Template | ValueShape::MatchAll => {
                if instance_rewritten {
                    return Ok(true);
                }
                self.set_label(pending, &matcher.label, INSTANCE);
                if app.pushed_instances.iter().any(|i| i != &app.scrape_instance) {
                    let text = self.quoted(&matcher.span);
                    pending.findings.push(finding(
                        QueryFindingKind::VariableNeedsReview,
                        matcher.span.clone(),
                        format!("`{text}` now filters `instance`: the variable must offer {} rather than the pushed instance names", app.scrape_instance),
                        None,
                    ));
                }
                Ok(false)
            }
            _ => Err("a regex pullover cannot read".to_string()),
        }
    }

    fn target_from_exported_job(&self, exported: &Matcher) -> Target<'m> {
        let apps = &self.mapping.apps;
        match (value_shape(exported), exported.op) {
            (ValueShape::Literal(value), MatchOp::Equal) => match self.app_by_pushed_job(&value) {
                Some(app) => Target::Apps(vec![app]),
                None => Target::Unreadable(
                    format!("pushed job \"{value}\" is not one of the apps being migrated"),
                    QueryFindingKind::PushedJobNotMigrated,
                ),
            },
            (ValueShape::Literal(value), _) => Target::Apps(apps.iter().filter(|a| a.pushed_job != value).collect()),
            (ValueShape::Alternation(alternation), op) if !alternation.has_template() => {
                let named: Vec<&str> = alternation.literals().collect();
                if op == MatchOp::Regex
                    && let Some(unknown) = named.iter().find(|l| self.app_by_pushed_job(l).is_none())
                {
                    return Target::Unreadable(
                        format!("pushed job \"{unknown}\" is not one of the apps being migrated"),
                        QueryFindingKind::PushedJobNotMigrated,
                    );
                }
                let wanted = |app: &AppMapping| named.contains(&app.pushed_job.as_str()) == (op == MatchOp::Regex);
                Target::Apps(apps.iter().filter(|a| wanted(a)).collect())
            }
            (ValueShape::Template, MatchOp::Equal | MatchOp::Regex) => Target::Template,
            (ValueShape::MatchAll, MatchOp::Regex) => Target::Apps(apps.iter().collect()),
            _ => Target::Unreadable(
                "the exported_job matcher is a regex pullover cannot read".to_string(),
                QueryFindingKind::RegexNeedsReview,
            ),
        }
    }

    /// The apps a selector without `exported_job` can be about: those pushing the instance its
    /// `exported_instance` names, narrowed by the metric when the apps' metric lists know it.
    fn target_from_instances(
        &self,
        exported_instances: &[&Matcher],
        kind: MetricKind<'m>,
        selector: &Selector,
    ) -> Target<'m> {
        let mut apps: Vec<&'m AppMapping> = match &selector.name {
            MetricName::Literal(name) if matches!(kind, MetricKind::App(_) | MetricKind::Other) => {
                let listing: Vec<&'m AppMapping> =
                    self.mapping.apps.iter().filter(|app| lists_metric(app, name)).collect();
                if listing.is_empty() {
                    // Not a metric any app is known to push: only apps whose metrics are unknown
                    // can be the source.
                    let unknown: Vec<&'m AppMapping> =
                        self.mapping.apps.iter().filter(|a| a.metrics.is_empty()).collect();
                    if unknown.is_empty() {
                        return Target::Unreadable(
                            format!(
                                "`{name}` is not among the metrics the migrated apps push, so it comes from a pusher that is not being migrated"
                            ),
                            QueryFindingKind::PushedJobNotMigrated,
                        );
                    }
                    unknown
                } else {
                    listing
                }
            }
            _ => self.mapping.apps.iter().collect(),
        };
        if let Some(first) = exported_instances.first()
            && let (ValueShape::Literal(value), MatchOp::Equal) = (value_shape(first), first.op)
        {
            let owners = self.apps_pushing_instance(&value, None);
            if !owners.is_empty() {
                apps.retain(|a| owners.iter().any(|o| std::ptr::eq(*o, *a)));
            }
        }
        Target::Apps(apps)
    }

    /// `by`/`without`/`on`/`ignoring`/`group_left`/`group_right` lists (honor_labels false).
    fn only_space_between(&self, first: &Range<usize>, second: &Range<usize>) -> bool {
        self.text
            .get(first.end..second.start)
            .is_some_and(|between| between.trim().is_empty())
    }

    fn label_list(&mut self, list: &LabelList, partner: Option<&LabelList>) {
        for label in &list.labels {
            let Some(text) = label.text.as_deref() else {
                continue;
            };
            let Some(new) = scraped_label_name(text) else {
                continue;
            };
            let clashes_with_partner =
                partner.is_some_and(|p| p.labels.iter().any(|other| other.is(new) || other.is(text)));
            if clashes_with_partner {
                let written = self.quoted(&list.span);
                self.finding(
                    QueryFindingKind::DuplicateGroupingLabel,
                    label.span.clone(),
                    format!("`{written}`: `{text}` would become `{new}`, which the matching `on`/`group_*` list also names; PromQL forbids a label in both. Left as is"),
                    None,
                );
                continue;
            }
            if list.labels.iter().any(|other| other.is(new)) {
                let written = self.quoted(&list.span);
                self.finding(
                    QueryFindingKind::DuplicateGroupingLabel,
                    label.span.clone(),
                    format!(
                        "`{written}` lists both `{text}` and `{new}`; `{text}` is empty on scraped series. Left as is"
                    ),
                    Some(format!("remove `{text}` from the list")),
                );
                continue;
            }
            let mut pending = Pending::default();
            self.set_label(&mut pending, label, new);
            self.push(pending);
        }
    }

    /// `label_replace(v, dst, replacement, src, regex)` and `label_join(v, dst, sep, src...)`.
    fn label_function(&mut self, call: &Call) {
        let sources = match call.name.as_str() {
            "label_replace" => 3..4,
            "label_join" => 3..call.string_args.len(),
            _ => return,
        };
        if let Some(Some(destination)) = call.string_args.get(1)
            && let Some(label) = strings::decode(&destination.raw)
            && scraped_label_name(&label).is_some()
        {
            let text = self.quoted(&call.span);
            self.finding(
                QueryFindingKind::LabelNeedsReview,
                destination.span.clone(),
                format!(
                    "`{}` writes `{label}`, which only pushed series had; check what reads it",
                    text.lines().next().unwrap_or_default()
                ),
                None,
            );
        }
        for source in call.string_args.get(sources).unwrap_or_default().iter().flatten() {
            let Some(label) = strings::decode(&source.raw) else {
                continue;
            };
            if let Some(new) = scraped_label_name(&label)
                && let Some(literal) = strings::encode(new, source.quote)
            {
                self.analysis.edits.push(QueryEdit {
                    range: source.span.clone(),
                    replacement: literal,
                });
            }
        }
    }

    fn set_value(&self, pending: &mut Pending, matcher: &Matcher, value: &str) {
        if strings::decode(&matcher.value.raw).as_deref() == Some(value) {
            return;
        }
        match strings::encode(value, matcher.value.quote) {
            Some(literal) => pending.edit(matcher.value.span.clone(), literal),
            None => pending.findings.push(unwritable_finding(matcher, value)),
        }
    }

    fn set_alternation(
        &self,
        pending: &mut Pending,
        matcher: &Matcher,
        alternation: &Alternation,
        replace: impl FnMut(&str) -> Option<String>,
    ) {
        match alternation.rewritten(matcher.value.quote, replace) {
            Rewritten::Unchanged => {}
            Rewritten::Changed(regex) => self.set_value(pending, matcher, &regex),
            Rewritten::Unwritable(value) => pending.findings.push(unwritable_finding(matcher, &value)),
        }
    }

    fn set_label(&self, pending: &mut Pending, label: &Name, new: &str) {
        match label.quote {
            None => pending.edit(label.span.clone(), new),
            Some(quote) => {
                if let Some(literal) = strings::encode(new, quote) {
                    pending.edit(label.span.clone(), literal);
                }
            }
        }
    }
}

/// An app's series that one selector picks.
struct Picked<'m> {
    app: &'m AppMapping,
    metric: MetricName,
    span: Range<usize>,
}

impl Picked<'_> {
    /// Whether two selectors may read the same series of one app from its two sources.
    fn twin_of(&self, other: &Picked<'_>) -> bool {
        std::ptr::eq(self.app, other.app)
            && match (&self.metric, &other.metric) {
                (MetricName::Literal(a), MetricName::Literal(b)) => a == b,
                _ => true,
            }
    }
}

enum Target<'m> {
    Apps(Vec<&'m AppMapping>),
    /// `exported_job=~"$job"`: the dashboard decides.
    Template,
    Unreadable(String, QueryFindingKind),
}

fn matchers<'s>(selector: &'s Selector, label: &'s str) -> impl Iterator<Item = &'s Matcher> {
    selector.matchers.iter().filter(move |m| m.label.is(label))
}

fn value_shape(matcher: &Matcher) -> ValueShape {
    strings::value_shape(&matcher.value.raw, matcher.op.is_regex())
}

fn finding(kind: QueryFindingKind, range: Range<usize>, message: String, suggestion: Option<String>) -> QueryFinding {
    QueryFinding {
        blocks_rewrite: kind.blocks_rewrite(),
        kind,
        message,
        suggestion,
        range: Some(range),
    }
}

fn unwritable_finding(matcher: &Matcher, value: &str) -> QueryFinding {
    finding(
        QueryFindingKind::UnsupportedSyntax,
        matcher.value.span.clone(),
        format!("\"{value}\" cannot be written in this string's quote style; left unchanged"),
        None,
    )
}

/// The label a scraped series carries instead of a pushed-series label.
pub(crate) fn scraped_label_name(label: &str) -> Option<&'static str> {
    match label {
        EXPORTED_JOB => Some(JOB),
        EXPORTED_INSTANCE => Some(INSTANCE),
        _ => None,
    }
}

/// Edits deleting `doomed` matchers from `selector` so that what stays is well-formed: each run
/// of deleted matchers goes together with the separator before it (or after it, at the start).
/// When no matcher would stay, the braces go too if the selector has a metric name; without one
/// `{}` would not parse, so `None`.
pub(crate) fn deletion_edits(text: &str, selector: &Selector, doomed: &[&Matcher]) -> Option<Vec<QueryEdit>> {
    let matchers = &selector.matchers;
    let is_doomed = |m: &Matcher| doomed.iter().any(|d| d.span == m.span);
    let kept = matchers.iter().filter(|m| !is_doomed(m)).count();
    let delete = |range: Range<usize>| QueryEdit {
        range,
        replacement: String::new(),
    };
    if kept == 0 && selector.other_items.is_empty() {
        let (open, close) = selector.braces.clone()?;
        selector.name_span.as_ref()?;
        return Some(vec![delete(open.start..close.end)]);
    }
    // A comment between matchers must not be swallowed: then only the matcher and the comma
    // right after it go (a trailing comma is valid PromQL).
    let (open, close) = selector.braces.clone()?;
    let inside = text.get(open.end..close.start).unwrap_or_default();
    if has_comment(inside) {
        let mut edits = Vec::new();
        for matcher in matchers.iter().filter(|m| is_doomed(m)) {
            let rest = text.get(matcher.span.end..close.start).unwrap_or_default();
            let whitespace = rest.len() - rest.trim_start().len();
            let end = if rest.trim_start().starts_with(',') {
                matcher.span.end + whitespace + 1
            } else {
                matcher.span.end
            };
            edits.push(delete(matcher.span.start..end));
        }
        return Some(edits);
    }
    // The items in order, each with whether it goes: a quoted metric name (`{"a.b", job="x"}`)
    // stays, and separates like a matcher.
    let mut items: Vec<(Range<usize>, bool)> = matchers
        .iter()
        .map(|m| (m.span.clone(), is_doomed(m)))
        .chain(selector.other_items.iter().map(|span| (span.clone(), false)))
        .collect();
    items.sort_by_key(|(span, _)| span.start);
    let goes = |i: usize| items.get(i).is_some_and(|(_, doomed)| *doomed);
    let mut edits = Vec::new();
    let mut index = 0;
    while index < items.len() {
        if !goes(index) {
            index += 1;
            continue;
        }
        let mut last_index = index;
        while goes(last_index + 1) {
            last_index += 1;
        }
        let (first, last) = (&items.get(index)?.0, &items.get(last_index)?.0);
        let range = match (
            index.checked_sub(1).and_then(|i| items.get(i)),
            items.get(last_index + 1),
        ) {
            (Some((previous, _)), _) => previous.end..last.end,
            (None, Some((next, _))) => first.start..next.start,
            (None, None) => first.start..last.end,
        };
        edits.push(delete(range));
        index = last_index + 1;
    }
    Some(edits)
}

fn has_comment(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    while let Some(&b) = bytes.get(index) {
        match b {
            b'#' => return true,
            b'"' | b'\'' | b'`' => index = super::template::skip_string(bytes, index),
            _ => index += 1,
        }
    }
    false
}
