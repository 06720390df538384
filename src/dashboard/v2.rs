//! The v2 resource model (`dashboard.grafana.app/v2alpha1`, `v2beta1`, `v2`), as defined in
//! grafana/grafana `apps/dashboard/kinds/v2*/dashboard_spec.cue`.
//!
//! Query strings live in (all under `spec`):
//! - `elements.<name>` of `kind: Panel`: `spec.data.spec.queries[].spec.query.spec.expr`;
//! - `variables[]` (and rows'/tabs' `variables[]`) of `kind: QueryVariable`:
//!   `spec.query.spec.query` (object queries), `spec.query.spec.__legacyStringValue` (a classic
//!   string query converted by Grafana), `spec.query.spec.expr`, and `spec.definition`;
//! - `annotations[]` of `kind: AnnotationQuery`: `spec.query.spec.expr` (a classic `target`)
//!   and `spec.legacyOptions.expr` (a classic top-level `expr`);
//! - panel links (`spec.links[].url`, `spec.vizConfig.spec.fieldConfig.defaults.links[].url`),
//!   reported only.
//!
//! The data source of a query is `query.group` + `query.datasource.name` (v2beta1/v2) or
//! `query.kind` + the sibling `datasource: {type, uid}` (v2alpha1). Elements of
//! `kind: LibraryPanel` are listed as library panels. Row and tab titles come from `layout`.

use std::collections::HashMap;

use jsonc_parser::ast::Value;

use super::datasource;
use super::json::{as_string_lit, elements, entries, get, get_path, get_str, index_pointer, pointer, pointer_path};
use super::site::{Collector, Owner, SiteKind};

pub(crate) fn walk(spec: &Value<'_>, at: &str, out: &mut Collector) {
    let mut section_titles = HashMap::new();
    let mut section_variables = Vec::new();
    walk_layout(
        get(spec, "layout"),
        &pointer(at, "layout"),
        None,
        &mut section_titles,
        &mut section_variables,
    );

    let variables_at = pointer(at, "variables");
    let variables = elements(get(spec, "variables"))
        .iter()
        .enumerate()
        .map(|(index, variable)| (index_pointer(&variables_at, index), variable))
        .chain(section_variables);
    for (at, variable) in variables {
        walk_variable(variable, &at, out);
    }

    let annotations_at = pointer(at, "annotations");
    for (index, annotation) in elements(get(spec, "annotations")).iter().enumerate() {
        walk_annotation(annotation, &index_pointer(&annotations_at, index), out);
    }

    let elements_at = pointer(at, "elements");
    for (name, element) in entries(get(spec, "elements")) {
        let row = section_titles.get(name).cloned();
        walk_element(element, &pointer(&elements_at, name), row, out);
    }
}

/// Records the nearest row or tab title of every element, and rows'/tabs' own variables.
fn walk_layout<'v, 'a>(
    layout: Option<&'v Value<'a>>,
    at: &str,
    title: Option<&str>,
    titles: &mut HashMap<String, String>,
    variables: &mut Vec<(String, &'v Value<'a>)>,
) {
    let Some(layout) = layout else { return };
    let spec = get(layout, "spec");
    let spec_at = pointer(at, "spec");
    let mut place = |element: Option<&Value<'_>>, title: Option<&str>| {
        if let (Some(name), Some(title)) = (element.and_then(|e| get_str(e, "name")), title) {
            titles.insert(name.to_owned(), title.to_owned());
        }
    };
    match get_str(layout, "kind") {
        Some("GridLayout" | "AutoGridLayout") => {
            for item in elements(spec.and_then(|spec| get(spec, "items"))) {
                if get_str(item, "kind") == Some("GridLayoutRow") {
                    // Early v2alpha1 kept rows inside the grid.
                    let row_title = get(item, "spec").and_then(|spec| get_str(spec, "title")).or(title);
                    for child in elements(get_path(item, &["spec", "elements"])) {
                        place(get_path(child, &["spec", "element"]), row_title);
                    }
                } else {
                    place(get_path(item, &["spec", "element"]), title);
                }
            }
        }
        Some(kind @ ("RowsLayout" | "TabsLayout")) => {
            let key = if kind == "RowsLayout" { "rows" } else { "tabs" };
            let sections_at = pointer(&spec_at, key);
            for (index, section) in elements(spec.and_then(|spec| get(spec, key))).iter().enumerate() {
                let section_at = pointer(&index_pointer(&sections_at, index), "spec");
                let section_spec = get(section, "spec");
                let section_title = section_spec.and_then(|spec| get_str(spec, "title")).or(title);
                let variables_at = pointer(&section_at, "variables");
                let section_variables = elements(section_spec.and_then(|spec| get(spec, "variables")));
                for (index, variable) in section_variables.iter().enumerate() {
                    variables.push((index_pointer(&variables_at, index), variable));
                }
                walk_layout(
                    section_spec.and_then(|spec| get(spec, "layout")),
                    &pointer(&section_at, "layout"),
                    section_title,
                    titles,
                    variables,
                );
            }
        }
        _ => {}
    }
}

fn walk_variable(variable: &Value<'_>, at: &str, out: &mut Collector) {
    let spec = get(variable, "spec");
    let spec_at = pointer(at, "spec");
    let name = spec.and_then(|spec| get_str(spec, "name"));
    match get_str(variable, "kind") {
        Some("DatasourceVariable") => {
            if let (Some(name), Some(plugin)) = (name, spec.and_then(|spec| get_str(spec, "pluginId"))) {
                out.index.note_variable(name, plugin);
            }
        }
        Some("QueryVariable") => {
            let owner = Owner::Variable {
                name: name.map(str::to_owned),
            };
            let query = spec.and_then(|spec| get(spec, "query"));
            let sibling = spec.and_then(|spec| get(spec, "datasource"));
            let datasource = datasource::own(datasource::read_v2_ref(query, sibling));
            let query_spec_at = pointer_path(&spec_at, &["query", "spec"]);
            let query_spec = query.and_then(|query| get(query, "spec"));
            for key in ["query", "__legacyStringValue", "expr"] {
                let literal = as_string_lit(query_spec.and_then(|spec| get(spec, key)));
                let at = pointer(&query_spec_at, key);
                out.query(literal, at, SiteKind::TemplateQuery, &owner, &datasource);
            }
            let definition = as_string_lit(spec.and_then(|spec| get(spec, "definition")));
            let at = pointer(&spec_at, "definition");
            out.query(definition, at, SiteKind::TemplateDefinition, &owner, &datasource);
        }
        _ => {}
    }
}

fn walk_annotation(annotation: &Value<'_>, at: &str, out: &mut Collector) {
    let spec = get(annotation, "spec");
    let spec_at = pointer(at, "spec");
    let owner = Owner::Annotation {
        name: spec.and_then(|spec| get_str(spec, "name")).map(str::to_owned),
    };
    let query = spec.and_then(|spec| get(spec, "query"));
    let sibling = spec.and_then(|spec| get(spec, "datasource"));
    let datasource = datasource::own(datasource::read_v2_ref(query, sibling));
    let expr = as_string_lit(query.and_then(|query| get_path(query, &["spec", "expr"])));
    let expr_at = pointer_path(&spec_at, &["query", "spec", "expr"]);
    out.query(expr, expr_at, SiteKind::Annotation, &owner, &datasource);
    let legacy = as_string_lit(spec.and_then(|spec| get_path(spec, &["legacyOptions", "expr"])));
    let legacy_at = pointer_path(&spec_at, &["legacyOptions", "expr"]);
    out.query(legacy, legacy_at, SiteKind::Annotation, &owner, &datasource);
}

fn walk_element(element: &Value<'_>, at: &str, row: Option<String>, out: &mut Collector) {
    let spec = get(element, "spec");
    let spec_at = pointer(at, "spec");
    let owner = Owner::Panel {
        title: spec.and_then(|spec| get_str(spec, "title")).map(str::to_owned),
        row,
    };
    match get_str(element, "kind") {
        Some("Panel") => {
            let queries_at = pointer_path(&spec_at, &["data", "spec", "queries"]);
            let queries = elements(spec.and_then(|spec| get_path(spec, &["data", "spec", "queries"])));
            for (index, panel_query) in queries.iter().enumerate() {
                let query_spec = get(panel_query, "spec");
                let query = query_spec.and_then(|spec| get(spec, "query"));
                let sibling = query_spec.and_then(|spec| get(spec, "datasource"));
                let datasource = datasource::own(datasource::read_v2_ref(query, sibling));
                let expr = as_string_lit(query.and_then(|query| get_path(query, &["spec", "expr"])));
                let at = pointer_path(&index_pointer(&queries_at, index), &["spec", "query", "spec", "expr"]);
                let legend = as_string_lit(query.and_then(|query| get_path(query, &["spec", "legendFormat"])));
                out.panel_query(expr, legend, at, &owner, &datasource);
            }
            let links_at = pointer(&spec_at, "links");
            for (index, link) in elements(spec.and_then(|spec| get(spec, "links"))).iter().enumerate() {
                let url = as_string_lit(get(link, "url"));
                out.link(url, pointer(&index_pointer(&links_at, index), "url"), &owner);
            }
            let path = ["vizConfig", "spec", "fieldConfig", "defaults", "links"];
            let field_links_at = pointer_path(&spec_at, &path);
            let field_links = elements(spec.and_then(|spec| get_path(spec, &path)));
            for (index, link) in field_links.iter().enumerate() {
                let url = as_string_lit(get(link, "url"));
                out.link(url, pointer(&index_pointer(&field_links_at, index), "url"), &owner);
            }
        }
        Some("LibraryPanel") => {
            if let Some(reference) = spec.and_then(|spec| get(spec, "libraryPanel")) {
                out.library_panel(reference, pointer(&spec_at, "libraryPanel"), &owner);
            }
        }
        _ => {}
    }
}
