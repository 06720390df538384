//! Where the Grafana dashboards are, and reading their JSON files.

use super::compose::Compose;
use super::discover::{self, Ask, Evidence, PathQuestion, evidence};
use super::read::StackDir;
use super::settings::{Overrides, SettingsFile};
use super::source::SourceFile;
use super::{DashboardsFolder, dashboards_folder, limits};
use crate::diagnostic::Diagnostic;

/// The JSON files of `folders` (of the stack folder itself, only those at its root).
pub(super) fn read_dashboards(dir: &StackDir, folders: &[DashboardsFolder]) -> Result<Vec<SourceFile>, Diagnostic> {
    let mut dashboards = Vec::new();
    for folder in folders {
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
    Ok(dashboards)
}

/// The dashboards folders: `--dashboards`, else `dashboards:` of `pullover.yaml`, else those
/// discovery finds mounted into Grafana; with Grafana and none found, where `ask` answers.
pub(super) fn resolve_dashboard_dirs(
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
