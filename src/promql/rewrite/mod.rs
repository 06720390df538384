//! Which selectors pick pushed series, and the edits that make them pick the scraped twins.
//!
//! The label sets follow docs/label-facts.md (honor_labels, exported_job and exported_instance):
//! with `honor_labels: true` pushed series carry the pushed `job`/`instance` (no instance at all
//! when pushed without one), see `honored.rs`; with `honor_labels: false` they carry the
//! gateway's `job`/`instance` plus `exported_job` / `exported_instance`, see `exported.rs`.
//! This file walks a query's selectors, grouping lists and label functions, and finds the
//! dual-run comparisons across selectors.
//!
//! A query is rewritten wholly or not at all: when any part of it cannot be moved (no scraped
//! equivalent, an app that cannot be told, syntax we do not edit) the whole query is left as
//! written and every reason is reported.

mod deletion;
mod exported;
mod honored;
mod matcher;
mod metric;

use std::ops::Range;

use promql_parser::parser::token::{T_GROUP_LEFT, T_GROUP_RIGHT, T_ON};

use super::model::{AppMapping, QueryEdit, QueryFinding, QueryFindingKind, SeriesMapping};
use super::strings::{self, Alternation, Rewritten, ValueShape};
use super::structure::{Call, LabelList, MatchOp, Matcher, MetricName, Name, Selector, Structure};
#[cfg(test)]
pub(crate) use deletion::deletion_edits;
pub(crate) use matcher::scraped_label_name;
use matcher::{EXPORTED_INSTANCE, EXPORTED_JOB, INSTANCE, JOB, Pending, unwritable_finding, value_shape};
use metric::MetricKind;

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

pub(crate) struct Rewriter<'m, 'a> {
    mapping: &'m SeriesMapping,
    text: &'a str,
    analysis: Analysis,
    /// Apps whose pushed series a selector picks (and is rewritten away from).
    pushed: Vec<Picked<'m>>,
    /// Apps whose scraped series a selector already picks explicitly.
    scraped: Vec<Picked<'m>>,
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
        self.analysis
            .findings
            .push(matcher::finding(kind, range, message, suggestion));
    }

    fn quoted(&self, range: &Range<usize>) -> String {
        self.text.get(range.clone()).unwrap_or("").to_string()
    }

    /// A selector that already picks the scraped twin by its job (a renamed app).
    fn note_scraped_job(&mut self, job: &str, selector: &Selector) {
        let honor = self.mapping.honor_labels;
        let app = self
            .mapping
            .apps
            .iter()
            .find(|a| a.scrape_job == job && (!honor || a.is_renamed()));
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
            MetricKind::of(&selector.name, self.mapping),
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

    /// The app whose pushed job `job="x"` (not a regex, not a negation) names.
    fn app_named_exactly(&self, job: &Matcher) -> Option<&'m AppMapping> {
        match value_shape(job) {
            ValueShape::Literal(value) if job.op == MatchOp::Equal => self.app_by_pushed_job(&value),
            _ => None,
        }
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

    /// A selector of what goes away with the Pushgateway: its own metrics, the time of a push, or
    /// its target's series; with what to read instead where there is something.
    fn no_equivalent(&self, selector: &Selector, kind: MetricKind<'m>, app: Option<&AppMapping>) -> QueryFinding {
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
        matcher::finding(
            QueryFindingKind::NoScrapedEquivalent,
            selector.span.clone(),
            message,
            suggestion,
        )
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
