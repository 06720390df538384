//! The classic dashboard model (also the `spec` of v0/v1 resources).
//!
//! Query strings live in:
//! - `panels[].targets[].expr`, including panels nested in rows (`panels[].panels[]`, collapsed
//!   rows keep their panels there) and legacy `rows[].panels[]`;
//! - `templating.list[]` of `type: query`: `query` as a string, or `query.query` / `query.expr`
//!   in the object form Grafana 10+ writes, and `definition`;
//! - `annotations.list[].expr` and `annotations.list[].target.expr`;
//! - `__elements.<uid>.model` of exports made "for sharing externally" (library panel models);
//! - panel links (`links[].url`, `fieldConfig.defaults.links[].url`), reported only.

use jsonc_parser::ast::Value;

use super::datasource::{self, DatasourceRef, SkipReason};
use super::json::{self, as_string_lit, elements, entries, get, get_str, index_pointer, pointer, pointer_path};
use super::site::{Collector, Owner, SiteKind};

pub(crate) fn walk(dashboard: &Value<'_>, at: &str, out: &mut Collector) {
    out.index.note_inputs(elements(get(dashboard, "__inputs")));
    let variables = elements(json::get_path(dashboard, &["templating", "list"]));
    for variable in variables {
        if get_str(variable, "type") == Some("datasource")
            && let (Some(name), Some(plugin)) = (get_str(variable, "name"), get_str(variable, "query"))
        {
            out.index.note_variable(name, plugin);
        }
    }
    let templating = pointer_path(at, &["templating", "list"]);
    for (index, variable) in variables.iter().enumerate() {
        walk_variable(variable, &index_pointer(&templating, index), out);
    }

    let annotations = pointer_path(at, &["annotations", "list"]);
    let list = elements(json::get_path(dashboard, &["annotations", "list"]));
    for (index, annotation) in list.iter().enumerate() {
        walk_annotation(annotation, &index_pointer(&annotations, index), out);
    }

    walk_panels(get(dashboard, "panels"), &pointer(at, "panels"), None, true, out);

    let rows = pointer(at, "rows");
    for (index, row) in elements(get(dashboard, "rows")).iter().enumerate() {
        let title = get_str(row, "title").map(str::to_owned);
        let at = pointer(&index_pointer(&rows, index), "panels");
        walk_panels(get(row, "panels"), &at, title, false, out);
    }

    let library_models = pointer(at, "__elements");
    for (key, element) in entries(get(dashboard, "__elements")) {
        if let Some(model) = get(element, "model") {
            let at = pointer_path(&library_models, &[key, "model"]);
            walk_panel(model, &at, None, out);
        }
    }
}

fn walk_variable(variable: &Value<'_>, at: &str, out: &mut Collector) {
    if get_str(variable, "type") != Some("query") {
        return;
    }
    let owner = Owner::Variable {
        name: get_str(variable, "name").map(str::to_owned),
    };
    let datasource = datasource::own(datasource::read_ref(get(variable, "datasource")));
    let query_at = pointer(at, "query");
    match get(variable, "query") {
        Some(Value::StringLit(query)) => {
            out.query(Some(query), query_at, SiteKind::TemplateQuery, &owner, &datasource);
        }
        Some(query @ Value::Object(_)) => {
            for key in ["query", "expr"] {
                let literal = as_string_lit(get(query, key));
                let at = pointer(&query_at, key);
                out.query(literal, at, SiteKind::TemplateQuery, &owner, &datasource);
            }
        }
        _ => {}
    }
    let definition = as_string_lit(get(variable, "definition"));
    let at = pointer(at, "definition");
    out.query(definition, at, SiteKind::TemplateDefinition, &owner, &datasource);
}

fn walk_annotation(annotation: &Value<'_>, at: &str, out: &mut Collector) {
    let owner = Owner::Annotation {
        name: get_str(annotation, "name").map(str::to_owned),
    };
    let datasource = datasource::own(datasource::read_ref(get(annotation, "datasource")));
    let expr = as_string_lit(get(annotation, "expr"));
    out.query(expr, pointer(at, "expr"), SiteKind::Annotation, &owner, &datasource);
    let target_expr = as_string_lit(json::get_path(annotation, &["target", "expr"]));
    let at = pointer_path(at, &["target", "expr"]);
    out.query(target_expr, at, SiteKind::Annotation, &owner, &datasource);
}

/// Walks a `panels` array. In the flat layout, a non-collapsed row's panels follow it as
/// siblings (`follow_rows`); a collapsed row keeps them in its own `panels`.
fn walk_panels(panels: Option<&Value<'_>>, at: &str, row: Option<String>, follow_rows: bool, out: &mut Collector) {
    let mut current_row = row;
    for (index, panel) in elements(panels).iter().enumerate() {
        let at = index_pointer(at, index);
        if get_str(panel, "type") == Some("row") {
            let title = get_str(panel, "title").map(str::to_owned);
            walk_panels(get(panel, "panels"), &pointer(&at, "panels"), title.clone(), false, out);
            if follow_rows {
                current_row = title;
            }
        } else {
            walk_panel(panel, &at, current_row.clone(), out);
        }
    }
}

fn walk_panel(panel: &Value<'_>, at: &str, row: Option<String>, out: &mut Collector) {
    let owner = Owner::Panel {
        title: get_str(panel, "title").map(str::to_owned),
        row: row.clone(),
    };
    let panel_datasource = datasource::read_ref(get(panel, "datasource"));
    let targets = pointer(at, "targets");
    let library_panel = get(panel, "libraryPanel");
    if let Some(reference) = library_panel {
        out.library_panel(reference, pointer(at, "libraryPanel"), &owner);
    }
    for (index, target) in elements(get(panel, "targets")).iter().enumerate() {
        let target_datasource = datasource::read_ref(get(target, "datasource"));
        let datasource = datasource::for_target(&panel_datasource, &target_datasource);
        let expr = as_string_lit(get(target, "expr"));
        let at = pointer(&index_pointer(&targets, index), "expr");
        match library_panel {
            Some(reference) => {
                let uid = get_str(reference, "uid").map(str::to_owned);
                let reason = SkipReason::LibraryPanelCopy { uid };
                out.skipped(expr, at, SiteKind::PanelTarget, &owner, &datasource, reason);
            }
            None => {
                let legend = as_string_lit(get(target, "legendFormat"));
                out.panel_query(expr, legend, at, &owner, &datasource);
            }
        }
    }
    if library_panel.is_none() {
        walk_links(panel, at, &owner, out);
    }
    // Some generators nest panels in non-row panels; Grafana ignores them, we still report them.
    walk_panels(get(panel, "panels"), &pointer(at, "panels"), row, false, out);
    // Panel data sources name uids too, even when none of their queries is collected.
    if let DatasourceRef::Given(datasource) = panel_datasource {
        out.index.note(&datasource);
    }
}

fn walk_links(panel: &Value<'_>, at: &str, owner: &Owner, out: &mut Collector) {
    let links = pointer(at, "links");
    for (index, link) in elements(get(panel, "links")).iter().enumerate() {
        let url = as_string_lit(get(link, "url"));
        out.link(url, pointer(&index_pointer(&links, index), "url"), owner);
    }
    let field_links = pointer_path(at, &["fieldConfig", "defaults", "links"]);
    let list = elements(json::get_path(panel, &["fieldConfig", "defaults", "links"]));
    for (index, link) in list.iter().enumerate() {
        let url = as_string_lit(get(link, "url"));
        out.link(url, pointer(&index_pointer(&field_links, index), "url"), owner);
    }
}
