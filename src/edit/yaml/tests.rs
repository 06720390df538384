//! Given a file, running an edit, produces exactly this text.

use yaml_serde::Value;

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

#[test]
fn appends_in_a_row_write_what_appending_one_at_a_time_writes() {
    let text_without_newline = "scrape_configs:\n- job_name: a\n  static_configs:\n  - targets: ['a:1']\n\n- job_name: b\n  static_configs:\n  - targets: ['b:1']";
    for text in [PROMETHEUS, text_without_newline] {
        // (Names YAML would read as something else, like `y`, are quoted; the items after one
        // then follow the author's last item, not the quoted one.)
        let appends: Vec<YamlEdit> = ["x", "w", "z"]
            .iter()
            .map(|name| YamlEdit::Append {
                route: Route::root().key("scrape_configs"),
                value: job(name, &format!("{name}:8080")),
                comment: (*name != "w").then(|| format!("{name}, scraped directly")),
            })
            .collect();
        let at_once = produces(&given(text), &appends);
        let mut one_by_one = text.to_string();
        for edit in &appends {
            one_by_one = produces(&given(&one_by_one), std::slice::from_ref(edit));
        }
        assert_eq!(at_once, one_by_one);
        assert!(
            at_once.contains("job_name: 'z'") || at_once.contains("job_name: z"),
            "{at_once}"
        );
    }
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
    assert_eq!(out, "scrape_configs:\n  - job_name: a");
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
fn a_flag_turns_false_as_a_bool_with_its_comment_kept() {
    let text = "prometheus-pushgateway:\n  enabled: true   # pushes land here\n";
    let route = Route::root().key("prometheus-pushgateway").key("enabled");
    let out = produces(&given(text), &[YamlEdit::SetBool { route, value: false }]);
    assert_eq!(out, "prometheus-pushgateway:\n  enabled: false   # pushes land here\n");
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

fn remove(doc: &YamlDoc, route: Route) -> Result<String, YamlError> {
    doc.edit(&[YamlEdit::Remove { route }])
}

/// The removal as a diff with no context, so a snapshot shows exactly the lines that went.
#[track_caller]
fn removal_diff(text: &str, route: Route) -> String {
    let out = remove(&given(text), route).unwrap_or_else(|e| panic!("edit failed: {e}\n```\n{text}\n```"));
    similar::TextDiff::from_lines(text, out.as_str())
        .unified_diff()
        .context_radius(0)
        .to_string()
}

#[test]
fn removing_the_first_key_of_a_list_item_moves_the_next_key_up() {
    let text = "jobs:\n  - name: a\n    static_configs:\n      - targets: [x]\n    x: 1\n  - name: b\n";
    let doc = given(text);
    let out = remove(&doc, Route::root().key("jobs").item(ItemMatch::Index(0)).key("name")).unwrap();
    assert_eq!(
        out,
        "jobs:\n  - static_configs:\n      - targets: [x]\n    x: 1\n  - name: b\n"
    );
    let out = remove(
        &doc,
        Route::root()
            .key("jobs")
            .item(ItemMatch::Index(0))
            .key("static_configs"),
    )
    .unwrap();
    assert_eq!(out, "jobs:\n  - name: a\n    x: 1\n  - name: b\n");
    // The only key of an item: the item goes.
    let out = remove(&doc, Route::root().key("jobs").item(ItemMatch::Index(1)).key("name")).unwrap();
    assert_eq!(
        out,
        "jobs:\n  - name: a\n    static_configs:\n      - targets: [x]\n    x: 1\n"
    );
}

#[test]
fn the_first_key_of_a_list_item_with_a_comment_under_it_is_left_to_a_person() {
    let doc = given("jobs:\n  - name: a\n    # why x\n    x: 1\n");
    let err = remove(&doc, Route::root().key("jobs").item(ItemMatch::Index(0)).key("name")).unwrap_err();
    insta::assert_snapshot!(err, @"cannot edit `jobs[0].name`: comments or blank lines sit between it and the next key of its list item");
}

const ANCHORED: &str = "\
x-logging: &default-logging
  driver: json-file

# Only the gateway uses this healthcheck.
x-pushgateway-healthcheck: &pgw-healthcheck
  test: [\"CMD\", \"wget\", \"-q\", \"--spider\", \"http://localhost:9091/-/healthy\"]
  interval: 10s

services:
  worker:
    logging: *default-logging
  pushgateway:
    logging: *default-logging
    healthcheck: *pgw-healthcheck
";

#[test]
fn an_x_block_goes_with_its_anchor_once_nothing_refers_to_it() {
    let doc = given(ANCHORED);
    let err = remove(&doc, Route::root().key("x-pushgateway-healthcheck")).unwrap_err();
    insta::assert_snapshot!(err, @"cannot remove `x-pushgateway-healthcheck`: it defines the anchor `&pgw-healthcheck`, which `*pgw-healthcheck` on line 14 still uses");
    let without_gateway = remove(&doc, Route::root().key("services").key("pushgateway")).unwrap();
    insta::assert_snapshot!(removal_diff(&without_gateway, Route::root().key("x-pushgateway-healthcheck")), @r#"
    @@ -4,5 +3,0 @@
    -# Only the gateway uses this healthcheck.
    -x-pushgateway-healthcheck: &pgw-healthcheck
    -  test: ["CMD", "wget", "-q", "--spider", "http://localhost:9091/-/healthy"]
    -  interval: 10s
    -
    "#);
    // The logging anchor is still used by the worker.
    let err = remove(&given(&without_gateway), Route::root().key("x-logging")).unwrap_err();
    assert!(err.to_string().contains("`*default-logging` on line"), "{err}");
}

#[test]
fn comments_at_the_next_siblings_indentation_stay_and_comments_indented_under_the_removed_node_go() {
    let text = "\
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ['pushgateway:9091']
    # scrape_interval: 5s   (tried, too noisy)

    #   relabel_configs: []
  # node exporter on every host
  - job_name: node
    static_configs:
      - targets: ['node:9100']
";
    insta::assert_snapshot!(removal_diff(text, Route::root().key("scrape_configs").item(ItemMatch::Field {
        key: "job_name".into(),
        value: "pushgateway".into(),
    })), @"
    @@ -2,7 +1,0 @@
    -  - job_name: pushgateway
    -    honor_labels: true
    -    static_configs:
    -      - targets: ['pushgateway:9091']
    -    # scrape_interval: 5s   (tried, too noisy)
    -
    -    #   relabel_configs: []
    ");
}

#[test]
fn crlf_bom_document_start_and_tabs_in_comments_survive_a_removal() {
    let text = "\u{feff}---\r\n# Prometheus for the API stack.\r\n#\tOwner: platform team\t(ask in #monitoring)\r\nglobal:\r\n    scrape_interval: \"15s\"\r\n\r\nscrape_configs:\r\n-   job_name: \"prometheus\"\r\n    static_configs:\r\n    -   targets: [\"localhost:9090\"]\r\n\r\n# The API pushes to the gateway without an instance label.\r\n-   job_name: \"pushgateway\"\r\n    honor_labels: true\r\n    static_configs:\r\n    -   targets: [\"pushgateway:9091\"]\r\n";
    let out = remove(
        &given(text),
        Route::root().key("scrape_configs").item(ItemMatch::Field {
            key: "job_name".into(),
            value: "pushgateway".into(),
        }),
    )
    .unwrap();
    assert_eq!(
        out,
        "\u{feff}---\r\n# Prometheus for the API stack.\r\n#\tOwner: platform team\t(ask in #monitoring)\r\nglobal:\r\n    scrape_interval: \"15s\"\r\n\r\nscrape_configs:\r\n-   job_name: \"prometheus\"\r\n    static_configs:\r\n    -   targets: [\"localhost:9090\"]\r\n"
    );
    // Removing the first key after `---` keeps the document start and the comments above.
    let out = remove(&given(text), Route::root().key("global")).unwrap();
    assert!(
        out.starts_with("\u{feff}---\r\n# Prometheus for the API stack.\r\n#\tOwner"),
        "{out:?}"
    );
    assert!(out.contains("(ask in #monitoring)\r\nscrape_configs:\r\n"), "{out:?}");
}

#[test]
fn map_form_depends_on_block_and_flow_and_a_flow_list_of_one() {
    let text = "\
services:
  worker:
    depends_on:
      pushgateway:
        condition: service_healthy
      redis:
        condition: service_started
    links: [pushgateway]
  etl:
    depends_on:
      pushgateway:
        condition: service_started
    restart: on-failure
  prometheus:
    depends_on: {pushgateway: {condition: service_started}, node: {condition: service_started}}
";
    let doc = given(text);
    let out = doc
        .edit(&[
            YamlEdit::Remove {
                route: Route::root()
                    .key("services")
                    .key("worker")
                    .key("depends_on")
                    .key("pushgateway"),
            },
            YamlEdit::Remove {
                route: Route::root()
                    .key("services")
                    .key("worker")
                    .key("links")
                    .item(ItemMatch::Scalar("pushgateway".into())),
            },
            YamlEdit::Remove {
                route: Route::root()
                    .key("services")
                    .key("etl")
                    .key("depends_on")
                    .key("pushgateway"),
            },
            YamlEdit::Remove {
                route: Route::root()
                    .key("services")
                    .key("prometheus")
                    .key("depends_on")
                    .key("pushgateway"),
            },
        ])
        .unwrap();
    insta::assert_snapshot!(out, @"
    services:
      worker:
        depends_on:
          redis:
            condition: service_started
      etl:
        restart: on-failure
      prometheus:
        depends_on: {node: {condition: service_started}}
    ");
}

#[test]
fn a_removal_that_would_empty_what_holds_the_collection_is_refused() {
    let doc = given("services:\n  sidecar:\n    depends_on: [pushgateway]\n  other:\n    image: x\n");
    let err = remove(
        &doc,
        Route::root()
            .key("services")
            .key("sidecar")
            .key("depends_on")
            .item(ItemMatch::Scalar("pushgateway".into())),
    )
    .unwrap_err();
    insta::assert_snapshot!(err, @"cannot edit `services.sidecar.depends_on[pushgateway]`: it would leave `services.sidecar` empty");
    let err = remove(
        &given("scrape_configs:\n  - job_name: pushgateway\n"),
        Route::root().key("scrape_configs"),
    )
    .unwrap_err();
    insta::assert_snapshot!(err, @"cannot edit `scrape_configs`: it is the only key of the document, which would be left empty");
}

/// Prometheus's own sample prometheus.yml: `rule_files:` with only comments under it.
const SAMPLE_RULE_FILES: &str = "\
# Load rules once and periodically evaluate them according to the global 'evaluation_interval'.
rule_files:
  # - \"first_rules.yml\"
  # - \"second_rules.yml\"

# A scrape configuration containing exactly one endpoint to scrape:
scrape_configs:
  - job_name: \"prometheus\"
";

#[test]
fn appending_to_a_key_with_only_comments_under_it_writes_a_list_after_the_comments() {
    let doc = given(SAMPLE_RULE_FILES);
    let out = produces(
        &doc,
        &[YamlEdit::Append {
            route: Route::root().key("rule_files"),
            value: Value::String("pullover-dual-run.yml".into()),
            comment: None,
        }],
    );
    insta::assert_snapshot!(out, @r#"
    # Load rules once and periodically evaluate them according to the global 'evaluation_interval'.
    rule_files:
      # - "first_rules.yml"
      # - "second_rules.yml"
      - "pullover-dual-run.yml"

    # A scrape configuration containing exactly one endpoint to scrape:
    scrape_configs:
      - job_name: "prometheus"
    "#);
    // And removing that one item gives the file back, comments and all.
    let back = produces(
        &given(&out),
        &[YamlEdit::RemoveOnlyItem {
            route: Route::root()
                .key("rule_files")
                .item(ItemMatch::Scalar("pullover-dual-run.yml".into())),
        }],
    );
    assert_eq!(back, SAMPLE_RULE_FILES);
}

#[test]
fn appending_to_a_bare_key_at_the_end_of_a_file_without_final_newline() {
    let out = produces(
        &given("global: {}\nrule_files:"),
        &[YamlEdit::Append {
            route: Route::root().key("rule_files"),
            value: Value::String("a.yml".into()),
            comment: None,
        }],
    );
    assert_eq!(out, "global: {}\nrule_files:\n  - a.yml");
}

#[test]
fn a_section_banner_above_a_removed_job_stays_with_the_jobs_after_it_and_a_prose_comment_under_it_too() {
    let text = "\
scrape_configs:
  # -- batch and exporters ------
  - job_name: pushgateway
    static_configs:
      - targets: ['pushgateway:9091']
    # exporters
  - job_name: node
";
    let out = produces(
        &given(text),
        &[YamlEdit::Remove {
            route: Route::root().key("scrape_configs").item(ItemMatch::Field {
                key: "job_name".into(),
                value: "pushgateway".into(),
            }),
        }],
    );
    insta::assert_snapshot!(out, @r"
    scrape_configs:
      # -- batch and exporters ------
        # exporters
      - job_name: node
    ");
}

#[test]
fn a_banner_naming_the_removed_service_goes_with_it_and_so_do_its_commented_out_settings() {
    let text = "\
services:
  # ====================
  # Pushgateway
  # ====================
  pushgateway:
    image: prom/pushgateway
    # ports:
    #   - \"9091:9091\"
  # -- monitoring ------
  prometheus:
    image: prom/prometheus
";
    let out = produces(
        &given(text),
        &[YamlEdit::Remove {
            route: Route::root().key("services").key("pushgateway"),
        }],
    );
    insta::assert_snapshot!(out, @r"
    services:
      # -- monitoring ------
      prometheus:
        image: prom/prometheus
    ");
}

mod planned_together {
    //! Edits planned on one tree (`YamlDoc::independent_run`) write what the same edits
    //! made one after another, each on the text the one before produced, write.
    use proptest::prelude::*;

    use super::*;

    /// A Compose file of `services`, each written its own way: a comment above or not, a
    /// blank line after or not, lists in block or flow style, an anchor shared by some.
    fn compose(services: &[(bool, bool, bool, u8)]) -> String {
        let mut text = String::from("x-common: &common\n  restart: always\n\nservices:\n");
        for (i, (comment, blank, flow, env)) in services.iter().enumerate() {
            if *comment {
                text.push_str(&format!("  # service {i}\n"));
            }
            text.push_str(&format!("  s{i}:\n    image: img{i}:1 # pinned\n"));
            if i % 3 == 0 {
                text.push_str("    <<: *common\n");
            }
            if *flow {
                text.push_str("    depends_on: [pushgateway, db]\n");
            } else {
                text.push_str("    depends_on:\n      - pushgateway # push\n");
            }
            if *env > 0 {
                text.push_str("    environment:\n");
                for e in 0..*env {
                    text.push_str(&format!("      - E{e}=v{e}\n"));
                }
            }
            text.push_str("    labels:\n      a: '1'\n      b: \"2\"\n");
            if *blank {
                text.push('\n');
            }
        }
        text.push_str("  pushgateway:\n    image: prom/pushgateway\n");
        text
    }

    fn edit_for(service: usize, kind: u8) -> YamlEdit {
        let at = Route::root().key("services").key(format!("s{service}"));
        match kind % 10 {
            0 => YamlEdit::Remove {
                route: at.key("depends_on"),
            },
            1 => YamlEdit::Remove {
                route: at.key("depends_on").item(ItemMatch::Scalar("pushgateway".into())),
            },
            2 => YamlEdit::Remove {
                route: at.key("environment").item(ItemMatch::ScalarPrefix("E0=".into())),
            },
            3 => YamlEdit::SetScalar {
                route: at.key("image"),
                value: format!("new{service}:2"),
            },
            4 => YamlEdit::Remove {
                route: at.key("labels").key("a"),
            },
            5 => YamlEdit::Remove { route: at },
            6 => YamlEdit::Remove {
                route: at.key("labels").key("b"),
            },
            7 => YamlEdit::Remove {
                route: at.key("environment").item(ItemMatch::ScalarPrefix("E1=".into())),
            },
            8 => YamlEdit::Remove { route: at.key("image") },
            _ => YamlEdit::Remove {
                route: Route::root().key("services").key("pushgateway"),
            },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn write_what_one_after_another_writes(
            services in prop::collection::vec((any::<bool>(), any::<bool>(), any::<bool>(), 0u8..3), 1..7),
            picks in prop::collection::vec((0usize..7, any::<u8>()), 1..12),
        ) {
            let text = compose(&services);
            // The edits that can be made one after another, in that order, and what they make.
            let mut edits = Vec::new();
            let mut one_by_one = text.clone();
            for (service, kind) in &picks {
                let edit = edit_for(service % services.len(), *kind);
                if let Ok(next) = given(&one_by_one).edit(std::slice::from_ref(&edit)) {
                    one_by_one = next;
                    edits.push(edit);
                }
            }
            // Not `edit`, whose fallback to one edit at a time would hide a run planned wrong.
            let together = given(&text).edit_checked_at_end(&edits);
            prop_assert!(together.is_ok(), "{:?} from\n{}\nwith {:#?}", together, text, edits);
            prop_assert_eq!(together.ok(), Some(one_by_one), "from\n{}", text);
        }
    }
}
