//! Masks secrets in everything pullover prints. A `--patch` file keeps the real
//! bytes (it must apply), so masking happens only at display time.
//!
//! One rule set, for diffs, reports, messages and `--format json` alike:
//! - **a value under a key that names a secret**: the key is split into words
//!   (`DB_PASS`, `privateKey`, `client-secret`, `"Pass"`), and names a secret
//!   when a word is one of [`SECRET_WORDS`], or is `key` after another word
//!   (`STRIPE_KEY`, `apiKey`; a lone `key:` is a label selector). A last word
//!   of [`NOT_A_SECRET_LAST_WORDS`] (`password_file`, `token_url`) names where
//!   a secret is, not the secret. The value may follow `:` or `=` and be plain
//!   (up to a comment, or the end of a flow item), quoted (escapes and `''`
//!   included), a flow list (`["Bearer …"]`: all of it), or a YAML block
//!   scalar (`|`, `>-`: the more-indented lines after it). `${VAR}`
//!   references and empty values are kept.
//! - **a password in a URL**: `scheme://user:pw@`, the user possibly empty
//!   (`redis://:pw@`), the slashes possibly JSON-escaped (`http:\/\/`).
//! - **a bearer token** anywhere: `Bearer abc…`.
//!
//! Diffs are masked line by line on their content: the `+`/`-`/` ` marker is
//! kept and does not count as indentation.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

const MASK: &str = "********";

/// Words of a key that make its value a secret.
pub const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "tokens",
    "credential",
    "credentials",
    "apikey",
    "privatekey",
    "authorization",
    "bearer",
    "cookie",
];

/// A key ending in one of these words names where a secret is, or something
/// about it, not the secret.
pub const NOT_A_SECRET_LAST_WORDS: &[&str] = &[
    "file", "path", "url", "uri", "endpoint", "name", "id", "ref", "type", "env", "length", "ttl", "expiry",
];

/// A key before `:` or `=`: quoted (JSON, YAML) or a bare word (YAML, env, flags).
static KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?x)
        (?P<key> "(?:[^"\\]|\\.)*" | '[^'\n]*' | [A-Za-z_][A-Za-z0-9_.\-]* )
        (?P<sep> [\ \t]*[:=][\ \t]* | [\ \t]*:$ )
    "#,
    )
    .expect("static regex")
});

/// `scheme://user:password@`, user maybe empty, slashes maybe JSON-escaped.
static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<pre>[A-Za-z][A-Za-z0-9+.\-]*:(?:\\?/){2}[^:/@\s\\]*:)(?P<pw>[^@/\s]+)(?P<at>@)")
        .expect("static regex")
});

static BEARER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?P<pre>\b[Bb]earer\s+)(?P<token>[A-Za-z0-9._~+/=\-]{4,})").expect("static regex"));

/// The words of a key: `AWS_SECRET_ACCESS_KEY` → aws secret access key,
/// `privateKey` → private key, `"Pass"` → pass.
fn key_words(key: &str) -> Vec<String> {
    let key = key.trim_matches(['"', '\'']);
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether a value under `key` is a secret.
pub fn is_secret_key(key: &str) -> bool {
    let words = key_words(key);
    let Some(last) = words.last() else { return false };
    if NOT_A_SECRET_LAST_WORDS.contains(&last.as_str()) {
        return false;
    }
    words.iter().enumerate().any(|(i, word)| {
        SECRET_WORDS.contains(&word.as_str())
            || (i > 0 && word == "key")
            || word.ends_with("password")
            || word.ends_with("secret")
            || word.ends_with("token")
    })
}

/// What follows a secret key.
enum Value {
    /// Bytes `start..end` of the line are the secret.
    Span(usize, usize),
    /// A block scalar indicator: the secret is on the lines after.
    Block,
    /// Nothing to mask (empty, a reference, a nested map).
    Keep,
}

/// The end of a quoted value starting at `start` (the quote), past the closing quote.
fn quoted_end(line: &str, start: usize, quote: u8) -> usize {
    let bytes = line.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    line.len()
}

/// Reads the value after a secret key's separator at `start`. `in_flow`:
/// the key sits inside `{…}` or `[…]`, where `,` `}` `]` end a plain value;
/// `equals`: a `KEY=value` (env, flag, query), which also ends at `&` or
/// white space before a `--flag`.
fn value_at(line: &str, start: usize, in_flow: bool, equals: bool) -> Value {
    let rest = &line[start..];
    let trimmed = rest.trim_end();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Value::Keep;
    }
    let first = rest.as_bytes()[0];
    if !equals && matches!(first, b'|' | b'>') {
        let indicator = trimmed.split(" #").next().unwrap_or(trimmed).trim_end();
        if indicator[1..].chars().all(|c| matches!(c, '+' | '-' | '1'..='9')) {
            return Value::Block;
        }
    }
    if rest.starts_with("${") || rest.starts_with("\"${") || rest.starts_with("'${") {
        return Value::Keep;
    }
    match first {
        b'"' | b'\'' => {
            let end = quoted_end(line, start, first);
            let inner_end = if line.as_bytes().get(end.wrapping_sub(1)) == Some(&first) && end > start + 1 {
                end - 1
            } else {
                end
            };
            if inner_end <= start + 1 {
                Value::Keep
            } else {
                Value::Span(start + 1, inner_end)
            }
        }
        b'[' => {
            // A flow list of secrets: everything up to its closing bracket.
            let end = rest.find(']').map_or(line.len(), |i| start + i);
            if end > start + 1 {
                Value::Span(start + 1, end)
            } else {
                Value::Keep
            }
        }
        b'{' => Value::Keep,
        _ => {
            let mut end = line.len();
            if let Some(i) = rest.find(" #") {
                end = end.min(start + i);
            }
            if in_flow && let Some(i) = rest.find([',', '}', ']']) {
                end = end.min(start + i);
            }
            if equals {
                if let Some(i) = rest.find(['&', '"', '\'', ',', ';']) {
                    end = end.min(start + i);
                }
                if let Some(i) = rest.find(" --") {
                    end = end.min(start + i);
                }
            }
            let value = line[start..end].trim_end();
            let end = start + value.len();
            if value.is_empty() || value.ends_with("_file") {
                Value::Keep
            } else {
                Value::Span(start, end)
            }
        }
    }
}

/// Masks one line's content; returns the masked text and whether a secret
/// block scalar starts after it.
fn mask_content(line: &str) -> (String, bool) {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut block = false;
    let mut search = 0;
    while let Some(caps) = KEY.captures_at(line, search) {
        let whole = caps.get(0).expect("match");
        let key = caps.name("key").expect("key");
        let sep = caps.name("sep").expect("sep");
        search = whole.end().max(search + 1);
        if spans.iter().any(|(s, e)| key.start() >= *s && key.start() < *e) {
            continue;
        }
        // A key starts a line, an item or a word, never the middle of one.
        let before = line[..key.start()].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '/') {
            continue;
        }
        if !is_secret_key(key.as_str()) {
            continue;
        }
        // A reference (`${VAR:-default}`) is no secret, nor is the key inside it.
        let after = line[sep.end()..].trim_start_matches(['"', '\'']);
        if after.starts_with("${") {
            let reference_start = line.len() - after.len();
            search = after.find('}').map_or(line.len(), |i| reference_start + i + 1);
            continue;
        }
        let equals = sep.as_str().contains('=');
        let in_flow = line[..key.start()].contains(['{', '[', ',']);
        match value_at(line, sep.end(), in_flow, equals) {
            Value::Span(start, end) => {
                spans.push((start, end));
                search = end.max(search);
            }
            Value::Block => block = true,
            Value::Keep => {}
        }
    }
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    spans.sort_unstable();
    for (start, end) in spans {
        if start < at {
            continue;
        }
        out.push_str(&line[at..start]);
        out.push_str(MASK);
        at = end;
    }
    out.push_str(&line[at..]);
    let out = URL_PASSWORD
        .replace_all(&out, |caps: &regex::Captures<'_>| {
            if caps["pw"].starts_with("${") || &caps["pw"] == MASK {
                caps[0].to_string()
            } else {
                format!("{}{MASK}{}", &caps["pre"], &caps["at"])
            }
        })
        .into_owned();
    let out = BEARER
        .replace_all(&out, |caps: &regex::Captures<'_>| {
            if caps["token"].starts_with(MASK) {
                caps[0].to_string()
            } else {
                format!("{}{MASK}", &caps["pre"])
            }
        })
        .into_owned();
    (out, block)
}

/// A cheap test that a line may hold a secret, before any regex runs.
fn maybe_secret(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    [
        "pass",
        "pwd",
        "secret",
        "token",
        "credential",
        "key",
        "auth",
        "bearer",
        "cookie",
        ":/",
        ":\\/",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// Masks secret values in one line of text; everything else stays as it is.
/// (A block scalar's lines need [`mask_text`], which sees the lines after.)
pub fn mask_line(line: &str) -> Cow<'_, str> {
    if !maybe_secret(line) {
        return Cow::Borrowed(line);
    }
    let (masked, _) = mask_content(line);
    if masked == line {
        Cow::Borrowed(line)
    } else {
        Cow::Owned(masked)
    }
}

/// The width of a line's indentation in columns (tabs as one).
fn indent_of(content: &str) -> usize {
    content.len() - content.trim_start_matches([' ', '\t']).len()
}

/// Masks every line of a text, keeping line breaks; a diff (it has a `@@`
/// hunk line) is read without its `+`/`-`/` ` markers, so a block scalar
/// across added, removed and context lines is masked too.
pub fn mask_text(text: &str) -> String {
    let diff = text.lines().any(|l| l.starts_with("@@ "));
    let mut out = String::with_capacity(text.len());
    // The column of the key whose block scalar is being masked.
    let mut block: Option<usize> = None;
    for raw in text.split_inclusive('\n') {
        let (line, eol) = match raw.strip_suffix('\n') {
            Some(l) => (
                l.strip_suffix('\r').unwrap_or(l),
                &raw[l.strip_suffix('\r').unwrap_or(l).len()..],
            ),
            None => (raw, ""),
        };
        let is_header = line.starts_with("+++ ") || line.starts_with("--- ") || line.starts_with("@@ ");
        let (marker, content) = if diff && !is_header && line.starts_with([' ', '+', '-']) {
            line.split_at(1)
        } else {
            ("", line)
        };
        if let Some(key_column) = block {
            let blank = content.trim().is_empty();
            if blank {
                out.push_str(raw);
                continue;
            }
            let indent = indent_of(content);
            if indent > key_column && !is_header {
                out.push_str(marker);
                out.push_str(&content[..indent]);
                out.push_str(MASK);
                out.push_str(eol);
                continue;
            }
            block = None;
        }
        if !maybe_secret(content) {
            out.push_str(raw);
            continue;
        }
        let (masked, starts_block) = mask_content(content);
        if starts_block {
            // The block's lines are indented past the key's column.
            let key_column = KEY
                .captures_iter(content)
                .filter(|c| is_secret_key(&c["key"]))
                .last()
                .and_then(|c| c.name("key"))
                .map_or(indent_of(content), |k| k.start());
            block = Some(key_column);
        }
        out.push_str(marker);
        out.push_str(&masked);
        out.push_str(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each form a secret takes in the files pullover reads, as one line (or
    /// lines) in, what is printed out.
    const FORMS: &[(&str, &str)] = &[
        // YAML scalars
        ("password: hunter2", "password: ********"),
        ("    password: 'hunter2'  # prod", "    password: '********'  # prod"),
        (r#"password: "hunter2""#, r#"password: "********""#),
        (r#"password: "hun\"ter2""#, r#"password: "********""#),
        ("password: 'it''s a secret'", "password: '********'"),
        ("password: hunter two with spaces", "password: ********"),
        ("password: hunter two # a comment", "password: ******** # a comment"),
        ("Password: X", "Password: ********"),
        ("  bearer_token: abc.def", "  bearer_token: ********"),
        (
            "      client_secret: 'oauth-client-secret-42'",
            "      client_secret: '********'",
        ),
        ("  credentials: abc", "  credentials: ********"),
        ("  passphrase: abc", "  passphrase: ********"),
        // YAML block scalars
        (
            "password: |\n  line one\n  line two\nuser: me\n",
            "password: |\n  ********\n  ********\nuser: me\n",
        ),
        (
            "  password: >-\n    folded\n\n    more\n  next: 1\n",
            "  password: >-\n    ********\n\n    ********\n  next: 1\n",
        ),
        (
            "- token: |+\n    abc\n- other\n",
            "- token: |+\n    ********\n- other\n",
        ),
        (
            "secret: |2 # comment\n    abc\n",
            "secret: |2 # comment\n    ********\n",
        ),
        // YAML flow collections
        (r#"secrets: ["Bearer abc.def", "x"]"#, "secrets: [********]"),
        ("tokens: [abc, def]", "tokens: [********]"),
        ("auth: {user: a, password: b}", "auth: {user: a, password: ********}"),
        ("{password: b, user: a}", "{password: ********, user: a}"),
        // Compose / env / flags
        (
            "      - GF_SECURITY_ADMIN_PASSWORD=hunter2",
            "      - GF_SECURITY_ADMIN_PASSWORD=********",
        ),
        ("      - DB_PASS=s3cr3t", "      - DB_PASS=********"),
        ("      DB_PASS: s3cr3t", "      DB_PASS: ********"),
        (r#"      - "DB_PASS=s3cr3t""#, r#"      - "DB_PASS=********""#),
        ("export DB_PASS=s3cr3t", "export DB_PASS=********"),
        ("DB_PASS=s3cr3t # local", "DB_PASS=******** # local"),
        (
            "      AWS_SECRET_ACCESS_KEY: s3cr3t",
            "      AWS_SECRET_ACCESS_KEY: ********",
        ),
        ("STRIPE_KEY=sk_live_1", "STRIPE_KEY=********"),
        ("api_key = \"xyz\"", "api_key = \"********\""),
        (
            "command: --web.password=abc --other",
            "command: --web.password=******** --other",
        ),
        (
            "url: http://h/x?user=a&token=abc&b=c",
            "url: http://h/x?user=a&token=********&b=c",
        ),
        // JSON
        (
            r#"  "secureJsonData": {"apiKey": "xyz"}"#,
            r#"  "secureJsonData": {"apiKey": "********"}"#,
        ),
        (r#""privateKey": "-----BEGIN""#, r#""privateKey": "********""#),
        (r#""Pass": "xyz", "User": "u""#, r#""Pass": "********", "User": "u""#),
        (
            r#"{"password":"a","user":"b"}"#,
            r#"{"password":"********","user":"b"}"#,
        ),
        (r#""Authorization": "Bearer abc.def""#, r#""Authorization": "********""#),
        (r#""token": "a\"b""#, r#""token": "********""#),
        // URLs
        (
            "url: http://admin:pw@grafana:3000/",
            "url: http://admin:********@grafana:3000/",
        ),
        ("REDIS=redis://:pw@redis:6379/0", "REDIS=redis://:********@redis:6379/0"),
        (
            r#""url": "http:\/\/admin:pw@grafana""#,
            r#""url": "http:\/\/admin:********@grafana""#,
        ),
        (
            "- UPSTREAM=https://gw:url-password-55@upstream/",
            "- UPSTREAM=https://gw:********@upstream/",
        ),
        // Headers and tokens anywhere
        ("Authorization: Bearer abc.def", "Authorization: ********"),
        ("curl -H 'X: Bearer abcdef123'", "curl -H 'X: Bearer ********'"),
        ("cookie: session=abc", "cookie: ********"),
        // Diffs: the marker is kept, the block spans added and context lines
        (
            "@@ -1 +1 @@\n+    password: x\n-  - DB_PASS=y\n",
            "@@ -1 +1 @@\n+    password: ********\n-  - DB_PASS=********\n",
        ),
        (
            "@@ -1,3 +1,3 @@\n   password: |\n+    new\n-    old\n   user: a\n",
            "@@ -1,3 +1,3 @@\n   password: |\n+    ********\n-    ********\n   user: a\n",
        ),
        // Kept as they are
        ("  - targets: ['pushgateway:9091']", "  - targets: ['pushgateway:9091']"),
        ("  password_file: /run/secrets/pw", "  password_file: /run/secrets/pw"),
        (
            "  - GF_SECURITY_ADMIN_PASSWORD=${GRAFANA_ADMIN_PASSWORD:-admin}",
            "  - GF_SECURITY_ADMIN_PASSWORD=${GRAFANA_ADMIN_PASSWORD:-admin}",
        ),
        ("password: ${DB_PASSWORD}", "password: ${DB_PASSWORD}"),
        ("password: \"\"", "password: \"\""),
        ("basic_auth:", "basic_auth:"),
        ("password:", "password:"),
        (
            "token_url: https://auth.example.com/token",
            "token_url: https://auth.example.com/token",
        ),
        ("secretName: grafana-admin", "secretName: grafana-admin"),
        ("job_name: pushgateway", "job_name: pushgateway"),
        ("passthrough: true", "passthrough: true"),
        ("key: app.kubernetes.io/name", "key: app.kubernetes.io/name"),
        ("monkey: banana", "monkey: banana"),
        (
            "url: http://pushgateway:9091/metrics",
            "url: http://pushgateway:9091/metrics",
        ),
        ("url: http://user:${PW}@h/", "url: http://user:${PW}@h/"),
    ];

    #[test]
    fn every_form_of_a_secret_is_masked_and_the_rest_kept() {
        assert!(FORMS.len() >= 40, "{} forms", FORMS.len());
        let mut wrong = Vec::new();
        for (input, expected) in FORMS {
            let got = mask_text(input);
            if got != *expected {
                wrong.push(format!("  in:   {input:?}\n  want: {expected:?}\n  got:  {got:?}"));
            }
            // A one-line form masks the same way line by line (messages, snippets).
            if !input.contains('\n') && mask_line(input) != *expected {
                wrong.push(format!("  mask_line({input:?}) = {:?}", mask_line(input)));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} of {} forms are wrong:\n{}",
            wrong.len(),
            FORMS.len(),
            wrong.join("\n")
        );
    }

    #[test]
    fn key_words_split_snake_kebab_and_camel_case() {
        assert_eq!(key_words("AWS_SECRET_ACCESS_KEY"), ["aws", "secret", "access", "key"]);
        assert_eq!(key_words("\"privateKey\""), ["private", "key"]);
        assert_eq!(key_words("client-secret"), ["client", "secret"]);
        assert!(is_secret_key("\"Pass\""));
        assert!(!is_secret_key("key"));
        assert!(!is_secret_key("password_file"));
    }
}
