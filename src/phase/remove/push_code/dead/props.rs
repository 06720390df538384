//! Property: wherever the push logic sits among the app's other code, and however the
//! file is written (indentation unit, quotes, semicolons, CRLF), removing it leaves every
//! other line byte for byte, in order; only the lines of the push logic go (and blank
//! lines beside them), and the one import line loses only the names it no longer needs.

use proptest::prelude::*;

use super::{Lang, remove};

/// What must become of a line the generator wrote.
#[derive(Debug, Clone)]
enum Line {
    Keep,
    Gone,
    Becomes(String),
}

#[derive(Debug, Clone)]
struct Piece(Vec<(String, Line)>);

fn piece(lines: &[(&str, Line)]) -> Piece {
    Piece(lines.iter().map(|(l, f)| (l.to_string(), f.clone())).collect())
}

/// `'` → the quote, `~` → one indentation unit, `;` at the end kept or not.
fn styled(line: &str, quote: char, unit: &str, semicolons: bool) -> String {
    let mut out = line.replace('\'', &quote.to_string()).replace('~', unit);
    if !semicolons && out.ends_with(';') {
        out.pop();
    }
    out
}

fn js_pieces() -> (Vec<Piece>, Vec<Piece>) {
    use Line::{Gone, Keep};
    let keep = vec![
        piece(&[("const PORT = Number(process.env.PORT || 3000);", Keep)]),
        piece(&[("client.collectDefaultMetrics();", Keep)]),
        piece(&[
            ("app.get('/a', (req, res) => {", Keep),
            ("~res.send('a');", Keep),
            ("});", Keep),
        ]),
        piece(&[("function helper(x) {", Keep), ("~return x * 2;", Keep), ("}", Keep)]),
        piece(&[("const items = [];", Keep), ("items.push(1);", Keep)]),
    ];
    let gone = vec![
        piece(&[(
            "const GATEWAY_URL = process.env.PUSHGATEWAY_URL || 'http://pg:9091';",
            Gone,
        )]),
        piece(&[(
            "const gateway = new client.Pushgateway(GATEWAY_URL, {}, client.register);",
            Gone,
        )]),
        piece(&[
            ("setInterval(() => {", Gone),
            ("~gateway.pushAdd({ jobName: 'a' }).catch(() => {});", Gone),
            ("}, 1000);", Gone),
        ]),
        piece(&[
            ("async function pushNow() {", Gone),
            ("~try {", Gone),
            ("~~await gateway.push({ jobName: 'b' });", Gone),
            ("~} catch (err) {", Gone),
            ("~~console.error(err);", Gone),
            ("~}", Gone),
            ("}", Gone),
        ]),
        piece(&[("const timer = setInterval(pushNow, 5000);", Gone)]),
        piece(&[
            ("function stop() {", Keep),
            ("~clearInterval(timer);", Gone),
            ("~items.length = 0;", Keep),
            ("}", Keep),
        ]),
    ];
    (keep, gone)
}

fn py_pieces() -> (Vec<Piece>, Vec<Piece>) {
    use Line::{Gone, Keep};
    let keep = vec![
        piece(&[("PORT = int(os.environ.get('PORT', '8000'))", Keep)]),
        piece(&[("count = Counter('c', 'h', registry=registry)", Keep)]),
        piece(&[("def work():", Keep), ("~count.inc()", Keep)]),
        piece(&[("def main():", Keep), ("~work()", Keep), ("~push()", Gone)]),
    ];
    let gone = vec![
        piece(&[("GW = os.environ.get('PUSHGATEWAY', 'pg:9091')", Gone)]),
        piece(&[
            ("def push():", Gone),
            ("~try:", Gone),
            ("~~push_to_gateway(GW, job='a', registry=registry)", Gone),
            ("~except OSError:", Gone),
            ("~~pass", Gone),
        ]),
    ];
    (keep, gone)
}

fn file_strategy(lang: Lang) -> impl Strategy<Value = (String, Vec<(String, Line)>)> {
    let (keep, gone) = match lang {
        Lang::Js => js_pieces(),
        Lang::Python => py_pieces(),
        Lang::Go | Lang::Java => (Vec::new(), Vec::new()),
    };
    let pieces: Vec<Piece> = keep.into_iter().chain(gone).collect();
    let units = prop_oneof![Just("  "), Just("    "), Just("\t")];
    let quotes = prop_oneof![Just('\''), Just('"')];
    (
        Just(pieces).prop_shuffle(),
        units,
        quotes,
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(any::<bool>(), 16),
    )
        .prop_map(move |(pieces, unit, quote, semicolons, crlf, blanks)| {
            let newline = if crlf { "\r\n" } else { "\n" };
            let semicolons = semicolons && lang == Lang::Js;
            let mut lines: Vec<(String, Line)> = Vec::new();
            if lang == Lang::Python {
                lines.push(("import os".into(), Line::Keep));
                lines.push((
                    "from prometheus_client import CollectorRegistry, Counter, push_to_gateway".into(),
                    Line::Becomes("from prometheus_client import CollectorRegistry, Counter".into()),
                ));
                lines.push(("registry = CollectorRegistry()".into(), Line::Keep));
            } else {
                lines.push((
                    styled("const client = require('prom-client');", quote, unit, semicolons),
                    Line::Keep,
                ));
                lines.push((styled("const app = express();", quote, unit, semicolons), Line::Keep));
            }
            for (n, Piece(piece)) in pieces.iter().enumerate() {
                // Python needs a blank line or none between definitions; either is fine.
                if blanks.get(n).copied().unwrap_or(false) || lang == Lang::Python {
                    lines.push((String::new(), Line::Keep));
                }
                for (line, fate) in piece {
                    lines.push((styled(line, quote, unit, semicolons), fate.clone()));
                }
            }
            let text: String = lines.iter().map(|(l, _)| format!("{l}{newline}")).collect();
            let lines = lines.into_iter().map(|(l, f)| (format!("{l}{newline}"), f)).collect();
            (text, lines)
        })
}

fn check(lang: Lang, text: &str, lines: &[(String, Line)]) -> Result<(), TestCaseError> {
    let removal = remove(text, lang).map_err(|r| TestCaseError::fail(format!("{r:?}\n{text}")))?;
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let expected: Vec<String> = lines
        .iter()
        .filter_map(|(line, fate)| match fate {
            Line::Keep if !line.trim().is_empty() => Some(line.clone()),
            Line::Becomes(to) => Some(format!("{to}{newline}")),
            _ => None,
        })
        .collect();
    let got: Vec<String> = removal
        .after
        .split_inclusive('\n')
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    prop_assert_eq!(got, expected, "\n{}\n---\n{}", text, removal.after);
    let blank_before = text.split_inclusive('\n').filter(|l| l.trim().is_empty()).count();
    let blank_after = removal
        .after
        .split_inclusive('\n')
        .filter(|l| l.trim().is_empty())
        .count();
    prop_assert!(blank_after <= blank_before);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn js_push_logic_goes_and_every_other_line_stays((text, lines) in file_strategy(Lang::Js)) {
        check(Lang::Js, &text, &lines)?;
    }

    #[test]
    fn python_push_logic_goes_and_every_other_line_stays((text, lines) in file_strategy(Lang::Python)) {
        check(Lang::Python, &text, &lines)?;
    }
}
