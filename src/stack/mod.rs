//! The stack as read: settings resolved from flags, `pullover.yaml` and
//! discovery, and the files the phases plan over. All reading happens here;
//! planners get a [`Stack`] and do no I/O.

pub mod app_code;
pub mod compose;
pub mod discover;
pub mod flags;
pub mod grafana;
pub mod kube;
pub mod limits;
pub mod mentions;
pub mod outside;
pub mod prometheus;
pub mod prometheus_version;
pub mod read;
pub mod root;
pub mod searched;
pub mod services;
pub mod settings;
pub mod settings_yaml;
pub mod source;

use std::borrow::Cow;
use std::path::Path;

use compose::{Compose, ComposeVars, parse_dotenv};
use discover::{AppQuestion, Ask, Candidate, Evidence, NeverAsk, PathQuestion, evidence};
use prometheus::PromConfig;
use read::StackDir;
use settings::{LiveSettings, Overrides, SETTINGS_FILE, ScrapeSettings, SettingsFile, setting_path};
use source::{RelPath, SourceFile};

use crate::changeset::Location;
use crate::diagnostic::Diagnostic;
use crate::duration::parse_prometheus_duration;
pub use crate::identity::ObservedPush;
use crate::identity::{self, PushedIdentity};

/// Settings after flags, `pullover.yaml` and discovery.
#[derive(Debug, Clone)]
pub struct Settings {
    pub gateway: Option<Gateway>,
    pub apps: Vec<App>,
    pub scrape: ScrapeSettings,
    pub live: LiveSettings,
    /// `--remove-push-code`: `remove` also plans the apps' push logic away, as a diff of
    /// their code (`docs/expose.md`); without it the push logic is listed for a person.
    pub remove_push_code: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// The Compose service, when the gateway runs in the stack.
    pub service: Option<String>,
    /// Host and port Prometheus scrapes it at (`pushgateway:9091`).
    pub host: String,
    pub port: u16,
    /// The scrape job that scrapes it, when prometheus.yml has one.
    pub job: Option<String>,
    pub honor_labels: bool,
}

impl Gateway {
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The `job` label the gateway's own series carry: its scrape job's name, or
    /// `pushgateway` (the name almost every stack gives it) when no job scrapes it.
    pub fn job_label(&self) -> String {
        self.job.clone().unwrap_or_else(|| "pushgateway".to_string())
    }

    /// The `instance` labels the gateway's own series carry: its scrape job's targets as
    /// written in `prometheus`, or its address when the job lists none.
    pub fn instance_labels(&self, prometheus: &PromConfig) -> Vec<String> {
        self.job
            .as_deref()
            .and_then(|job| prometheus.job(job))
            .map(|job| job.targets.clone())
            .filter(|targets| !targets.is_empty())
            .unwrap_or_else(|| vec![self.address()])
    }
}

/// An app that pushes today and will be scraped directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub service: String,
    pub port: u16,
    /// Name of the new scrape job.
    pub job: String,
    /// The `job` it pushes under (its [`PushedIdentity`]'s, once decided).
    pub pushed_job: String,
    pub pushed_instances: Vec<String>,
    pub metrics: Vec<String>,
    /// Who it pushes as, with the evidence ([`crate::identity`]).
    pub identity: PushedIdentity,
    /// What pullover.yaml and its code say of that, before queries and live servers.
    pub known: identity::Known,
    /// False for a host that is not a Compose service (allowed, reported).
    pub in_compose: bool,
    /// Its code: folders or files (the service's `build:` context, or `code:`).
    pub code: Vec<RelPath>,
}

impl App {
    pub fn target(&self) -> String {
        format!("{}:{}", self.service, self.port)
    }
}

#[derive(Debug, Clone)]
pub struct Stack {
    pub settings: Settings,
    /// `pullover.yaml` as written, if there is one.
    pub settings_file: Option<SettingsFile>,
    pub compose: Option<Compose>,
    pub prometheus: PromConfig,
    pub rule_files: Vec<SourceFile>,
    /// `rule_files` patterns of prometheus.yml as written, each with its host
    /// glob relative to the stack root (`None` when it cannot be mapped).
    pub rule_patterns: Vec<(String, Option<String>)>,
    /// Every dashboard file with its scan, read once when the stack loads.
    pub dashboards: Vec<DashboardFile>,
    pub docs: Vec<SourceFile>,
    /// App code and config: the `build:` folders of the Compose services and
    /// the `code:` of the apps (dependencies and build output skipped).
    pub code: Vec<SourceFile>,
    /// What discovery decided, and why.
    pub evidence: Vec<Evidence>,
    /// Code and env files of services built from the stack folder (read only).
    pub service_files: Vec<services::ServiceFiles>,
    /// Data sources Grafana's provisioning declares (names and uids dashboards refer to).
    pub datasources: Vec<grafana::ProvisionedDatasource>,
    /// Pushed groups a live Pushgateway or Prometheus reported. Reading the stack never fills
    /// this: the command edge does ([`Stack::observe`]), through `live/`, when a URL is given,
    /// so planners stay pure.
    pub observed_pushes: Vec<ObservedPush>,
    /// What the dashboards and rules say about who pushes as what, read once.
    pub query_clues: Vec<identity::clues::QueryClue>,
    /// The Prometheus that reads the queries (version and feature flags), and how that is known.
    pub prometheus_dialect: crate::promql::Dialect,
    /// A stack kept as Kubernetes manifests: what was read, for the `phase::kube` planners
    /// (its dashboards and rules are views in `dashboards` and `rule_files`).
    pub kube: Option<std::rc::Rc<kube::KubeStack>>,
}

/// A Grafana dashboard file and what [`crate::dashboard::scan_with`] read in it, with the data
/// sources the stack provisions. Read once, when the stack loads: the pushed-identity clues and
/// every phase read the same scan (a big stack has thousands of dashboards).
#[derive(Debug, Clone)]
pub struct DashboardFile {
    pub file: SourceFile,
    pub scan: Result<crate::dashboard::DashboardScan, crate::dashboard::DashboardError>,
}

impl DashboardFile {
    /// Scans `file` with the data sources the stack's Grafana provisioning declares.
    pub fn read(file: SourceFile, known: &crate::dashboard::KnownDatasources) -> Self {
        let scan = crate::dashboard::scan_with(file.text(), known);
        Self { file, scan }
    }

    /// Every PromQL query of the dashboard (panel links aside), borrowed from its scan; none
    /// when the file does not read (the dashboards phase reports that).
    pub fn queries(&self) -> impl Iterator<Item = StackQuery<'_>> + '_ {
        self.scan
            .iter()
            .flat_map(|scan| &scan.sites)
            .filter(|site| site.kind != crate::dashboard::SiteKind::PanelLink)
            .map(move |site| StackQuery {
                text: Cow::Borrowed(&site.value),
                at: QueryAt::Site { dashboard: self, site },
            })
    }
}

/// A query of a dashboard or rule file. A dashboard's is borrowed from its scan and says where
/// it is only when asked: a big stack has tens of thousands, and most never get a finding.
#[derive(Debug, Clone)]
pub struct StackQuery<'a> {
    pub text: Cow<'a, str>,
    at: QueryAt<'a>,
}

#[derive(Debug, Clone)]
enum QueryAt<'a> {
    Site {
        dashboard: &'a DashboardFile,
        site: &'a crate::dashboard::QuerySite,
    },
    Known(Location),
}

impl<'a> StackQuery<'a> {
    /// A query read elsewhere (a rule's `expr`), with where it is.
    pub fn located(text: String, at: Location) -> Self {
        Self {
            text: Cow::Owned(text),
            at: QueryAt::Known(at),
        }
    }

    /// Where the query is, with what it belongs to (`panel "Errors" panel query`).
    pub fn location(&self) -> Location {
        match &self.at {
            QueryAt::Site { dashboard, site } => {
                Location::at(&dashboard.file, site.literal.start).with_context(format!("{} {}", site.owner, site.kind))
            }
            QueryAt::Known(at) => at.clone(),
        }
    }
}

impl Stack {
    /// Flags, then `pullover.yaml`, then discovery. Never asks: where
    /// discovery cannot decide, the error names the key or flag to set.
    pub fn load(root: &Path, overrides: &Overrides) -> Result<Stack, Diagnostic> {
        let dir = StackDir::open(root)?;
        if kube::detect(&dir) {
            return kube::load(&dir, overrides, true);
        }
        load(&dir, overrides, true, &mut NeverAsk)
    }

    /// Flags, then discovery, ignoring any `pullover.yaml` (what `init`
    /// writes from); `ask` settles what discovery cannot decide alone.
    pub fn discover(root: &Path, overrides: &Overrides, ask: &mut dyn Ask) -> Result<Stack, Diagnostic> {
        let dir = StackDir::open(root)?;
        if kube::detect(&dir) {
            return kube::load(&dir, overrides, false);
        }
        load(&dir, overrides, false, ask)
    }

    /// Reads what the stack's queries say of who pushes as what and decides every app's
    /// identity: the last step of reading a stack.
    pub(crate) fn with_identities(mut self) -> Stack {
        self.query_clues = query_clues(&self);
        self.resolve_identities();
        self
    }

    /// Adds what live servers report and decides every app's identity again with it.
    pub fn observe(&mut self, pushes: Vec<ObservedPush>) {
        self.observed_pushes = pushes;
        self.resolve_identities();
    }

    /// Decides who each app pushes as ([`crate::identity`]) and writes it into the app's
    /// `pushed_job`, `pushed_instances` and `metrics`, which every phase and check reads.
    fn resolve_identities(&mut self) {
        let Some(gateway) = &self.settings.gateway else { return };
        let gateway_job = gateway.job_label();
        let targets: Vec<String> = self.settings.apps.iter().map(App::target).collect();
        let facts: Vec<identity::AppFacts<'_>> = self
            .settings
            .apps
            .iter()
            .zip(&targets)
            .map(|(app, target)| identity::AppFacts {
                service: &app.service,
                scrape_job: &app.job,
                target,
                known: &app.known,
            })
            .collect();
        let context = identity::Context {
            honor_labels: gateway.honor_labels,
            gateway_job: &gateway_job,
        };
        let decided = identity::resolve(&facts, &context, &self.query_clues, &self.observed_pushes);
        drop(facts);
        self.evidence
            .retain(|e| !e.setting.ends_with(".pushed_job") && !e.setting.ends_with(".pushed_instances"));
        for (app, identity) in self.settings.apps.iter_mut().zip(decided) {
            let key = |field: &str| format!("apps.{}.{field}", app.service);
            if identity.source != identity::Source::Pinned {
                let because: Vec<&str> = identity.evidence.iter().map(|e| e.says.as_str()).collect();
                let because = if !identity.is_decided() {
                    let sides: Vec<&str> = identity
                        .evidence
                        .iter()
                        .chain(&identity.disputed_by)
                        .map(|e| e.says.as_str())
                        .collect();
                    format!("undecided: {}", sides.join("; "))
                } else if identity.source == identity::Source::Assumed {
                    "assumed: the service name (nothing says otherwise)".to_string()
                } else {
                    because.join("; ")
                };
                self.evidence
                    .push(evidence(&key("pushed_job"), identity.job.clone(), because));
            }
            app.pushed_job = identity.job.clone();
            app.pushed_instances = identity.instances.clone();
            app.metrics = identity.metrics.clone();
            app.identity = identity;
        }
    }

    /// The dashboard files, without their scans.
    pub fn dashboard_files(&self) -> impl Iterator<Item = &SourceFile> {
        self.dashboards.iter().map(|d| &d.file)
    }

    /// Every file this stack was read from.
    pub fn files(&self) -> impl Iterator<Item = &SourceFile> {
        self.compose
            .iter()
            .map(|c| &c.file)
            .chain(std::iter::once(&self.prometheus.file))
            .chain(&self.rule_files)
            .chain(self.dashboards.iter().map(|d| &d.file))
            .chain(&self.docs)
            .chain(&self.code)
    }

    /// Every file read, the service code and env files included, with its sha256: what a
    /// saved plan records it was planned from.
    pub fn input_hashes(&self) -> std::collections::BTreeMap<RelPath, String> {
        self.files()
            .chain(
                self.service_files
                    .iter()
                    .flat_map(|s| s.code.iter().chain(&s.env_files)),
            )
            .map(|f| (f.path.clone(), crate::changeset::sha256_hex(f.text().as_bytes())))
            .collect()
    }

    pub fn file(&self, path: &RelPath) -> Option<&SourceFile> {
        self.files().find(|f| &f.path == path)
    }

    /// The app's own code and config files (its `build:` folder or `code:`).
    pub fn code_of(&self, app: &App) -> Vec<&SourceFile> {
        code_under(&self.code, &app.code)
    }

    /// Folder new dashboards go to: the first provisioned dashboards folder.
    pub fn dashboards_dir(&self) -> Option<DashboardsFolder> {
        self.evidence
            .iter()
            .find(|e| e.setting == "dashboards")
            .and_then(|e| dashboards_folder(&e.value).ok())
    }
}

fn load(
    dir: &StackDir,
    overrides: &Overrides,
    use_settings_file: bool,
    ask: &mut dyn Ask,
) -> Result<Stack, Diagnostic> {
    let settings_path = RelPath::new(SETTINGS_FILE).map_err(Diagnostic::error)?;
    let settings_source = if use_settings_file {
        dir.read_as(&settings_path, limits::Kind::Settings)?
    } else {
        None
    };
    let settings_file = settings_source.as_ref().map(SettingsFile::parse).transpose()?;
    let pinned = settings_file.clone().unwrap_or_default();
    let mut found = Vec::new();

    let root_env = read_dotenv(dir, "");
    let compose = match discover::find_compose_file(dir, &pinned, &root_env)? {
        Some((path, why)) => {
            found.push(why);
            let file = dir.require_as(
                &path,
                limits::Kind::Compose,
                "Compose file",
                "check `compose_file:` in pullover.yaml",
            )?;
            // Compose reads `.env` from the project folder: the Compose file's.
            let vars = match path.parent() {
                "" => root_env,
                folder => read_dotenv(dir, folder),
            };
            Some(Compose::parse_with_vars(file, &vars)?)
        }
        None => None,
    };
    // A typo'd --app/--gateway, or `service:` in pullover.yaml, is an error naming the nearest
    // service, not a quiet guess.
    let overrides = &flags::check(compose.as_ref(), overrides)?;
    if let (Some(settings), Some(source)) = (&settings_file, &settings_source) {
        flags::check_settings(compose.as_ref(), settings, source)?;
    }

    let (prometheus_dialect, why) = prometheus_version::resolve(compose.as_ref(), &pinned, settings_source.as_ref())?;
    found.push(why);

    let prom_path = match discover::find_prometheus_config(dir, compose.as_ref(), &pinned, overrides) {
        Ok((path, why)) => {
            found.push(why);
            path
        }
        Err(unresolved) => {
            let question = PathQuestion {
                setting: "prometheus_config",
                prompt: "Where is prometheus.yml (relative to the stack folder)?".into(),
                required: true,
                unresolved: unresolved.clone(),
            };
            let answer = ask.path(&question)?.ok_or(unresolved)?;
            let rel = setting_path("prometheus_config", &answer)?;
            found.push(evidence("prometheus_config", answer, "answered at the prompt"));
            rel
        }
    };
    let prometheus = PromConfig::parse(dir.require_as(
        &prom_path,
        limits::Kind::PrometheusConfig,
        "Prometheus config",
        "pass --prometheus-config PATH relative to the stack folder",
    )?)?;

    let gateway = resolve_gateway(compose.as_ref(), &prometheus, &pinned, overrides, &mut found)?;
    let code = read_code(dir, compose.as_ref(), &pinned)?;
    let apps = match &gateway {
        Some(gateway) => resolve_apps(
            dir,
            compose.as_ref(),
            gateway,
            &pinned,
            overrides,
            &code,
            ask,
            &mut found,
        )?,
        None => Vec::new(),
    };

    let rule_patterns = rule_patterns(compose.as_ref(), &prometheus);
    let rule_files = read_rule_files(dir, &rule_patterns, &prometheus.file.path, &mut found)?;
    let dashboard_dirs = resolve_dashboard_dirs(dir, compose.as_ref(), &pinned, overrides, ask, &mut found)?;
    let mut dashboards = Vec::new();
    for folder in &dashboard_dirs {
        let paths = match folder {
            DashboardsFolder::Root => dir.files_at_root(&[".json"]),
            DashboardsFolder::Folder(rel) => dir.files_under(rel, &[".json"]),
        };
        for path in paths {
            if let Some(file) = dir.read_as(&path, limits::Kind::Dashboard)? {
                dashboards.push(file);
            }
        }
    }
    let (doc_names, why) = if pinned.docs.is_empty() {
        (
            vec!["README.md".to_string(), "METRICS.md".to_string()],
            "a usual docs file at the stack root",
        )
    } else {
        (pinned.docs.clone(), "set in pullover.yaml")
    };
    let mut docs = Vec::new();
    for name in doc_names {
        let rel = setting_path("docs", &name)?;
        if let Some(file) = dir.read(&rel)? {
            found.push(evidence("docs", rel.to_string(), why));
            docs.push(file);
        }
    }

    let service_files = compose
        .as_ref()
        .map(|c| services::read_service_files(dir, c))
        .unwrap_or_default();
    let datasources = grafana::read_datasources(dir, compose.as_ref());
    let known = grafana::known(&datasources);
    let dashboards = crate::parallel::map_in_parallel(dashboards, |file| DashboardFile::read(file, &known));
    let live = merge_live(pinned.live.clone().unwrap_or_default(), overrides);
    let mut scrape = pinned.scrape.clone().unwrap_or_default();
    if let Some(gateway) = &gateway
        && !interval_pinned(settings_source.as_ref())
    {
        // The new jobs scrape as often as the gateway was: queries written for its data
        // (`rate(x[1m])` over a 5 s job) keep enough samples.
        let (interval, why) = prometheus.interval_of(gateway.job.as_deref());
        // One Prometheus itself would refuse is left to it: the default stays.
        if parse_prometheus_duration(&interval).is_some_and(|interval| !interval.is_zero()) {
            found.push(evidence("scrape.interval", interval.clone(), why));
            scrape.interval = interval;
        }
    }
    check_settings(&apps, &scrape, settings_source.as_ref())?;
    let mut stack = Stack {
        settings: Settings {
            gateway,
            apps,
            scrape,
            live,
            remove_push_code: overrides.remove_push_code,
        },
        settings_file,
        compose,
        prometheus,
        rule_files,
        rule_patterns,
        dashboards,
        docs,
        code,
        evidence: found,
        service_files,
        datasources,
        observed_pushes: Vec::new(),
        query_clues: Vec::new(),
        prometheus_dialect,
        kube: None,
    };
    stack.query_clues = query_clues(&stack);
    stack.resolve_identities();
    Ok(stack)
}

/// The clues the stack's queries give about who pushes as what ([`identity::clues`]): every
/// dashboard (on every core) and rule file. A file that does not read gives none here; the
/// phases that read it report it.
fn query_clues(stack: &Stack) -> Vec<identity::clues::QueryClue> {
    let Some(gateway) = &stack.settings.gateway else {
        return Vec::new();
    };
    let gateway_job = gateway.job_label();
    let gateway_instances = gateway.instance_labels(&stack.prometheus);
    let other_jobs: Vec<String> = stack
        .prometheus
        .jobs
        .iter()
        .map(|j| j.name.clone())
        .filter(|name| *name != gateway_job && !stack.settings.apps.iter().any(|a| a.job == *name))
        .collect();
    let context = identity::clues::ReadContext {
        honor_labels: gateway.honor_labels,
        gateway_job: &gateway_job,
        gateway_instances: &gateway_instances,
        other_jobs: &other_jobs,
    };
    let parts = crate::parallel::parts_in_parallel(stack.dashboards.iter().collect(), |part: Vec<&DashboardFile>| {
        let mut collector = identity::clues::ClueCollector::default();
        for dashboard in part {
            let Ok(scanned) = &dashboard.scan else { continue };
            for site in scanned
                .sites
                .iter()
                .filter(|s| s.kind != crate::dashboard::SiteKind::PanelLink)
            {
                let location =
                    || Location::at(&dashboard.file, site.literal.start).with_context(scanned.context(&site.owner));
                collector.read(&context, &site.value, &location);
            }
        }
        collector.finish()
    });
    let mut collector = identity::clues::ClueCollector::default();
    for part in parts {
        collector.merge(part);
    }
    for file in &stack.rule_files {
        for (expr, location) in prometheus::rule_exprs(file).unwrap_or_default() {
            collector.read(&context, &expr, &|| location.clone());
        }
    }
    collector.finish()
}

/// Whether pullover.yaml sets `scrape: {interval: …}` itself.
fn interval_pinned(source: Option<&SourceFile>) -> bool {
    source
        .and_then(|file| crate::edit::yaml::YamlDoc::parse(file.text()).ok())
        .is_some_and(|doc| doc.value().get("scrape").and_then(|s| s.get("interval")).is_some())
}

/// Settings the scrape phase would write into prometheus.yml as they are: anything Prometheus
/// would refuse (or scrape wrongly) stops here, pointing at pullover.yaml where it came from.
fn check_settings(apps: &[App], scrape: &ScrapeSettings, source: Option<&SourceFile>) -> Result<(), Diagnostic> {
    let problem = |message: String, needle: &str, help: &str| {
        let error = Diagnostic::error(message).help(help.to_string());
        match source.and_then(|file| file.text().rfind(needle).map(|at| (file, at))) {
            Some((file, at)) => error.at(file, at..at + needle.len(), "set here"),
            None => error,
        }
    };
    if parse_prometheus_duration(&scrape.interval).is_none_or(|interval| interval.is_zero()) {
        return Err(problem(
            format!("scrape interval `{}` is not a Prometheus duration", scrape.interval),
            &scrape.interval,
            "write it like 30s, 1m or 1m30s under `scrape: {interval: …}` in pullover.yaml",
        ));
    }
    if !scrape.metrics_path.starts_with('/') {
        return Err(problem(
            format!("metrics path `{}` must start with /", scrape.metrics_path),
            &scrape.metrics_path,
            "write it like /metrics under `scrape: {metrics_path: …}` in pullover.yaml",
        ));
    }
    for (index, app) in apps.iter().enumerate() {
        if app.port == 0 {
            return Err(problem(
                format!("app {} has port 0", app.service),
                "port: 0",
                "set the port it serves /metrics on (`port:` under `apps:`, or --app SERVICE:PORT)",
            ));
        }
        if app.job.trim().is_empty() {
            return Err(problem(
                format!("app {} has an empty job name", app.service),
                "job:",
                "give it a job name (`job:` under `apps:`), or delete the key to use the service name",
            ));
        }
        if let Some(other) = apps[..index].iter().find(|other| other.job == app.job) {
            return Err(problem(
                format!(
                    "apps {} and {} would both be scraped as job `{}`",
                    other.service, app.service, app.job
                ),
                &format!("job: {}", app.job),
                "Prometheus refuses two jobs of one name: give each app its own `job:` under `apps:`",
            ));
        }
    }
    Ok(())
}

/// `KEY=value` pairs of `folder/.env`; none when it is missing or unreadable
/// (`docker compose` would then complain itself).
fn read_dotenv(dir: &StackDir, folder: &str) -> ComposeVars {
    RelPath::join_relative(folder, ".env")
        .ok()
        .and_then(|rel| dir.read(&rel).ok().flatten())
        .map(|file| parse_dotenv(file.text()))
        .unwrap_or_default()
}

/// Where each Compose service's (or pinned app's) code is: `code:` in
/// pullover.yaml, else the service's local `build:` context.
fn code_roots(compose: Option<&Compose>, pinned: &SettingsFile) -> Vec<(String, Vec<RelPath>, String)> {
    let mut roots: Vec<(String, Vec<RelPath>, String)> = Vec::new();
    for app in pinned.apps.iter().filter(|a| !a.code.is_empty()) {
        let paths = app.code.iter().filter_map(|c| RelPath::new(c.clone()).ok()).collect();
        roots.push((app.service.clone(), paths, "set in pullover.yaml".into()));
    }
    let Some(compose) = compose else { return roots };
    for service in &compose.services {
        if roots.iter().any(|(name, _, _)| name == &service.name) {
            continue;
        }
        let Some(build) = &service.build else { continue };
        // A Git URL or an absolute path is not in the stack.
        if build.contains("://") || build.starts_with("git@") || build.starts_with(['/', '~', '$']) {
            continue;
        }
        if let Ok(rel) = RelPath::join_relative(compose.file.path.parent(), build) {
            let why = format!("the `build:` context of service {}", service.name);
            roots.push((service.name.clone(), vec![rel], why));
        }
    }
    roots
}

/// The port `expose` serves /metrics on for an app that listens on none (prometheus_client's
/// own documented example port).
pub const EXPOSE_DEFAULT_PORT: u16 = 8000;

/// No app's code is this big; beyond it a folder is a dependency tree.
const MAX_CODE_FILES: usize = 2000;
const MAX_CODE_BYTES: u64 = 1024 * 1024;

fn read_code(dir: &StackDir, compose: Option<&Compose>, pinned: &SettingsFile) -> Result<Vec<SourceFile>, Diagnostic> {
    let mut files: Vec<SourceFile> = Vec::new();
    // A service's env_file is its config too (`PUSHGATEWAY_ADDR=…`).
    let env_files = compose.into_iter().flat_map(|c| {
        c.services.iter().flat_map(move |s| {
            s.env_files
                .iter()
                .filter_map(move |f| RelPath::join_relative(c.file.path.parent(), f).ok())
        })
    });
    let env_roots: Vec<RelPath> = env_files.collect();
    let roots = code_roots(compose, pinned)
        .into_iter()
        .map(|(_, roots, _)| roots)
        .chain(std::iter::once(env_roots));
    for roots in roots {
        for root in roots {
            let paths = if dir.is_dir(&root) {
                dir.source_files_under(&root, app_code::CODE_SUFFIXES, app_code::SKIPPED_DIRS, MAX_CODE_FILES)
            } else {
                vec![root]
            };
            for path in paths {
                if files.iter().any(|f| f.path == path) || dir.size(&path).is_none_or(|n| n > MAX_CODE_BYTES) {
                    continue;
                }
                // Binary or non-UTF-8 files are not code pullover reads.
                if let Ok(Some(file)) = dir.read(&path) {
                    files.push(file);
                }
            }
        }
    }
    Ok(files)
}

/// The code files under `roots`.
fn code_under<'s>(code: &'s [SourceFile], roots: &[RelPath]) -> Vec<&'s SourceFile> {
    code.iter()
        .filter(|f| {
            roots.iter().any(|root| {
                f.path == *root
                    || f.path
                        .as_str()
                        .strip_prefix(root.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
        })
        .collect()
}

/// The live URLs of `pullover.yaml`, each replaced by its flag when given.
pub(crate) fn merge_live(mut live: LiveSettings, overrides: &Overrides) -> LiveSettings {
    if overrides.prometheus_url.is_some() {
        live.prometheus_url = overrides.prometheus_url.clone();
    }
    if overrides.pushgateway_url.is_some() {
        live.pushgateway_url = overrides.pushgateway_url.clone();
    }
    if overrides.app_url.is_some() {
        live.app_url = overrides.app_url.clone();
    }
    live
}

fn resolve_gateway(
    compose: Option<&Compose>,
    prometheus: &PromConfig,
    pinned: &SettingsFile,
    overrides: &Overrides,
    found: &mut Vec<Evidence>,
) -> Result<Option<Gateway>, Diagnostic> {
    let service = discover::find_gateway(compose, pinned, overrides)?;
    let pinned_gateway = pinned.gateway.clone().unwrap_or_default();
    let (host, port) = match &service {
        Some((name, why)) => {
            found.push(why.clone());
            let port = compose
                .and_then(|c| c.service(name))
                .and_then(|s| s.listen_port())
                .unwrap_or(9091);
            (name.clone(), port)
        }
        None => match &pinned_gateway.job {
            // No Compose service: the job's first target names the gateway.
            Some(job) => match prometheus.job(job).and_then(|j| j.targets.first()) {
                Some(target) => {
                    let (h, p) = target.rsplit_once(':').unwrap_or((target.as_str(), "9091"));
                    (h.to_string(), p.parse().unwrap_or(9091))
                }
                None => return Ok(None),
            },
            None => match external_gateway_job(prometheus)? {
                Some((job, target, why)) => {
                    found.push(evidence("gateway.job", job, why));
                    let (h, p) = target.rsplit_once(':').unwrap_or((target.as_str(), "9091"));
                    (h.to_string(), p.parse().unwrap_or(9091))
                }
                None => return Ok(None),
            },
        },
    };
    let job = match &pinned_gateway.job {
        Some(job) => Some(job.clone()),
        None => {
            let by_target: Vec<&str> = prometheus
                .jobs_targeting(&host, Some(port))
                .map(|j| j.name.as_str())
                .collect();
            match by_target.as_slice() {
                [one] => {
                    found.push(evidence(
                        "gateway.job",
                        *one,
                        format!("its static target is {host}:{port}"),
                    ));
                    Some(one.to_string())
                }
                [] => match prometheus.job(&host) {
                    Some(j) => {
                        found.push(evidence(
                            "gateway.job",
                            j.name.clone(),
                            "named after the gateway service",
                        ));
                        Some(j.name.clone())
                    }
                    None => service
                        .as_ref()
                        .and_then(|(name, _)| {
                            docker_sd_job(compose?, name, prometheus)
                                .or_else(|| published_port_job(compose?, name, port, prometheus))
                        })
                        .map(|(job, why)| {
                            found.push(evidence("gateway.job", job.clone(), why));
                            job
                        }),
                },
                many => {
                    return Err(Diagnostic::error(format!(
                        "several scrape jobs target {host}:{port}: {}",
                        many.join(", ")
                    ))
                    .help("set `gateway: {job: …}` in pullover.yaml to the job that scrapes the pushed metrics"));
                }
            }
        }
    };
    let honor_labels = match (
        pinned_gateway.honor_labels,
        job.as_deref().and_then(|j| prometheus.job(j)),
    ) {
        (Some(pinned), _) => pinned,
        (None, Some(scrape_job)) => {
            let why = if scrape_job.honor_labels {
                format!("job `{}` sets honor_labels: true", scrape_job.name)
            } else {
                format!(
                    "job `{}` does not set honor_labels (Prometheus renames pushed labels to exported_job/exported_instance)",
                    scrape_job.name
                )
            };
            found.push(evidence(
                "gateway.honor_labels",
                scrape_job.honor_labels.to_string(),
                why,
            ));
            scrape_job.honor_labels
        }
        (None, None) => false,
    };
    Ok(Some(Gateway {
        service: service.map(|(s, _)| s),
        host,
        port,
        job,
        honor_labels,
    }))
}

/// The Docker service-discovery job that finds the gateway service by its labels
/// (`prometheus-scrape.enabled: "true"` read as `__meta_docker_container_label_prometheus_scrape_enabled`).
fn docker_sd_job(compose: &Compose, service: &str, prometheus: &PromConfig) -> Option<(String, String)> {
    use yaml_serde::Value;
    let labels: Vec<String> = match compose.doc.value().get("services")?.get(service)?.get("labels")? {
        Value::Mapping(map) => map.keys().filter_map(crate::edit::yaml::scalar_string).collect(),
        Value::Sequence(items) => items
            .iter()
            .filter_map(crate::edit::yaml::scalar_string)
            .map(|entry| entry.split('=').next().unwrap_or_default().to_string())
            .collect(),
        _ => return None,
    };
    let jobs = prometheus.doc.value().get("scrape_configs")?.as_sequence()?;
    jobs.iter()
        .filter(|job| job.get("docker_sd_configs").is_some())
        .find_map(|job| {
            let name = job.get("job_name").and_then(crate::edit::yaml::scalar_string)?;
            let text = yaml_serde::to_string(job).ok()?;
            labels.iter().find_map(|label| {
                let meta: String = label
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
                    .collect();
                text.contains(&format!("__meta_docker_container_label_{meta}")).then(|| {
                    (
                        name.clone(),
                        format!(
                            "service {service} carries the Docker service-discovery label `{label}` that job `{name}` reads"
                        ),
                    )
                })
            })
        })
}

/// The one job whose static targets are all the gateway's published port on the host
/// (`host.docker.internal:9092` for `ports: ["9092:9091"]`): Prometheus runs outside Compose's
/// network and reaches the gateway there.
fn published_port_job(
    compose: &Compose,
    service: &str,
    port: u16,
    prometheus: &PromConfig,
) -> Option<(String, String)> {
    let aliases = discover::published_aliases(compose, service, port);
    let jobs: Vec<&prometheus::ScrapeJob> = prometheus
        .jobs
        .iter()
        .filter(|j| !j.has_service_discovery && !j.targets.is_empty() && j.targets.iter().all(|t| aliases.contains(t)))
        .collect();
    match jobs.as_slice() {
        [job] => Some((
            job.name.clone(),
            format!(
                "its static target {} is the host port Compose publishes for service {service}'s port {port}",
                job.targets.join(", ")
            ),
        )),
        _ => None,
    }
}

/// With no gateway service in the Compose file (commented out, or running elsewhere): the one
/// scrape job that looks like a Pushgateway's — static targets only, all on port 9091, or
/// `honor_labels` on a job named after the gateway. Its name, its target and why.
fn external_gateway_job(prometheus: &PromConfig) -> Result<Option<(String, String, String)>, Diagnostic> {
    let candidates: Vec<(&prometheus::ScrapeJob, String)> = prometheus
        .jobs
        .iter()
        .filter(|j| !j.has_service_discovery && !j.targets.is_empty())
        .filter_map(|j| {
            let on_9091 = j
                .targets
                .iter()
                .all(|t| t.rsplit_once(':').is_some_and(|(_, p)| p == "9091"));
            let named = j.honor_labels && j.name.to_ascii_lowercase().contains("pushgateway");
            let mut why = Vec::new();
            if on_9091 {
                why.push("its targets are on Pushgateway's port 9091");
            }
            if j.honor_labels {
                why.push("it sets honor_labels");
            }
            if named {
                why.push("its name says so");
            }
            (on_9091 || named).then(|| (j, why.join(", ")))
        })
        .collect();
    match candidates.as_slice() {
        [] => Ok(None),
        [(job, why)] => Ok(job.targets.first().map(|target| {
            (
                job.name.clone(),
                target.clone(),
                format!(
                    "no Compose service runs a Pushgateway, but job `{}` scrapes {target} and looks like one ({why}): an external gateway",
                    job.name
                ),
            )
        })),
        many => {
            let names: Vec<&str> = many.iter().map(|(j, _)| j.name.as_str()).collect();
            Err(Diagnostic::error(format!(
                "no Compose service runs a Pushgateway, and several scrape jobs look like one: {}",
                names.join(", ")
            ))
            .help("name the one that scrapes the pushed metrics with `gateway: {job: …}` in pullover.yaml"))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn resolve_apps(
    dir: &StackDir,
    compose: Option<&Compose>,
    gateway: &Gateway,
    pinned: &SettingsFile,
    overrides: &Overrides,
    code: &[SourceFile],
    ask: &mut dyn Ask,
    found: &mut Vec<Evidence>,
) -> Result<Vec<App>, Diagnostic> {
    let pinned_apps: Vec<settings::AppSettings> = if !overrides.apps.is_empty() {
        overrides
            .apps
            .iter()
            .map(|a| {
                // Flags name service and port; other keys still come from pullover.yaml.
                let base = pinned
                    .apps
                    .iter()
                    .find(|p| p.service == a.service)
                    .cloned()
                    .unwrap_or_default();
                settings::AppSettings {
                    service: a.service.clone(),
                    port: a.port.or(base.port),
                    job: a.job.clone().or(base.job.clone()),
                    ..base
                }
            })
            .collect()
    } else {
        pinned.apps.clone()
    };
    let roots = code_roots(compose, pinned);
    let roots_of = |service: &str| {
        roots
            .iter()
            .find(|(name, _, _)| name == service)
            .map(|(_, paths, why)| (paths.clone(), why.clone()))
    };
    let candidates: Vec<settings::AppSettings> = if pinned_apps.is_empty() {
        let Some(compose) = compose else {
            return Err(Diagnostic::error("no Compose file to find the pushing app in")
                .help("name it with --app SERVICE:PORT (repeatable)"));
        };
        let code_of = |service: &str| {
            roots_of(service)
                .map(|(paths, _)| code_under(code, &paths))
                .unwrap_or_default()
        };
        let pushing = discover::find_pushing_services(compose, &gateway.host, dir);
        let pushing_names: Vec<&str> = pushing.iter().map(|(s, _)| s.name.as_str()).collect();
        let plausible =
            discover::find_plausible_services(compose, &gateway.host, gateway.port, &pushing_names, &code_of);
        let chosen: Vec<(String, String)> = if plausible.is_empty() {
            if pushing.is_empty() {
                return Err(Diagnostic::error(format!(
                    "no service in {} points at {}",
                    compose.file.path, gateway.host
                ))
                .help("name the app that pushes with --app SERVICE:PORT (repeatable), or `apps:` in pullover.yaml"));
            }
            pushing.iter().map(|(s, why)| (s.name.clone(), why.clone())).collect()
        } else {
            let question = app_question(
                compose,
                &gateway.host,
                pushing
                    .iter()
                    .map(|(s, why)| Candidate {
                        service: s.name.clone(),
                        because: why.clone(),
                    })
                    .collect(),
                plausible
                    .iter()
                    .map(|(s, why)| Candidate {
                        service: s.name.clone(),
                        because: why.clone(),
                    })
                    .collect(),
            );
            let answer = ask.apps(&question)?;
            if answer.is_empty() {
                return Err(question.unresolved);
            }
            answer
                .into_iter()
                .map(|name| {
                    let why = pushing
                        .iter()
                        .find(|(s, _)| s.name == name)
                        .map_or("chosen at the prompt".to_string(), |(_, why)| {
                            format!("{why} (confirmed at the prompt)")
                        });
                    (name, why)
                })
                .collect()
        };
        chosen
            .into_iter()
            .map(|(service, why)| {
                found.push(evidence("apps", service.clone(), why));
                settings::AppSettings {
                    service,
                    ..Default::default()
                }
            })
            .collect()
    } else {
        let why = if overrides.apps.is_empty() {
            "set in pullover.yaml"
        } else {
            "--app"
        };
        for app in &pinned_apps {
            found.push(evidence("apps", app.service.clone(), why));
        }
        pinned_apps
    };
    candidates
        .into_iter()
        .map(|app| {
            let service = compose.and_then(|c| c.service(&app.service));
            let key = |field: &str| format!("apps.{}.{field}", app.service);
            let port = match app.port {
                Some(port) => port,
                None => {
                    let from_env = service.and_then(|s| {
                        s.environment
                            .iter()
                            .find(|(k, _)| k == "PORT")
                            .and_then(|(_, v)| v.as_deref()?.parse().ok())
                    });
                    let listens = service.and_then(|s| s.listen_port()).or(from_env);
                    // An app that only pushes and declares no port listens nowhere yet: `expose`
                    // gives it this port. A port written but unreadable stays an error.
                    let declares_port = compose.is_some_and(|c| {
                        c.doc
                            .value()
                            .get("services")
                            .and_then(|s| s.get(app.service.as_str()))
                            .is_some_and(|s| s.get("expose").is_some() || s.get("ports").is_some())
                    });
                    let pushes_only = || {
                        let (paths, _) = roots_of(&app.service).unwrap_or_default();
                        let files = code_under(code, &paths);
                        files.iter().any(|f| !app_code::push_calls(f.text()).is_empty())
                            && !files
                                .iter()
                                .any(|f| app_code::serving::serves_metrics(f.text()).is_some())
                    };
                    match listens {
                        Some(port) => {
                            found.push(evidence(
                                &key("port"),
                                port.to_string(),
                                "from the service's expose/ports/PORT",
                            ));
                            port
                        }
                        None if !declares_port && pushes_only() => {
                            found.push(evidence(
                                &key("port"),
                                EXPOSE_DEFAULT_PORT.to_string(),
                                "its code only pushes and it listens on no port: `expose` serves /metrics there",
                            ));
                            EXPOSE_DEFAULT_PORT
                        }
                        None => {
                            return Err(Diagnostic::error(format!(
                                "cannot tell which port {} serves /metrics on",
                                app.service
                            ))
                            .help(format!(
                                "pass --app {}:PORT, or set `port:` for it under `apps:` in pullover.yaml",
                                app.service
                            )));
                        }
                    }
                }
            };
            let (code_paths, code_why) = roots_of(&app.service).unwrap_or_default();
            if app.code.is_empty() && !code_paths.is_empty() {
                let shown: Vec<&str> = code_paths.iter().map(RelPath::as_str).collect();
                found.push(evidence(&key("code"), shown.join(", "), code_why));
            }
            // What the pin and the app's own push calls say; the queries and live servers add
            // theirs once read (crate::identity decides).
            // Read even when pinned: a pin that the code contradicts is worth a word.
            let pushed = {
                let env = service_env(dir, compose, service);
                let lookup = |var: &str| env.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone());
                Some(discover::pushed_as(&code_under(code, &code_paths), &lookup))
            };
            let known = identity::Known {
                pinned_job: app.pushed_job.clone(),
                pinned_instances: app.pushed_instances.clone(),
                pinned_metrics: app.metrics.clone(),
                code_job: pushed
                    .as_ref()
                    .and_then(|p| p.job.clone().map(|job| (job, p.job_because.clone()))),
                code_instances: pushed
                    .as_ref()
                    .and_then(|p| p.instances.clone().map(|i| (i, p.instances_because.clone()))),
            };
            let code = if app.code.is_empty() {
                code_paths
            } else {
                app.code.iter().filter_map(|c| RelPath::new(c.clone()).ok()).collect()
            };
            Ok(App {
                job: app.job.clone().unwrap_or_else(|| app.service.clone()),
                pushed_job: app.service.clone(),
                pushed_instances: Vec::new(),
                metrics: app.metrics.clone(),
                in_compose: service.is_some(),
                identity: PushedIdentity::assumed(&app.service),
                known,
                service: app.service,
                port,
                code,
            })
        })
        .collect()
}

/// The question (and, unanswered, the error) when some services only look
/// like apps.
fn app_question(compose: &Compose, gateway: &str, pushing: Vec<Candidate>, plausible: Vec<Candidate>) -> AppQuestion {
    let mut unresolved = Diagnostic::error(format!(
        "cannot tell which services of {} push to {gateway}",
        compose.file.path
    ));
    for c in &pushing {
        unresolved = unresolved.help(format!("{} pushes: {}", c.service, c.because));
    }
    for c in &plausible {
        unresolved = unresolved.help(format!("{} might: {}", c.service, c.because));
    }
    let example: Vec<String> = pushing
        .iter()
        .chain(&plausible)
        .take(1)
        .map(|c| format!("{{service: {}}}", c.service))
        .collect();
    unresolved = unresolved.help(format!(
        "set `apps:` in pullover.yaml to the services that push (e.g. `apps: [{}]`), or pass --app SERVICE:PORT for each; nothing was written",
        example.join(", ")
    ));
    AppQuestion {
        pushing,
        plausible,
        unresolved,
    }
}

/// A service's environment as its code sees it: `env_file` values, then
/// `environment` (which wins, as in Compose).
fn service_env(dir: &StackDir, compose: Option<&Compose>, service: Option<&compose::Service>) -> Vec<(String, String)> {
    let (Some(compose), Some(service)) = (compose, service) else {
        return Vec::new();
    };
    let mut env: Vec<(String, String)> = Vec::new();
    for env_file in &service.env_files {
        let Ok(rel) = RelPath::join_relative(compose.file.path.parent(), env_file) else {
            continue;
        };
        if let Ok(Some(file)) = dir.read(&rel) {
            env.extend(parse_dotenv(file.text()));
        }
    }
    for (key, value) in &service.environment {
        if let Some(value) = value {
            env.retain(|(k, _)| k != key);
            env.push((key.clone(), value.clone()));
        }
    }
    env
}

/// Each `rule_files` pattern with its glob on the host, relative to the stack root.
fn rule_patterns(compose: Option<&Compose>, prometheus: &PromConfig) -> Vec<(String, Option<String>)> {
    let config_dir = prometheus.file.path.parent().to_string();
    prometheus
        .rule_files
        .iter()
        .map(|pattern| {
            let host = if pattern.starts_with('/') {
                // A container path: map it back through the prometheus service's mounts.
                compose.and_then(|c| {
                    c.services
                        .iter()
                        .filter(|s| discover::is_prometheus_service(s))
                        .find_map(|s| {
                            discover::host_path_for(c.file.path.parent(), &s.volumes, pattern)
                                .map(|p| p.to_string())
                                .or_else(|| file_mounts_glob(c, s, pattern))
                        })
                })
            } else {
                RelPath::join_relative(&config_dir, pattern).ok().map(|p| p.to_string())
            };
            (pattern.clone(), host)
        })
        .collect()
}

/// A container glob (`/etc/prometheus/rules/*.yml`) no mounted folder reaches, when files
/// are mounted one by one at paths it matches: the same glob over the host folder they all
/// come from.
fn file_mounts_glob(compose: &Compose, service: &compose::Service, pattern: &str) -> Option<String> {
    let glob = glob::Pattern::new(pattern).ok()?;
    let (_, file_part) = pattern.rsplit_once('/')?;
    let mut folder: Option<String> = None;
    for mount in service.volumes.iter().filter(|m| m.bind && glob.matches(&m.target)) {
        let host = discover::host_path_for(compose.file.path.parent(), std::slice::from_ref(mount), &mount.target)?;
        let parent = host.parent().to_string();
        if folder.as_ref().is_some_and(|f| f != &parent) {
            return None;
        }
        folder = Some(parent);
    }
    let folder = folder?;
    Some(if folder.is_empty() {
        file_part.to_string()
    } else {
        format!("{folder}/{file_part}")
    })
}

fn read_rule_files(
    dir: &StackDir,
    patterns: &[(String, Option<String>)],
    config: &RelPath,
    found: &mut Vec<Evidence>,
) -> Result<Vec<SourceFile>, Diagnostic> {
    let mut files: Vec<SourceFile> = Vec::new();
    for (pattern, host) in patterns {
        let Some(host) = host else { continue };
        for path in dir.glob(host) {
            if !files.iter().any(|f| f.path == path)
                && let Some(file) = dir.read(&path)?
            {
                found.push(evidence(
                    "rule_files",
                    path.to_string(),
                    format!("matched by `rule_files: {pattern}` in {config}"),
                ));
                files.push(file);
            }
        }
    }
    Ok(files)
}

/// A dashboards folder: one of the stack, or the stack folder itself (`.`), whose own JSON
/// files are read but not its subfolders' (those hold app code and other folders: name them
/// apart; README: "How it decides what to change").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DashboardsFolder {
    Root,
    Folder(RelPath),
}

impl DashboardsFolder {
    /// The folder as a prefix of the paths in it (`""` for the root).
    pub fn as_str(&self) -> &str {
        match self {
            DashboardsFolder::Root => "",
            DashboardsFolder::Folder(rel) => rel.as_str(),
        }
    }
}

impl std::fmt::Display for DashboardsFolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DashboardsFolder::Root => f.write_str("."),
            DashboardsFolder::Folder(rel) => write!(f, "{rel}"),
        }
    }
}

/// `dashboards:` (or `--dashboards`): `.` (or `./`) names the stack folder itself.
fn dashboards_folder(value: &str) -> Result<DashboardsFolder, Diagnostic> {
    if matches!(value.trim(), "." | "./") {
        return Ok(DashboardsFolder::Root);
    }
    setting_path("dashboards", value).map(DashboardsFolder::Folder)
}

fn resolve_dashboard_dirs(
    dir: &StackDir,
    compose: Option<&Compose>,
    pinned: &SettingsFile,
    overrides: &Overrides,
    ask: &mut dyn Ask,
    found: &mut Vec<Evidence>,
) -> Result<Vec<DashboardsFolder>, Diagnostic> {
    let explicit = if !overrides.dashboards.is_empty() {
        Some((overrides.dashboards.clone(), "--dashboards"))
    } else if !pinned.dashboards.is_empty() {
        Some((pinned.dashboards.clone(), "set in pullover.yaml"))
    } else {
        None
    };
    if let Some((dirs, why)) = explicit {
        return dirs
            .into_iter()
            .map(|d| {
                let folder = dashboards_folder(&d)?;
                if let DashboardsFolder::Folder(rel) = &folder
                    && !dir.is_dir(rel)
                {
                    return Err(Diagnostic::error(format!("dashboards folder {rel} is not a folder of the stack"))
                        .help("fix `dashboards:` in pullover.yaml (or --dashboards DIR): folders relative to the stack folder, `.` for the stack folder itself"));
                }
                found.push(evidence("dashboards", folder.to_string(), why));
                Ok(folder)
            })
            .collect();
    }
    let discovered = discover::find_dashboard_dirs(dir, compose)?;
    let has_grafana = compose.is_some_and(|c| c.services.iter().any(discover::is_grafana_service));
    if discovered.is_empty() && has_grafana {
        let question = PathQuestion {
            setting: "dashboards",
            prompt: "Which folder holds the Grafana dashboards (relative to the stack folder; empty: none)?".into(),
            required: false,
            unresolved: Diagnostic::error(
                "no dashboards folder found: no folder is bind-mounted where Grafana's provisioning reads dashboards",
            )
            .help(
                "set `dashboards: [DIR]` in pullover.yaml, or pass --dashboards DIR (repeatable); nothing was written",
            ),
        };
        if let Some(answer) = ask.path(&question)? {
            let folder = dashboards_folder(&answer)?;
            if let DashboardsFolder::Folder(rel) = &folder
                && !dir.is_dir(rel)
            {
                return Err(Diagnostic::error(format!("{rel} is not a folder of the stack"))
                    .help("answer with a folder relative to the stack folder, e.g. grafana/dashboards (`.`: the stack folder itself)"));
            }
            found.push(evidence("dashboards", folder.to_string(), "answered at the prompt"));
            return Ok(vec![folder]);
        }
    }
    Ok(discovered
        .into_iter()
        .map(|(rel, why)| {
            found.push(why);
            DashboardsFolder::Folder(rel)
        })
        .collect())
}
