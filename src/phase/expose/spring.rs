//! Spring Boot with Micrometer: the app is served by its config alone. The actuator's
//! `prometheus` endpoint exists once `micrometer-registry-prometheus` is a dependency, but
//! Spring serves over HTTP only the endpoints `management.endpoints.web.exposure.include`
//! names (`health` by default). So the edit adds `prometheus` to that list, keeping what it
//! names; where the file has no such setting it gets `health,prometheus` (health stays
//! served, as it was by default). `application.yml` is edited through the YAML layer
//! (comments and layout kept); `.properties` gets the name added to its line, or one line
//! appended in the file's own `key = value` spacing and line ending. Then `scrape` uses the
//! actuator's path for the app ([`super::metrics_path`]).

use yaml_serde::{Mapping, Value};

use super::Unplanned;
use crate::edit::line_ending;
use crate::edit::yaml::{NodeKind, Route, YamlDoc, YamlEdit};
use crate::stack::app_code::spring::{EXPOSURE_INCLUDE, Format, SpringConfig};

/// What `include` becomes where the file does not set it: Spring's default, plus prometheus.
const DEFAULT_PLUS_PROMETHEUS: &str = "health,prometheus";

/// The config file's text with `prometheus` exposed.
pub(super) fn plan(text: &str, config: &SpringConfig) -> Result<String, Unplanned> {
    let include = config.get(EXPOSURE_INCLUDE);
    match &config.format {
        Format::Yaml(doc) => {
            let edit = match include {
                Some(setting) if setting.is_list => YamlEdit::Append {
                    route: setting.route(),
                    value: Value::String("prometheus".into()),
                    comment: None,
                },
                Some(setting) => {
                    if let Some(after) = extend_plain(doc, &setting.route(), &setting.value) {
                        return Ok(after);
                    }
                    YamlEdit::SetScalar {
                        route: setting.route(),
                        value: extended(&setting.value),
                    }
                }
                None => insert_include(doc.value())?,
            };
            doc.edit(&[edit])
                .map_err(|e| Unplanned::new(format!("its config cannot be edited here: {e}")).snippet(snippet()))
        }
        Format::Properties => match include {
            Some(setting) if setting.continued => Err(Unplanned::new(format!(
                "`{EXPOSURE_INCLUDE}` goes on over several lines (a `\\` at the end)"
            ))
            .snippet(snippet())),
            Some(setting) => {
                let end = setting.value_span.end;
                let addition = if setting.value.is_empty() {
                    "prometheus"
                } else {
                    ",prometheus"
                };
                Ok(format!("{}{addition}{}", &text[..end], &text[end..]))
            }
            None => Ok(append_property(text, config)),
        },
    }
}

/// A plain `include: health,info` gains `,prometheus` at its end, as a person would write it
/// (the YAML layer's scalar rewrite would quote it for the commas). Checked by reading the
/// result again; `None` where that is not the meaning, and the layer's edit is used instead.
fn extend_plain(doc: &YamlDoc, route: &Route, value: &str) -> Option<String> {
    let node = doc.find(route)?;
    if node.kind() != NodeKind::Scalar || node.quote().is_some() || node.is_block_scalar() || value.trim().is_empty() {
        return None;
    }
    let end = node.range().end;
    let text = doc.text();
    let after = format!("{},prometheus{}", text.get(..end)?, text.get(end..)?);
    let reread = YamlDoc::parse(&after).ok()?;
    let mut expected = doc.value().clone();
    *route.find_value_mut(&mut expected)? = Value::String(extended(value));
    (reread.value() == &expected).then_some(after)
}

fn extended(value: &str) -> String {
    if value.trim().is_empty() {
        "prometheus".into()
    } else {
        format!("{value},prometheus")
    }
}

/// `include: health,prometheus` under the deepest part of `management.endpoints.web.exposure`
/// the file already has as nested keys.
fn insert_include(root: &Value) -> Result<YamlEdit, Unplanned> {
    let path: Vec<&str> = EXPOSURE_INCLUDE.split('.').collect();
    if !root.is_mapping() {
        return Err(Unplanned::new("its config is not a mapping at the top").snippet(snippet()));
    }
    let mut depth = 0;
    let mut node = root;
    while let Some(next) = path
        .get(depth)
        .filter(|_| depth + 1 < path.len())
        .and_then(|k| node.get(*k))
    {
        if !next.is_mapping() {
            return Err(Unplanned::new(format!("`{}` is not a mapping", path[..=depth].join("."))).snippet(snippet()));
        }
        node = next;
        depth += 1;
    }
    let route = path[..depth].iter().fold(Route::root(), |r, k| r.key(*k));
    let value = path[depth + 1..]
        .iter()
        .rev()
        .fold(Value::String(DEFAULT_PLUS_PROMETHEUS.into()), |inner, key| {
            let mut map = Mapping::new();
            map.insert(Value::String((*key).into()), inner);
            Value::Mapping(map)
        });
    Ok(YamlEdit::InsertKey {
        route,
        key: path[depth].into(),
        value,
        comment: None,
    })
}

/// The include line appended, spaced like the file's other settings.
fn append_property(text: &str, config: &SpringConfig) -> String {
    let separator = config
        .settings
        .first()
        .and_then(|s| text.get(s.offset + s.key.len()..s.value_span.start))
        .filter(|sep| !sep.is_empty() && !sep.contains(['\n', '\r']))
        .unwrap_or("=");
    let newline = line_ending(text);
    let lead = if text.is_empty() || text.ends_with('\n') {
        ""
    } else {
        newline
    };
    format!("{text}{lead}{EXPOSURE_INCLUDE}{separator}{DEFAULT_PLUS_PROMETHEUS}{newline}")
}

/// What to add by hand where the file cannot be edited.
pub(super) fn snippet() -> String {
    format!("{EXPOSURE_INCLUDE}={DEFAULT_PLUS_PROMETHEUS}  (keep what it includes today)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(path: &str, text: &str) -> String {
        let config = SpringConfig::read(path, text).expect("a spring config");
        plan(text, &config).expect("planned")
    }

    #[test]
    fn an_include_list_gains_prometheus_and_keeps_what_it_had() {
        let yaml = "management:\n  endpoints:\n    web:\n      exposure:\n        include: health,info # lb\n";
        assert_eq!(
            planned("application.yml", yaml),
            "management:\n  endpoints:\n    web:\n      exposure:\n        include: health,info,prometheus # lb\n"
        );
        let list = "management.endpoints.web.exposure.include:\n  - health\n";
        assert_eq!(
            planned("application.yml", list),
            "management.endpoints.web.exposure.include:\n  - health\n  - prometheus\n"
        );
        let props = "a=1\r\nmanagement.endpoints.web.exposure.include = health\r\nb=2";
        assert_eq!(
            planned("application.properties", props),
            "a=1\r\nmanagement.endpoints.web.exposure.include = health,prometheus\r\nb=2"
        );
    }

    #[test]
    fn no_include_gets_health_and_prometheus_where_the_file_has_room() {
        let yaml = "# app\nmanagement:\n  prometheus:\n    metrics: {}\n";
        let after = planned("application.yml", yaml);
        assert!(after.starts_with(yaml), "{after}");
        let config = SpringConfig::read("application.yml", &after).expect("reads");
        assert_eq!(
            config.get(EXPOSURE_INCLUDE).map(|s| s.value.as_str()),
            Some("health,prometheus")
        );
        assert_eq!(
            planned("application.properties", "x : 1"),
            "x : 1\nmanagement.endpoints.web.exposure.include : health,prometheus\n"
        );
    }

    #[test]
    fn a_continued_include_line_is_left_to_a_person() {
        let props = "management.endpoints.web.exposure.include=health,\\\n  info\n";
        let config = SpringConfig::read("application.properties", props).expect("reads");
        assert!(plan(props, &config).is_err());
    }
}
