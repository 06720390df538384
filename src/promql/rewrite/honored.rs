//! Selectors under `honor_labels: true`: pushed series keep the `job` and `instance` they were
//! pushed with, and no `instance` at all when pushed without one; the gateway's own target has
//! only its own metrics (docs/label-facts.md, honor_labels).
//!
//! A selector is read matcher by matcher into a [`Reading`]; each rule is one step:
//! - a `job` matcher naming a renamed app's pushed job becomes its scrape job
//!   ([`Rewriter::read_job`]); the gateway's job stands for an app only where the metric says
//!   so ([`Rewriter::on_gateway_job`]);
//! - a selector of the gateway target itself has no scraped equivalent or matches nothing
//!   ([`Rewriter::on_gateway_target`]);
//! - an `instance` matcher naming one app's pushed instance becomes its target
//!   ([`Rewriter::read_instance`]);
//! - what picks both sources during dual-run is reported ([`Rewriter::double_count`]).

use super::super::model::{AppMapping, QueryFinding, QueryFindingKind};
use super::super::strings::{Alternation, ValueShape};
use super::super::structure::{Matcher, MetricName, Selector};
use super::Rewriter;
use super::matcher::{
    INSTANCE, JOB, Pending, finding, matchers, named_values, narrows, scraped_label_name, value_shape,
};
use super::metric::{MetricKind, lists_metric};

/// One selector being read: what its `job` and `instance` matchers say, filled matcher by
/// matcher, and the edits and findings so far; the outcome is decided once all are read.
struct Reading<'m, 's> {
    selector: &'s Selector,
    kind: MetricKind<'m>,
    pending: Pending,
    /// The one app a positive `job` matcher names.
    app: Option<&'m AppMapping>,
    /// An app named by a positive `job` matcher whose pushed and scrape jobs are the same: only
    /// `instance` tells its two sources apart.
    same_name: Option<&'m AppMapping>,
    /// A positive `job` matcher names a job no migrated app pushes as: instances stay as written.
    foreign_job: bool,
    /// Some `job` matcher narrows the job.
    job_constrained: bool,
    /// Some `instance` matcher narrows the instance.
    instance_constrained: bool,
    /// The selector names the Pushgateway target itself, by its job or its instance…
    gateway: bool,
    /// …or as one alternative of several.
    gateway_alternative: bool,
    /// Jobs a negative matcher keeps out: one of a renamed app's two jobs keeps a source out.
    excluded: Vec<String>,
    /// Apps whose pushed series the edits move to their scrape job or target.
    rewritten: Vec<&'m AppMapping>,
}

impl<'m, 's> Reading<'m, 's> {
    fn new(selector: &'s Selector, kind: MetricKind<'m>) -> Self {
        Reading {
            selector,
            kind,
            pending: Pending::default(),
            app: None,
            same_name: None,
            foreign_job: false,
            job_constrained: false,
            instance_constrained: false,
            gateway: false,
            gateway_alternative: false,
            excluded: Vec::new(),
            rewritten: Vec::new(),
        }
    }
}

/// Whose series `job="<gateway job>"` picks in one selector under `honor_labels: true`, when an
/// app pushes under the gateway's own job name (its series and the gateway's own then share the
/// job and differ by metric name and instance: docs/label-facts.md, honor_labels).
enum OnGatewayJob<'m> {
    /// The gateway's own series (or no app pushes as its job): as before.
    Gateway,
    /// This app's pushed series.
    App(&'m AppMapping),
    /// Cannot tell: the reason, for a finding that keeps the selector as written.
    Undecidable(QueryFindingKind, String),
}

impl<'m> Rewriter<'m, '_> {
    /// `honor_labels: true`: pushed series carry the pushed `job` and `instance`.
    pub(super) fn selector_honoring_labels(&mut self, selector: &Selector) {
        let kind = MetricKind::of(&selector.name, self.mapping);
        if kind == MetricKind::GatewayOnly {
            let app = matchers(selector, JOB).find_map(|m| self.app_named_exactly(m));
            let finding = self.no_equivalent(selector, kind, app);
            return self.analysis.findings.push(finding);
        }
        match self.read_honoring_labels(selector, kind) {
            Ok(reading) => {
                for app in reading.rewritten {
                    self.note_pushed(app, selector);
                }
                self.push(reading.pending);
            }
            // The selector stays as written; what was noted about scraped twins stands.
            Err(finding) => self.analysis.findings.push(finding),
        }
    }

    /// The selector read: its edits and findings, and the apps they move; `Err` when it stays
    /// as written, with the reason.
    fn read_honoring_labels<'s>(
        &mut self,
        selector: &'s Selector,
        kind: MetricKind<'m>,
    ) -> Result<Reading<'m, 's>, QueryFinding> {
        if let Some(finding) = self.exported_label_finding(selector) {
            return Err(finding);
        }
        let mut reading = Reading::new(selector, kind);
        for job in matchers(selector, JOB) {
            self.read_job(job, &mut reading)?;
        }
        let instances: Vec<&Matcher> = matchers(selector, INSTANCE).collect();
        for instance in &instances {
            self.read_gateway_instance(instance, &mut reading);
        }
        if reading.gateway || (reading.gateway_alternative && kind.describes_target()) {
            return Err(self.on_gateway_target(selector, kind, reading.app));
        }
        for instance in &instances {
            self.read_instance(instance, &mut reading);
        }
        if let Some(finding) = self.double_count(&reading) {
            reading.pending.findings.push(finding);
        }
        Ok(reading)
    }

    /// `exported_job`/`exported_instance` only exist with honor_labels: false, so a selector
    /// asking for one matches nothing (an empty value asks for its absence, which holds).
    fn exported_label_finding(&self, selector: &Selector) -> Option<QueryFinding> {
        let mut exported = selector
            .matchers
            .iter()
            .filter(|m| m.op.is_positive() && m.label.text.as_deref().and_then(scraped_label_name).is_some());
        exported.find_map(|exported| {
            let text = self.quoted(&exported.span);
            let selector_text = self.quoted(&selector.span);
            match value_shape(exported) {
                ValueShape::Literal(value) if value.is_empty() => None,
                ValueShape::Literal(_) | ValueShape::Alternation(_) => Some(finding(
                    QueryFindingKind::MatchesNothingUnderHonorLabels,
                    selector.span.clone(),
                    format!("`{selector_text}` matches nothing: `{text}` needs a label that only exists with honor_labels: false. Left unchanged"),
                    None,
                )),
                _ => Some(finding(
                    QueryFindingKind::VariableNeedsReview,
                    exported.span.clone(),
                    format!("`{text}`: this label only exists with honor_labels: false; check what the variable holds"),
                    None,
                )),
            }
        })
    }

    /// One `job` matcher. `Err` when the gateway's job cannot be told to be the gateway's or an
    /// app's.
    fn read_job(&mut self, job: &Matcher, reading: &mut Reading<'m, '_>) -> Result<(), QueryFinding> {
        let shape = value_shape(job);
        let positive = job.op.is_positive();
        reading.job_constrained |= narrows(job, &shape);
        if !positive {
            reading.excluded.extend(named_values(&shape));
        }
        match shape {
            ValueShape::Literal(value) => self.read_job_literal(job, &value, reading),
            ValueShape::Alternation(alternation) => self.read_job_alternation(job, &alternation, reading),
            ValueShape::Opaque => {
                let text = self.quoted(&job.span);
                reading.pending.findings.push(finding(
                    QueryFindingKind::RegexNeedsReview,
                    job.span.clone(),
                    format!("`{text}` is a regex pullover cannot read; check whether it selects a pushed job. Left unchanged"),
                    None,
                ));
                Ok(())
            }
            ValueShape::Template | ValueShape::MatchAll | ValueShape::Undecodable => Ok(()),
        }
    }

    /// `job="x"` / `job!="x"`: the gateway's job, an app's pushed job, or another job.
    fn read_job_literal(
        &mut self,
        job: &Matcher,
        value: &str,
        reading: &mut Reading<'m, '_>,
    ) -> Result<(), QueryFinding> {
        let positive = job.op.is_positive();
        if value == self.mapping.gateway_job {
            if !positive {
                return Ok(());
            }
            match self.app_on_gateway_job(reading.selector, reading.kind)? {
                None => reading.gateway = true,
                Some(app) => {
                    reading.app = Some(app);
                    self.set_value(&mut reading.pending, job, &app.scrape_job);
                    reading.rewritten.push(app);
                }
            }
        } else if let Some(app) = self.app_by_pushed_job(value) {
            if positive {
                reading.app = Some(app);
            }
            if app.is_renamed() {
                self.set_value(&mut reading.pending, job, &app.scrape_job);
                reading.rewritten.push(app);
            } else if positive {
                reading.same_name = Some(app);
            }
        } else if positive {
            reading.foreign_job = true;
            self.note_scraped_job(value, reading.selector);
        }
        Ok(())
    }

    /// `job=~"a|b"` / `job!~"a|b"`: each alternative read as a literal would be.
    fn read_job_alternation(
        &mut self,
        job: &Matcher,
        alternation: &Alternation,
        reading: &mut Reading<'m, '_>,
    ) -> Result<(), QueryFinding> {
        let positive = job.op.is_positive();
        let gateway_job = self.mapping.gateway_job.as_str();
        let names_gateway_job = alternation.literals().any(|l| l == gateway_job);
        let on_gateway = if positive && names_gateway_job {
            self.app_on_gateway_job(reading.selector, reading.kind)?
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
        if positive {
            if let [only] = pushed.as_slice() {
                reading.app = Some(only);
            }
            reading.same_name = reading
                .same_name
                .or_else(|| pushed.iter().copied().find(|a| !a.is_renamed()));
            let names_gateway = on_gateway.is_none() && names_gateway_job;
            let only_gateway = names_gateway && alternation.literals().all(|l| l == gateway_job);
            reading.gateway |= only_gateway && !alternation.has_template();
            reading.gateway_alternative |= names_gateway;
            reading.foreign_job |= pushed.is_empty() && !alternation.has_template();
        }
        let before = reading.pending.edits.len();
        self.set_alternation(&mut reading.pending, job, alternation, |literal| {
            pushed_as(literal)
                .filter(|a| a.is_renamed())
                .map(|a| a.scrape_job.clone())
        });
        if reading.pending.edits.len() > before {
            reading.rewritten.extend(pushed.iter().filter(|a| a.is_renamed()));
        }
        Ok(())
    }

    /// A positive `instance` matcher naming the gateway's own target.
    fn read_gateway_instance(&self, instance: &Matcher, reading: &mut Reading<'m, '_>) {
        if !instance.op.is_positive() {
            return;
        }
        match value_shape(instance) {
            ValueShape::Literal(value) => reading.gateway |= self.is_gateway_instance(&value),
            ValueShape::Alternation(alternation) => {
                reading.gateway_alternative |= alternation.literals().any(|l| self.is_gateway_instance(l));
            }
            _ => {}
        }
    }

    /// A selector of the Pushgateway target itself: the gateway's own metrics have no scraped
    /// equivalent, and an app's metric is not there at all.
    fn on_gateway_target(&self, selector: &Selector, kind: MetricKind<'m>, app: Option<&AppMapping>) -> QueryFinding {
        let text = self.quoted(&selector.span);
        let gateway_job = &self.mapping.gateway_job;
        match kind {
            _ if kind.describes_target() => self.no_equivalent(selector, kind, app),
            MetricKind::Unknown => finding(
                QueryFindingKind::VariableNeedsReview,
                selector.span.clone(),
                format!(
                    "`{text}`: with honor_labels: true, the Pushgateway target (job \"{gateway_job}\") only has the gateway's own metrics; check which metric the name stands for"
                ),
                None,
            ),
            _ => {
                let suggestion = match (kind, self.mapping.apps.as_slice()) {
                    (MetricKind::App(app), _) | (_, [app]) => Some(format!("job=\"{}\"", app.scrape_job)),
                    _ => None,
                };
                finding(
                    QueryFindingKind::MatchesNothingUnderHonorLabels,
                    selector.span.clone(),
                    format!(
                        "`{text}` matches nothing: with honor_labels: true pushed series keep the job and instance they were pushed with, and the Pushgateway target (job \"{gateway_job}\") only has the gateway's own metrics. Left unchanged"
                    ),
                    suggestion,
                )
            }
        }
    }

    /// One `instance` matcher: a pushed instance of one app (of the app the job names, if any)
    /// becomes that app's target. Under a job no migrated app pushes as, instances stay.
    fn read_instance(&mut self, instance: &Matcher, reading: &mut Reading<'m, '_>) {
        let shape = value_shape(instance);
        let positive = instance.op.is_positive();
        reading.instance_constrained |= narrows(instance, &shape);
        match shape {
            // `instance!=""` asks for any instance label; it names no pushed group.
            ValueShape::Literal(value) if !positive && value.is_empty() => {}
            ValueShape::Literal(value) => {
                if positive {
                    self.note_scraped_instance(&value, reading.selector);
                }
                if !reading.foreign_job {
                    self.rewrite_instance_literal(instance, &value, reading);
                }
            }
            ValueShape::Alternation(alternation) if !reading.foreign_job => {
                self.rewrite_instance_alternation(instance, &alternation, reading);
            }
            _ => {}
        }
    }

    fn rewrite_instance_literal(&self, instance: &Matcher, value: &str, reading: &mut Reading<'m, '_>) {
        match self.apps_pushing_instance(value, reading.app).as_slice() {
            [] => {}
            [owner] => {
                self.set_value(&mut reading.pending, instance, &owner.scrape_instance);
                reading.rewritten.push(owner);
            }
            owners => {
                let text = self.quoted(&instance.span);
                let names: Vec<&str> = owners.iter().map(|a| a.pushed_job.as_str()).collect();
                reading.pending.findings.push(finding(
                    QueryFindingKind::AmbiguousApp,
                    instance.span.clone(),
                    format!("`{text}` is pushed by several apps ({}); add a job matcher so pullover can tell which target replaces it. Left unchanged", names.join(", ")),
                    None,
                ));
            }
        }
    }

    fn rewrite_instance_alternation(
        &self,
        instance: &Matcher,
        alternation: &Alternation,
        reading: &mut Reading<'m, '_>,
    ) {
        let positive = instance.op.is_positive();
        let mut ambiguous = false;
        let mut owners: Vec<&'m AppMapping> = Vec::new();
        let app = reading.app;
        self.set_alternation(&mut reading.pending, instance, alternation, |literal| {
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
        reading.rewritten.extend(owners);
        if ambiguous {
            let text = self.quoted(&instance.span);
            reading.pending.findings.push(finding(
                QueryFindingKind::AmbiguousApp,
                instance.span.clone(),
                format!("`{text}` names an instance pushed by several apps; add a job matcher. Left unchanged"),
                None,
            ));
        }
    }

    /// An app's series that nothing in the selector keeps to one source: during dual-run it
    /// counts the pushed and the scraped series both.
    fn double_count(&self, reading: &Reading<'m, '_>) -> Option<QueryFinding> {
        let (selector, kind) = (reading.selector, reading.kind);
        if kind == MetricKind::PerTarget || reading.instance_constrained {
            return None;
        }
        let text = self.quoted(&selector.span);
        if let Some(app) = reading.same_name {
            return Some(finding(
                QueryFindingKind::DoubleCountDuringDualRun,
                selector.span.clone(),
                format!(
                    "`{text}` selects both the pushed and the scraped series while both run: they share job \"{}\" and differ only by instance",
                    app.scrape_job
                ),
                Some(format!("instance=\"{}\"", app.scrape_instance)),
            ));
        }
        let (false, MetricKind::App(app)) = (reading.job_constrained, kind) else {
            return None;
        };
        let one_source_excluded = app.is_renamed()
            && reading
                .excluded
                .iter()
                .any(|j| *j == app.pushed_job || *j == app.scrape_job);
        (!one_source_excluded).then(|| {
            finding(
                QueryFindingKind::DoubleCountDuringDualRun,
                selector.span.clone(),
                format!("`{text}` has no job matcher that tells the pushed from the scraped series: it selects both while both run"),
                Some(format!("job=\"{}\", instance=\"{}\"", app.scrape_job, app.scrape_instance)),
            )
        })
    }

    /// The app whose pushed series `job="<gateway job>"` picks in `selector`, `None` for the
    /// gateway's own; `Err` (the selector stays as written) when that cannot be told.
    fn app_on_gateway_job(
        &self,
        selector: &Selector,
        kind: MetricKind<'m>,
    ) -> Result<Option<&'m AppMapping>, QueryFinding> {
        match self.on_gateway_job(selector, kind) {
            OnGatewayJob::Gateway => Ok(None),
            OnGatewayJob::App(app) => Ok(Some(app)),
            OnGatewayJob::Undecidable(kind, message) => Err(finding(kind, selector.span.clone(), message, None)),
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
            let values = named_values(&value_shape(instance));
            if instance.op.is_positive() {
                named.extend(values);
            } else {
                excludes_gateway |= values.iter().any(|v| self.is_gateway_instance(v));
            }
        }
        if named.iter().any(|i| self.is_gateway_instance(i)) {
            return OnGatewayJob::Gateway;
        }
        match (kind, &selector.name) {
            (MetricKind::GatewayOnly | MetricKind::Absent, _) => OnGatewayJob::Gateway,
            (MetricKind::Unknown, _) => OnGatewayJob::Undecidable(
                QueryFindingKind::VariableNeedsReview,
                format!(
                    "`{}`: under job \"{gateway_job}\" the name may stand for an app's pushed metric or the gateway's own; check which, and rewrite it by hand",
                    self.quoted(&selector.span)
                ),
            ),
            (_, MetricName::Unknown | MetricName::Absent) => OnGatewayJob::Gateway,
            (MetricKind::App(_) | MetricKind::Other, MetricName::Literal(name)) => {
                self.app_metric_on_gateway_job(selector, kind, name, &pushing, &named)
            }
            (MetricKind::PerTarget, MetricName::Literal(name)) => {
                self.per_target_metric_on_gateway_job(selector, name, &pushing, &named, excludes_gateway)
            }
        }
    }

    /// An app's metric (or one no app lists) under the gateway's job: the app pushing as that
    /// job that lists it, told apart by the instances the selector names.
    fn app_metric_on_gateway_job(
        &self,
        selector: &Selector,
        kind: MetricKind<'m>,
        name: &str,
        pushing: &[&'m AppMapping],
        named: &[String],
    ) -> OnGatewayJob<'m> {
        // Apps on the gateway's job that list the metric; several apps may push the same
        // families, told apart by instance.
        let listing: Vec<&'m AppMapping> = pushing.iter().copied().filter(|a| lists_metric(a, name)).collect();
        if listing.is_empty() && matches!(kind, MetricKind::App(_)) {
            // Another app's metric: it does not push under the gateway's job.
            return OnGatewayJob::Gateway;
        }
        let pool = if listing.is_empty() { pushing.to_vec() } else { listing };
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
                        "`{}`: several apps push as job \"{}\" ({}) and nothing in the selector says whose series these are; add an instance matcher. Left unchanged",
                        self.quoted(&selector.span),
                        self.mapping.gateway_job,
                        names.join(", ")
                    ),
                )
            }
        }
    }

    /// A family the gateway and an app both export (`process_*`, `go_*`) under the gateway's
    /// job: the app's when its instance is named, or when the gateway's is kept out and one app
    /// pushes as that job. `up` and `scrape_*` are always the gateway target's.
    fn per_target_metric_on_gateway_job(
        &self,
        selector: &Selector,
        name: &str,
        pushing: &[&'m AppMapping],
        named: &[String],
        excludes_gateway: bool,
    ) -> OnGatewayJob<'m> {
        if name == "up" || name.starts_with("scrape_") {
            return OnGatewayJob::Gateway;
        }
        let by_instance: Vec<&'m AppMapping> = pushing
            .iter()
            .copied()
            .filter(|a| named.iter().any(|i| a.pushed_instances.contains(i)))
            .collect();
        match (by_instance.as_slice(), pushing) {
            ([one], _) => OnGatewayJob::App(one),
            ([], [one]) if excludes_gateway => OnGatewayJob::App(one),
            _ => {
                let hint = pushing
                    .iter()
                    .find_map(|a| a.pushed_instances.iter().find(|i| !i.is_empty()))
                    .map(|i| format!("add instance=\"{i}\" for the app's, or "))
                    .unwrap_or_default();
                let apps: Vec<&str> = pushing.iter().map(|a| a.scrape_job.as_str()).collect();
                OnGatewayJob::Undecidable(
                    QueryFindingKind::AmbiguousApp,
                    format!(
                        "`{}`: both the Pushgateway and {} export `{name}` under job \"{}\", and nothing in the selector says whose it reads; {hint}add instance=\"{}\" for the gateway's. Left unchanged",
                        self.quoted(&selector.span),
                        apps.join(", "),
                        self.mapping.gateway_job,
                        self.mapping.gateway_instances.first().map_or("", String::as_str)
                    ),
                )
            }
        }
    }
}
