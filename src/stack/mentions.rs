//! Every place a text still mentions the Pushgateway: its name in any spelling,
//! its address, and client-library push calls. Pure: callers pass the texts
//! (docs, app code, configs) and turn the mentions into findings, checks or
//! references. Grep-level on purpose: it must find mentions in any language and
//! in prose, and a person reviews each one. [`MentionScanner`] is the one place
//! that decides what a mention is; it answers three questions, one per caller:
//!
//! - [`MentionScanner::scan`]: each line of a text that mentions the gateway, with the
//!   strongest kind of mention on it (the `docs` phase's checklist);
//! - [`MentionScanner::first_in_line`]: where a line first mentions it (`analyze`, searching
//!   the stack's other files);
//! - [`MentionScanner::names_gateway`]: whether a configuration value names it (`analyze`,
//!   reading Compose and prometheus.yml scalar by scalar).
//!
//! What a push call *says* (its job and grouping key) is read by `stack/app_code.rs`.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::stack::Gateway;
use crate::stack::source::line_span;

/// What a mention is, strongest first when several share a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MentionKind {
    /// The name anywhere (prose, a variable, an env var name, a package).
    Name,
    /// The gateway's address (`pushgateway:9091`, `http://pgw:9091`).
    Address,
    /// A client-library call that pushes to or deletes from the gateway
    /// (`pushAdd`, `push_to_gateway`, `new client.Pushgateway`, `push.New`, a
    /// `/metrics/job/…` URL).
    PushCall,
}

impl MentionKind {
    pub fn describe(self) -> &'static str {
        match self {
            MentionKind::Name => "mentions the Pushgateway",
            MentionKind::Address => "holds the Pushgateway's address",
            MentionKind::PushCall => "pushes to the Pushgateway",
        }
    }
}

/// One line that mentions the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// The first match on the line (where a location should point).
    pub span: Range<usize>,
    /// The whole line, without its line break.
    pub line: Range<usize>,
    /// The strongest kind of match on the line.
    pub kind: MentionKind,
}

impl Mention {
    /// The line's text, trimmed, for a checklist entry.
    pub fn line_text<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.line.clone())
            .unwrap_or("")
            .trim_start_matches('\u{feff}')
            .trim()
    }
}

static PUSH_CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\bpushAdd\s*\(",
        r"|\b(?:push|pushadd)_to_gateway\b|\bdelete_from_gateway\b",
        r"|\bnew\s+(?:[\w.]+\.)?Push[Gg]ateway\s*\(",
        r"|\bpush\.New\s*\(",
        r"|\bPrometheus::Client::Push\b",
        r"|/metrics/job/",
    ))
    .expect("static regex")
});

static NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)push[ _-]?gateway").expect("static regex"));

static DEFAULT_ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)push[_-]?gateway:\d+").expect("static regex"));

/// Finds mentions of one gateway. Build it once, scan many texts.
#[derive(Debug, Clone)]
pub struct MentionScanner {
    /// `host:port` of the gateway when its host is not already a name match.
    address: Option<String>,
    /// The gateway's host and Compose service, as names a configuration value may hold.
    names: Vec<String>,
}

impl MentionScanner {
    /// A scanner for the usual spellings plus, when known, the gateway's own
    /// `host:port` (a service named `pgw` is found as `pgw:9091`).
    pub fn new(gateway: Option<&Gateway>) -> MentionScanner {
        MentionScanner {
            address: gateway.map(Gateway::address),
            names: gateway
                .into_iter()
                .flat_map(|g| g.service.iter().chain([&g.host]))
                .cloned()
                .collect(),
        }
    }

    /// Every line of `text` that mentions the gateway, in order.
    pub fn scan(&self, text: &str) -> Vec<Mention> {
        let mut hits: Vec<(Range<usize>, MentionKind)> = Vec::new();
        hits.extend(PUSH_CALL.find_iter(text).map(|m| (m.range(), MentionKind::PushCall)));
        hits.extend(
            DEFAULT_ADDRESS
                .find_iter(text)
                .map(|m| (m.range(), MentionKind::Address)),
        );
        if let Some(address) = &self.address {
            hits.extend(
                text.match_indices(address.as_str())
                    .filter(|(at, _)| !preceded_by_name_char(text, *at))
                    .map(|(at, a)| (at..at + a.len(), MentionKind::Address)),
            );
        }
        hits.extend(NAME.find_iter(text).map(|m| (m.range(), MentionKind::Name)));
        hits.sort_by_key(|(span, kind)| (span.start, std::cmp::Reverse(*kind)));
        let mut mentions: Vec<Mention> = Vec::new();
        for (span, kind) in hits {
            let line = line_span(text, span.start);
            match mentions.last_mut() {
                Some(last) if last.line == line => last.kind = last.kind.max(kind),
                _ => mentions.push(Mention { span, line, kind }),
            }
        }
        mentions
    }

    /// Whether `text` mentions the gateway at all.
    pub fn mentions(&self, text: &str) -> bool {
        !self.scan(text).is_empty()
    }

    /// The byte offset in `line` of its first mention of the gateway or of pushing to one:
    /// `pushgateway`, `pushadd`, `push_to_gateway` or `delete_from_gateway` in any case, or
    /// the gateway's exact address.
    pub fn first_in_line(&self, line: &str) -> Option<usize> {
        let lower = line.to_ascii_lowercase();
        let mut hits: Vec<usize> = LINE_NEEDLES.iter().filter_map(|needle| lower.find(needle)).collect();
        hits.extend(self.address.as_deref().and_then(|address| line.find(address)));
        hits.into_iter().min()
    }

    /// Whether a configuration value names the gateway: Pushgateway in any case, its address,
    /// or its service or host as a whole name (`pushgateway`, `http://pgw:9091`).
    pub fn names_gateway(&self, text: &str) -> bool {
        text.to_ascii_lowercase().contains("pushgateway")
            || self.address.as_deref().is_some_and(|address| text.contains(address))
            || self.names.iter().any(|name| names_host(text, name))
    }
}

/// What [`MentionScanner::first_in_line`] looks for, lowercase.
const LINE_NEEDLES: [&str; 4] = ["pushgateway", "pushadd", "push_to_gateway", "delete_from_gateway"];

/// `host` as a whole word of `text` (`pushgateway`, `http://pgw:9091`), not inside another name.
fn names_host(text: &str, host: &str) -> bool {
    if host.is_empty() {
        return false;
    }
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    text.match_indices(host).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + host.len()..].chars().next();
        !before.is_some_and(is_name) && !after.is_some_and(is_name)
    })
}

/// `xpgw:9091` is not `pgw:9091`.
fn preceded_by_name_char(text: &str, at: usize) -> bool {
    text.get(..at)
        .and_then(|before| before.chars().next_back())
        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(host: &str) -> Gateway {
        Gateway {
            service: Some(host.into()),
            host: host.into(),
            port: 9091,
            job: None,
            honor_labels: true,
        }
    }

    /// `line:col kind | line` for each mention, as a checklist reads.
    fn checklist(scanner: &MentionScanner, text: &str) -> String {
        scanner
            .scan(text)
            .iter()
            .map(|m| {
                let (line, col) = crate::stack::source::line_col(text, m.span.start);
                format!("{line}:{col} {:?} | {}\n", m.kind, m.line_text(text))
            })
            .collect()
    }

    #[test]
    fn one_entry_per_line_with_the_strongest_kind_and_the_first_column() {
        let code = "\
const PUSHGATEWAY_URL = process.env.PUSHGATEWAY_URL || 'http://pushgateway:9091';
const gateway = new client.Pushgateway(PUSHGATEWAY_URL, {}, registry);
gateway.pushAdd({ jobName: 'api' });
console.log('no mention here');
push_to_gateway(GATEWAY, job='x', registry=r)
pushadd_to_gateway(GW, job='y', registry=r)
curl --data-binary @- http://gw:9091/metrics/job/backup/instance/db1
# See the Push Gateway docs.
GATEWAY = os.environ.get('PUSH_GATEWAY')
";
        insta::assert_snapshot!(checklist(&MentionScanner::new(None), code), @"
        1:7 Address | const PUSHGATEWAY_URL = process.env.PUSHGATEWAY_URL || 'http://pushgateway:9091';
        2:17 PushCall | const gateway = new client.Pushgateway(PUSHGATEWAY_URL, {}, registry);
        3:9 PushCall | gateway.pushAdd({ jobName: 'api' });
        5:1 PushCall | push_to_gateway(GATEWAY, job='x', registry=r)
        6:1 PushCall | pushadd_to_gateway(GW, job='y', registry=r)
        7:37 PushCall | curl --data-binary @- http://gw:9091/metrics/job/backup/instance/db1
        8:11 Name | # See the Push Gateway docs.
        9:27 Name | GATEWAY = os.environ.get('PUSH_GATEWAY')
        ");
    }

    #[test]
    fn a_gateway_with_its_own_name_is_found_by_address() {
        let text = "PUSH=http://pgw:9091\nOTHER=http://xpgw:9091\nDB=pgw:5432\r\n";
        let scanner = MentionScanner::new(Some(&gateway("pgw")));
        insta::assert_snapshot!(checklist(&scanner, text), @"1:13 Address | PUSH=http://pgw:9091");
        assert!(!MentionScanner::new(None).mentions(text));
    }

    #[test]
    fn a_line_is_searched_loosely_and_a_config_value_by_whole_names() {
        let scanner = MentionScanner::new(Some(&gateway("pgw")));
        assert_eq!(scanner.first_in_line("await gw.PushAdd(x) // pgw:9091\n"), Some(9));
        assert_eq!(scanner.first_in_line("URL=http://pgw:9091\n"), Some(11));
        assert_eq!(scanner.first_in_line("a Push Gateway, spelt apart\n"), None);
        assert!(scanner.names_gateway("http://pgw/metrics"));
        assert!(scanner.names_gateway("PUSHGATEWAY_URL"));
        assert!(
            !scanner.names_gateway("pgw-exporter"),
            "a longer name is another service"
        );
    }

    #[test]
    fn crlf_lines_and_a_missing_final_newline() {
        let text = "a\r\nPushgateway (9091)\r\nlast pushgateway";
        let mentions = MentionScanner::new(None).scan(text);
        assert_eq!(mentions.len(), 2);
        assert_eq!(&text[mentions[0].line.clone()], "Pushgateway (9091)");
        assert_eq!(&text[mentions[1].line.clone()], "last pushgateway");
    }
}
