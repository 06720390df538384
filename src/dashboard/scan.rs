//! Finding every string in a dashboard that holds a query.

use super::literal::EncodingStyle;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use jsonc_parser::ast::{StringLit, Value};

use super::datasource::{self, Datasource, DatasourceIndex, KnownDatasources, SkipReason};
use super::error::{DashboardError, ErrorKind};
use super::json::{self, get, get_str};
use super::position::{LineCol, line_col};
use super::{classic, v2};

/// Which of Grafana's dashboard JSON models a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// The dashboard object itself (`panels`, `rows`, `templating` at the top), also when wrapped
    /// as `{"dashboard": {...}, "meta": {...}}` by the HTTP API.
    Classic,
    /// `apiVersion: dashboard.grafana.app/v1…` (or v0…), `kind: Dashboard`, classic model in `spec`.
    V1Resource,
    /// `apiVersion: dashboard.grafana.app/v2…`, `kind: Dashboard`: elements, layout, kinds.
    V2Resource,
    /// Valid JSON, but not a dashboard: callers skip it.
    NotADashboard,
}

/// What kind of string a query site is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteKind {
    /// A panel query (`targets[].expr`; v2 `queries[].spec.query.spec.expr`).
    PanelTarget,
    /// A query variable's query (`query` string, `query.query`; v2 `spec.query.spec.query`).
    TemplateQuery,
    /// A query variable's `definition` (the text Grafana shows; kept in step with the query).
    TemplateDefinition,
    /// An annotation query (`expr`, `target.expr`; v2 `spec.query.spec.expr`).
    Annotation,
    /// A panel link URL that seems to carry a query (Explore or Prometheus graph links). The value
    /// is a URL, possibly percent-encoded: report it, do not hand it to the PromQL rewriter.
    PanelLink,
}

impl fmt::Display for SiteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SiteKind::PanelTarget => "panel query",
            SiteKind::TemplateQuery => "variable query",
            SiteKind::TemplateDefinition => "variable definition",
            SiteKind::Annotation => "annotation query",
            SiteKind::PanelLink => "panel link",
        })
    }
}

/// What a query belongs to, for messages a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A panel; `row` is the title of the row (or v2 tab) it sits in, if any.
    Panel {
        title: Option<String>,
        row: Option<String>,
    },
    Variable {
        name: Option<String>,
    },
    Annotation {
        name: Option<String>,
    },
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted = |name: &Option<String>| match name {
            Some(name) => format!("{name:?}"),
            None => "(untitled)".to_owned(),
        };
        match self {
            Owner::Panel { title, row: None } => write!(f, "panel {}", quoted(title)),
            Owner::Panel { title, row: Some(row) } => write!(f, "panel {} in row {row:?}", quoted(title)),
            Owner::Variable { name } => write!(f, "variable {}", quoted(name)),
            Owner::Annotation { name } => write!(f, "annotation {}", quoted(name)),
        }
    }
}

/// One string in the file that holds a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySite {
    /// RFC 6901 pointer to the string.
    pub pointer: String,
    pub kind: SiteKind,
    pub owner: Owner,
    /// Shared by the sites of a file that go to the same data source: a stack keeps every
    /// dashboard's scan while it plans, and most name one or two.
    pub datasource: Arc<Datasource>,
    /// The string as Grafana reads it (escapes decoded).
    pub value: String,
    /// Byte range of the literal in the source, quotes included (pass it to `rewrite_strings`).
    pub literal: Range<usize>,
    /// A panel query's `legendFormat`, when it has one: its labels must exist on what the query
    /// returns. Boxed: most queries have none, and a stack keeps every dashboard's sites.
    pub legend: Option<Box<Legend>>,
}

/// A panel query's `legendFormat` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Legend {
    /// Decoded, as Grafana reads it.
    pub value: String,
    /// Byte range of the literal in the source, quotes included.
    pub literal: Range<usize>,
}

impl QuerySite {
    /// 1-based line and column of the literal's opening quote.
    pub fn location(&self, source: &str) -> LineCol {
        line_col(source, self.literal.start)
    }
}

/// A query site that is not PromQL for pullover's purposes, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedSite {
    pub site: QuerySite,
    pub reason: SkipReason,
}

/// A panel that is a reference to a library panel (its queries live in Grafana's library).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryPanelRef {
    /// Pointer to the panel (classic) or element (v2).
    pub pointer: String,
    pub uid: Option<String>,
    pub name: Option<String>,
    /// The dashboard panel's own title and row.
    pub owner: Owner,
    /// Byte range of the `libraryPanel` object.
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardScan {
    pub model: Model,
    pub api_version: Option<String>,
    pub title: Option<String>,
    pub uid: Option<String>,
    /// Queries in PromQL (or a panel link), in file order.
    pub sites: Vec<QuerySite>,
    /// Queries that go elsewhere (Loki, built-ins, unknown data sources, library panel copies).
    pub skipped: Vec<SkippedSite>,
    pub library_panels: Vec<LibraryPanelRef>,
    /// `expr` strings the walk of the dashboard model did not reach (a `panels` object where a
    /// list belongs, a file of several dashboards…): queries pullover would otherwise miss.
    pub strays: Vec<StrayQuery>,
    /// How the file escapes its strings, for a rewrite of this very text.
    pub(crate) style: EncodingStyle,
}

impl DashboardScan {
    /// Where `owner` is, as a person reads it: `dashboard "Title" › row "Row" › panel "Panel"`.
    pub fn context(&self, owner: &Owner) -> String {
        let quoted = |name: &Option<String>| match name {
            Some(name) => format!("{name:?}"),
            None => "(untitled)".to_string(),
        };
        let mut parts = vec![format!("dashboard {}", quoted(&self.title))];
        match owner {
            Owner::Panel { title, row } => {
                if let Some(row) = row {
                    parts.push(format!("row {row:?}"));
                }
                parts.push(format!("panel {}", quoted(title)));
            }
            Owner::Variable { name } => parts.push(format!("variable {}", quoted(name))),
            Owner::Annotation { name } => parts.push(format!("annotation {}", quoted(name))),
        }
        parts.join(" › ")
    }
}

/// An `"expr": "…"` outside every place the dashboard model puts queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrayQuery {
    /// RFC 6901 pointer to the string.
    pub pointer: String,
    /// Decoded.
    pub value: String,
    /// Byte range of the literal in the source, quotes included.
    pub literal: Range<usize>,
}

impl DashboardScan {
    fn not_a_dashboard(strays: Vec<StrayQuery>, style: EncodingStyle) -> Self {
        Self {
            model: Model::NotADashboard,
            api_version: None,
            title: None,
            uid: None,
            sites: Vec::new(),
            skipped: Vec::new(),
            library_panels: Vec::new(),
            strays,
            style,
        }
    }
}

/// Reads a dashboard file's text and lists every string that holds a query.
///
/// Strict JSON only (a BOM is allowed); duplicate keys in a dashboard are an error, because
/// Grafana would silently use the last one and an edit could land on the ignored one.
pub fn scan(source: &str) -> Result<DashboardScan, DashboardError> {
    scan_with(source, &KnownDatasources::default())
}

/// [`scan`], with the data sources the stack's Grafana provisioning declares: a query whose data
/// source is named without a type gets the provisioned one's, and a query to the default data
/// source is skipped when the default is not Prometheus.
pub fn scan_with(source: &str, known: &KnownDatasources) -> Result<DashboardScan, DashboardError> {
    let doc = json::parse_strict(source)?;
    let root = &doc.root;
    let found = detect(root, doc.base)?;
    if found.model == Model::NotADashboard {
        return Ok(DashboardScan::not_a_dashboard(
            stray_queries(root, doc.base, &HashSet::new()),
            doc.style,
        ));
    }
    json::check_duplicate_keys(root, source, doc.base)?;
    let mut collector = Collector::new(doc.base);
    if let Some(dashboard) = found.dashboard {
        match found.model {
            Model::V2Resource => v2::walk(dashboard, found.pointer, &mut collector),
            _ => classic::walk(dashboard, found.pointer, &mut collector),
        }
    }
    let own = |key| found.dashboard.and_then(|dashboard| get_str(dashboard, key));
    let uid = match found.model {
        Model::Classic => own("uid"),
        // Resources carry the uid as the object name.
        _ => get(root, "metadata")
            .and_then(|metadata| get_str(metadata, "name"))
            .or_else(|| own("uid")),
    };
    let (sites, skipped, library_panels) = collector.finish(known);
    let reached: HashSet<usize> = sites
        .iter()
        .map(|site| site.literal.start)
        .chain(skipped.iter().map(|skipped| skipped.site.literal.start))
        .collect();
    let strays = stray_queries(root, doc.base, &reached);
    Ok(DashboardScan {
        strays,
        model: found.model,
        api_version: get_str(root, "apiVersion").map(str::to_owned),
        title: own("title").map(str::to_owned),
        uid: uid.map(str::to_owned),
        sites,
        skipped,
        library_panels,
        style: doc.style,
    })
}

/// Every non-empty `"expr"` string whose literal does not start at one of `reached`.
fn stray_queries(root: &Value<'_>, base: usize, reached: &HashSet<usize>) -> Vec<StrayQuery> {
    /// One step of the path to a value; the pointer is only spelt out for a stray.
    enum Step<'v> {
        Key(&'v str),
        Index(usize),
    }
    fn walk<'v>(
        value: &'v Value<'_>,
        path: &mut Vec<Step<'v>>,
        base: usize,
        reached: &HashSet<usize>,
        out: &mut Vec<StrayQuery>,
    ) {
        match value {
            Value::Object(object) => {
                for property in &object.properties {
                    let name = property.name.as_str();
                    path.push(Step::Key(name));
                    match &property.value {
                        Value::StringLit(literal) if name == "expr" => {
                            let start = base + literal.range.start;
                            if !literal.value.trim().is_empty() && !reached.contains(&start) {
                                let pointer = path.iter().fold(String::new(), |pointer, step| match step {
                                    Step::Key(key) => json::pointer(&pointer, key),
                                    Step::Index(index) => json::index_pointer(&pointer, *index),
                                });
                                out.push(StrayQuery {
                                    pointer,
                                    value: literal.value.to_string(),
                                    literal: start..base + literal.range.end,
                                });
                            }
                        }
                        other => walk(other, path, base, reached, out),
                    }
                    path.pop();
                }
            }
            Value::Array(array) => {
                for (index, element) in array.elements.iter().enumerate() {
                    path.push(Step::Index(index));
                    walk(element, path, base, reached, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(root, &mut Vec::new(), base, reached, &mut out);
    out
}

struct Detected<'v, 'a> {
    model: Model,
    /// The object holding the dashboard model (the root, `spec`, or `dashboard`) and its pointer.
    dashboard: Option<&'v Value<'a>>,
    pointer: &'static str,
}

fn detect<'v, 'a>(root: &'v Value<'a>, base: usize) -> Result<Detected<'v, 'a>, DashboardError> {
    let found = |model, dashboard, pointer| Detected {
        model,
        dashboard,
        pointer,
    };
    if root.as_object().is_none() {
        return Ok(found(Model::NotADashboard, None, ""));
    }
    let api_version = json::as_string_lit(get(root, "apiVersion"));
    if let Some(api_version) = api_version
        && get_str(root, "kind") == Some("Dashboard")
        && let Some(version) = api_version.value.strip_prefix("dashboard.grafana.app/")
    {
        let spec = get(root, "spec");
        return match version.get(..2) {
            Some("v0" | "v1") => Ok(found(Model::V1Resource, spec, "/spec")),
            Some("v2") => Ok(found(Model::V2Resource, spec, "/spec")),
            _ => Err(DashboardError::new(
                ErrorKind::UnsupportedApiVersion {
                    api_version: api_version.value.to_string(),
                },
                base + api_version.range.start..base + api_version.range.end,
            )),
        };
    }
    if looks_classic(root) {
        return Ok(found(Model::Classic, Some(root), ""));
    }
    if let Some(inner) = get(root, "dashboard")
        && looks_classic(inner)
    {
        return Ok(found(Model::Classic, Some(inner), "/dashboard"));
    }
    Ok(found(Model::NotADashboard, None, ""))
}

fn looks_classic(value: &Value<'_>) -> bool {
    matches!(get(value, "panels"), Some(Value::Array(_)))
        || matches!(get(value, "rows"), Some(Value::Array(_)))
        || matches!(get(value, "templating"), Some(Value::Object(_)))
}

/// Gathers sites while walking; classifies them once the whole file has been seen (a uid's
/// type may be stated after its first use).
pub(crate) struct Collector {
    base: usize,
    candidates: Vec<Candidate>,
    library_panels: Vec<LibraryPanelRef>,
    pub index: DatasourceIndex,
    /// What a candidate's site holds until `finish` gives it its own data source.
    unresolved: Arc<Datasource>,
}

struct Candidate {
    /// Its `datasource` is set once the whole file is seen, from `datasource`.
    site: QuerySite,
    datasource: Datasource,
    verdict: Verdict,
}

enum Verdict {
    ByDatasource,
    Keep,
    Skip(SkipReason),
}

impl Collector {
    fn new(base: usize) -> Self {
        Self {
            base,
            candidates: Vec::new(),
            library_panels: Vec::new(),
            index: DatasourceIndex::default(),
            unresolved: Arc::new(Datasource::Default),
        }
    }

    /// A query string, kept or skipped according to its data source.
    pub fn query(
        &mut self,
        literal: Option<&StringLit<'_>>,
        pointer: String,
        kind: SiteKind,
        owner: &Owner,
        datasource: &Datasource,
    ) {
        self.push(literal, pointer, kind, owner, datasource, Verdict::ByDatasource);
    }

    /// A panel query with its `legendFormat`.
    pub fn panel_query(
        &mut self,
        literal: Option<&StringLit<'_>>,
        legend: Option<&StringLit<'_>>,
        pointer: String,
        owner: &Owner,
        datasource: &Datasource,
    ) {
        let count = self.candidates.len();
        self.query(literal, pointer, SiteKind::PanelTarget, owner, datasource);
        if self.candidates.len() > count
            && let (Some(candidate), Some(legend)) = (self.candidates.last_mut(), legend)
        {
            candidate.site.legend = Some(Box::new(Legend {
                value: legend.value.to_string(),
                literal: self.base + legend.range.start..self.base + legend.range.end,
            }));
        }
    }

    /// A query string that is skipped whatever its data source.
    pub fn skipped(
        &mut self,
        literal: Option<&StringLit<'_>>,
        pointer: String,
        kind: SiteKind,
        owner: &Owner,
        datasource: &Datasource,
        reason: SkipReason,
    ) {
        self.push(literal, pointer, kind, owner, datasource, Verdict::Skip(reason));
    }

    /// A panel link URL; kept (for reporting) if it seems to carry a query.
    pub fn link(&mut self, literal: Option<&StringLit<'_>>, pointer: String, owner: &Owner) {
        if let Some(url) = literal
            && carries_query(&url.value)
        {
            self.push(
                Some(url),
                pointer,
                SiteKind::PanelLink,
                owner,
                &Datasource::Default,
                Verdict::Keep,
            );
        }
    }

    pub fn library_panel(&mut self, reference: &Value<'_>, pointer: String, owner: &Owner) {
        let range = match reference {
            Value::Object(object) => object.range,
            _ => return,
        };
        self.library_panels.push(LibraryPanelRef {
            pointer,
            uid: get_str(reference, "uid").map(str::to_owned),
            name: get_str(reference, "name").map(str::to_owned),
            owner: owner.clone(),
            span: self.base + range.start..self.base + range.end,
        });
    }

    fn push(
        &mut self,
        literal: Option<&StringLit<'_>>,
        pointer: String,
        kind: SiteKind,
        owner: &Owner,
        datasource: &Datasource,
        verdict: Verdict,
    ) {
        let Some(literal) = literal else { return };
        // An empty query holds nothing to rewrite or report.
        if literal.value.trim().is_empty() {
            return;
        }
        self.index.note(datasource);
        self.candidates.push(Candidate {
            site: QuerySite {
                pointer,
                kind,
                owner: owner.clone(),
                datasource: Arc::clone(&self.unresolved),
                value: literal.value.to_string(),
                literal: self.base + literal.range.start..self.base + literal.range.end,
                legend: None,
            },
            datasource: datasource.clone(),
            verdict,
        });
    }

    fn finish(self, known: &KnownDatasources) -> (Vec<QuerySite>, Vec<SkippedSite>, Vec<LibraryPanelRef>) {
        // Sized to the candidates: a stack keeps every dashboard's scan while it plans.
        let mut sites = Vec::with_capacity(self.candidates.len());
        let mut skipped = Vec::new();
        let mut shared: HashMap<Datasource, Arc<Datasource>> = HashMap::new();
        for Candidate {
            mut site,
            datasource,
            verdict,
        } in self.candidates
        {
            let mut datasource = self.index.resolve(&datasource);
            known.resolve(&mut datasource);
            site.datasource = Arc::clone(
                shared
                    .entry(datasource)
                    .or_insert_with_key(|datasource| Arc::new(datasource.clone())),
            );
            let verdict = match verdict {
                Verdict::ByDatasource if *site.datasource == Datasource::Default => {
                    known.default_skip().map_or(Ok(()), Err)
                }
                Verdict::ByDatasource => datasource::classify(&site.datasource),
                Verdict::Keep => Ok(()),
                Verdict::Skip(reason) => Err(reason),
            };
            match verdict {
                Ok(()) => sites.push(site),
                Err(reason) => skipped.push(SkippedSite { site, reason }),
            }
        }
        // File order, so reports read top to bottom.
        sites.sort_by_key(|site| site.literal.start);
        sites.shrink_to_fit();
        skipped.sort_by_key(|skipped| skipped.site.literal.start);
        (sites, skipped, self.library_panels)
    }
}

/// Explore links, Prometheus graph links (`/graph?g0.expr=`) and URLs with an `expr`
/// parameter or JSON field (plain or percent-encoded) carry a query.
fn carries_query(url: &str) -> bool {
    let url = url.to_ascii_lowercase();
    ["/explore", "expr=", "\"expr\"", "%22expr%22"]
        .iter()
        .any(|marker| url.contains(marker))
}
