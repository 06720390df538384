//! promql-parser as pullover calls it: with the 2.x-only functions registered, and its panics
//! contained. Every file of `promql/` that asks "does this parse?" asks here.

use std::sync::Once;

use promql_parser::parser::function::{Function, register_extra_functions};
use promql_parser::parser::value::ValueType;

/// Whether promql-parser reads `masked`, or its message. It panics on some input (a bare number
/// of seconds too large for a duration, `x[1e70]`): that is a query it cannot read, too.
pub(crate) fn parses(masked: &str) -> Result<(), String> {
    register_parser_extensions();
    crate::contained::contain(|| promql_parser::parser::parse(masked).map(drop))
        .unwrap_or_else(|| Err("the PromQL parser cannot read this query (it gave up on it)".to_string()))
}

/// Registers with promql-parser what 2.x accepts and 3.x does not, under the 2.x names, so
/// such queries parse with every byte as written. Which server accepts them is
/// `dialect::findings`' business. Idempotent.
fn register_parser_extensions() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // `holt_winters(range, sf, tf)`: renamed `double_exponential_smoothing` in 3.0.
        let holt_winters = Function::new(
            "holt_winters",
            vec![ValueType::Matrix, ValueType::Scalar, ValueType::Scalar],
            0,
            ValueType::Vector,
            false,
        );
        // It only fails when the name is built in, which would make this registration moot.
        let _ = register_extra_functions(vec![holt_winters]);
    });
}
