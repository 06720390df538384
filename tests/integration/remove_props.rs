//! Property: for Compose files and prometheus.yml written in any of the ways
//! people write them (comments above, inside and after blocks, blank lines or
//! none, plain / single / double quotes, flow and block lists, list and map
//! forms, CRLF, `---`, indentation 2 or 4, sequences indented or flush, a
//! missing final newline), the `remove` phase changes exactly the lines it
//! must: every other line comes out byte for byte, and the files mean exactly
//! the intended change.
//!
//! The generator tags every line it writes: kept, removed, or changed to a
//! known text; a blank line next to a removed block may go with it.

use proptest::prelude::*;
use pullover::changeset::{ChangeKind, ChangeSet};
use pullover::phase::remove;
use pullover::stack::Stack;
use pullover::stack::settings::Overrides;
use yaml_serde::Value;

#[derive(Debug, Clone, PartialEq)]
enum Tag {
    Keep,
    Remove,
    /// The line becomes this text.
    Change(String),
    /// A blank line beside a removed block: it may go with it.
    MayGo,
}

#[derive(Debug, Clone, Copy)]
enum Quote {
    Plain,
    Single,
    Double,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Depends {
    Block,
    Flow,
    Map,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RuleFiles {
    None,
    Block,
    Flow,
    OnlyDualRunBlock,
    OnlyDualRunFlow,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Above {
    Nothing,
    /// Directly above: it belongs to the gateway and goes with it.
    Attached,
    /// A blank line between: it stays.
    Detached,
}

#[derive(Debug, Clone)]
struct Style {
    indent: usize,
    indent_sequences: bool,
    quote: Quote,
    crlf: bool,
    final_newline: bool,
    document_start: bool,
    header_comment: bool,
    blank_between: bool,
}

#[derive(Debug, Clone)]
struct Shape {
    compose_name: &'static str,
    gateway_position: usize,
    env_map: bool,
    depends: Depends,
    depends_with_db: bool,
    gateway_first_in_list: bool,
    links: Option<bool>,
    app_has_code: bool,
    prometheus_depends: bool,
    above_gateway: Above,
    comment_inside_gateway: bool,
    trailing_deeper_comment: bool,
    comment_above_next: bool,
    healthcheck_anchor: bool,
    common_anchor: bool,
    volume_shared: bool,
    gateway_volume_first: bool,
    gateway_job_position: usize,
    job_comments: bool,
    rule_files: RuleFiles,
}

fn style() -> impl Strategy<Value = Style> {
    (
        prop_oneof![Just(2usize), Just(4usize)],
        any::<bool>(),
        prop_oneof![Just(Quote::Plain), Just(Quote::Single), Just(Quote::Double)],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(indent, indent_sequences, quote, crlf, final_newline, document_start, header_comment, blank_between)| {
                Style {
                    indent,
                    indent_sequences,
                    quote,
                    crlf,
                    final_newline,
                    document_start,
                    header_comment,
                    blank_between,
                }
            },
        )
}

fn shape() -> impl Strategy<Value = Shape> {
    let compose = (
        prop_oneof![
            Just("compose.yaml"),
            Just("compose.yml"),
            Just("docker-compose.yml"),
            Just("docker-compose.yaml")
        ],
        0..=3usize,
        any::<bool>(),
        prop_oneof![Just(Depends::Block), Just(Depends::Flow), Just(Depends::Map)],
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(None), Just(Some(true)), Just(Some(false))],
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(Above::Nothing), Just(Above::Attached), Just(Above::Detached)],
    );
    let more = (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0..=2usize,
        any::<bool>(),
        prop_oneof![
            Just(RuleFiles::None),
            Just(RuleFiles::Block),
            Just(RuleFiles::Flow),
            Just(RuleFiles::OnlyDualRunBlock),
            Just(RuleFiles::OnlyDualRunFlow)
        ],
    );
    (compose, more).prop_map(
        |(
            (
                compose_name,
                gateway_position,
                env_map,
                depends,
                depends_with_db,
                gateway_first_in_list,
                links,
                app_has_code,
                prometheus_depends,
                above_gateway,
            ),
            (
                comment_inside_gateway,
                trailing_deeper_comment,
                comment_above_next,
                healthcheck_anchor,
                common_anchor,
                volume_shared,
                gateway_volume_first,
                gateway_job_position,
                job_comments,
                rule_files,
            ),
        )| Shape {
            compose_name,
            gateway_position,
            env_map,
            depends,
            depends_with_db,
            gateway_first_in_list,
            links,
            app_has_code,
            prometheus_depends,
            above_gateway,
            comment_inside_gateway,
            trailing_deeper_comment,
            comment_above_next,
            healthcheck_anchor,
            common_anchor,
            volume_shared,
            gateway_volume_first,
            gateway_job_position,
            job_comments,
            rule_files,
        },
    )
}

/// Lines of a file being written, each with its tag.
struct Writer<'s> {
    style: &'s Style,
    lines: Vec<(String, Tag)>,
}

impl Writer<'_> {
    fn q(&self, s: &str) -> String {
        match self.style.quote {
            Quote::Plain => s.to_string(),
            Quote::Single => format!("'{s}'"),
            Quote::Double => format!("\"{s}\""),
        }
    }

    fn pad(&self, levels: usize) -> String {
        " ".repeat(levels * self.style.indent)
    }

    /// Column of the dash of a sequence under a key at `levels`.
    fn dash(&self, levels: usize) -> String {
        let extra = if self.style.indent_sequences {
            self.style.indent
        } else {
            0
        };
        " ".repeat(levels * self.style.indent + extra)
    }

    fn line(&mut self, text: impl Into<String>, tag: Tag) {
        self.lines.push((text.into(), tag));
    }

    fn blank(&mut self) {
        self.lines.push((String::new(), Tag::Keep));
    }

    fn header(&mut self) {
        if self.style.document_start {
            self.line("---", Tag::Keep);
        }
        if self.style.header_comment {
            self.line("# Written by hand.\tOwner: platform\t(#monitoring)", Tag::Keep);
        }
    }

    /// The text, and the tags with blank lines beside removed blocks marked.
    fn finish(mut self) -> (String, Vec<(String, Tag)>) {
        let removed = |t: &Tag| *t == Tag::Remove;
        for i in 0..self.lines.len() {
            if self.lines[i].0.is_empty() && self.lines[i].1 == Tag::Keep {
                let before = i
                    .checked_sub(1)
                    .and_then(|j| self.lines.get(j))
                    .is_some_and(|l| removed(&l.1));
                let after = self.lines.get(i + 1).is_some_and(|l| removed(&l.1));
                if before || after {
                    self.lines[i].1 = Tag::MayGo;
                }
            }
        }
        let eol = if self.style.crlf { "\r\n" } else { "\n" };
        let mut text = self.lines.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>().join(eol);
        if self.style.final_newline {
            text.push_str(eol);
        }
        (text, self.lines)
    }
}

fn compose_file(style: &Style, shape: &Shape) -> (String, Vec<(String, Tag)>) {
    let mut w = Writer {
        style,
        lines: Vec::new(),
    };
    w.header();
    let (p1, p2, p3) = (w.pad(1), w.pad(2), w.pad(3));
    if shape.common_anchor {
        w.line("x-common: &common", Tag::Keep);
        let restart = w.q("unless-stopped");
        w.line(format!("{p1}restart: {restart}"), Tag::Keep);
        w.blank();
    }
    if shape.healthcheck_anchor {
        // With nothing but `---` and comments above it, a comment is the file's
        // header, not the first key's: it stays.
        let header = if shape.common_anchor { Tag::Remove } else { Tag::Keep };
        w.line("# Only the gateway uses this healthcheck.", header);
        w.line("x-pgw-health: &pgw-health", Tag::Remove);
        w.line(
            format!("{p1}test: [\"CMD\", \"wget\", \"-q\", \"--spider\", \"http://localhost:9091/-/healthy\"]"),
            Tag::Remove,
        );
        w.line(format!("{p1}interval: 10s"), Tag::Remove);
        w.blank();
    }
    w.line("services:", Tag::Keep);
    let mut order = vec!["app", "db", "prometheus"];
    order.insert(shape.gateway_position.min(order.len()), "pushgateway");
    for (index, service) in order.iter().enumerate() {
        if index > 0 && style.blank_between {
            w.blank();
        }
        let after_gateway = index > 0 && order[index - 1] == "pushgateway";
        if after_gateway && shape.comment_above_next {
            w.line(format!("{p1}# {service}, right after the gateway"), Tag::Keep);
        }
        let common = |w: &mut Writer, tag: Tag| {
            if shape.common_anchor {
                w.line(format!("{p2}<<: *common"), tag);
            }
        };
        match *service {
            "app" => {
                w.line(format!("{p1}app:"), Tag::Keep);
                common(&mut w, Tag::Keep);
                if shape.app_has_code {
                    w.line(format!("{p2}build: ./app"), Tag::Keep);
                } else {
                    let image = w.q("acme/app:1.2");
                    w.line(format!("{p2}image: {image}"), Tag::Keep);
                }
                let port = w.q("8080");
                w.line(format!("{p2}expose: [{port}]"), Tag::Keep);
                w.line(format!("{p2}environment:"), Tag::Keep);
                let env_tag = if shape.app_has_code { Tag::Remove } else { Tag::Keep };
                if shape.env_map {
                    let (prod, url) = (w.q("production"), w.q("http://pushgateway:9091"));
                    w.line(format!("{p3}NODE_ENV: {prod}"), Tag::Keep);
                    w.line(format!("{p3}PUSHGATEWAY_URL: {url}"), env_tag);
                } else {
                    let d = w.dash(2);
                    let (prod, url) = (
                        w.q("NODE_ENV=production"),
                        w.q("PUSHGATEWAY_URL=http://pushgateway:9091"),
                    );
                    w.line(format!("{d}- {prod}"), Tag::Keep);
                    w.line(format!("{d}- {url}"), env_tag);
                }
                let mut deps = vec!["pushgateway"];
                if shape.depends_with_db {
                    if shape.gateway_first_in_list {
                        deps.push("db");
                    } else {
                        deps.insert(0, "db");
                    }
                }
                let alone = deps.len() == 1;
                match shape.depends {
                    Depends::Block => {
                        w.line(format!("{p2}depends_on:"), if alone { Tag::Remove } else { Tag::Keep });
                        let d = w.dash(2);
                        for dep in &deps {
                            let text = format!("{d}- {}", w.q(dep));
                            w.line(text, if *dep == "pushgateway" { Tag::Remove } else { Tag::Keep });
                        }
                    }
                    Depends::Flow => {
                        let all: Vec<String> = deps.iter().map(|d| w.q(d)).collect();
                        let rest: Vec<String> = deps.iter().filter(|d| **d != "pushgateway").map(|d| w.q(d)).collect();
                        let tag = if alone {
                            Tag::Remove
                        } else {
                            Tag::Change(format!("{p2}depends_on: [{}]", rest.join(", ")))
                        };
                        w.line(format!("{p2}depends_on: [{}]", all.join(", ")), tag);
                    }
                    Depends::Map => {
                        w.line(format!("{p2}depends_on:"), if alone { Tag::Remove } else { Tag::Keep });
                        for dep in &deps {
                            let tag = if *dep == "pushgateway" { Tag::Remove } else { Tag::Keep };
                            w.line(format!("{p3}{dep}:"), tag.clone());
                            let condition = w.q("service_started");
                            w.line(format!("{}condition: {condition}", w.pad(4)), tag);
                        }
                    }
                }
                match shape.links {
                    Some(true) => {
                        let gw = w.q("pushgateway");
                        w.line(format!("{p2}links: [{gw}]"), Tag::Remove);
                    }
                    Some(false) => {
                        w.line(format!("{p2}links:"), Tag::Remove);
                        let text = format!("{}- {}", w.dash(2), w.q("pushgateway"));
                        w.line(text, Tag::Remove);
                    }
                    None => {}
                }
            }
            "db" => {
                w.line(format!("{p1}db:"), Tag::Keep);
                common(&mut w, Tag::Keep);
                let image = w.q("postgres:16");
                w.line(format!("{p2}image: {image}"), Tag::Keep);
                w.line(format!("{p2}volumes:"), Tag::Keep);
                let d = w.dash(2);
                let data = w.q("db_data:/var/lib/postgresql/data");
                w.line(format!("{d}- {data}"), Tag::Keep);
                if shape.volume_shared {
                    let backup = w.q("pgw_data:/backup/pushgateway:ro");
                    w.line(format!("{d}- {backup}"), Tag::Keep);
                }
            }
            "pushgateway" => {
                match shape.above_gateway {
                    Above::Nothing => {}
                    Above::Attached => w.line(format!("{p1}# The Pushgateway: the app pushes here."), Tag::Remove),
                    Above::Detached => {
                        w.line(format!("{p1}# Services below are monitoring."), Tag::Keep);
                        w.blank();
                    }
                }
                w.line(format!("{p1}pushgateway:"), Tag::Remove);
                common(&mut w, Tag::Remove);
                let image = w.q("prom/pushgateway:v1.9.0");
                w.line(format!("{p2}image: {image}"), Tag::Remove);
                if shape.comment_inside_gateway {
                    w.line(format!("{p2}# Keeps pushed groups across restarts."), Tag::Remove);
                }
                w.line(format!("{p2}volumes:"), Tag::Remove);
                let data = format!("{}- {}", w.dash(2), w.q("pgw_data:/data"));
                w.line(data, Tag::Remove);
                if shape.healthcheck_anchor {
                    w.line(format!("{p2}healthcheck: *pgw-health"), Tag::Remove);
                }
                if shape.trailing_deeper_comment {
                    w.line(format!("{p2}# ports: [\"9091:9091\"]"), Tag::Remove);
                }
            }
            _ => {
                w.line(format!("{p1}prometheus:"), Tag::Keep);
                common(&mut w, Tag::Keep);
                let image = w.q("prom/prometheus:v2.53.0");
                w.line(format!("{p2}image: {image}"), Tag::Keep);
                w.line(format!("{p2}volumes:"), Tag::Keep);
                let mount = format!(
                    "{}- {}",
                    w.dash(2),
                    w.q("./prometheus.yml:/etc/prometheus/prometheus.yml:ro")
                );
                w.line(mount, Tag::Keep);
                if shape.prometheus_depends {
                    w.line(format!("{p2}depends_on:"), Tag::Keep);
                    let d = w.dash(2);
                    let (app, gw) = (w.q("app"), w.q("pushgateway"));
                    w.line(format!("{d}- {app}"), Tag::Keep);
                    w.line(format!("{d}- {gw}"), Tag::Remove);
                }
            }
        }
    }
    if style.blank_between {
        w.blank();
    }
    w.line("volumes:", Tag::Keep);
    let gateway_volume = |w: &mut Writer| {
        let tag = if shape.volume_shared { Tag::Keep } else { Tag::Remove };
        w.line(format!("{p1}# The gateway's persistence file."), tag.clone());
        w.line(format!("{p1}pgw_data:"), tag);
    };
    if shape.gateway_volume_first {
        gateway_volume(&mut w);
        w.line(format!("{p1}db_data:"), Tag::Keep);
    } else {
        w.line(format!("{p1}db_data:"), Tag::Keep);
        gateway_volume(&mut w);
    }
    w.finish()
}

fn prometheus_file(style: &Style, shape: &Shape) -> (String, Vec<(String, Tag)>) {
    let mut w = Writer {
        style,
        lines: Vec::new(),
    };
    w.header();
    let p1 = w.pad(1);
    w.line("global:", Tag::Keep);
    let interval = w.q("15s");
    w.line(format!("{p1}scrape_interval: {interval}"), Tag::Keep);
    w.blank();
    let (rules, dual) = (w.q("rules.yml"), w.q(remove::DUAL_RUN_RULE_FILE));
    let d0 = w.dash(0);
    match shape.rule_files {
        RuleFiles::None => {}
        RuleFiles::Block => {
            w.line("rule_files:", Tag::Keep);
            w.line(format!("{d0}- {rules}"), Tag::Keep);
            w.line(format!("{d0}- {dual}"), Tag::Remove);
            w.blank();
        }
        RuleFiles::Flow => {
            w.line(
                format!("rule_files: [{rules}, {dual}]"),
                Tag::Change(format!("rule_files: [{rules}]")),
            );
            w.blank();
        }
        RuleFiles::OnlyDualRunBlock => {
            w.line("rule_files:", Tag::Remove);
            w.line(format!("{d0}- {dual}"), Tag::Remove);
            w.blank();
        }
        RuleFiles::OnlyDualRunFlow => {
            w.line(format!("rule_files: [{dual}]"), Tag::Remove);
            w.blank();
        }
    }
    w.line("scrape_configs:", Tag::Keep);
    let mut jobs = vec![("prometheus", "localhost:9090"), ("app", "app:8080")];
    jobs.insert(
        shape.gateway_job_position.min(jobs.len()),
        ("pushgateway", "pushgateway:9091"),
    );
    let item = w.dash(0);
    let body = " ".repeat(item.len() + 2);
    let target_dash = if style.indent_sequences {
        " ".repeat(body.len() + style.indent)
    } else {
        body.clone()
    };
    for (index, (name, target)) in jobs.iter().enumerate() {
        let tag = if *name == "pushgateway" { Tag::Remove } else { Tag::Keep };
        if index > 0 && style.blank_between {
            w.blank();
        }
        if shape.job_comments {
            w.line(format!("{item}# The {name} job."), tag.clone());
        }
        let job_name = w.q(name);
        w.line(format!("{item}- job_name: {job_name}"), tag.clone());
        if *name == "pushgateway" {
            w.line(format!("{body}honor_labels: true"), tag.clone());
        }
        w.line(format!("{body}static_configs:"), tag.clone());
        let target = w.q(target);
        w.line(format!("{target_dash}- targets: [{target}]"), tag.clone());
        if *name == "pushgateway" && shape.trailing_deeper_comment {
            w.line(format!("{body}# scrape_interval: 5s"), tag.clone());
        }
    }
    if style.blank_between {
        w.blank();
    }
    w.line("# See the runbook for what each job is for.", Tag::Keep);
    w.finish()
}

/// Whether `out` is `tagged` with the removed lines gone, changed lines
/// changed, and blank lines beside removed blocks kept or gone.
fn lines_match(tagged: &[(String, Tag)], out: &[&str]) -> bool {
    let wanted: Vec<(&str, bool)> = tagged
        .iter()
        .filter_map(|(line, tag)| match tag {
            Tag::Keep => Some((line.as_str(), false)),
            Tag::MayGo => Some((line.as_str(), true)),
            Tag::Change(new) => Some((new.as_str(), false)),
            Tag::Remove => None,
        })
        .collect();
    // memo[i][j]: wanted[i..] matches out[j..].
    let mut memo = vec![vec![false; out.len() + 1]; wanted.len() + 1];
    memo[wanted.len()][out.len()] = true;
    for i in (0..wanted.len()).rev() {
        for j in (0..=out.len()).rev() {
            let (line, optional) = wanted[i];
            let take = j < out.len() && out[j] == line && memo[i + 1][j + 1];
            let skip = optional && memo[i + 1][j];
            memo[i][j] = take || skip;
        }
    }
    memo[0][0]
}

fn split_lines(text: &str, crlf: bool) -> Vec<&str> {
    let eol = if crlf { "\r\n" } else { "\n" };
    let body = text.strip_suffix(eol).unwrap_or(text);
    if body.is_empty() {
        Vec::new()
    } else {
        body.split(eol).collect()
    }
}

fn typed(text: &str) -> Value {
    yaml_serde::from_str(text).unwrap_or_else(|e| panic!("does not parse: {e}\n{text}"))
}

/// The Compose file's meaning after the change, from the meaning before it.
fn intended_compose(before: &Value, shape: &Shape) -> Value {
    let mut value = before.clone();
    let root = value.as_mapping_mut().unwrap();
    if shape.healthcheck_anchor {
        root.shift_remove("x-pgw-health");
    }
    let services = root.get_mut("services").and_then(Value::as_mapping_mut).unwrap();
    services.shift_remove("pushgateway");
    for (_, service) in services.iter_mut() {
        let service = service.as_mapping_mut().unwrap();
        for key in ["depends_on", "links"] {
            let emptied = match service.get_mut(key) {
                Some(Value::Sequence(items)) => {
                    items.retain(|i| i.as_str() != Some("pushgateway"));
                    items.is_empty()
                }
                Some(Value::Mapping(map)) => {
                    map.shift_remove("pushgateway");
                    map.is_empty()
                }
                _ => false,
            };
            if emptied {
                service.shift_remove(key);
            }
        }
        if shape.app_has_code {
            match service.get_mut("environment") {
                Some(Value::Sequence(items)) => {
                    items.retain(|i| !i.as_str().unwrap_or("").starts_with("PUSHGATEWAY_URL="))
                }
                Some(Value::Mapping(map)) => {
                    map.shift_remove("PUSHGATEWAY_URL");
                }
                _ => {}
            }
        }
    }
    if !shape.volume_shared {
        root.get_mut("volumes")
            .and_then(Value::as_mapping_mut)
            .unwrap()
            .shift_remove("pgw_data");
    }
    value
}

fn intended_prometheus(before: &Value) -> Value {
    let mut value = before.clone();
    let root = value.as_mapping_mut().unwrap();
    root.get_mut("scrape_configs")
        .and_then(Value::as_sequence_mut)
        .unwrap()
        .retain(|job| job.get("job_name").and_then(Value::as_str) != Some("pushgateway"));
    if let Some(files) = root.get_mut("rule_files").and_then(Value::as_sequence_mut) {
        files.retain(|f| f.as_str() != Some(remove::DUAL_RUN_RULE_FILE));
        if files.is_empty() {
            root.shift_remove("rule_files");
        }
    }
    value
}

fn plan(compose_name: &str, compose: &str, prometheus: &str, app_code: bool) -> ChangeSet {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(compose_name), compose).unwrap();
    std::fs::write(dir.path().join("prometheus.yml"), prometheus).unwrap();
    if app_code {
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(
            dir.path().join("app/server.js"),
            "const url = process.env.PUSHGATEWAY_URL || 'http://pushgateway:9091';\n",
        )
        .unwrap();
    }
    let stack = Stack::load(dir.path(), &Overrides::default()).unwrap_or_else(|e| panic!("{}", e.render(false)));
    remove::plan(&stack).unwrap_or_else(|e| panic!("{}", e.render(false)))
}

fn after_text(plan: &ChangeSet, name: &str) -> Option<String> {
    plan.changes
        .iter()
        .find(|c| c.path.as_str() == name && c.kind() == ChangeKind::Modify)
        .and_then(|c| c.after.as_ref())
        .map(|a| String::from_utf8(a.bytes.to_vec()).unwrap())
}

fn check_file(
    name: &str,
    style: &Style,
    text: &str,
    tagged: &[(String, Tag)],
    after: &str,
) -> Result<(), TestCaseError> {
    let out = split_lines(after, style.crlf);
    prop_assert!(
        lines_match(tagged, &out),
        "{name}: lines outside the removed ones changed\n--- before\n{text}\n--- after\n{after}\n--- tags\n{tagged:#?}"
    );
    if style.crlf {
        prop_assert!(
            !after.replace("\r\n", "").contains('\n'),
            "{name}: a bare LF in a CRLF file\n{after:?}"
        );
    }
    let eol = if style.crlf { "\r\n" } else { "\n" };
    prop_assert_eq!(
        after.ends_with(eol),
        text.ends_with(eol),
        "{}: the final newline changed",
        name
    );
    let double_blank = |t: &str| t.replace("\r\n", "\n").contains("\n\n\n");
    prop_assert!(
        !double_blank(after) || double_blank(text),
        "{name}: a double blank line appeared\n{after}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn remove_changes_exactly_the_lines_it_must(style in style(), shape in shape()) {
        let (compose, compose_tags) = compose_file(&style, &shape);
        let (prometheus, prometheus_tags) = prometheus_file(&style, &shape);
        let plan = plan(shape.compose_name, &compose, &prometheus, shape.app_has_code);

        let compose_after = after_text(&plan, shape.compose_name);
        prop_assert!(compose_after.is_some(), "the Compose file is not changed\n{compose}");
        let compose_after = compose_after.unwrap_or_default();
        check_file(shape.compose_name, &style, &compose, &compose_tags, &compose_after)?;
        prop_assert_eq!(typed(&compose_after), intended_compose(&typed(&compose), &shape));

        let prometheus_after = after_text(&plan, "prometheus.yml");
        prop_assert!(prometheus_after.is_some(), "prometheus.yml is not changed\n{prometheus}");
        let prometheus_after = prometheus_after.unwrap_or_default();
        check_file("prometheus.yml", &style, &prometheus, &prometheus_tags, &prometheus_after)?;
        prop_assert_eq!(typed(&prometheus_after), intended_prometheus(&typed(&prometheus)));

        // An env var the app's code is not there to vouch for is kept, and said so.
        let kept = plan.findings.iter().any(|f| f.id == "env-var-kept");
        prop_assert_eq!(kept, !shape.app_has_code);
    }
}
