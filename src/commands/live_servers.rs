//! What `verify`, `apply` and `rollback` share about live servers: clients from the settings,
//! the journal history the checks need, the gate before a phase, `--reload`, and a progress
//! bar on a terminal.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;

use super::Context;
use crate::cli::LiveArgs;
use crate::diagnostic::Diagnostic;
use crate::live::{
    Auth, AuthEnv, Endpoint, LiveError, PrometheusClient, PushgatewayClient, connection_from_sources, observe,
};
use crate::phase::PhaseId;
use crate::promql::{Dialect, PrometheusVersion, VersionSource, enabled_features};
use crate::stack::Stack;
use crate::stack::kube::embedded::views_of;
use crate::stack::prometheus_version::SETTING;
use crate::stack::source::RelPath;
use crate::state::StateDir;
use crate::state::journal::AppliedPhase;
use crate::verify::check::{LiveTargets, Progress, ProgressEvent, Stage, VerifyError, VerifySettings, no_progress};
use crate::verify::compare::Tolerance;
use crate::verify::found::Found;
use crate::verify::history::History;
use crate::verify::pairs::pair_file;
use crate::verify::reload::{ConfigView, ExpectedConfig, JobView, LiveConfig, ReloadReport, reload_and_confirm};
use crate::verify::run::{VerifyReport, verify};
use crate::verify::{gone, render};

pub(super) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

pub(super) fn settings(args: &LiveArgs) -> VerifySettings {
    VerifySettings {
        tolerance: Tolerance {
            relative: args.tolerance,
            ..Tolerance::default()
        },
        window: args.window,
        concurrency: usize::from(args.concurrency),
        query_timeout: args.timeout,
        max_push_age: args.max_push_age,
        window_series: false,
    }
}

/// An error about a live server, as a person reads it.
pub(super) fn live_error(error: LiveError, help: &[String]) -> anyhow::Error {
    let mut diagnostic = Diagnostic::error(error.to_string());
    for line in help {
        diagnostic = diagnostic.help(line.clone());
    }
    diagnostic.into()
}

fn verify_error(error: VerifyError) -> anyhow::Error {
    live_error(error.error, &error.help)
}

fn endpoint(url: &str, prefix: &str, timeout: Duration) -> Result<Endpoint> {
    let auth = Auth::from_env_or_file(prefix).map_err(|e| live_error(e, &[]))?;
    let endpoint = Endpoint::new(url)
        .map_err(|e| live_error(e, &[]))?
        .with_auth(auth)
        .with_timeout(timeout);
    connection_from_sources(endpoint, prefix, |name| std::env::var(name).ok()).map_err(|e| live_error(e, &[]))
}

pub(super) fn prometheus(url: &str, timeout: Duration) -> Result<PrometheusClient> {
    PrometheusClient::new(endpoint(url, AuthEnv::PROMETHEUS, timeout)?).map_err(|e| live_error(e, &[]))
}

fn pushgateway(url: &str, timeout: Duration) -> Result<PushgatewayClient> {
    PushgatewayClient::new(endpoint(url, AuthEnv::PUSHGATEWAY, timeout)?).map_err(|e| live_error(e, &[]))
}

/// The clients for the URLs the stack's settings (flags over `pullover.yaml`) name.
pub(super) fn live_targets(stack: &Stack, timeout: Duration) -> Result<LiveTargets> {
    let live = &stack.settings.live;
    let prometheus = live
        .prometheus_url
        .as_deref()
        .map(|url| prometheus(url, timeout))
        .transpose()?;
    let pushgateway = live
        .pushgateway_url
        .as_deref()
        .map(|url| pushgateway(url, timeout))
        .transpose()?;
    // Only auth, timeout and headers of this template are used; the URL is the app's.
    let app_template = endpoint("http://app.invalid/", AuthEnv::APP, timeout)?;
    Ok(LiveTargets {
        prometheus,
        pushgateway,
        app_url: live.app_url.clone(),
        app_endpoint_template: Some(app_template),
    })
}

/// How long `plan` and `analyze` wait for a live server before planning from the files alone.
const OBSERVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Fills `stack.observed_pushes` from the Pushgateway and Prometheus the settings name. A URL
/// that cannot be used or a server that does not answer is a note, not an error: the plan then
/// learns from the files alone, as it would without the URL.
pub(super) fn observe_pushes(ctx: &Context, stack: &mut Stack) -> Result<()> {
    observe_pushes_within(ctx, stack, OBSERVE_TIMEOUT)
}

/// [`observe_pushes`], waiting at most `timeout` for each server (`verify --timeout`).
pub(super) fn observe_pushes_within(ctx: &Context, stack: &mut Stack, timeout: Duration) -> Result<()> {
    let live = &stack.settings.live;
    let note = |setting: &str, error: &dyn std::fmt::Display| {
        ctx.note(&format!(
            "cannot ask which groups are pushed ({error}; check {setting}); learning them from the files alone"
        ));
    };
    let prometheus = live.prometheus_url.as_deref().and_then(|url| {
        prometheus(url, timeout)
            .map_err(|e| note("--prometheus-url or `live.prometheus_url` in pullover.yaml", &e))
            .ok()
    });
    let pushgateway = live.pushgateway_url.as_deref().and_then(|url| {
        pushgateway(url, timeout)
            .map_err(|e| note("--pushgateway-url or `live.pushgateway_url` in pullover.yaml", &e))
            .ok()
    });
    if prometheus.is_none() && pushgateway.is_none() {
        return Ok(());
    }
    let (observed, errors) = runtime()?.block_on(observe::observe_pushes(prometheus.as_ref(), pushgateway.as_ref()));
    for error in errors {
        note("that the server runs and the URL is right", &error);
    }
    stack.observe(observed);
    Ok(())
}

/// When the stack's files do not say which Prometheus reads the queries (the version is a stated
/// assumption), asks the live one: `/api/v1/status/buildinfo` for the version and
/// `/api/v1/status/flags` for its `--enable-feature` list. A server that does not answer is a
/// note and the assumption stays; the files (image tag, `prometheus_version:`) always win.
pub(super) fn observe_prometheus_version(ctx: &Context, stack: &mut Stack) -> Result<()> {
    if !stack.prometheus_dialect.is_assumed() {
        return Ok(());
    }
    let Some(url) = stack.settings.live.prometheus_url.clone() else {
        return Ok(());
    };
    let assumed = stack.prometheus_dialect.version;
    let note = |error: &dyn std::fmt::Display| {
        ctx.note(&format!(
            "cannot ask Prometheus which version it runs ({error}); reading the queries as Prometheus {assumed} \
             (set `prometheus_version:` in pullover.yaml to say which)"
        ));
    };
    let client = match prometheus(&url, OBSERVE_TIMEOUT) {
        Ok(client) => client,
        Err(error) => {
            note(&error);
            return Ok(());
        }
    };
    let (info, flags) = runtime()?.block_on(async { (client.buildinfo().await, client.flags().await) });
    let info = match info {
        Ok(info) => info,
        Err(error) => {
            note(&error);
            return Ok(());
        }
    };
    let Some(version) = PrometheusVersion::parse(&info.version) else {
        note(&format!("it reports version `{}`", info.version));
        return Ok(());
    };
    let features = match flags {
        Ok(flags) => flags
            .get("enable-feature")
            .map(|value| enabled_features(&[format!("--enable-feature={value}")]))
            .unwrap_or_default(),
        Err(_) => stack.prometheus_dialect.features.clone(),
    };
    stack.prometheus_dialect = Dialect::new(version, features, VersionSource::Live { url: url.clone() });
    for found in stack.evidence.iter_mut().filter(|e| e.setting == SETTING) {
        found.value = version.to_string();
        found.because = format!("reported by the Prometheus at {url} (/api/v1/status/buildinfo)");
    }
    Ok(())
}

/// The query pairs of `dashboards` and the removal time of `remove`, from the journal and
/// its snapshots.
pub(super) fn history(state: &StateDir, applied: &[AppliedPhase]) -> Result<History> {
    let mut history = History::default();
    let text = |sha: &str| -> Result<Option<String>> { Ok(String::from_utf8(state.objects().get(sha)?).ok()) };
    if let Some(phase) = applied.iter().find(|p| p.phase == PhaseId::Dashboards.name()) {
        for file in &phase.files {
            let (Some(before), Some(after)) = (&file.before, &file.after) else {
                continue;
            };
            let path = file.path.to_string();
            match (text(&before.sha256)?, text(&after.sha256)?) {
                (Some(before), Some(after)) => match pair_file(&path, &before, &after) {
                    Ok(Some(source)) => history.query_sources.push(source),
                    // A Kubernetes manifest: the dashboards and rule groups inside it.
                    Ok(None) => pair_manifest(&file.path, &before, &after, &mut history),
                    Err(reason) => history.unpaired.push((path, reason)),
                },
                _ => history.unpaired.push((path, "not UTF-8 text".into())),
            }
        }
    }
    if let Some(phase) = applied.iter().find(|p| p.phase == PhaseId::Remove.name()) {
        history.removed_at = crate::live::model::parse_rfc3339(&phase.time);
        for file in &phase.files {
            let (Some(before), Some(after)) = (&file.before, &file.after) else {
                continue;
            };
            if let (Some(before), Some(after)) = (text(&before.sha256)?, text(&after.sha256)?)
                && let Some(source) = gone::removed_gateway_job(&before, &after)
            {
                history.removed_gateway = Some(source);
            }
        }
    }
    Ok(history)
}

/// The query pairs of the dashboards and rule groups a manifest holds (each view before and
/// after), for the `dashboards` phase of a Kubernetes stack (docs/kubernetes.md).
fn pair_manifest(path: &RelPath, before: &str, after: &str, history: &mut History) {
    let old_views = views_of(path, before);
    for new in views_of(path, after) {
        let Some(old) = old_views.iter().find(|v| v.path == new.path) else {
            continue;
        };
        let view = new.path.to_string();
        match pair_file(&view, old.text(), new.text()) {
            Ok(Some(source)) => history.query_sources.push(source),
            Ok(None) => {}
            Err(reason) => history.unpaired.push((view, reason)),
        }
    }
}

/// Fills what the stack's settings lack (the apps, the gateway's job) from what the applied
/// phases recorded in the journal; returns what it took, for a note.
pub(super) fn fill_from_journal(stack: &mut Stack, applied: &[AppliedPhase]) -> Vec<String> {
    let recorded: Vec<Found> = applied
        .iter()
        .filter_map(|phase| Found::from_json(phase.found.as_ref()))
        .collect();
    Found::latest(recorded.iter()).fill(stack)
}

/// The stack as the checks need it: settings, and what discovery can no longer find taken
/// from the journal (said in a note).
pub(super) fn stack_for_checks(ctx: &Context, applied: &[AppliedPhase]) -> Result<Stack> {
    let mut stack = Stack::load(&ctx.global.stack, &ctx.global.overrides())?;
    let took = fill_from_journal(&mut stack, applied);
    if !took.is_empty() {
        ctx.note(&format!(
            "the settings do not name {}; using what the journal recorded when the phases were applied",
            took.join(" or ")
        ));
    }
    Ok(stack)
}

/// A progress bar (or spinner) on stderr when it is a terminal; nothing otherwise.
pub(super) fn progress() -> Progress {
    if !std::io::stderr().is_terminal() {
        return no_progress();
    }
    let bar: Arc<Mutex<Option<indicatif::ProgressBar>>> = Arc::new(Mutex::new(None));
    Arc::new(move |event| {
        let Ok(mut current) = bar.lock() else { return };
        match event {
            ProgressEvent::Start { label, total } => {
                let progress = if total > 0 {
                    let bar = indicatif::ProgressBar::new(total);
                    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}")
                    {
                        bar.set_style(style.progress_chars("=> "));
                    }
                    bar
                } else {
                    indicatif::ProgressBar::new_spinner()
                };
                progress.set_message(label.to_string());
                progress.enable_steady_tick(Duration::from_millis(100));
                if let Some(previous) = current.replace(progress) {
                    previous.finish_and_clear();
                }
            }
            ProgressEvent::Advance => {
                if let Some(progress) = current.as_ref() {
                    progress.inc(1);
                }
            }
            ProgressEvent::Finish => {
                if let Some(progress) = current.take() {
                    progress.finish_and_clear();
                }
            }
        }
    })
}

/// Runs the checks of `stage` and returns the report; `window_series` also fetches the
/// dual-run series over the window (for `verify --report`).
pub(super) fn run_checks(
    stack: &Stack,
    stage: Stage,
    args: &LiveArgs,
    history: &History,
    window_series: bool,
    runtime: &tokio::runtime::Runtime,
) -> Result<VerifyReport> {
    let live = live_targets(stack, args.timeout)?;
    if stage.needs_prometheus(live.app_url.is_some()) && live.prometheus.is_none() {
        return Err(Diagnostic::error(format!(
            "the live checks after `{stage}` need Prometheus, and no Prometheus URL is configured"
        ))
        .help("pass --prometheus-url URL (or PULLOVER_PROMETHEUS_URL), or set `live: {prometheus_url: …}` in pullover.yaml")
        .into());
    }
    runtime
        .block_on(verify(
            stack,
            stage,
            &live,
            history,
            &VerifySettings {
                window_series,
                ..settings(args)
            },
            &progress(),
        ))
        .map_err(verify_error)
}

/// How a gate ended.
pub(super) enum Gate {
    /// Open, not configured, or skipped with --force.
    Open,
    /// A check failed; the report was printed.
    Closed,
}

/// The gate before `phase`: the checks after the phase before it, when a Prometheus URL is
/// configured. Prints the checks; `--force` skips them with a loud note.
pub(super) fn gate(ctx: &Context, phase: PhaseId, args: &LiveArgs, force: bool, state: &StateDir) -> Result<Gate> {
    let Some(stage) = Stage::gate_for(phase) else {
        return Ok(Gate::Open);
    };
    let applied = state.journal()?.applied();
    let stack = stack_for_checks(ctx, &applied)?;
    if stack.settings.live.prometheus_url.is_none() {
        ctx.note(&format!(
            "no Prometheus URL configured, so the gate before `{phase}` ({}) is not checked; pass --prometheus-url to check it",
            stage_gate_text(stage)
        ));
        return Ok(Gate::Open);
    }
    if force {
        ctx.note(&ctx.bold(&format!(
            "--force: NOT checking the gate before `{phase}` ({}); run `pullover verify` to see where it stands",
            stage_gate_text(stage)
        )));
        return Ok(Gate::Open);
    }
    let history = history(state, &applied)?;
    let runtime = runtime()?;
    let report = run_checks(&stack, stage, args, &history, false, &runtime).map_err(|err| {
        let mut message = super::render_error(&err, false);
        message = message.trim_end().to_string();
        anyhow::Error::from(
            Diagnostic::error(format!(
                "cannot check the gate before `{phase}`: {}",
                first_line(&message)
            ))
            .help("fix the connection, or pass --force to apply without checking (not recommended)"),
        )
    })?;
    if report.passed() {
        let line = format!(
            "gate before `{phase}` is open: {} checks after `{stage}` passed",
            report.checks.len()
        );
        ctx.note(&line);
        return Ok(Gate::Open);
    }
    if ctx.json() {
        ctx.print_json(&render::render_json(&report))?;
    } else {
        let mut text = ctx.bold(&format!("Gate before `{phase}`: {}\n", stage_gate_text(stage)));
        text.push_str(&render::render_text(&report, ctx.color));
        ctx.print(&text)?;
    }
    eprintln!(
        "{}: refusing to apply `{phase}`: the checks after `{stage}` did not pass (see above); fix that and run `pullover verify`, or pass --force to apply anyway",
        if ctx.color_stderr {
            console::style("error").red().bold().force_styling(true).to_string()
        } else {
            "error".to_string()
        }
    );
    Ok(Gate::Closed)
}

fn stage_gate_text(stage: Stage) -> &'static str {
    match stage {
        Stage::Baseline => "the app serves /metrics",
        Stage::After(phase) => phase.gate(),
    }
}

fn first_line(text: &str) -> &str {
    let text = text.strip_prefix("error: ").unwrap_or(text);
    text.lines().next().unwrap_or(text)
}

/// What the running Prometheus has now, as the "before" of `verify --reload`.
pub(super) fn live_view(client: &PrometheusClient, runtime: &tokio::runtime::Runtime) -> Result<ConfigView> {
    runtime.block_on(async {
        let yaml = client.status_config().await.map_err(|e| live_error(e, &[]))?;
        let live = LiveConfig::parse(&yaml)
            .map_err(|e| anyhow::anyhow!("cannot read Prometheus's running configuration: {e}"))?;
        let groups = client.rule_groups().await.map_err(|e| live_error(e, &[]))?;
        Ok(ConfigView {
            jobs: live
                .jobs
                .into_iter()
                .map(|name| JobView {
                    name,
                    interval: Duration::ZERO,
                    static_targets: 0,
                })
                .collect(),
            rule_groups: groups.into_iter().map(|g| g.name).collect(),
        })
    })
}

/// `--reload` after files were written: reload, wait until the new configuration runs, and
/// say so. `written` says what was written, for the messages when Prometheus refuses.
pub(super) fn reload(
    ctx: &Context,
    client: &PrometheusClient,
    expected: &ExpectedConfig,
    written: &str,
    undo: &str,
    runtime: &tokio::runtime::Runtime,
) -> Result<ReloadReport> {
    let deadline = expected.deadline();
    let report = runtime
        .block_on(reload_and_confirm(client, expected, deadline, &progress()))
        .map_err(|error| {
            let help: Vec<String> = match &error {
                LiveError::ConfigRejected { .. } => vec![
                    format!("{written}, but Prometheus refused them and runs the previous configuration"),
                    format!("{undo}, or fix the file and reload again (`pullover verify --reload`)"),
                ],
                LiveError::LifecycleDisabled { .. } => vec![format!(
                    "{written}; Prometheus loads them when it restarts (or start it with --web.enable-lifecycle and run `pullover verify --reload`)"
                )],
                _ => vec![format!(
                    "{written}; reload Prometheus yourself, or run `pullover verify --reload` when it answers"
                )],
            };
            live_error(error, &help)
        })?;
    if !report.config_live {
        return Err(Diagnostic::error(report.summary())
            .help(format!(
                "{written}; is Prometheus loading this stack's prometheus.yml? Its running configuration comes from --config.file"
            ))
            .help(format!("{undo} if this is not the Prometheus the stack configures"))
            .into());
    }
    if report.targets_settled {
        ctx.note(&report.summary());
    } else {
        ctx.note(&format!(
            "{}; `pullover verify` shows where it stands",
            report.summary()
        ));
    }
    Ok(report)
}

/// The expectation of `verify --reload`: Prometheus runs exactly the jobs of the files, and
/// every rule group of the rule files pullover reads (it may load more from files it cannot
/// map to the stack, so other groups are not judged).
pub(super) fn expected_from_live(live: &ConfigView, files: &ConfigView) -> ExpectedConfig {
    let mut expected = ExpectedConfig::between(live, files);
    expected.removed_rule_groups.clear();
    expected
}
