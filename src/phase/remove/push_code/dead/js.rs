//! JavaScript (prom-client): which statements are push logic.
//!
//! Certain push logic: `new Pushgateway(…)` and the `push` / `pushAdd` / `delete` calls on it.
//! Then, with the shared rules: a function whose body went (and its calls), a timer whose
//! callback went (with its `clearInterval`), a `finally` left with only the push.

use std::sync::LazyLock;

use regex::Regex;

use super::{Engine, Fate, balanced_end};
use crate::phase::remove::push_code::outline::Stmt;

impl Engine<'_> {
    pub(super) fn js_fate(&mut self, stmt: &Stmt, shape: &str) -> Option<Fate> {
        static GATEWAY: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:const|let|var)\s+([\w$]+)\s*=\s*new\s+(?:[\w$]+\.)?Pushgateway\s*\(")
                .expect("static regex")
        });
        static FUNCTION: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(concat!(
                r"^(?:(?:export\s+)?(?:async\s+)?function\s*\*?\s*(?P<f>[\w$]+)\s*\(",
                r"|(?:const|let|var)\s+(?P<v>[\w$]+)\s*=\s*(?:async\s+)?(?:function\b|\(|[\w$]+\s*=>))",
            ))
            .expect("static regex")
        });
        static TIMER: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:(?:const|let|var)\s+(?P<var>[\w$]+)\s*=\s*)?(?:setInterval|setTimeout)\s*\(")
                .expect("static regex")
        });
        static CLEAR: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:(?:clearInterval|clearTimeout)\s*\(\s*([\w$]+)\s*\)|([\w$]+)\s*\.\s*(?:unref|ref)\s*\(\s*\))\s*;?$")
                .expect("static regex")
        });
        static CALL: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:await\s+|void\s+)?([\w$]+)\s*\((?:\s*(?:'\s*'|\x22\s*\x22|[\w$.]+)\s*,?)*\)")
                .expect("static regex")
        });
        if let Some(caps) = GATEWAY.captures(shape) {
            let end = balanced_end(shape, caps.get(0)?.end() - 1)?;
            if shape.get(end..)?.trim().trim_end_matches(';').is_empty() {
                let name = caps.get(1)?.as_str().to_string();
                return self.kill(Some(&name));
            }
        }
        if stmt.blocks.is_empty() && self.js_push_expr(shape) {
            return self.kill(None);
        }
        if stmt.blocks.len() == 1
            && stmt.blocks[0].keyword == "function"
            && self.emptied(&stmt.blocks[0])
            && let Some(caps) = FUNCTION.captures(shape)
        {
            let name = caps.name("f").or(caps.name("v"))?.as_str().to_string();
            return self.kill(Some(&name));
        }
        if let Some(caps) = TIMER.captures(shape) {
            let open = caps.get(0)?.end() - 1;
            let end = balanced_end(shape, open)?;
            let args = shape.get(open + 1..end - 1)?;
            let rest = shape.get(end..)?.trim();
            let callback = crate::stack::app_code::split_arguments(args)
                .first()
                .copied()
                .unwrap_or("");
            if (rest.is_empty() || rest == ";" || rest.trim_end_matches(';').trim() == ".unref()")
                && self.js_dead_callback(stmt, callback)
            {
                let var = caps.name("var").map(|m| m.as_str().to_string());
                return self.kill(var.as_deref());
            }
        }
        if let Some(caps) = CLEAR.captures(shape)
            && self.names.contains(caps.get(1).or(caps.get(2))?.as_str())
        {
            return self.kill(None);
        }
        if stmt.blocks.is_empty()
            && let Some(caps) = CALL.captures(shape)
            && self.names.contains(caps.get(1)?.as_str())
        {
            let rest = shape.get(caps.get(0)?.end()..)?;
            if js_only_catches(rest) {
                return self.kill(None);
            }
            return self.js_finally_rewrite(stmt);
        }
        None
    }

    /// `gateway.pushAdd({…})`, awaited or not, with `.then`/`.catch`/`.finally` after it.
    fn js_push_expr(&self, expr: &str) -> bool {
        static PUSH: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:(?:await|return|void)\s+)?([\w$]+)\s*\.\s*(?:pushAdd|push|delete)\s*\(")
                .expect("static regex")
        });
        let Some(caps) = PUSH.captures(expr) else { return false };
        let (Some(name), Some(whole)) = (caps.get(1), caps.get(0)) else {
            return false;
        };
        if !self.names.contains(name.as_str()) {
            return false;
        }
        let Some(end) = balanced_end(expr, whole.end() - 1) else {
            return false;
        };
        js_only_chains(expr.get(end..).unwrap_or(""), &["then", "catch", "finally"])
    }

    /// A timer callback that does nothing but push: a removed function, `() => push()`,
    /// `() => gateway.pushAdd(…)`, or a function whose body went.
    fn js_dead_callback(&self, stmt: &Stmt, callback: &str) -> bool {
        static ARROW: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:async\s+)?(?:\(\s*\)\s*=>|function\s*[\w$]*\s*\(\s*\))\s*(?P<body>.*)$")
                .expect("static regex")
        });
        let callback = callback.trim();
        if self.names.contains(callback) {
            return true;
        }
        let Some(body) = ARROW.captures(callback).and_then(|c| c.name("body")) else {
            return false;
        };
        let body = body.as_str().trim();
        if body.starts_with('{') {
            return stmt.blocks.len() == 1 && self.emptied(&stmt.blocks[0]) && body.trim_end() == "{ }" || body == "{}";
        }
        if self.js_push_expr(body) {
            return true;
        }
        static CALL: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:await\s+)?([\w$]+)\s*\((?:\s*(?:'\s*'|\x22\s*\x22|[\w$.]+)\s*,?)*\)$")
                .expect("static regex")
        });
        CALL.captures(body)
            .and_then(|c| c.get(1))
            .is_some_and(|name| self.names.contains(name.as_str()))
    }

    /// `push().finally(() => process.exit(0));` without the push: `process.exit(0);`.
    fn js_finally_rewrite(&self, stmt: &Stmt) -> Option<Fate> {
        static FINALLY: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?P<indent>\s*)(?:await\s+|void\s+)?[\w$]+\s*\((?:\s*(?:'\s*'|\x22\s*\x22|[\w$.]+)\s*,?)*\)\s*\.\s*finally\s*\(\s*(?:async\s+)?\(\s*\)\s*=>\s*")
                .expect("static regex")
        });
        if stmt.first != stmt.last {
            return None;
        }
        let masked = self.o.code(stmt.first);
        let caps = FINALLY.captures(masked)?;
        let open =
            masked.get(..caps.get(0)?.start())?.len() + caps.get(0)?.as_str().rfind("finally")? + "finally".len();
        let open = open + masked.get(open..)?.find('(')?;
        let end = balanced_end(masked, open)?;
        let tail = masked.get(end..)?.trim();
        let body_start = caps.get(0)?.end();
        let body = masked.get(body_start..end - 1)?.trim();
        if !(tail.is_empty() || tail == ";") || body.starts_with('{') || body.is_empty() {
            return None;
        }
        let line = self.o.lines.get(stmt.first)?;
        let original = self.text.get(line.start..line.end)?.trim_end_matches(['\n', '\r']);
        let kept = original.get(body_start..end - 1)?.trim();
        let indent = caps.name("indent").map_or("", |m| m.as_str());
        Some(Fate::Replace(format!("{indent}{kept}{tail}")))
    }
}

/// `rest` is only `.name(…)` calls from `allowed`, then an optional `;`.
fn js_only_chains(rest: &str, allowed: &[&str]) -> bool {
    let mut rest = rest.trim_start();
    loop {
        if rest.is_empty() || rest == ";" {
            return true;
        }
        let Some(after_dot) = rest.strip_prefix('.') else {
            return false;
        };
        let after_dot = after_dot.trim_start();
        let Some(name) = allowed.iter().find(|n| after_dot.starts_with(**n)) else {
            return false;
        };
        let call = after_dot[name.len()..].trim_start();
        if !call.starts_with('(') {
            return false;
        }
        let Some(end) = balanced_end(call, 0) else { return false };
        rest = call[end..].trim_start();
    }
}

/// `rest` after a call of a removed function is only `.catch(…)` (its errors, gone with it).
fn js_only_catches(rest: &str) -> bool {
    js_only_chains(rest, &["catch"])
}
