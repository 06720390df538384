//! Secrets never reach the terminal, a CI log or a bot's JSON: every printed diff, table and
//! report masks them; the `--patch` file (which must apply) keeps the real bytes, mode 0600.

use crate::support::{Pullover, pullover};

/// Secret values planted in the seed: each must never be printed.
const SECRETS: &[&str] = &[
    "hunter2-basic-auth",
    "eyJhbGciOiJIUzI1NiJ9.bearer",
    "oauth-client-secret-42",
    "s3cr3t-db-password",
    "tok_live_abcdef123456",
    "AKIAEXAMPLESECRET99",
    "sk_live_stripe_key_77",
    "url-password-55",
];

/// The seed with secrets where operators keep them: basic_auth, bearer_token and oauth2 on
/// the Pushgateway job, and `*PASSWORD*`, `*TOKEN*`, `*SECRET*`, `*_KEY` environment values
/// and a password in a URL on the Pushgateway service (so `remove` prints them as removed).
fn stack_with_secrets() -> Pullover {
    let p = pullover().stack("seed");
    let prometheus = p.read("prometheus/prometheus.yml").replace(
        "  - job_name: pushgateway\n    honor_labels: true\n",
        "  - job_name: pushgateway\n    honor_labels: true\n    basic_auth:\n      username: prom\n      password: hunter2-basic-auth\n    bearer_token: \"eyJhbGciOiJIUzI1NiJ9.bearer\"\n    oauth2:\n      client_id: prom\n      client_secret: 'oauth-client-secret-42'\n      token_url: https://auth.example.com/token\n",
    );
    p.write("prometheus/prometheus.yml", &prometheus);
    let compose = p.read("docker-compose.yml").replace(
        "    image: prom/pushgateway:v1.5.1\n",
        "    image: prom/pushgateway:v1.5.1\n    environment:\n      - DB_PASSWORD=s3cr3t-db-password\n      - API_TOKEN=tok_live_abcdef123456\n      - AWS_SECRET_ACCESS_KEY=AKIAEXAMPLESECRET99\n      - STRIPE_KEY=sk_live_stripe_key_77\n      - UPSTREAM=https://gw:url-password-55@upstream.example.com/\n",
    );
    p.write("docker-compose.yml", &compose);
    p
}

#[track_caller]
fn assert_masked(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} prints the secret {secret}:\n{text}");
    }
}

#[test]
fn plans_tables_and_reports_mask_every_secret() {
    let p = stack_with_secrets();
    let mut printed = 0;
    let commands: &[&[&str]] = &[
        &["plan", "scrape"],
        &["plan", "remove"],
        &["--format", "json", "plan", "remove"],
        &["analyze"],
        &["--format", "json", "analyze"],
        &["init", "--yes"],
        &["status"],
    ];
    for args in commands {
        let run = p.run(*args);
        assert!(matches!(run.code, Some(0)), "`{}`: {}", args.join(" "), run.stderr);
        assert_masked(&args.join(" "), &run.stdout);
        assert_masked(&args.join(" "), &run.stderr);
        printed += run.stdout.len();
    }
    // The masks are really there, not just the lines gone: the remove diff shows the keys.
    let remove = p.run(["plan", "remove"]);
    for key in ["DB_PASSWORD=********", "API_TOKEN=********", "STRIPE_KEY=********"] {
        assert!(remove.stdout.contains(key), "{key} missing from\n{}", remove.stdout);
    }
    assert!(remove.stdout.contains("password: ********"), "{}", remove.stdout);
    assert!(printed > 0);

    // Apply, then drift a managed file: the drift diff, history and rollback mask too.
    let apply = p.run(["apply", "scrape", "--yes"]);
    apply.success();
    assert_masked("apply", &apply.stdout);
    assert_masked("apply", &apply.stderr);
    let drifted = p
        .read("prometheus/prometheus.yml")
        .replace("password: hunter2-basic-auth", "password: hunter2-basic-auth-rotated");
    p.write("prometheus/prometheus.yml", &drifted);
    for args in [&["status"][..], &["history"], &["rollback", "--yes"]] {
        let run = p.run(args);
        assert_masked(&args.join(" "), &run.stdout);
        assert_masked(&args.join(" "), &run.stderr);
    }
}

#[test]
fn an_error_quoting_a_secret_line_masks_it() {
    let p = stack_with_secrets();
    // Break the line that holds the password: the error's snippet shows that line.
    let broken = p.read("prometheus/prometheus.yml").replace(
        "      password: hunter2-basic-auth",
        "      password: hunter2-basic-auth: [",
    );
    p.write("prometheus/prometheus.yml", &broken);
    let run = p.run(["plan"]);
    run.code(1);
    assert!(run.stderr.contains("--> prometheus/prometheus.yml:"), "{}", run.stderr);
    assert_masked("the error", &run.stderr);
}

#[test]
fn the_patch_file_keeps_the_real_bytes_and_only_its_owner_reads_it() {
    let p = stack_with_secrets();
    let patch = p.path().parent().unwrap().join("remove.patch");
    let run = p.run(["plan", "remove", "--patch", patch.to_str().unwrap()]);
    run.success();
    assert_masked("plan --patch", &run.stdout);
    let bytes = std::fs::read_to_string(&patch).unwrap();
    assert!(bytes.contains("DB_PASSWORD=s3cr3t-db-password"), "{bytes}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&patch).unwrap().permissions().mode() & 0o777, 0o600);
}

/// The forms the first masker missed (issue 13): a block scalar, `DB_PASS`,
/// an empty URL user, JSON-escaped slashes, a flow list of bearer tokens, a
/// value with an escaped quote and a space, `privateKey` and `Pass` keys.
const MORE_SECRETS: &[&str] = &[
    "block-secret-94",
    "block-secret-line-two",
    "dbpass-91",
    "redis-pw-92",
    "bearer-token-93",
    "json-pw-95",
    "pk-96",
    "pass-97",
];

#[test]
fn block_scalars_env_urls_flow_lists_and_json_keys_are_masked_in_diffs_and_json() {
    let p = pullover().stack("seed");
    let prometheus = p.read("prometheus/prometheus.yml").replace(
        "  - job_name: pushgateway\n    honor_labels: true\n",
        "  - job_name: pushgateway\n    honor_labels: true\n    authorization:\n      credentials: |\n        block-secret-94\n        block-secret-line-two\n",
    );
    p.write("prometheus/prometheus.yml", &prometheus);
    let compose = p.read("docker-compose.yml").replace(
        "    image: prom/pushgateway:v1.5.1\n",
        "    image: prom/pushgateway:v1.5.1\n    environment:\n      DB_PASS: \"dbpass-91 with \\\"quote\"\n      REDIS_URL: redis://:redis-pw-92@redis:6379/0\n      JSON_URL: \"http:\\/\\/admin:json-pw-95@grafana\"\n    labels:\n      secrets: [\"Bearer bearer-token-93\"]\n      keys: {\"privateKey\": \"pk-96\", \"Pass\": \"pass-97\"}\n",
    );
    p.write("docker-compose.yml", &compose);
    for args in [&["plan", "remove"][..], &["--format", "json", "plan", "remove"]] {
        let run = p.run(args);
        run.success();
        // The secrets are in the diff (the remove phase deletes them), masked.
        assert!(
            run.stdout.contains("DB_PASS") && run.stdout.contains("credentials"),
            "{}",
            run.stdout
        );
        for secret in MORE_SECRETS {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "`{}` prints {secret}:\n{}",
                args.join(" "),
                run.stdout
            );
        }
    }
}

#[test]
fn a_malformed_headers_line_is_named_by_number_not_printed() {
    let p = pullover().stack("seed").env(
        "PULLOVER_PROMETHEUS_HEADERS",
        "X-Scope-OrgID: t1\nAuthorization Bearer tok-from-env-98",
    );
    let run = p.run(["verify", "--prometheus-url", "http://127.0.0.1:9"]);
    run.code(1);
    assert!(
        run.stderr.contains("line 2 of PULLOVER_PROMETHEUS_HEADERS has no `:`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("tok-from-env-98"), "{}", run.stderr);
}
