//! Selectors under `honor_labels: false`: pushed series carry the gateway's `job`/`instance`,
//! and the pushed ones as `exported_job`/`exported_instance` (docs/label-facts.md,
//! exported_job and exported_instance).
//!
//! A selector reads pushed series when it names the gateway's job or target, or an
//! `exported_*` label. Each rule is one step:
//! - the `job` and `instance` matchers are sorted by what they say about the gateway
//!   ([`Rewriter::gateway_matchers`]); a selector not through the gateway may count an app's
//!   series twice during dual-run ([`Rewriter::double_count_off_gateway`]);
//! - whose pushed series it reads is a [`Target`]: from `exported_job`
//!   ([`Rewriter::target_from_exported_job`]) or else from `exported_instance` and the metric
//!   ([`Rewriter::target_from_instances`]);
//! - one app: the gateway's matchers become its scrape job and target, `exported_*` matchers
//!   are renamed or deleted ([`Rewriter::for_one_app`]); several apps, or a variable: the
//!   `exported_job` matcher becomes a `job` matcher over their scrape jobs
//!   ([`Rewriter::for_several_apps`], [`Rewriter::for_job_variable`]).

use super::super::model::{AppMapping, QueryFinding, QueryFindingKind};
use super::super::strings::{self, ValueShape};
use super::super::structure::{MatchOp, Matcher, MetricName, Selector};
use super::Rewriter;
use super::deletion::deletion_edits;
use super::matcher::{
    EXPORTED_INSTANCE, EXPORTED_JOB, INSTANCE, JOB, Pending, blocking, finding, matchers, named_values, value_shape,
};
use super::metric::{MetricKind, lists_metric};

/// The `job` and `instance` matchers of one selector, by what they say about the gateway.
#[derive(Default)]
struct GatewayMatchers<'s> {
    /// Positive `job` matchers naming the gateway's job.
    jobs: Vec<&'s Matcher>,
    /// Positive `instance` matchers naming a gateway target.
    instances: Vec<&'s Matcher>,
    /// A positive `job` matcher names another job, or one pullover cannot list.
    other_job: bool,
    /// Some positive `instance` matcher.
    instance_constrained: bool,
    /// A negative `job` matcher keeps out the gateway's job (every pushed series) or the app's
    /// scrape job (the scraped ones).
    one_source_excluded: bool,
}

/// The matchers a selector through the gateway is rewritten by: at most one of the gateway's
/// job and of its target, and the pushed labels.
struct PushedMatchers<'s> {
    gateway_job: Option<&'s Matcher>,
    gateway_instance: Option<&'s Matcher>,
    exported_jobs: Vec<&'s Matcher>,
    exported_instances: Vec<&'s Matcher>,
}

/// Whose pushed series a selector through the gateway reads.
pub(super) enum Target<'m> {
    Apps(Vec<&'m AppMapping>),
    /// `exported_job=~"$job"`: the dashboard decides.
    Template,
    Unreadable(String, QueryFindingKind),
}

impl<'m> Rewriter<'m, '_> {
    /// `honor_labels: false`: pushed series carry the gateway's `job`/`instance` and
    /// `exported_job`/`exported_instance`.
    pub(super) fn selector_with_exported_labels(&mut self, selector: &Selector) {
        let kind = MetricKind::of(&selector.name, self.mapping);
        let exported_jobs: Vec<&Matcher> = matchers(selector, EXPORTED_JOB).collect();
        let exported_instances: Vec<&Matcher> = matchers(selector, EXPORTED_INSTANCE).collect();
        if kind == MetricKind::GatewayOnly {
            let app = exported_jobs.iter().find_map(|m| self.app_named_exactly(m));
            let finding = self.no_equivalent(selector, kind, app);
            return self.analysis.findings.push(finding);
        }
        let gateway = match self.gateway_matchers(selector, kind) {
            Ok(gateway) => gateway,
            Err(review) => return self.analysis.findings.push(review),
        };
        let pushed_labels = !exported_jobs.is_empty() || !exported_instances.is_empty();
        let stop = if gateway.jobs.is_empty() && gateway.instances.is_empty() && !pushed_labels {
            self.double_count_off_gateway(selector, kind, &gateway)
        } else if kind.describes_target() && !pushed_labels {
            let app = exported_jobs.first().and_then(|m| self.app_named_exactly(m));
            Some(self.no_equivalent(selector, kind, app))
        } else if gateway.other_job || gateway.jobs.len() > 1 || gateway.instances.len() > 1 {
            let text = self.quoted(&selector.span);
            Some(finding(
                QueryFindingKind::AmbiguousApp,
                selector.span.clone(),
                format!(
                    "`{text}` combines job or instance matchers in a way pullover does not rewrite. Left unchanged"
                ),
                None,
            ))
        } else {
            let pushed = PushedMatchers {
                gateway_job: gateway.jobs.first().copied(),
                gateway_instance: gateway.instances.first().copied(),
                exported_jobs,
                exported_instances,
            };
            match self.rewrite_through_gateway(selector, kind, &pushed) {
                Ok(pending) => return self.push(pending),
                Err(finding) => Some(finding),
            }
        };
        self.analysis.findings.extend(stop);
    }

    /// Sorts the selector's `job` and `instance` matchers. `Err` for a `job` regex pullover
    /// cannot read: it may select the gateway's job.
    fn gateway_matchers<'s>(
        &mut self,
        selector: &'s Selector,
        kind: MetricKind<'m>,
    ) -> Result<GatewayMatchers<'s>, QueryFinding> {
        let gateway_job = self.mapping.gateway_job.clone();
        let mut read = GatewayMatchers::default();
        for job in matchers(selector, JOB) {
            let shape = value_shape(job);
            if !job.op.is_positive() {
                // Keeping out the gateway's job keeps out every pushed series; keeping out the
                // app's scrape job keeps out the scraped ones.
                let app_job = match kind {
                    MetricKind::App(app) => Some(app.scrape_job.as_str()),
                    _ => None,
                };
                let keeps_out = |job: &str| job == gateway_job || Some(job) == app_job;
                read.one_source_excluded |= named_values(&shape).iter().any(|v| keeps_out(v));
                continue;
            }
            match shape {
                ValueShape::Literal(value) if value == gateway_job => read.jobs.push(job),
                ValueShape::Alternation(a) if a.literals().any(|l| l == gateway_job) => read.jobs.push(job),
                ValueShape::MatchAll => {}
                ValueShape::Opaque => {
                    let text = self.quoted(&job.span);
                    // It may stay on the gateway, so the query's grouping labels must too.
                    return Err(blocking(
                        QueryFindingKind::RegexNeedsReview,
                        job.span.clone(),
                        format!(
                            "`{text}` is a regex pullover cannot read; it may select the Pushgateway's job \"{gateway_job}\". Left unchanged"
                        ),
                    ));
                }
                ValueShape::Literal(value) => {
                    self.note_scraped_job(&value, selector);
                    read.other_job = true;
                }
                _ => read.other_job = true,
            }
        }
        for instance in matchers(selector, INSTANCE).filter(|m| m.op.is_positive()) {
            read.instance_constrained = true;
            let names_gateway = match value_shape(instance) {
                ValueShape::Literal(value) => self.is_gateway_instance(&value),
                ValueShape::Alternation(a) => a.literals().any(|l| self.is_gateway_instance(l)),
                _ => false,
            };
            if names_gateway {
                read.instances.push(instance);
            }
        }
        Ok(read)
    }

    /// A selector not through the gateway that reads an app's metric with nothing keeping it
    /// to one source: during dual-run it counts the pushed and the scraped series both.
    fn double_count_off_gateway(
        &self,
        selector: &Selector,
        kind: MetricKind<'m>,
        gateway: &GatewayMatchers<'_>,
    ) -> Option<QueryFinding> {
        let MetricKind::App(app) = kind else {
            return None;
        };
        if gateway.other_job || gateway.instance_constrained || gateway.one_source_excluded {
            return None;
        }
        let text = self.quoted(&selector.span);
        Some(finding(
            QueryFindingKind::DoubleCountDuringDualRun,
            selector.span.clone(),
            format!(
                "`{text}` has no job matcher that tells the pushed from the scraped series: it selects both while both run"
            ),
            Some(format!("job=\"{}\"", app.scrape_job)),
        ))
    }

    /// The edits for a selector through the gateway; `Err` when it stays as written.
    fn rewrite_through_gateway(
        &mut self,
        selector: &Selector,
        kind: MetricKind<'m>,
        pushed: &PushedMatchers<'_>,
    ) -> Result<Pending, QueryFinding> {
        let target = match pushed.exported_jobs.as_slice() {
            [] => self.target_from_instances(&pushed.exported_instances, kind, selector),
            [exported] => self.target_from_exported_job(exported),
            _ => Target::Unreadable(
                "several exported_job matchers in one selector".to_string(),
                QueryFindingKind::UnsupportedSyntax,
            ),
        };
        let mut pending = Pending::default();
        let deletions = match target {
            Target::Unreadable(reason, kind) => {
                let text = self.quoted(&selector.span);
                // The selector stays on the gateway, so its grouping labels must too.
                return Err(blocking(
                    kind,
                    selector.span.clone(),
                    format!("`{text}`: {reason}. Left unchanged"),
                ));
            }
            Target::Template => self.for_job_variable(selector, pushed, &mut pending)?,
            Target::Apps(apps) => match apps.as_slice() {
                [] => {
                    let text = self.quoted(&selector.span);
                    return Err(finding(
                        QueryFindingKind::AmbiguousApp,
                        selector.span.clone(),
                        format!("`{text}` selects no app that is being migrated. Left unchanged"),
                        None,
                    ));
                }
                [app] => self.for_one_app(selector, app, pushed, &mut pending)?,
                several => self.for_several_apps(selector, several, pushed, &mut pending)?,
            },
        };
        if !deletions.is_empty() {
            let Some(edits) = deletion_edits(self.text, selector, &deletions) else {
                let text = self.quoted(&selector.span);
                return Err(finding(
                    QueryFindingKind::UnsupportedSyntax,
                    selector.span.clone(),
                    format!("`{text}` would be left without matchers. Left unchanged"),
                    None,
                ));
            };
            pending.edits.extend(edits);
        }
        Ok(pending)
    }

    /// `exported_job=~"$job"`: it becomes `job`, and the variable must offer the scrape jobs.
    /// Returns the matchers to delete.
    fn for_job_variable<'s>(
        &self,
        selector: &Selector,
        pushed: &PushedMatchers<'s>,
        pending: &mut Pending,
    ) -> Result<Vec<&'s Matcher>, QueryFinding> {
        let Some(exported) = pushed.exported_jobs.first() else {
            return Ok(Vec::new());
        };
        if pushed.gateway_job.is_some_and(|m| m.op != MatchOp::Equal) || pushed.gateway_instance.is_some() {
            return Err(self.ambiguous(selector));
        }
        self.set_label(pending, &exported.label, JOB);
        if self.mapping.apps.iter().any(AppMapping::is_renamed) {
            let text = self.quoted(&exported.span);
            let scrape_jobs: Vec<&str> = self.mapping.apps.iter().map(|a| a.scrape_job.as_str()).collect();
            pending.findings.push(finding(
                QueryFindingKind::VariableNeedsReview,
                exported.span.clone(),
                format!("`{text}` now filters `job`: the variable must offer the scrape job names ({}), not the pushed ones", scrape_jobs.join(", ")),
                None,
            ));
        }
        self.rename_instance_variables(selector, &pushed.exported_instances, pending)?;
        Ok(pushed.gateway_job.into_iter().collect())
    }

    /// One app: the gateway's job and target matchers become the app's scrape job and target
    /// (or `exported_job` becomes `job`); `exported_*` matchers they make redundant are deleted.
    /// Returns the matchers to delete.
    fn for_one_app<'s>(
        &mut self,
        selector: &Selector,
        app: &'m AppMapping,
        pushed: &PushedMatchers<'s>,
        pending: &mut Pending,
    ) -> Result<Vec<&'s Matcher>, QueryFinding> {
        self.note_pushed(app, selector);
        let mut deletions = Vec::new();
        match pushed.gateway_job {
            Some(job) => {
                match value_shape(job) {
                    ValueShape::Alternation(alternation) if pushed.exported_jobs.is_empty() => {
                        let gateway_job = &self.mapping.gateway_job;
                        self.set_alternation(pending, job, &alternation, |literal| {
                            (literal == gateway_job).then(|| app.scrape_job.clone())
                        });
                    }
                    _ => {
                        if job.op != MatchOp::Equal {
                            pending.edit(job.op_span.clone(), "=");
                        }
                        self.set_value(pending, job, &app.scrape_job);
                    }
                }
                deletions.extend(pushed.exported_jobs.iter().copied());
            }
            None => {
                if let Some(exported) = pushed.exported_jobs.first() {
                    self.set_label(pending, &exported.label, JOB);
                    if exported.op != MatchOp::Equal {
                        pending.edit(exported.op_span.clone(), "=");
                    }
                    self.set_value(pending, exported, &app.scrape_job);
                }
            }
        }
        if let Some(instance) = pushed.gateway_instance {
            match value_shape(instance) {
                ValueShape::Alternation(alternation) => {
                    self.set_alternation(pending, instance, &alternation, |literal| {
                        self.is_gateway_instance(literal).then(|| app.scrape_instance.clone())
                    });
                }
                _ => self.set_value(pending, instance, &app.scrape_instance),
            }
        }
        for exported_instance in &pushed.exported_instances {
            match self.exported_instance(pending, exported_instance, app, pushed.gateway_instance.is_some()) {
                Ok(true) => deletions.push(*exported_instance),
                Ok(false) => {}
                Err(reason) => {
                    let text = self.quoted(&exported_instance.span);
                    return Err(finding(
                        QueryFindingKind::AmbiguousApp,
                        exported_instance.span.clone(),
                        format!("`{text}`: {reason}. Left unchanged"),
                        None,
                    ));
                }
            }
        }
        Ok(deletions)
    }

    /// Several apps named by one `exported_job` matcher: it becomes `job=~"<their scrape
    /// jobs>"`. Returns the matchers to delete.
    fn for_several_apps<'s>(
        &mut self,
        selector: &Selector,
        apps: &[&'m AppMapping],
        pushed: &PushedMatchers<'s>,
        pending: &mut Pending,
    ) -> Result<Vec<&'s Matcher>, QueryFinding> {
        let Some(exported) = pushed.exported_jobs.first() else {
            return Err(self.ambiguous(selector));
        };
        for app in apps {
            self.note_pushed(app, selector);
        }
        if pushed.gateway_job.is_some_and(|m| m.op != MatchOp::Equal) || pushed.gateway_instance.is_some() {
            return Err(self.ambiguous(selector));
        }
        let mut escaped = Vec::new();
        for app in apps {
            match strings::regex_escape(&app.scrape_job, exported.value.quote) {
                Some(job) => escaped.push(job),
                None => return Err(self.unwritable(selector, &app.scrape_job)),
            }
        }
        self.set_label(pending, &exported.label, JOB);
        if exported.op != MatchOp::Regex {
            pending.edit(exported.op_span.clone(), "=~");
        }
        self.set_value(pending, exported, &escaped.join("|"));
        self.rename_instance_variables(selector, &pushed.exported_instances, pending)?;
        Ok(pushed.gateway_job.into_iter().collect())
    }

    fn ambiguous(&self, selector: &Selector) -> QueryFinding {
        let text = self.quoted(&selector.span);
        let apps: Vec<&str> = self.mapping.apps.iter().map(|a| a.pushed_job.as_str()).collect();
        finding(
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
        )
    }

    fn unwritable(&self, selector: &Selector, value: &str) -> QueryFinding {
        let text = self.quoted(&selector.span);
        finding(
            QueryFindingKind::UnsupportedSyntax,
            selector.span.clone(),
            format!("`{text}`: \"{value}\" cannot be written in this string's quote style. Left unchanged"),
            None,
        )
    }

    /// `exported_instance` matchers beside a job that is not one app's: only variables (or
    /// match-alls) can stay, renamed to `instance`.
    fn rename_instance_variables(
        &self,
        selector: &Selector,
        exported_instances: &[&Matcher],
        pending: &mut Pending,
    ) -> Result<(), QueryFinding> {
        for matcher in exported_instances {
            match value_shape(matcher) {
                ValueShape::Template | ValueShape::MatchAll => {
                    self.set_label(pending, &matcher.label, INSTANCE);
                    let text = self.quoted(&matcher.span);
                    pending.findings.push(finding(
                        QueryFindingKind::VariableNeedsReview,
                        matcher.span.clone(),
                        format!("`{text}` now filters `instance`: the variable must offer the scrape targets (host:port), not the pushed instance names"),
                        None,
                    ));
                }
                _ => return Err(self.ambiguous(selector)),
            }
        }
        Ok(())
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
}
