//! What pullover reads, at most, per kind of file: a size, and a nesting
//! depth checked by one linear scan before any parser runs.
//!
//! Measured before these limits (debug build, seed stack): a 4.5 MB Compose
//! file peaked at 190 MB in `analyze`; a 31 MB one grew past 7.5 GB; 200,000
//! levels of `[` took 388 s to fail (the parsers are quadratic in depth).
//! Within them, a 0.86 MB Compose file with a 3.6 MB prometheus.yml peaks at
//! 274 MB (`analyze`, `plan remove`), and a file past a limit is refused in
//! under 10 ms and 15 MB. No
//! real Compose file, prometheus.yml or dashboard comes near these limits;
//! a file past one is refused at once, naming the file and the limit.

use crate::diagnostic::Diagnostic;
use crate::stack::source::{RelPath, SourceFile};

/// Deeper than this is refused before parsing. serde_json and yaml_serde stop
/// at 128 anyway (after the lossless parsers took their quadratic time); no
/// dashboard or config nests past ~20.
pub const MAX_NESTING: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Compose,
    PrometheusConfig,
    RuleFile,
    /// Grafana provisioning YAML.
    Provisioning,
    Settings,
    Dashboard,
    /// Docs, env files and anything else read as text.
    Text,
}

impl Kind {
    /// The kind a file is read as when the caller does not say: by its name.
    pub fn by_name(rel: &RelPath) -> Kind {
        let name = rel.file_name();
        if name.ends_with(".json") {
            Kind::Dashboard
        } else if name.ends_with(".yml") || name.ends_with(".yaml") {
            Kind::RuleFile
        } else {
            Kind::Text
        }
    }

    pub fn max_bytes(self) -> u64 {
        const MIB: u64 = 1024 * 1024;
        match self {
            // Real ones are under 100 KiB; parsing costs ~40-60 times the size.
            Kind::Compose => MIB,
            Kind::PrometheusConfig => 4 * MIB,
            Kind::RuleFile => 8 * MIB,
            Kind::Provisioning | Kind::Settings => MIB,
            Kind::Dashboard => 16 * MIB,
            Kind::Text => 4 * MIB,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Compose => "a Compose file",
            Kind::PrometheusConfig => "a Prometheus config",
            Kind::RuleFile => "a YAML file",
            Kind::Provisioning => "a Grafana provisioning file",
            Kind::Settings => "pullover.yaml",
            Kind::Dashboard => "a dashboard",
            Kind::Text => "a text file",
        }
    }

    fn syntax(self, rel: &RelPath) -> Option<Syntax> {
        match self {
            Kind::Dashboard if rel.file_name().ends_with(".json") => Some(Syntax::Json),
            Kind::Text => None,
            _ => Some(Syntax::Yaml),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Json,
    Yaml,
}

/// The size check, before the file is read.
pub fn check_size(rel: &RelPath, kind: Kind, len: u64) -> Result<(), Diagnostic> {
    if len <= kind.max_bytes() {
        return Ok(());
    }
    Err(Diagnostic::error(format!(
        "{rel} is {}, larger than the {} pullover reads as {}; nothing was read or written",
        human(len),
        human(kind.max_bytes()),
        kind.name()
    ))
    .help("is this really the file pullover should read? point the setting (`compose_file:`, `prometheus_config:`, `dashboards:` in pullover.yaml) at the real one"))
}

fn human(n: u64) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KiB", n.div_ceil(1024))
    }
}

/// The nesting check, on the text, before any parser sees it.
pub fn check_nesting(file: &SourceFile, kind: Kind) -> Result<(), Diagnostic> {
    let Some(syntax) = kind.syntax(&file.path) else {
        return Ok(());
    };
    let too_deep = match syntax {
        Syntax::Json => json_too_deep(file.text()),
        Syntax::Yaml => yaml_too_deep(file.text()),
    };
    match too_deep {
        None => Ok(()),
        Some(offset) => Err(Diagnostic::error(format!(
            "{} nests deeper than {MAX_NESTING} levels; pullover refuses it before parsing, nothing was read or written",
            file.path
        ))
        .at(file, offset..offset + 1, "too deep here")
        .help("no config or dashboard nests this deep: check the file is what it should be")),
    }
}

/// The offset where a JSON text first nests past [`MAX_NESTING`].
fn json_too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The offset where a YAML text first nests past [`MAX_NESTING`]: block
/// levels (distinct indentations open at a line) plus flow brackets.
fn yaml_too_deep(text: &str) -> Option<usize> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut quote: Option<u8> = None;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let bytes = line.as_bytes();
        if flow == 0 && quote.is_none() {
            let content = line.trim_start_matches(' ');
            let trimmed = content.trim();
            if !trimmed.is_empty() && !trimmed.starts_with('#') {
                let indent = line.len() - content.len();
                while indents.last().is_some_and(|&open| open > indent) {
                    indents.pop();
                }
                if indents.last() != Some(&indent) {
                    indents.push(indent);
                }
                // `- - - x` opens a level per dash on one line.
                let dashes = content.as_bytes().chunks(2).take_while(|c| c == b"- ").count();
                if indents.len() + dashes > MAX_NESTING {
                    return Some(line_start + indent);
                }
            }
        }
        let mut previous = b' ';
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(b'"') if b == b'\\' => i += 1,
                Some(q) if b == q => {
                    // `''` inside single quotes is an escaped quote.
                    if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                        i += 1;
                    } else {
                        quote = None;
                    }
                }
                Some(_) => {}
                None => match b {
                    b'#' if previous == b' ' || previous == b'\t' => break,
                    b'"' | b'\'' if matches!(previous, b' ' | b'\t' | b'[' | b'{' | b',' | b':') => quote = Some(b),
                    b'[' | b'{' => {
                        flow += 1;
                        if indents.len() + flow > MAX_NESTING {
                            return Some(line_start + i);
                        }
                    }
                    b']' | b'}' => flow = flow.saturating_sub(1),
                    _ => {}
                },
            }
            previous = b;
            i += 1;
        }
        line_start += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_found_in_linear_time() {
        let deep = format!("{}1{}", "[".repeat(200_000), "]".repeat(200_000));
        let started = std::time::Instant::now();
        assert_eq!(json_too_deep(&deep), Some(MAX_NESTING));
        assert_eq!(yaml_too_deep(&format!("deep: {deep}\n")), Some(6 + MAX_NESTING - 1));
        assert!(started.elapsed().as_secs() < 1);
        // Brackets in strings and comments do not count.
        let quoted = format!(
            "a: \"{}\"\nb: '{}'\n# {}\n",
            "[".repeat(500),
            "{".repeat(500),
            "[".repeat(500)
        );
        assert_eq!(yaml_too_deep(&quoted), None);
        assert_eq!(json_too_deep(&format!("{{\"a\": \"{}\\\"[\"}}", "[".repeat(500))), None);
    }

    #[test]
    fn block_nesting_counts_and_real_files_pass() {
        let mut deep = String::new();
        for level in 0..150 {
            deep.push_str(&format!("{}k{level}:\n", " ".repeat(level)));
        }
        assert!(yaml_too_deep(&deep).is_some());
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks");
        let mut checked = 0;
        let mut pending = vec![root];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                let name = path.to_string_lossy().into_owned();
                if path.is_dir() {
                    pending.push(path);
                } else if name.ends_with(".json") || name.ends_with(".yml") || name.ends_with(".yaml") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let found = if name.ends_with(".json") {
                        json_too_deep(&text)
                    } else {
                        yaml_too_deep(&text)
                    };
                    assert_eq!(found, None, "{name}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 20, "{checked}");
    }
}
