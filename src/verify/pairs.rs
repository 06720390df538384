//! The queries the `dashboards` phase rewrote, paired from the journal's before and after
//! snapshots of each file: dashboards scanned with [`crate::dashboard::scan`] and paired by
//! JSON pointer, rule files by `groups[].rules[].expr` position. So this works for whatever
//! the phase rewrote, without knowing how it decided.

use std::collections::BTreeMap;

use serde::Serialize;

use super::variables::{DashboardVariable, dashboard_variables};
use crate::dashboard::{self, Model, SiteKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PairKind {
    Panel,
    Variable,
    Annotation,
    Rule,
}

/// A query as the phase found it and as it left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryPair {
    /// JSON pointer, or `groups[0].rules[2].expr` in a rule file.
    pub location: String,
    /// `panel "Requests"`, `variable "page"`, `rule job:page_views:rate5m`.
    pub owner: String,
    pub kind: PairKind,
    pub old: String,
    pub new: String,
}

/// One file the phase rewrote: its query pairs and, for dashboards, its variables before and
/// after (a rewritten variable query lists other values).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuerySource {
    pub file: String,
    pub old_variables: Vec<DashboardVariable>,
    pub new_variables: Vec<DashboardVariable>,
    pub pairs: Vec<QueryPair>,
}

/// Pairs the rewritten queries of one file from its text before and after the phase. `None`
/// for a file that is neither a dashboard nor a rule file.
pub fn pair_file(path: &str, before: &str, after: &str) -> Result<Option<QuerySource>, String> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".json") {
        pair_dashboard(path, before, after)
    } else if lower.ends_with(".yml") || lower.ends_with(".yaml") {
        pair_rules(path, before, after)
    } else {
        Ok(None)
    }
}

fn pair_dashboard(path: &str, before: &str, after: &str) -> Result<Option<QuerySource>, String> {
    let old = dashboard::scan(before).map_err(|e| format!("the version before the phase: {e}"))?;
    let new = dashboard::scan(after).map_err(|e| format!("the version after the phase: {e}"))?;
    if new.model == Model::NotADashboard {
        return Ok(None);
    }
    let old_sites: BTreeMap<&str, &dashboard::QuerySite> = old.sites.iter().map(|s| (s.pointer.as_str(), s)).collect();
    let mut pairs = Vec::new();
    for site in &new.sites {
        let kind = match site.kind {
            SiteKind::PanelTarget => PairKind::Panel,
            SiteKind::TemplateQuery => PairKind::Variable,
            SiteKind::Annotation => PairKind::Annotation,
            // A definition mirrors its query; a link is a URL, not a query.
            SiteKind::TemplateDefinition | SiteKind::PanelLink => continue,
        };
        let Some(old_site) = old_sites.get(site.pointer.as_str()) else {
            continue;
        };
        if old_site.value != site.value {
            pairs.push(QueryPair {
                location: site.pointer.clone(),
                owner: site.owner.to_string(),
                kind,
                old: old_site.value.clone(),
                new: site.value.clone(),
            });
        }
    }
    Ok(Some(QuerySource {
        file: path.to_string(),
        old_variables: dashboard_variables(before),
        new_variables: dashboard_variables(after),
        pairs,
    }))
}

/// One rule's `expr`, where it sits (`groups[0].rules[1].expr`) and whose it is (`record x`).
struct RuleExpr {
    location: String,
    owner: String,
    expr: String,
}

fn rule_exprs(text: &str) -> Result<Option<Vec<RuleExpr>>, String> {
    let value: yaml_serde::Value = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
    let Some(groups) = value.get("groups").and_then(yaml_serde::Value::as_sequence) else {
        return Ok(None);
    };
    let mut exprs = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let rules = group
            .get("rules")
            .and_then(yaml_serde::Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for (r, rule) in rules.iter().enumerate() {
            let Some(expr) = rule.get("expr").and_then(|e| {
                e.as_str()
                    .map(str::to_string)
                    .or_else(|| e.as_i64().map(|n| n.to_string()))
            }) else {
                continue;
            };
            let name = ["record", "alert"]
                .iter()
                .find_map(|key| {
                    rule.get(*key)
                        .and_then(yaml_serde::Value::as_str)
                        .map(|n| format!("{key} {n}"))
                })
                .unwrap_or_else(|| "rule".to_string());
            exprs.push(RuleExpr {
                location: format!("groups[{g}].rules[{r}].expr"),
                owner: name,
                expr,
            });
        }
    }
    Ok(Some(exprs))
}

fn pair_rules(path: &str, before: &str, after: &str) -> Result<Option<QuerySource>, String> {
    let old = rule_exprs(before).map_err(|e| format!("the version before the phase: {e}"))?;
    let new = rule_exprs(after).map_err(|e| format!("the version after the phase: {e}"))?;
    let (Some(old), Some(new)) = (old, new) else {
        return Ok(None);
    };
    let old: BTreeMap<&str, &str> = old.iter().map(|e| (e.location.as_str(), e.expr.as_str())).collect();
    let pairs = new
        .iter()
        .filter_map(|new| {
            let old_expr = *old.get(new.location.as_str())?;
            (old_expr != new.expr).then(|| QueryPair {
                location: new.location.clone(),
                owner: new.owner.clone(),
                kind: PairKind::Rule,
                old: old_expr.to_string(),
                new: new.expr.clone(),
            })
        })
        .collect();
    Ok(Some(QuerySource {
        file: path.to_string(),
        old_variables: Vec::new(),
        new_variables: Vec::new(),
        pairs,
    }))
}
