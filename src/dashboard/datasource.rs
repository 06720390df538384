//! Which data source a query goes to, and whether that data source speaks PromQL.
//!
//! Only PromQL may be handed to the PromQL rewriter: Loki also stores its queries in `expr`, and
//! `{job="pushgateway"}` means something else there. The rules, in order:
//!
//! 1. No data source on the query or its panel (absent, `null`, `{}`): Grafana uses the default
//!    data source. In a Prometheus stack that is Prometheus, so the query is kept.
//! 2. A template variable (`$datasource`, `${DS_PROMETHEUS}`, `[[ds]]`): kept, unless the file
//!    says the variable picks another plugin (a `datasource` variable whose `query`/`pluginId`
//!    is e.g. `loki`, or an `__inputs` entry whose `pluginId` is not Prometheus).
//! 3. A data source with a plugin type: kept when the type names Prometheus (`prometheus`,
//!    `grafana-amazonprometheus-datasource`, `grafana-azureprometheus-datasource`); skipped
//!    otherwise (`loki`, `grafana`, `grafana-testdata-datasource`, `__expr__`, ...).
//! 4. A uid or legacy name without a type: the type is looked up from any other reference to
//!    the same uid in the file. Failing that, a name that says `prom`, `thanos`, `mimir` or
//!    `cortex` is taken as Prometheus-compatible; anything else is skipped as unknown (reported,
//!    never guessed).
//!
//! For panel targets, Grafana sends every query of a panel to the panel's data source unless the
//! panel is `-- Mixed --` (or has none); then each target's own data source counts.

use std::collections::HashMap;
use std::fmt;

use jsonc_parser::ast::Value;

use super::json::{get, get_str};

/// A query's data source as the file states it (after applying panel/target precedence).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Datasource {
    /// None given: Grafana's default data source.
    Default,
    /// Chosen by a template variable; `plugin` is what the file says about it, if anything.
    Variable { name: String, plugin: Option<String> },
    /// A fixed data source. `name` is the legacy (pre Grafana 8.3) string form.
    Fixed {
        plugin: Option<String>,
        uid: Option<String>,
        name: Option<String>,
    },
}

impl fmt::Display for Datasource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Datasource::Default => write!(f, "default"),
            Datasource::Variable { name, plugin } => {
                write!(f, "${name}")?;
                match plugin {
                    Some(plugin) => write!(f, " ({plugin})"),
                    None => Ok(()),
                }
            }
            Datasource::Fixed { plugin, uid, name } => {
                let plugin = plugin.as_deref().unwrap_or("?");
                match (uid, name) {
                    (Some(uid), _) => write!(f, "{plugin}/{uid}"),
                    (None, Some(name)) => write!(f, "{plugin}/{name:?}"),
                    (None, None) => write!(f, "{plugin}"),
                }
            }
        }
    }
}

/// Why a query site is listed as skipped rather than handed on as PromQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The data source is of another kind (Loki, `-- Grafana --`, TestData, expressions, ...).
    NotPromql { plugin: String },
    /// A uid or name without a type, and nothing in the file says what it is.
    UnknownDatasource { reference: String },
    /// The panel is a library panel: Grafana loads its queries from the library, so editing this
    /// copy would change nothing. Edit the library panel instead.
    LibraryPanelCopy { uid: Option<String> },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::NotPromql { plugin } => write!(f, "data source is {plugin}, not PromQL"),
            SkipReason::UnknownDatasource { reference } => {
                write!(f, "data source {reference:?} has no type")
            }
            SkipReason::LibraryPanelCopy { uid } => match uid {
                Some(uid) => write!(f, "copy of library panel {uid}"),
                None => write!(f, "copy of a library panel"),
            },
        }
    }
}

/// A `datasource` field as read, before panel/target precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DatasourceRef {
    Absent,
    Mixed,
    Given(Datasource),
}

const MIXED: &str = "-- Mixed --";

/// Reads a classic `datasource` field: absent, `null`, a legacy name string, or `{type, uid}`.
pub(crate) fn read_ref(value: Option<&Value<'_>>) -> DatasourceRef {
    match value {
        None | Some(Value::NullKeyword(_)) => DatasourceRef::Absent,
        Some(Value::StringLit(name)) => from_parts(None, None, Some(name.value.as_ref())),
        Some(object @ Value::Object(_)) => from_parts(get_str(object, "type"), get_str(object, "uid"), None),
        Some(_) => DatasourceRef::Absent,
    }
}

/// Builds a reference from a plugin type, a uid and a legacy name, any of which may be missing.
pub(crate) fn from_parts(plugin: Option<&str>, uid: Option<&str>, name: Option<&str>) -> DatasourceRef {
    let plugin = plugin.filter(|plugin| !plugin.is_empty());
    let reference = uid.or(name).filter(|reference| !reference.is_empty());
    let Some(reference) = reference else {
        return match plugin {
            None => DatasourceRef::Absent,
            Some(plugin) => DatasourceRef::Given(Datasource::Fixed {
                plugin: Some(plugin.to_owned()),
                uid: None,
                name: None,
            }),
        };
    };
    if reference == MIXED {
        return DatasourceRef::Mixed;
    }
    if let Some(variable) = variable_name(reference) {
        return DatasourceRef::Given(Datasource::Variable {
            name: variable.to_owned(),
            plugin: plugin.map(str::to_owned),
        });
    }
    // Grafana's built-in data sources, whatever type the file gives them.
    let builtin = match reference {
        "-- Grafana --" | "grafana" => Some("grafana"),
        "-- Dashboard --" => Some("dashboard"),
        "__expr__" => Some("__expr__"),
        _ => None,
    };
    let plugin = match (builtin, plugin) {
        (Some(builtin), None | Some("datasource")) => Some(builtin),
        (_, plugin) => plugin,
    };
    DatasourceRef::Given(Datasource::Fixed {
        plugin: plugin.map(str::to_owned),
        uid: uid.filter(|uid| !uid.is_empty()).map(str::to_owned),
        name: name.filter(|name| !name.is_empty()).map(str::to_owned),
    })
}

/// The data source a panel target's query goes to (see the module docs for the rule).
pub(crate) fn for_target(panel: &DatasourceRef, target: &DatasourceRef) -> Datasource {
    match (panel, target) {
        (DatasourceRef::Given(_), DatasourceRef::Given(target)) if is_expression(target) => target.clone(),
        (DatasourceRef::Given(panel), _) => panel.clone(),
        (_, DatasourceRef::Given(target)) => target.clone(),
        _ => Datasource::Default,
    }
}

/// The data source of a variable or annotation: its own, else the default.
pub(crate) fn own(reference: DatasourceRef) -> Datasource {
    match reference {
        DatasourceRef::Given(datasource) => datasource,
        DatasourceRef::Absent | DatasourceRef::Mixed => Datasource::Default,
    }
}

fn is_expression(datasource: &Datasource) -> bool {
    matches!(datasource, Datasource::Fixed { plugin: Some(plugin), .. } if plugin == "__expr__")
}

/// The variable a whole string refers to: `$name`, `${name}`, `${name:format}`, `[[name]]`.
pub(crate) fn variable_name(text: &str) -> Option<&str> {
    let name = if let Some(braced) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
        braced.split(':').next().unwrap_or(braced)
    } else if let Some(bracketed) = text.strip_prefix("[[").and_then(|t| t.strip_suffix("]]")) {
        bracketed.split(':').next().unwrap_or(bracketed)
    } else {
        text.strip_prefix('$')?
    };
    let valid = !name.is_empty() && name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
    valid.then_some(name)
}

fn is_promql_plugin(plugin: &str) -> bool {
    plugin.to_ascii_lowercase().contains("prometheus")
}

fn sounds_like_prometheus(reference: &str) -> bool {
    let reference = reference.to_ascii_lowercase();
    ["prom", "thanos", "mimir", "cortex"]
        .iter()
        .any(|hint| reference.contains(hint))
}

/// What the stack's Grafana provisioning says about data sources: the plugin of each name and
/// uid, and of the default data source. Dashboards that name a data source without its type
/// (`"datasource": "metrics"`, `{"uid": "P4169…"}`) are read with it.
#[derive(Debug, Default, Clone)]
pub struct KnownDatasources {
    /// Name or uid → plugin id.
    plugins: HashMap<String, String>,
    /// The default data source's plugin and name.
    default: Option<(String, String)>,
}

impl KnownDatasources {
    /// From `(name, uid, plugin, is_default)` of each provisioned data source.
    pub fn new<'a>(declared: impl IntoIterator<Item = (&'a str, Option<&'a str>, &'a str, bool)>) -> Self {
        let mut known = KnownDatasources::default();
        for (name, uid, plugin, is_default) in declared {
            known.plugins.insert(name.to_owned(), plugin.to_owned());
            if let Some(uid) = uid {
                known.plugins.insert(uid.to_owned(), plugin.to_owned());
            }
            if is_default && known.default.is_none() {
                known.default = Some((plugin.to_owned(), name.to_owned()));
            }
        }
        known
    }

    /// Fills in the plugin of a data source named by uid or name only.
    pub(crate) fn resolve(&self, datasource: &mut Datasource) {
        if let Datasource::Fixed {
            plugin: plugin @ None,
            uid,
            name,
        } = datasource
        {
            // Grafana looks a string reference up as a uid, then as a name.
            *plugin = [uid.as_deref(), name.as_deref()]
                .into_iter()
                .flatten()
                .find_map(|reference| self.plugins.get(reference).cloned());
        }
    }

    /// Why a query to the default data source is not PromQL, when the default is known to be
    /// another kind.
    pub(crate) fn default_skip(&self) -> Option<SkipReason> {
        let (plugin, _) = self.default.as_ref()?;
        (!is_promql_plugin(plugin)).then(|| SkipReason::NotPromql { plugin: plugin.clone() })
    }
}

/// What the file says about data sources, gathered while walking it.
#[derive(Debug, Default)]
pub(crate) struct DatasourceIndex {
    /// Data source variable (or `__inputs` entry) name → plugin id.
    variables: HashMap<String, String>,
    /// uid → plugin id, from references that give both.
    uid_plugins: HashMap<String, String>,
}

impl DatasourceIndex {
    pub fn note_variable(&mut self, name: &str, plugin: &str) {
        if !plugin.is_empty() {
            self.variables.insert(name.to_owned(), plugin.to_owned());
        }
    }

    pub fn note(&mut self, datasource: &Datasource) {
        if let Datasource::Fixed {
            plugin: Some(plugin),
            uid: Some(uid),
            ..
        } = datasource
        {
            self.uid_plugins.insert(uid.clone(), plugin.clone());
        }
    }

    /// Reads `__inputs` of an exported dashboard (`${DS_PROMETHEUS}` → `prometheus`).
    pub fn note_inputs(&mut self, inputs: &[Value<'_>]) {
        for input in inputs {
            if get_str(input, "type") == Some("datasource")
                && let (Some(name), Some(plugin)) = (get_str(input, "name"), get_str(input, "pluginId"))
            {
                self.note_variable(name, plugin);
            }
        }
    }

    /// The data source with its plugin filled in from what the file says elsewhere.
    pub fn resolve(&self, datasource: &Datasource) -> Datasource {
        let mut resolved = datasource.clone();
        match &mut resolved {
            Datasource::Default => {}
            Datasource::Variable { name, plugin } => {
                if plugin.is_none() {
                    *plugin = self.variables.get(name.as_str()).cloned();
                }
            }
            Datasource::Fixed {
                plugin, uid: Some(uid), ..
            } => {
                if plugin.is_none() {
                    *plugin = self.uid_plugins.get(uid.as_str()).cloned();
                }
            }
            Datasource::Fixed { .. } => {}
        }
        resolved
    }
}

/// `Ok` if a query to this (resolved) data source is PromQL, else why it is skipped.
pub(crate) fn classify(datasource: &Datasource) -> Result<(), SkipReason> {
    match datasource {
        Datasource::Default => Ok(()),
        Datasource::Variable { plugin, .. } => match plugin {
            Some(plugin) if !is_promql_plugin(plugin) => Err(SkipReason::NotPromql { plugin: plugin.clone() }),
            _ => Ok(()),
        },
        Datasource::Fixed { plugin, uid, name } => match plugin {
            Some(plugin) if is_promql_plugin(plugin) => Ok(()),
            Some(plugin) => Err(SkipReason::NotPromql { plugin: plugin.clone() }),
            None => {
                let reference = uid.as_deref().or(name.as_deref()).unwrap_or_default();
                match sounds_like_prometheus(reference) {
                    true => Ok(()),
                    false => Err(SkipReason::UnknownDatasource {
                        reference: reference.to_owned(),
                    }),
                }
            }
        },
    }
}

/// Reads a v2 `DataQueryKind` and its optional v2alpha1 sibling `datasource: {type, uid}`.
///
/// v2beta1/v2: `{kind: "DataQuery", group: <plugin>, datasource: {name: <uid>}, spec}`.
/// v2alpha1:   `{kind: <plugin>, spec}`, the uid in the sibling `datasource`.
pub(crate) fn read_v2_ref(query: Option<&Value<'_>>, sibling: Option<&Value<'_>>) -> DatasourceRef {
    let plugin = query.and_then(|query| match get_str(query, "kind") {
        Some("DataQuery") => get_str(query, "group"),
        kind => kind,
    });
    let uid = query
        .and_then(|query| get(query, "datasource"))
        .and_then(|datasource| get_str(datasource, "name"))
        .or_else(|| sibling.and_then(|sibling| get_str(sibling, "uid")));
    let plugin = plugin.or_else(|| sibling.and_then(|sibling| get_str(sibling, "type")));
    from_parts(plugin, uid, None)
}
