//! Python (prometheus_client): which statements are push logic.
//!
//! Certain push logic: `push_to_gateway` / `pushadd_to_gateway` / `delete_from_gateway` calls.
//! Then, with the shared rules: a function whose body went (and its calls), a `while True:`
//! push loop (only inside something that goes too) and the thread that runs it.

use std::sync::LazyLock;

use regex::Regex;

use super::{Engine, Fate, balanced_end};
use crate::phase::remove::push_code::outline::Stmt;

impl Engine<'_> {
    pub(super) fn py_fate(&mut self, stmt: &Stmt, shape: &str) -> Option<Fate> {
        static PUSH: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:await\s+)?(?:[\w.]+\.)?(?:push_to_gateway|pushadd_to_gateway|delete_from_gateway)\s*\(")
                .expect("static regex")
        });
        // A plain function, or one registered as a lifecycle hook (`@app.on_event("startup")`):
        // with nothing left to run, the hook goes too. Other decorators (routes) stay.
        static DEF: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"^(?:@\w+(?:\.\w+)*\.on_event\s*\(\s*(?:'\s*'|"\s*")\s*\)\s+)?(?:async\s+)?def\s+(\w+)\s*\("#)
                .expect("static regex")
        });
        static FOREVER: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^while\s+(?:True|1)\s*:$").expect("static regex"));
        static CALL: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:await\s+)?(\w+)\s*\((?:\s*(?:'\s*'|\x22\s*\x22|[\w.]+)\s*,?)*\)$").expect("static regex")
        });
        static THREAD: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:threading\.)?Thread\s*\(\s*target\s*=\s*(\w+)\s*(?:,\s*daemon\s*=\s*True\s*)?\)\s*\.\s*start\s*\(\s*\)$")
                .expect("static regex")
        });
        if stmt.blocks.is_empty()
            && let Some(m) = PUSH.find(shape)
            && balanced_end(shape, m.end() - 1).is_some_and(|end| end == shape.len())
        {
            return self.kill(None);
        }
        if stmt.blocks.len() == 1
            && self.emptied(&stmt.blocks[0])
            && let Some(caps) = DEF.captures(shape)
        {
            let name = caps.get(1)?.as_str().to_string();
            return self.kill(Some(&name));
        }
        if let Some(caps) = CALL.captures(shape).or_else(|| THREAD.captures(shape))
            && self.names.contains(caps.get(1)?.as_str())
        {
            return self.kill(None);
        }
        // `while True:` around only the push and a sleep: a push loop. It goes only inside
        // something that goes too (checked in `check_loops`), or the code after it would run.
        if stmt.blocks.len() == 1 && FOREVER.is_match(shape) && self.idle(&stmt.blocks[0]) {
            self.loops.insert(stmt.first);
            return self.kill(None);
        }
        None
    }
}
