//! Finding every string in a dashboard that holds a query.

use std::collections::HashSet;
use std::ops::Range;

use jsonc_parser::ast::Value;

use super::datasource::KnownDatasources;
use super::error::{DashboardError, ErrorKind};
use super::json::{self, get, get_str};
use super::literal::EncodingStyle;
use super::site::{Collector, LibraryPanelRef, Owner, QuerySite, SkippedSite};
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
