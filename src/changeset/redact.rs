//! Masks secrets in everything pullover prints. A `--patch` file keeps the real
//! bytes (it must apply), so masking happens only at display time.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

const MASK: &str = "********";

/// `key: value`, `"key": "value"`, `KEY=value` where the key names a secret.
static SECRET_ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?ix)
        (?P<key>
            ["']?
            [A-Za-z0-9_.\-]*
            (?:password|passwd|secret|token|credentials|api[_-]?key|[_-]key)
            [A-Za-z0-9_\-]*
            ["']?
        )
        (?P<sep>\s*[:=]\s*)
        (?P<value>"[^"\n]*"|'[^'\n]*'|[^\s,\#}\]"']+)
        "#,
    )
    .expect("static regex")
});

/// `scheme://user:password@host`
static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<pre>[a-z][a-z0-9+.\-]*://[^:/@\s]+:)(?P<pw>[^@/\s]+)(?P<at>@)").expect("static regex")
});

/// Masks secret values in one line of text; everything else stays as it is.
pub fn mask_line(line: &str) -> Cow<'_, str> {
    let lower = line.to_ascii_lowercase();
    let maybe_secret = ["pass", "secret", "token", "credential", "key", "://"]
        .iter()
        .any(|w| lower.contains(w));
    if !maybe_secret {
        return Cow::Borrowed(line);
    }
    let masked = SECRET_ASSIGNMENT.replace_all(line, |caps: &regex::Captures<'_>| {
        let value = &caps["value"];
        // Values that only reference a secret elsewhere are not secrets.
        let is_reference =
            value.trim_matches(['"', '\'']).starts_with("${") || value.ends_with("_file") || value.is_empty();
        let key = &caps["key"];
        let references_a_file = key.to_ascii_lowercase().ends_with("_file");
        if is_reference || references_a_file {
            caps[0].to_string()
        } else {
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'');
            match quote {
                Some(q) => format!("{key}{}{q}{MASK}{q}", &caps["sep"]),
                None => format!("{key}{}{MASK}", &caps["sep"]),
            }
        }
    });
    let masked = URL_PASSWORD.replace_all(&masked, |caps: &regex::Captures<'_>| {
        format!("{}{MASK}{}", &caps["pre"], &caps["at"])
    });
    Cow::Owned(masked.into_owned())
}

/// Masks every line of a text, keeping line breaks.
pub fn mask_text(text: &str) -> String {
    text.split_inclusive('\n').map(mask_line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_the_rest_kept() {
        assert_eq!(
            mask_line("      - GF_SECURITY_ADMIN_PASSWORD=hunter2"),
            "      - GF_SECURITY_ADMIN_PASSWORD=********"
        );
        assert_eq!(
            mask_line("    password: 'hunter2'  # prod"),
            "    password: '********'  # prod"
        );
        assert_eq!(mask_line("  bearer_token: abc.def"), "  bearer_token: ********");
        assert_eq!(
            mask_line(r#"  "secureJsonData": {"apiKey": "xyz"}"#),
            r#"  "secureJsonData": {"apiKey": "********"}"#
        );
        assert_eq!(
            mask_line("      AWS_SECRET_ACCESS_KEY: s3cr3t"),
            "      AWS_SECRET_ACCESS_KEY: ********"
        );
        assert_eq!(
            mask_line("url: http://admin:pw@grafana:3000/"),
            "url: http://admin:********@grafana:3000/"
        );
        assert_eq!(
            mask_line("  - targets: ['pushgateway:9091']"),
            "  - targets: ['pushgateway:9091']"
        );
        assert_eq!(
            mask_line("  password_file: /run/secrets/pw"),
            "  password_file: /run/secrets/pw"
        );
        assert_eq!(
            mask_line("  - GF_SECURITY_ADMIN_PASSWORD=${GRAFANA_ADMIN_PASSWORD:-admin}"),
            "  - GF_SECURITY_ADMIN_PASSWORD=${GRAFANA_ADMIN_PASSWORD:-admin}"
        );
    }
}
