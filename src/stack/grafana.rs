//! Grafana's data source provisioning, as the stack declares it: which names and uids are
//! Prometheus, and which data source is the default. Dashboards refer to data sources by name
//! (`"datasource": "metrics"`), by uid alone, or not at all; only these files say what those are.

use yaml_serde::Value;

use super::compose::Compose;
use super::discover::{host_path_for, is_grafana_service};
use super::read::StackDir;
use super::source::RelPath;
use crate::edit::yaml::{YamlDoc, scalar_string};

/// Where Grafana reads data source provisioning in its container.
const DATASOURCES_IN_CONTAINER: &str = "/etc/grafana/provisioning/datasources";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionedDatasource {
    pub name: String,
    /// The plugin type (`prometheus`, `loki`, …).
    pub plugin: String,
    pub uid: Option<String>,
    pub is_default: bool,
    /// The provisioning file that declares it.
    pub file: RelPath,
}

/// The data sources the stack's Grafana provisioning declares: the folder bind-mounted at
/// Grafana's provisioning path, else `grafana/provisioning/datasources`. A file Grafana could
/// not read either is passed over (nothing is learnt from it).
pub fn read_datasources(dir: &StackDir, compose: Option<&Compose>) -> Vec<ProvisionedDatasource> {
    let mut folders: Vec<RelPath> = Vec::new();
    if let Some(compose) = compose {
        for grafana in compose.services.iter().filter(|s| is_grafana_service(s)) {
            if let Some(folder) = host_path_for(compose.file.path.parent(), &grafana.volumes, DATASOURCES_IN_CONTAINER)
                && dir.is_dir(&folder)
                && !folders.contains(&folder)
            {
                folders.push(folder);
            }
        }
    }
    if folders.is_empty()
        && let Ok(usual) = RelPath::new("grafana/provisioning/datasources")
        && dir.is_dir(&usual)
    {
        folders.push(usual);
    }
    let mut out = Vec::new();
    for folder in folders {
        for path in dir.files_under(&folder, &[".yml", ".yaml"]) {
            let Ok(Some(file)) = dir.read(&path) else { continue };
            let Ok(doc) = YamlDoc::parse(file.text()) else { continue };
            let list = doc
                .value()
                .get("datasources")
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default();
            for entry in list {
                let field = |key: &str| entry.get(key).and_then(scalar_string);
                let (Some(name), Some(plugin)) = (field("name"), field("type")) else {
                    continue;
                };
                out.push(ProvisionedDatasource {
                    name,
                    plugin,
                    uid: field("uid"),
                    is_default: entry.get("isDefault").and_then(Value::as_bool).unwrap_or(false),
                    file: path.clone(),
                });
            }
        }
    }
    out
}

/// What dashboards scans need to know of these data sources.
pub fn known(datasources: &[ProvisionedDatasource]) -> crate::dashboard::KnownDatasources {
    crate::dashboard::KnownDatasources::new(
        datasources
            .iter()
            .map(|d| (d.name.as_str(), d.uid.as_deref(), d.plugin.as_str(), d.is_default)),
    )
}
