//! Go (client_golang): which statements are push logic, and what only served them.
//!
//! Certain push logic: the pusher (`p := push.New(url, "job")…` with its chain), its
//! `Push()` / `Add()` / `Delete()` calls (as a statement, in `go`, assigned to `_`, or in
//! `if err := …; err != nil { log… }` whose body only logs). Then, to a fixed point: a
//! function whose body went (and its calls, `go` or not), `go func() { … }()` whose body went,
//! a `for` loop whose body went (only inside something that goes too, as in Python), a local
//! whose readers all went (with its `defer t.Stop()` and `if x == "" { x = … }` default), a
//! top-level function only the removed code called, and every import nothing kept reads —
//! Go refuses unused imports and unused locals, so a local left unread or a name left
//! undeclared makes the file a person's.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use super::{Engine, Fate, Op, Refusal, balanced_end, word_count};
use crate::phase::remove::push_code::outline::{Lang, Stmt};

/// `rest` is `.Name(…)` links only (spaces between), and the last link's name.
fn chain(rest: &str) -> Option<String> {
    let mut rest = rest.trim_start();
    let mut last = String::new();
    while let Some(after) = rest.strip_prefix('.') {
        let after = after.trim_start();
        let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let call = after.get(name.len()..)?.trim_start();
        if name.is_empty() || !call.starts_with('(') {
            return None;
        }
        let end = balanced_end(call, 0)?;
        rest = call.get(end..)?.trim_start();
        last = name;
    }
    rest.is_empty().then_some(last)
}

const PUSH_ACTIONS: &[&str] = &["Push", "Add", "Delete", "PushContext", "AddContext"];

static DECL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:var\s+(?P<v>\w+)(?:\s+[\w.*\[\]]+)?\s*=|(?P<n>\w+)\s*:=)\s*").expect("static regex")
});

impl Engine<'_> {
    /// `push.New(…)` with its chain: whether it ends in a push action.
    fn go_pusher(&self, expr: &str) -> Option<bool> {
        static NEW: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^push\s*\.\s*New\s*\(").expect("static regex"));
        let new = NEW.find(expr)?;
        let end = balanced_end(expr, new.end() - 1)?;
        let last = chain(expr.get(end..)?)?;
        Some(PUSH_ACTIONS.contains(&last.as_str()))
    }

    /// A push: `p.Push()` on a removed pusher, or `push.New(…)….Add()`.
    fn go_push_expr(&self, expr: &str) -> bool {
        static ON: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(\w+)\s*\.").expect("static regex"));
        if self.go_pusher(expr) == Some(true) {
            return true;
        }
        let Some(caps) = ON.captures(expr) else { return false };
        let (Some(name), Some(whole)) = (caps.get(1), caps.get(0)) else {
            return false;
        };
        self.names.contains(name.as_str())
            && chain(expr.get(whole.end() - 1..).unwrap_or(""))
                .is_some_and(|last| PUSH_ACTIONS.contains(&last.as_str()))
    }

    /// Every statement of the block is a log line (or there is none).
    fn go_only_logs(&self, stmt: &Stmt) -> bool {
        static LOG: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:log|fmt|slog|logger|\w*[Ll]og\w*)\s*\.\s*\w+\s*\(.*\)$").expect("static regex")
        });
        stmt.blocks.len() == 1
            && stmt.blocks[0]
                .stmts
                .iter()
                .all(|s| s.blocks.is_empty() && LOG.is_match(&self.shape(s)))
    }

    pub(super) fn go_fate(&mut self, stmt: &Stmt, shape: &str) -> Option<Fate> {
        static IF_PUSH: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^if\s+(?P<err>\w+)\s*:?=\s*(?P<expr>.+?)\s*;\s*(?P<again>\w+)\s*!=\s*nil\s*\{\s*\}$")
                .expect("static regex")
        });
        static STMT: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^(?:go\s+|defer\s+|_\s*=\s*)?(?P<expr>.+)$").expect("static regex"));
        static FUNC: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^func\s+(\w+)\s*\(.*\{\s*\}$").expect("static regex"));
        static CALL: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"^(?:go\s+|defer\s+)?(\w+)\s*\((?:\s*(?:"\s*"|[\w.&*]+)\s*,?)*\)$"#).expect("static regex")
        });
        static GO_FUNC: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:go|defer)\s+func\s*\([^)]*\)\s*\{\s*\}\s*\([^()]*\)$").expect("static regex")
        });
        static FOR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^for\b[^{]*\{\s*\}$").expect("static regex"));
        static STOP: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^(?:defer\s+)?(\w+)\s*\.\s*Stop\s*\(\s*\)$").expect("static regex"));

        if stmt.blocks.is_empty() {
            if let Some(caps) = DECL.captures(shape) {
                let name = caps.name("v").or(caps.name("n"))?.as_str().to_string();
                let rest = shape.get(caps.get(0)?.end()..)?;
                match self.go_pusher(rest) {
                    Some(false) => return self.kill(Some(&name)),
                    // `err := p.Push()`: its `if err != nil` is judged with it (below).
                    Some(true) => return self.kill(None),
                    None if self.go_push_expr(rest) => return self.kill(None),
                    None => {}
                }
            }
            if let Some(expr) = STMT.captures(shape).and_then(|c| c.name("expr"))
                && self.go_push_expr(expr.as_str())
            {
                return self.kill(None);
            }
            if let Some(caps) = CALL.captures(shape)
                && self.names.contains(caps.get(1)?.as_str())
            {
                return self.kill(None);
            }
            if let Some(caps) = STOP.captures(shape)
                && self.names.contains(caps.get(1)?.as_str())
            {
                return self.kill(None);
            }
            return None;
        }
        if stmt.blocks.len() != 1 {
            return None;
        }
        let block = &stmt.blocks[0];
        if let Some(caps) = IF_PUSH.captures(shape)
            && caps.name("err")?.as_str() == caps.name("again")?.as_str()
            && self.go_push_expr(caps.name("expr")?.as_str())
            && self.go_only_logs(stmt)
        {
            return self.kill(None);
        }
        if self.go_setter_of(stmt).is_some_and(|name| self.names.contains(&name)) {
            return self.kill(None);
        }
        if block.keyword == "function" && self.emptied(block) {
            if let Some(caps) = FUNC.captures(shape) {
                let name = caps.get(1)?.as_str();
                if name != "main" && name != "init" {
                    let name = name.to_string();
                    return self.kill(Some(&name));
                }
            }
            if GO_FUNC.is_match(shape) {
                return self.kill(None);
            }
        }
        if block.keyword == "for" && FOR.is_match(shape) && self.idle(block) {
            self.loops.insert(stmt.first);
            return self.kill(None);
        }
        None
    }

    /// The settings, locals, helper functions and imports only the removed code read: at every
    /// depth (a Go local left unread does not compile), to a fixed point. Java's go the same
    /// way, by its own rules (`java.rs`).
    pub(super) fn brace_settings_and_imports(&mut self, top: &[Stmt]) {
        // Each round removes one statement more: at most one round a line.
        for _ in 0..=self.o.lines.len() {
            let (removed, _) = self.partition(top);
            let mut open: Vec<Stmt> = Vec::new();
            collect_open(self, top, &mut open);
            let mut changed = false;
            for stmt in &open {
                let shape = self.shape(stmt);
                let binding = match self.o.lang {
                    Lang::Java => self.java_binding(stmt, &shape),
                    _ => self.go_binding(stmt, &shape, top),
                };
                if let Some(name) = binding
                    && word_count(&removed, &name) > 0
                    && !self.read_outside_helpers(top, stmt, &name)
                {
                    self.fates.insert(stmt.first, Fate::Dead);
                    self.names.insert(name);
                    changed = true;
                }
                if changed {
                    break;
                }
            }
            if !changed {
                break;
            }
            // What the new names free: their `Stop()`, their defaults.
            loop {
                let before = self.progress();
                for stmt in top {
                    self.visit(stmt);
                }
                if self.progress() == before {
                    break;
                }
            }
        }
        self.drop_unread_imports(top);
    }

    /// The name a removable Go statement binds: a local or package variable set from the
    /// environment, literals, `time`/`strconv` and this file's own functions; or a top-level
    /// function (not `main`/`init`).
    fn go_binding(&self, stmt: &Stmt, shape: &str, top: &[Stmt]) -> Option<String> {
        static FUNC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^func\s+(\w+)\s*\(").expect("static regex"));
        static TOKEN: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"[A-Za-z_][\w]*(?:\s*\.\s*[A-Za-z_]\w*)*").expect("static regex"));
        if !stmt.blocks.is_empty() {
            let name = FUNC.captures(shape)?.get(1)?.as_str();
            let at_top = top.iter().any(|s| s.first == stmt.first);
            return (at_top && name != "main" && name != "init").then(|| name.to_string());
        }
        let caps = DECL.captures(shape)?;
        let name = caps.name("v").or(caps.name("n"))?.as_str().to_string();
        let rhs = shape.get(caps.get(0)?.end()..)?;
        let own: BTreeSet<String> = top
            .iter()
            .filter_map(|s| {
                FUNC.captures(&self.shape(s))
                    .and_then(|c| c.get(1))
                    .map(|m| m.as_str().to_string())
            })
            .collect();
        let pure = TOKEN.find_iter(rhs).all(|t| {
            let token: String = t.as_str().split_whitespace().collect();
            token.starts_with("time.")
                || token.starts_with("strconv.")
                || matches!(
                    token.as_str(),
                    "os.Getenv" | "os.LookupEnv" | "float64" | "int" | "int64" | "string" | "true" | "false"
                )
                || own.contains(&token)
        });
        pure.then_some(name)
    }

    /// The imports, last: they free nothing else.
    fn drop_unread_imports(&mut self, top: &[Stmt]) {
        let (removed, _) = self.partition(top);
        let fates: Vec<(usize, Fate)> = top
            .iter()
            .filter(|s| !self.fates.contains_key(&s.first))
            .filter_map(|s| {
                match self.o.lang {
                    Lang::Java => self.java_imports(top, s, &removed),
                    _ => self.go_imports(top, s, &removed),
                }
                .map(|f| (s.first, f))
            })
            .collect();
        self.fates.extend(fates);
    }

    /// The setting an `if` only sets: `if x == "" { x = "…" }`, `if s, err := strconv.ParseFloat(
    /// os.Getenv("…"), 64); err == nil { x = … }` — one assignment in its body, no `else`, and a
    /// condition and value built from the environment, `strconv`, `time` and literals.
    fn go_setter_of(&self, stmt: &Stmt) -> Option<String> {
        static IF: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^if\s+(?P<cond>.*)\{\s*\}$").expect("static regex"));
        static SET: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^(?P<name>\w+)\s*=\s*(?P<value>[^=].*)$").expect("static regex"));
        static BOUND: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^\s*(?P<names>\w+(?:\s*,\s*\w+)*)\s*:=").expect("static regex"));
        static TOKEN: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*").expect("static regex"));
        let [block] = stmt.blocks.as_slice() else { return None };
        let [only] = block.stmts.as_slice() else { return None };
        if !only.blocks.is_empty() {
            return None;
        }
        let cond = IF.captures(&self.shape(stmt))?.name("cond")?.as_str().to_string();
        let set_shape = self.shape(only);
        let set = SET.captures(&set_shape)?;
        let name = set.name("name")?.as_str().to_string();
        let mut allowed: Vec<String> = vec![name.clone(), "nil".into(), "true".into(), "false".into()];
        if let Some(bound) = BOUND.captures(&cond).and_then(|c| c.name("names")) {
            allowed.extend(bound.as_str().split(',').map(|n| n.trim().to_string()));
        }
        let pure = |code: &str| {
            TOKEN.find_iter(code).all(|t| {
                let token: String = t.as_str().split_whitespace().collect();
                token.starts_with("time.")
                    || token.starts_with("strconv.")
                    || matches!(
                        token.as_str(),
                        "os.Getenv" | "os.LookupEnv" | "float64" | "int" | "int64" | "string"
                    )
                    || allowed.contains(&token)
            })
        };
        (pure(&cond) && pure(set.name("value")?.as_str())).then_some(name)
    }

    /// Whether `name` is read outside `stmt`, its `Stop()` and the `if` that only sets it
    /// ([`Engine::go_setter_of`]), and outside everything removed.
    pub(super) fn read_outside_helpers(&self, top: &[Stmt], stmt: &Stmt, name: &str) -> bool {
        let helper = Regex::new(&format!(
            r"^(?:defer\s+)?{}\s*\.\s*Stop\s*\(\s*\)$",
            regex::escape(name)
        ))
        .ok();
        let mut skipped: Vec<std::ops::RangeInclusive<usize>> = vec![stmt.first..=stmt.last];
        let mut all = Vec::new();
        collect_open(self, top, &mut all);
        for s in &all {
            if helper.as_ref().is_some_and(|h| h.is_match(&self.shape(s)))
                || self.go_setter_of(s).as_deref() == Some(name)
            {
                skipped.push(s.first..=s.last);
            }
        }
        let (_, kept) = self.partition(top);
        kept.iter()
            .filter(|(line, _)| !skipped.iter().any(|r| r.contains(line)))
            .any(|(_, code)| word_count(code, name) > 0)
    }

    /// An import block (or `import "x"`) without the packages only the removed code used.
    fn go_imports(&self, top: &[Stmt], stmt: &Stmt, removed: &str) -> Option<Fate> {
        static SPEC: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"^\s*(?:import\s+)?(?:(?P<alias>[\w.]+)\s+)?"(?P<path>[^"]+)"\s*(?://.*)?$"#)
                .expect("static regex")
        });
        if !top.iter().any(|s| s.first == stmt.first) || !self.o.code(stmt.first).trim_start().starts_with("import") {
            return None;
        }
        let mut specs = Vec::new();
        for i in stmt.first..=stmt.last {
            let line = self.o.lines.get(i)?;
            let text = self.text.get(line.start..line.end)?.trim_end_matches(['\n', '\r']);
            let Some(caps) = SPEC.captures(text) else { continue };
            let path = caps.name("path")?.as_str();
            let name = match caps.name("alias") {
                Some(alias) => alias.as_str().to_string(),
                None => path.rsplit('/').next()?.to_string(),
            };
            specs.push((i, name));
        }
        let gone: Vec<usize> = specs
            .iter()
            .filter(|(_, name)| {
                name != "_"
                    && name != "."
                    && word_count(removed, name) > 0
                    && !self.read_outside_helpers(top, stmt, name)
            })
            .map(|(i, _)| *i)
            .collect();
        if gone.is_empty() {
            return None;
        }
        if gone.len() == specs.len() {
            return Some(Fate::Dead);
        }
        Some(Fate::DropLines(gone))
    }

    /// Go compiles nothing that declares a local it never reads, or reads a name nothing
    /// declares: a local the removed code alone read, or an `err` the removed code declared and
    /// kept code still reads, leaves the file to a person.
    pub(super) fn go_check_locals(&self, top: &[Stmt], ops: &[Op]) -> Result<(), Refusal> {
        static LOCAL: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^\s*(?:var\s+(\w+)\b|(\w+)\s*:=)").expect("static regex"));
        let kept: Vec<(usize, &str)> = ops
            .iter()
            .enumerate()
            .filter(|(_, op)| matches!(op, Op::Keep | Op::Dedent(_)))
            .map(|(i, _)| (i, self.o.code(i)))
            .collect();
        let removed: String = ops
            .iter()
            .enumerate()
            .filter(|(_, op)| matches!(op, Op::Delete | Op::Replace(_)))
            .map(|(i, _)| format!("{}\n", self.o.code(i)))
            .collect();
        let top_lines: BTreeSet<usize> = top.iter().map(|s| s.first).collect();
        for (i, code) in &kept {
            let Some(caps) = LOCAL.captures(code) else { continue };
            let Some(name) = caps.get(1).or(caps.get(2)).map(|m| m.as_str()) else {
                continue;
            };
            if top_lines.contains(i) || name == "_" {
                continue;
            }
            // An assignment is no use to Go.
            let assigned = Regex::new(&format!(r"\b{}\s*=[^=]", regex::escape(name)))
                .map_or(0, |re| kept.iter().map(|(_, c)| re.find_iter(c).count()).sum::<usize>());
            let reads = kept
                .iter()
                .map(|(_, c)| word_count(c, name))
                .sum::<usize>()
                .saturating_sub(assigned);
            if reads <= 1 && word_count(&removed, name) > 0 {
                return Err(Refusal::new(
                    format!("`{name}` would be declared and not used once the push logic goes"),
                    i + 1,
                ));
            }
        }
        for (i, code) in ops
            .iter()
            .enumerate()
            .filter(|(_, op)| **op == Op::Delete)
            .map(|(i, _)| (i, self.o.code(i)))
        {
            let Some(caps) = LOCAL.captures(code) else { continue };
            let Some(name) = caps.get(1).or(caps.get(2)).map(|m| m.as_str()) else {
                continue;
            };
            let read = kept.iter().find(|(_, c)| word_count(c, name) > 0);
            let declared = kept.iter().any(|(_, c)| {
                LOCAL
                    .captures(c)
                    .is_some_and(|k| k.get(1).or(k.get(2)).is_some_and(|m| m.as_str() == name))
                    || Regex::new(&format!(
                        r"\b{}\b[^=\n]*:=|\(.*\b{}\s+[\w.*]",
                        regex::escape(name),
                        regex::escape(name)
                    ))
                    .is_ok_and(|re| re.is_match(c))
            });
            if let Some((line, _)) = read
                && !declared
            {
                let _ = i;
                return Err(Refusal::new(
                    format!("`{name}` is declared by the push logic and still read here"),
                    line + 1,
                ));
            }
        }
        Ok(())
    }
}

/// Every statement not yet given a fate, at any depth.
fn collect_open(engine: &Engine<'_>, stmts: &[Stmt], out: &mut Vec<Stmt>) {
    for stmt in stmts {
        if engine.fates.contains_key(&stmt.first) {
            continue;
        }
        out.push(stmt.clone());
        for block in &stmt.blocks {
            collect_open(engine, &block.stmts, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Lang, remove};

    const WORKER: &str = "package main\n\nimport (\n\t\"log\"\n\t\"os\"\n\t\"strconv\"\n\t\"time\"\n\n\t\"github.com/prometheus/client_golang/prometheus\"\n\t\"github.com/prometheus/client_golang/prometheus/push\"\n)\n\n// seconds reads a duration from the environment.\nfunc seconds(name string) time.Duration {\n\tv, _ := strconv.Atoi(os.Getenv(name))\n\treturn time.Duration(v) * time.Second\n}\n\nfunc main() {\n\tregistry := prometheus.NewRegistry()\n\n\tgateway := os.Getenv(\"PUSHGATEWAY_URL\")\n\tif gateway == \"\" {\n\t\tgateway = \"http://pushgateway:9091\"\n\t}\n\tpusher := push.New(gateway, \"w\").\n\t\tGatherer(registry)\n\n\t// Push every interval.\n\tticker := time.NewTicker(seconds(\"PUSH_INTERVAL_SECONDS\"))\n\tdefer ticker.Stop()\n\tgo func() {\n\t\tfor range ticker.C {\n\t\t\tif err := pusher.Add(); err != nil {\n\t\t\t\tlog.Printf(\"push failed: %v\", err)\n\t\t\t}\n\t\t}\n\t}()\n\n\tlog.Println(\"working\")\n\tfor {\n\t\twork(registry)\n\t}\n}\n";

    #[test]
    fn the_pusher_its_ticker_goroutine_settings_and_unused_imports_go() {
        let after = remove(WORKER, Lang::Go).unwrap();
        assert_eq!(
            after.after,
            "package main\n\nimport (\n\t\"log\"\n\n\t\"github.com/prometheus/client_golang/prometheus\"\n)\n\nfunc main() {\n\tregistry := prometheus.NewRegistry()\n\n\tlog.Println(\"working\")\n\tfor {\n\t\twork(registry)\n\t}\n}\n"
        );
    }

    #[test]
    fn a_push_loop_in_main_itself_or_an_error_still_read_is_left_to_a_person() {
        let in_main = "package main\n\nimport \"github.com/prometheus/client_golang/prometheus/push\"\n\nfunc main() {\n\twork()\n\tfor {\n\t\tpush.New(\"gw\", \"j\").Gatherer(r).Push()\n\t}\n}\n";
        assert_eq!(remove(in_main, Lang::Go).unwrap_err().line, 7);
        let err_read = "package main\n\nimport \"github.com/prometheus/client_golang/prometheus/push\"\n\nfunc main() {\n\terr := push.New(\"gw\", \"j\").Gatherer(r).Push()\n\tcheck(err)\n}\n";
        let refusal = remove(err_read, Lang::Go).unwrap_err();
        assert_eq!(refusal.line, 7, "{refusal:?}");
    }
}
