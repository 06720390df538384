//! Given a file, running an edit, produces exactly this text.

use super::*;

fn given(text: &str) -> YamlDoc {
    YamlDoc::parse(text).unwrap_or_else(|e| panic!("fixture does not parse: {e}\n```\n{text}\n```"))
}

fn yaml(text: &str) -> Value {
    yaml_serde::from_str(text).unwrap()
}

#[track_caller]
fn produces(doc: &YamlDoc, edits: &[YamlEdit]) -> String {
    match doc.edit(edits) {
        Ok(text) => text,
        Err(e) => panic!("edit failed: {e}\n```\n{}\n```", doc.text()),
    }
}

fn job(name: &str, target: &str) -> Value {
    yaml(&format!(
        "job_name: {name}\nscrape_interval: 30s\nmetrics_path: /metrics\nstatic_configs:\n  - targets: ['{target}']\n"
    ))
}

const PROMETHEUS: &str = "\
# my prometheus
global:
  scrape_interval: 15s # default

scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['localhost:9090']

  # Pushgateway for batch metrics
  - job_name: 'pushgateway'
    honor_labels: true
    static_configs:
      - targets: ['pushgateway:9091']
# trailing comment
";

#[test]
fn appending_a_job_copies_indentation_spacing_and_quoting() {
    let out = produces(
        &given(PROMETHEUS),
        &[YamlEdit::Append {
            route: Route::root().key("scrape_configs"),
            value: job("metrics-api", "metrics-api:8080"),
            comment: Some("metrics-api, scraped directly".into()),
        }],
    );
    insta::assert_snapshot!(out, @r"
    # my prometheus
    global:
      scrape_interval: 15s # default

    scrape_configs:
      - job_name: prometheus
        static_configs:
          - targets: ['localhost:9090']

      # Pushgateway for batch metrics
      - job_name: 'pushgateway'
        honor_labels: true
        static_configs:
          - targets: ['pushgateway:9091']

      # metrics-api, scraped directly
      - job_name: 'metrics-api'
        scrape_interval: 30s
        metrics_path: /metrics
        static_configs:
          - targets: ['metrics-api:8080']
    # trailing comment
    ");
}

#[test]
fn appending_follows_crlf_four_space_unindented_sequences_and_a_missing_final_newline() {
    let text = "\u{feff}---\r\nscrape_configs:\r\n- job_name: \"api\"\r\n  static_configs:\r\n  - targets:\r\n    - \"api:3000\"\r\n- job_name: \"pushgateway\"\r\n  honor_labels: true\r\n  static_configs:\r\n  - targets:\r\n    - \"pushgateway:9091\"";
    let out = produces(
        &given(text),
        &[YamlEdit::Append {
            route: Route::root().key("scrape_configs"),
            value: job("metrics-api", "metrics-api:8080"),
            comment: None,
        }],
    );
    assert!(out.starts_with(text), "bytes before the insertion changed");
    assert_eq!(
        &out[text.len()..],
        "\r\n- job_name: \"metrics-api\"\r\n  scrape_interval: \"30s\"\r\n  metrics_path: \"/metrics\"\r\n  static_configs:\r\n  - targets:\r\n    - \"metrics-api:8080\"\r\n"
    );
}

const COMPOSE: &str = "\
services:
  metrics-api:
    build: ./metrics-api
    environment:
      # where the app pushes its metrics
      - PUSHGATEWAY_URL=http://pushgateway:9091
      - PORT=8080
    depends_on:
      - pushgateway   # batch metrics

  # Pushgateway keeps the last push
  pushgateway:
    image: prom/pushgateway:v1.5.1
    volumes:
      - pgw_data:/data

  prometheus:
    image: prom/prometheus
    depends_on: [pushgateway, metrics-api]  # flow

volumes:
  # pushgateway persistence
  pgw_data:
  prom_data:
";

#[test]
fn removing_a_service_takes_its_comment_and_one_blank_line() {
    let out = produces(
        &given(COMPOSE),
        &[YamlEdit::Remove {
            route: Route::root().key("services").key("pushgateway"),
        }],
    );
    let diff = similar::TextDiff::from_lines(COMPOSE, out.as_str())
        .unified_diff()
        .context_radius(1)
        .to_string();
    insta::assert_snapshot!(diff, @"
    @@ -10,8 +10,2 @@
     
    -  # Pushgateway keeps the last push
    -  pushgateway:
    -    image: prom/pushgateway:v1.5.1
    -    volumes:
    -      - pgw_data:/data
    -
       prometheus:
    ");
}

#[test]
fn removing_the_only_list_item_removes_the_key_and_flow_items_keep_their_commas() {
    let doc = given(COMPOSE);
    let out = produces(
        &doc,
        &[
            YamlEdit::Remove {
                route: Route::root()
                    .key("services")
                    .key("metrics-api")
                    .key("depends_on")
                    .item(ItemMatch::Scalar("pushgateway".into())),
            },
            YamlEdit::Remove {
                route: Route::root()
                    .key("services")
                    .key("metrics-api")
                    .key("environment")
                    .item(ItemMatch::ScalarPrefix("PUSHGATEWAY_URL=".into())),
            },
            YamlEdit::Remove {
                route: Route::root()
                    .key("services")
                    .key("prometheus")
                    .key("depends_on")
                    .item(ItemMatch::Scalar("pushgateway".into())),
            },
            YamlEdit::Remove {
                route: Route::root().key("volumes").key("pgw_data"),
            },
        ],
    );
    let diff = similar::TextDiff::from_lines(COMPOSE, out.as_str())
        .unified_diff()
        .context_radius(0)
        .to_string();
    insta::assert_snapshot!(diff, @"
    @@ -5,2 +4,0 @@
    -      # where the app pushes its metrics
    -      - PUSHGATEWAY_URL=http://pushgateway:9091
    @@ -8,2 +5,0 @@
    -    depends_on:
    -      - pushgateway   # batch metrics
    @@ -19 +15 @@
    -    depends_on: [pushgateway, metrics-api]  # flow
    +    depends_on: [metrics-api]  # flow
    @@ -22,2 +17,0 @@
    -  # pushgateway persistence
    -  pgw_data:
    ");
}

#[test]
fn removing_the_last_flow_item_takes_the_comma_before_it() {
    let doc = given("a: [x, y, z]\n");
    let out = produces(
        &doc,
        &[YamlEdit::Remove {
            route: Route::root().key("a").item(ItemMatch::Scalar("z".into())),
        }],
    );
    assert_eq!(out, "a: [x, y]\n");
}

#[test]
fn removing_the_last_job_of_a_file_without_final_newline() {
    let doc = given("scrape_configs:\n  - job_name: a\n  - job_name: b");
    let out = produces(
        &doc,
        &[YamlEdit::Remove {
            route: Route::root().key("scrape_configs").item(ItemMatch::Field {
                key: "job_name".into(),
                value: "b".into(),
            }),
        }],
    );
    assert_eq!(out, "scrape_configs:\n  - job_name: a\n");
}

#[test]
fn anchors_and_merge_keys_outside_the_edit_are_untouched() {
    let text = "x-common: &common\n  restart: always\nservices:\n  a:\n    <<: *common\n    image: a\n  pushgateway:\n    <<: *common\n    image: prom/pushgateway\n";
    let out = produces(
        &given(text),
        &[YamlEdit::Remove {
            route: Route::root().key("services").key("pushgateway"),
        }],
    );
    assert_eq!(
        out,
        "x-common: &common\n  restart: always\nservices:\n  a:\n    <<: *common\n    image: a\n"
    );
}

#[test]
fn inserting_a_key_into_a_mapping() {
    let text = "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n";
    let out = produces(
        &given(text),
        &[YamlEdit::InsertKey {
            route: Route::root(),
            key: "rule_files".into(),
            value: yaml("[\"rules/*.yml\"]"),
            comment: None,
        }],
    );
    assert_eq!(
        out,
        "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\nrule_files:\n  - rules/*.yml\n"
    );
}

#[test]
fn set_scalar_keeps_the_quote_style() {
    let text = "groups:\n  - rules:\n      - expr: 'up{job=\"pushgateway\"} == 0'\n";
    let route = Route::root()
        .key("groups")
        .item(ItemMatch::Index(0))
        .key("rules")
        .item(ItemMatch::Index(0))
        .key("expr");
    let out = produces(
        &given(text),
        &[YamlEdit::SetScalar {
            route,
            value: "up{job=\"metrics-api\"} == 0".into(),
        }],
    );
    assert_eq!(
        out,
        "groups:\n  - rules:\n      - expr: 'up{job=\"metrics-api\"} == 0'\n"
    );
}

#[test]
fn invalid_yaml_and_duplicate_keys_point_at_the_line() {
    let err = YamlDoc::parse("a: 1\nb:\n  - x\n   y: 2\n").unwrap_err();
    assert!(matches!(err, YamlError::Syntax { .. }), "{err:?}");
    let err = YamlDoc::parse("a: 1\nb: 2\na: 3\n").unwrap_err();
    let YamlError::Syntax { message, offset } = err else {
        panic!()
    };
    assert!(message.contains("duplicate"), "{message}");
    assert_eq!(offset, 10);
}

#[test]
fn an_edit_that_would_not_mean_what_was_intended_is_refused() {
    // Removing the first key of a list item in place is not supported: the item's dash shares its line.
    let doc = given("jobs:\n  - name: a\n    x: 1\n");
    let err = doc
        .edit(&[YamlEdit::Remove {
            route: Route::root().key("jobs").item(ItemMatch::Index(0)).key("name"),
        }])
        .unwrap_err();
    assert!(matches!(err, YamlError::Unsupported { .. }), "{err:?}");
}
