//! The stack as read: settings resolved from flags, `pullover.yaml` and
//! discovery, and the files the phases plan over. All reading happens here;
//! planners get a [`Stack`] and do no I/O.

pub mod app_code;
mod apps;
mod code;
pub mod compose;
mod dashboard_dirs;
pub mod discover;
pub mod flags;
mod gateway;
pub mod grafana;
mod identities;
pub mod kube;
pub mod limits;
mod load;
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

use compose::Compose;
use discover::{Ask, Evidence, NeverAsk};
use prometheus::PromConfig;
use read::StackDir;
use settings::{LiveSettings, Overrides, ScrapeSettings, SettingsFile, setting_path};
use source::{RelPath, SourceFile};

use crate::changeset::Location;
use crate::diagnostic::Diagnostic;
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

impl Settings {
    pub(crate) fn new(
        gateway: Option<Gateway>,
        apps: Vec<App>,
        scrape: ScrapeSettings,
        live: LiveSettings,
        overrides: &Overrides,
    ) -> Settings {
        Settings {
            gateway,
            apps,
            scrape,
            live,
            remove_push_code: overrides.remove_push_code,
        }
    }
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
    /// A stack of these settings and this Prometheus config with no other file read yet: each
    /// loader sets the files it read (`Stack { compose, .., ..Stack::new(…) }`), then decides
    /// the identities ([`Stack::with_identities`]).
    pub(crate) fn new(
        settings: Settings,
        settings_file: Option<SettingsFile>,
        prometheus: PromConfig,
        prometheus_dialect: crate::promql::Dialect,
        evidence: Vec<Evidence>,
    ) -> Stack {
        Stack {
            settings,
            settings_file,
            compose: None,
            prometheus,
            rule_files: Vec::new(),
            rule_patterns: Vec::new(),
            dashboards: Vec::new(),
            docs: Vec::new(),
            code: Vec::new(),
            evidence,
            service_files: Vec::new(),
            datasources: Vec::new(),
            observed_pushes: Vec::new(),
            query_clues: Vec::new(),
            prometheus_dialect,
            kube: None,
        }
    }

    /// Flags, then `pullover.yaml`, then discovery. Never asks: where
    /// discovery cannot decide, the error names the key or flag to set.
    pub fn load(root: &Path, overrides: &Overrides) -> Result<Stack, Diagnostic> {
        let dir = StackDir::open(root)?;
        if kube::detect(&dir) {
            return kube::load(&dir, overrides, true);
        }
        load::load_compose(&dir, overrides, true, &mut NeverAsk)
    }

    /// Flags, then discovery, ignoring any `pullover.yaml` (what `init`
    /// writes from); `ask` settles what discovery cannot decide alone.
    pub fn discover(root: &Path, overrides: &Overrides, ask: &mut dyn Ask) -> Result<Stack, Diagnostic> {
        let dir = StackDir::open(root)?;
        if kube::detect(&dir) {
            return kube::load(&dir, overrides, false);
        }
        load::load_compose(&dir, overrides, false, ask)
    }

    /// Reads what the stack's queries say of who pushes as what and decides every app's
    /// identity: the last step of reading a stack.
    pub(crate) fn with_identities(mut self) -> Stack {
        self.query_clues = identities::query_clues(&self);
        self.resolve_identities();
        self
    }

    /// Adds what live servers report and decides every app's identity again with it.
    pub fn observe(&mut self, pushes: Vec<ObservedPush>) {
        self.observed_pushes = pushes;
        self.resolve_identities();
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
        code::code_under(&self.code, &app.code)
    }

    /// Folder new dashboards go to: the first provisioned dashboards folder.
    pub fn dashboards_dir(&self) -> Option<DashboardsFolder> {
        self.evidence
            .iter()
            .find(|e| e.setting == "dashboards")
            .and_then(|e| dashboards_folder(&e.value).ok())
    }
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
