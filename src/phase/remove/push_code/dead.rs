//! Which statements of one file are push logic, and the file without them.
//!
//! It starts from what certainly pushes: prom-client's `new Pushgateway(…)` and the calls on
//! it, prometheus_client's `push_to_gateway` / `pushadd_to_gateway` / `delete_from_gateway`
//! calls. Then, to a fixed point, what only served them: a function whose body was only push
//! logic (and the calls of it), a timer whose callback was (and its `clearInterval`), a
//! `try` around nothing else, and at last the top-level settings, requires and imported names
//! nothing else reads any more. A name that is removed but still read elsewhere, or a push
//! call in a shape not listed here, makes the whole file a person's (with the line).

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use regex::Regex;

use super::outline::{Block, Lang, Outline, Stmt};

mod go;
mod java;

/// The file without its push logic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub after: String,
    /// Lines (1-based, in the file after the edit) whose comments or strings still speak of
    /// pushing: words for a person to reword, never code.
    pub mentions: Vec<usize>,
}

/// Why the file is left for a person, at which line (1-based, in the file as read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: String,
    pub line: usize,
}

impl Refusal {
    fn new(reason: impl Into<String>, line: usize) -> Refusal {
        Refusal {
            reason: reason.into(),
            line,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    Dead,
    /// The statement (one line) becomes this line.
    Replace(String),
    /// These lines of the statement go (names in a multi-line import).
    DropLines(Vec<usize>),
    /// Block `n` (a `finally` whose body went) goes; the rest stays.
    DropBlock(usize),
    /// Only block `n`'s body stays, dedented to the statement (a `try`/`finally` with one side left).
    Unwrap(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Keep,
    Delete,
    Replace(String),
    Dedent(usize),
}

pub fn remove(text: &str, lang: Lang) -> Result<Removal, Refusal> {
    let outline = Outline::read(text, lang).ok_or_else(|| {
        Refusal::new(
            "pullover cannot read its statements (unbalanced brackets or indentation it does not follow)",
            1,
        )
    })?;
    let mut engine = Engine {
        text,
        o: outline,
        fates: HashMap::new(),
        names: BTreeSet::new(),
        loops: BTreeSet::new(),
    };
    engine.run()
}

struct Engine<'t> {
    text: &'t str,
    o: Outline,
    /// By the statement's first line.
    fates: HashMap<usize, Fate>,
    /// Names whose declaration is removed: nothing left may read them.
    names: BTreeSet<String>,
    /// Push loops among the removed statements (by first line).
    loops: BTreeSet<usize>,
}

static WS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+").expect("static regex"));

impl Engine<'_> {
    fn run(&mut self) -> Result<Removal, Refusal> {
        let top = self.o.top.clone();
        loop {
            let before = self.progress();
            for stmt in &top {
                self.visit(stmt);
            }
            if self.progress() == before {
                break;
            }
        }
        if !self.fates.values().any(|f| *f == Fate::Dead) {
            let line = self.first_push_line().unwrap_or(1);
            return Err(Refusal::new(
                "found no push call in a shape pullover removes (a statement of its own)",
                line,
            ));
        }
        if matches!(self.o.lang, Lang::Go | Lang::Java) {
            self.brace_settings_and_imports(&top);
        } else {
            self.settings_and_imports(&top);
        }
        let ops = self.ops(&top)?;
        self.check_left(&ops)?;
        if self.o.lang == Lang::Go {
            self.go_check_locals(&top, &ops)?;
        }
        self.check_no_empty_block(&top, &ops)?;
        self.check_loops(&top, false)?;
        Ok(self.render(ops))
    }

    fn progress(&self) -> (usize, usize, usize) {
        let dead = self.fates.values().filter(|f| **f == Fate::Dead).count();
        (dead, self.fates.len(), self.names.len())
    }

    fn dead(&self, stmt: &Stmt) -> bool {
        self.fates.get(&stmt.first) == Some(&Fate::Dead)
    }

    /// A block whose statements all go (at least one of them push logic).
    fn emptied(&self, block: &Block) -> bool {
        block.stmts.iter().any(|s| self.dead(s)) && block.stmts.iter().all(|s| self.dead(s) || self.trivial(s))
    }

    /// `pass`, `...`, a docstring, a log line: nothing left to run once the push beside it goes.
    fn trivial(&self, stmt: &Stmt) -> bool {
        static PY: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(
                r#"^(?:pass|\.\.\.|(?:[rbuRBU]?(?:"""|'''|"|')\s*)+|(?:print|log|logger|logging)(?:\.\w+)?\s*\(.*\))$"#,
            )
            .expect("static regex")
        });
        static JS: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^console\.\w+\s*\(.*\)\s*;?$").expect("static regex"));
        static GO: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^(?:log|fmt|slog)\.\w+\s*\(.*\)$").expect("static regex"));
        static JAVA: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(
                r"^(?:System\.(?:out|err)\.print\w*|(?:log|logger|LOG|LOGGER)\.\w+|\w+\.printStackTrace)\s*\(.*\)\s*;$",
            )
            .expect("static regex")
        });
        let filler = match self.o.lang {
            Lang::Python => &PY,
            Lang::Js => &JS,
            Lang::Go => &GO,
            Lang::Java => &JAVA,
        };
        let shape = self.shape(stmt);
        // A log line is filler only where it speaks of the push (`log.info("pushing")`).
        let log_line = !shape.starts_with(['"', '\'']) && shape != "pass" && shape != "...";
        stmt.blocks.is_empty()
            && filler.is_match(&shape)
            && (!log_line || (stmt.first..=stmt.last).any(|i| PUSH_WORDS.is_match(&self.prose(i))))
    }

    /// The statement's masked code without its blocks' bodies, spaces collapsed.
    fn shape(&self, stmt: &Stmt) -> String {
        let mut code = String::new();
        for i in stmt.first..=stmt.last {
            if stmt.blocks.iter().any(|b| b.content.contains(&i)) {
                continue;
            }
            code.push_str(self.o.code(i));
            code.push(' ');
        }
        WS.replace_all(code.trim(), " ").into_owned()
    }

    fn visit(&mut self, stmt: &Stmt) {
        for block in &stmt.blocks {
            for child in &block.stmts {
                self.visit(child);
            }
        }
        // Only a removal is final: a `try` judged while its body was still being read is
        // judged again on the next round.
        if matches!(
            self.fates.get(&stmt.first),
            Some(Fate::Dead | Fate::Replace(_) | Fate::DropLines(_))
        ) {
            return;
        }
        let shape = self.shape(stmt);
        let fate = match self.o.lang {
            Lang::Js => self.js_fate(stmt, &shape),
            Lang::Python => self.py_fate(stmt, &shape),
            Lang::Go => self.go_fate(stmt, &shape),
            Lang::Java => self.java_fate(stmt, &shape),
        };
        match fate.or_else(|| self.try_fate(stmt)) {
            Some(fate) => self.fates.insert(stmt.first, fate),
            None => self.fates.remove(&stmt.first),
        };
    }

    fn kill(&mut self, name: Option<&str>) -> Option<Fate> {
        if let Some(name) = name {
            self.names.insert(name.to_string());
        }
        Some(Fate::Dead)
    }

    fn js_fate(&mut self, stmt: &Stmt, shape: &str) -> Option<Fate> {
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

    fn py_fate(&mut self, stmt: &Stmt, shape: &str) -> Option<Fate> {
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

    /// A loop body left with nothing but sleeps once its push logic goes.
    fn idle(&self, block: &Block) -> bool {
        static SLEEP: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:await\s+)?(?:time\.|asyncio\.)?(?:sleep|Sleep)\s*\(.*\)$").expect("static regex")
        });
        block.stmts.iter().any(|s| self.dead(s))
            && block
                .stmts
                .iter()
                .all(|s| self.dead(s) || self.trivial(s) || (s.blocks.is_empty() && SLEEP.is_match(&self.shape(s))))
    }

    /// A push loop removed on its own would end where it ran forever: refused.
    fn check_loops(&self, stmts: &[Stmt], inside_removed: bool) -> Result<(), Refusal> {
        for stmt in stmts {
            let dead = self.dead(stmt);
            if dead && !inside_removed && self.loops.contains(&stmt.first) {
                return Err(Refusal::new(
                    "this loop only pushes and sleeps, but removing it would let the code after it run",
                    stmt.first + 1,
                ));
            }
            for block in &stmt.blocks {
                self.check_loops(&block.stmts, inside_removed || dead)?;
            }
        }
        Ok(())
    }

    /// A `try` whose body or `finally` was only push logic.
    fn try_fate(&self, stmt: &Stmt) -> Option<Fate> {
        let body = stmt.blocks.first().filter(|b| b.keyword == "try")?;
        let finally = stmt.blocks.iter().position(|b| b.keyword == "finally");
        let handlers = stmt
            .blocks
            .iter()
            .any(|b| b.keyword == "catch" || b.keyword == "except");
        let else_left = stmt.blocks.iter().any(|b| b.keyword == "else" && !self.emptied(b));
        let finally_emptied = finally.map(|f| self.emptied(&stmt.blocks[f]));
        if else_left {
            return None;
        }
        match (self.emptied(body), finally, finally_emptied) {
            (true, None, _) | (true, Some(_), Some(true)) => Some(Fate::Dead),
            (true, Some(f), Some(false)) => Some(Fate::Unwrap(f)),
            (false, Some(f), Some(true)) if handlers => Some(Fate::DropBlock(f)),
            (false, Some(_), Some(true)) => Some(Fate::Unwrap(0)),
            _ => None,
        }
    }

    /// Top-level settings (`const URL = process.env.X || '…'`, `GATEWAY = os.environ.get(…)`),
    /// requires and imported names that only the removed code read.
    fn settings_and_imports(&mut self, top: &[Stmt]) {
        loop {
            let mut changed = false;
            let (removed, _) = self.partition(top);
            let open: Vec<&Stmt> = top
                .iter()
                .filter(|s| !self.fates.contains_key(&s.first) && s.blocks.is_empty())
                .collect();
            for stmt in open {
                let shape = self.shape(stmt);
                if let Some(name) = self.single_name(&shape) {
                    if word_count(&removed, &name) > 0 && !self.read_elsewhere(top, stmt, &name) {
                        self.fates.insert(stmt.first, Fate::Dead);
                        self.names.insert(name);
                        changed = true;
                    }
                } else if let Some(fate) = self.import_list(top, stmt, &removed) {
                    self.fates.insert(stmt.first, fate);
                    changed = true;
                }
                if changed {
                    break;
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// The name a removable one-name statement binds: a pure setting, a require, `import x`.
    fn single_name(&self, shape: &str) -> Option<String> {
        static JS: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:const|let|var)\s+([\w$]+)\s*=\s*(.+?)\s*;?$|^import\s+([\w$]+)\s+from\s+'\s*'\s*;?$|^import\s+([\w$]+)\s+from\s+\x22\s*\x22\s*;?$")
                .expect("static regex")
        });
        static PY: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^([A-Za-z_]\w*)\s*=\s*(.+)$|^import\s+[\w.]+\s+as\s+(\w+)$|^import\s+(\w+)$")
                .expect("static regex")
        });
        // What a setting may be built from: literals, environment reads, number conversions.
        static JS_PURE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"^(?:\s|'\s*'|"\s*"|`\s*`|\d+(?:\.\d+)?|process\.env(?:\.\w+|\[\s*'\s*'\s*\]|\[\s*"\s*"\s*\])|Number|parseInt|parseFloat|String|require|[()|?*+\-/,])*$"#)
                .expect("static regex")
        });
        static PY_PURE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"^(?:\s|'\s*'|"\s*"|\d+(?:\.\d+)?|os\.environ\.get|os\.getenv|os\.environ\[|\]|int|float|str|or|logging\.getLogger|__name__|[()*+\-/,])*$"#)
                .expect("static regex")
        });
        match self.o.lang {
            Lang::Js => {
                let caps = JS.captures(shape)?;
                if let Some(name) = caps.get(3).or(caps.get(4)) {
                    return Some(name.as_str().to_string());
                }
                let rhs = caps.get(2)?.as_str();
                JS_PURE
                    .is_match(rhs)
                    .then(|| caps.get(1).map(|m| m.as_str().to_string()))?
            }
            Lang::Python => {
                let caps = PY.captures(shape)?;
                if let Some(name) = caps.get(3).or(caps.get(4)) {
                    return Some(name.as_str().to_string());
                }
                let rhs = caps.get(2)?.as_str();
                PY_PURE
                    .is_match(rhs)
                    .then(|| caps.get(1).map(|m| m.as_str().to_string()))?
            }
            Lang::Go | Lang::Java => None,
        }
    }

    /// `from prometheus_client import A, push_to_gateway` without the names the removed code
    /// alone read (JavaScript: `const { A, Pushgateway } = require(…)`, `import { … } from`).
    fn import_list(&self, top: &[Stmt], stmt: &Stmt, removed: &str) -> Option<Fate> {
        static PY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^from\s+[\w.]+\s+import\s+").expect("static regex"));
        static JS: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:(?:const|let|var)\s*\{[^}]*\}\s*=\s*require\s*\(|import\s*\{[^}]*\}\s*from\b)")
                .expect("static regex")
        });
        let span = self.o.span(stmt.first..stmt.last + 1);
        let text = self.text.get(span.clone())?;
        let masked = self.o.masked.get(span.clone())?;
        let (open, close) = match self.o.lang {
            Lang::Python => {
                let head = PY.find(masked.trim_start())?;
                let lead = masked.len() - masked.trim_start().len();
                let start = lead + head.end();
                match masked.get(start..)?.trim_start().starts_with('(') {
                    true => {
                        let open = start + masked.get(start..)?.find('(')?;
                        (open + 1, balanced_end(masked, open)? - 1)
                    }
                    false => (start, masked.trim_end().len()),
                }
            }
            Lang::Js => {
                JS.find(masked.trim_start())?;
                let open = masked.find('{')?;
                (open + 1, balanced_end(masked, open)? - 1)
            }
            Lang::Go | Lang::Java => return None,
        };
        let list = text.get(open..close)?;
        // Each name with its span in the statement (spaces around it left out).
        let mut items: Vec<(usize, usize, String)> = Vec::new();
        let mut at = 0;
        for part in list.split(',') {
            let name = part.split_whitespace().last().unwrap_or("");
            let name = name.rsplit(':').next().unwrap_or("").trim().to_string();
            let lead = part.len() - part.trim_start().len();
            if !name.is_empty() {
                items.push((open + at + lead, open + at + part.trim_end().len(), name));
            }
            at += part.len() + 1;
        }
        let gone: Vec<&(usize, usize, String)> = items
            .iter()
            .filter(|(_, _, name)| word_count(removed, name) > 0 && !self.read_elsewhere(top, stmt, name))
            .collect();
        if gone.is_empty() {
            return None;
        }
        if gone.len() == items.len() {
            return Some(Fate::Dead);
        }
        if stmt.first == stmt.last {
            let kept: Vec<&str> = items
                .iter()
                .filter(|i| !gone.contains(i))
                .filter_map(|(s, e, _)| text.get(*s..*e).map(str::trim))
                .collect();
            let (pad_l, pad_r) = match self.o.lang {
                Lang::Js if list.starts_with(' ') => (" ", if list.ends_with(' ') { " " } else { "" }),
                _ => ("", ""),
            };
            let trailing = if list.trim_end().ends_with(',') { "," } else { "" };
            let line = format!(
                "{}{pad_l}{}{trailing}{pad_r}{}",
                text.get(..open)?,
                kept.join(", "),
                text.get(close..)?.trim_end_matches(['\n', '\r'])
            );
            return Some(Fate::Replace(line));
        }
        // One name a line: those lines go.
        let mut lines = Vec::new();
        for (start, end, _) in &gone {
            let line = self.o.line_of(span.start + start);
            let physical = self.o.lines.get(line)?;
            let code = self.text.get(physical.start..physical.end)?.trim();
            let item = text.get(*start..*end)?.trim();
            if code.trim_end_matches(',').trim() != item {
                return None;
            }
            lines.push(line);
        }
        Some(Fate::DropLines(lines))
    }

    /// Whether `name` is read outside `stmt` and outside everything removed.
    fn read_elsewhere(&self, top: &[Stmt], stmt: &Stmt, name: &str) -> bool {
        let (_, kept) = self.partition(top);
        kept.iter()
            .filter(|(line, _)| !(stmt.first..=stmt.last).contains(line))
            .any(|(_, code)| word_count(code, name) > 0)
    }

    /// The masked code of the removed lines, and the kept lines with their code.
    fn partition(&self, top: &[Stmt]) -> (String, Vec<(usize, String)>) {
        let ops = self.ops_unchecked(top);
        let mut removed = String::new();
        let mut kept = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            match op {
                Op::Delete => {
                    removed.push_str(self.o.code(i));
                    removed.push('\n');
                }
                Op::Replace(line) => {
                    removed.push_str(self.o.code(i));
                    removed.push('\n');
                    kept.push((i, line.clone()));
                }
                Op::Keep | Op::Dedent(_) => kept.push((i, self.o.code(i).to_string())),
            }
        }
        (removed, kept)
    }

    fn ops(&self, top: &[Stmt]) -> Result<Vec<Op>, Refusal> {
        let mut ops = vec![Op::Keep; self.o.lines.len()];
        for stmt in top {
            self.apply(stmt, &mut ops)?;
        }
        self.tidy(&mut ops);
        Ok(ops)
    }

    fn ops_unchecked(&self, top: &[Stmt]) -> Vec<Op> {
        let mut ops = vec![Op::Keep; self.o.lines.len()];
        for stmt in top {
            let _ = self.apply(stmt, &mut ops);
        }
        ops
    }

    fn delete(&self, ops: &mut [Op], lines: std::ops::Range<usize>) {
        for op in ops.iter_mut().take(lines.end).skip(lines.start) {
            *op = Op::Delete;
        }
    }

    /// Comment lines right above line `first` (no blank line between) go with its statement.
    fn attached_comments(&self, first: usize, ops: &mut [Op], only_about_push: bool) {
        let mut i = first;
        while i > 0 && self.o.lines[i - 1].comment {
            i -= 1;
        }
        if only_about_push {
            let words = self.text.get(self.o.span(i..first)).unwrap_or("");
            if !PUSH_WORDS.is_match(words) {
                return;
            }
        }
        self.delete(ops, i..first);
    }

    fn apply(&self, stmt: &Stmt, ops: &mut [Op]) -> Result<(), Refusal> {
        let children = |ops: &mut [Op], skip: Option<usize>| -> Result<(), Refusal> {
            for (n, block) in stmt.blocks.iter().enumerate() {
                if Some(n) == skip {
                    continue;
                }
                for child in &block.stmts {
                    self.apply(child, ops)?;
                }
            }
            Ok(())
        };
        match self.fates.get(&stmt.first) {
            None => children(ops, None)?,
            Some(Fate::Dead) => {
                self.attached_comments(stmt.first, ops, false);
                self.delete(ops, stmt.first..stmt.last + 1);
            }
            Some(Fate::Replace(line)) => {
                self.attached_comments(stmt.first, ops, true);
                self.delete(ops, stmt.first..stmt.last + 1);
                ops[stmt.first] = Op::Replace(line.clone());
            }
            Some(Fate::DropLines(lines)) => {
                for line in lines {
                    ops[*line] = Op::Delete;
                }
            }
            Some(Fate::DropBlock(n)) => {
                children(ops, Some(*n))?;
                let block = &stmt.blocks[*n];
                let header_closes = self.o.code(block.header.start).trim_start().starts_with('}');
                let end = match (block.close, header_closes) {
                    (Some(close), true) => close,
                    (Some(close), false) => close + 1,
                    (None, _) => block.content.end,
                };
                self.delete(ops, block.header.start..end);
            }
            Some(Fate::Unwrap(n)) => {
                let block = &stmt.blocks[*n];
                let line = self.o.lines[stmt.first].start;
                for i in block.content.clone() {
                    if self.o.lines[i].in_string {
                        return Err(Refusal::new(
                            "unwrapping the `try` would shift a string spanning lines",
                            i + 1,
                        ));
                    }
                }
                for child in &block.stmts {
                    self.apply(child, ops)?;
                }
                let outer = indent(self.text.get(line..).unwrap_or(""));
                let inner = block
                    .content
                    .clone()
                    .find(|i| !self.o.lines[*i].blank)
                    .map_or(outer, |i| indent(self.text.get(self.o.lines[i].start..).unwrap_or("")));
                let by = inner.saturating_sub(outer);
                let last = stmt.last.max(block.close.unwrap_or(0));
                for (i, op) in ops.iter_mut().enumerate().take(last + 1).skip(stmt.first) {
                    if !block.content.contains(&i) {
                        *op = Op::Delete;
                    } else if *op == Op::Keep {
                        *op = Op::Dedent(by);
                    }
                }
            }
        }
        Ok(())
    }

    /// Blank lines: a removed statement between two blank lines takes one of them along, and
    /// one left before a closing `}` or the end of the file goes.
    fn tidy(&self, ops: &mut [Op]) {
        let blank = |i: usize| self.text.get(self.o.span(i..i + 1)).unwrap_or("").trim().is_empty();
        loop {
            let mut changed = false;
            let mut i = 0;
            while i < ops.len() {
                if ops[i] != Op::Delete {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < ops.len() && ops[i] == Op::Delete {
                    i += 1;
                }
                let before_blank = start == 0 || (blank(start - 1) && ops[start - 1] == Op::Keep);
                if i < ops.len() && ops[i] == Op::Keep && blank(i) && before_blank {
                    ops[i] = Op::Delete;
                    changed = true;
                } else if start > 0
                    && ops[start - 1] == Op::Keep
                    && blank(start - 1)
                    && (i == ops.len() || self.closes(i))
                {
                    ops[start - 1] = Op::Delete;
                    changed = true;
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// Whether line `i` closes a block: `}`, and in Go an import block's `)` too.
    fn closes(&self, i: usize) -> bool {
        let code = self.o.code(i).trim_start();
        code.starts_with('}') || (self.o.lang == Lang::Go && code.starts_with(')'))
    }

    /// Nothing kept may read a removed name or still push.
    fn check_left(&self, ops: &[Op]) -> Result<(), Refusal> {
        static STILL_PUSHES: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"\bnew\s+(?:[\w$]+\.)?Pushgateway\b|\.\s*pushAdd\s*\(|\b(?:push_to_gateway|pushadd_to_gateway|delete_from_gateway)\s*\(|\bpush\s*\.\s*New\s*\(|\bnew\s+(?:[\w.]+\.)?PushGateway\s*\(")
                .expect("static regex")
        });
        for (i, op) in ops.iter().enumerate() {
            let code = match op {
                Op::Delete => continue,
                Op::Replace(line) => line.as_str(),
                Op::Keep | Op::Dedent(_) => self.o.code(i),
            };
            if let Some(name) = self.names.iter().find(|n| word_count(code, n) > 0) {
                return Err(Refusal::new(
                    format!("`{name}` goes with the push logic but is still used here"),
                    i + 1,
                ));
            }
            if STILL_PUSHES.is_match(code) {
                return Err(Refusal::new("a push call in a shape pullover does not remove", i + 1));
            }
        }
        Ok(())
    }

    /// A kept statement keeps something in each of its blocks (an `if` whose body was only
    /// the push is a person's to decide; Python would not even parse it).
    fn check_no_empty_block(&self, stmts: &[Stmt], ops: &[Op]) -> Result<(), Refusal> {
        for stmt in stmts {
            if matches!(ops.get(stmt.first), Some(Op::Delete)) {
                continue;
            }
            for block in &stmt.blocks {
                let kept = block
                    .content
                    .clone()
                    .any(|i| !self.o.lines[i].blank && !matches!(ops.get(i), Some(Op::Delete)));
                let dropped = block.header.clone().all(|i| matches!(ops.get(i), Some(Op::Delete)));
                if !kept && !dropped && !block.content.is_empty() {
                    return Err(Refusal::new(
                        "the block this line opens would be left empty",
                        block.header.start + 1,
                    ));
                }
                self.check_no_empty_block(&block.stmts, ops)?;
            }
        }
        Ok(())
    }

    fn first_push_line(&self) -> Option<usize> {
        static ANY_PUSH: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"Pushgateway|PushGateway|pushAdd|push_to_gateway|pushadd_to_gateway|push\.New")
                .expect("static regex")
        });
        ANY_PUSH.find(&self.o.masked).map(|m| self.o.line_of(m.start()) + 1)
    }

    /// The comments and string text of line `i` (its code blanked).
    fn prose(&self, i: usize) -> String {
        let line = &self.o.lines[i];
        let text = self.text.get(line.start..line.end).unwrap_or("");
        let code = self.o.masked.get(line.start..line.end).unwrap_or("");
        text.chars()
            .zip(code.chars())
            .map(|(t, c)| if t == c { ' ' } else { t })
            .collect()
    }

    fn render(&self, ops: Vec<Op>) -> Removal {
        let mut after = String::with_capacity(self.text.len());
        let mut mentions = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let line = self.o.lines[i].clone();
            let original = self.text.get(line.start..line.end).unwrap_or("");
            let newline = &original[original.trim_end_matches(['\n', '\r']).len()..];
            let written = match op {
                Op::Delete => continue,
                Op::Keep => original.to_string(),
                Op::Replace(text) => format!("{text}{newline}"),
                Op::Dedent(by) => {
                    let lead = original.len() - original.trim_start_matches([' ', '\t']).len();
                    original.get((*by).min(lead)..).unwrap_or(original).to_string()
                }
            };
            if op != &Op::Delete && PUSH_WORDS.is_match(&self.prose(i)) {
                mentions.push(after.matches('\n').count() + 1);
            }
            after.push_str(&written);
        }
        Removal { after, mentions }
    }
}

/// Words that speak of the push in comments and messages.
static PUSH_WORDS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)push[ _-]?gateway|\bpush(?:es|ed|ing)?\b").expect("static regex"));

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// The offset just after the bracket closing the one at `open`, in masked code.
fn balanced_end(code: &str, open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in code.get(open..)?.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i + 1);
                }
            }
            _ => {}
        }
    }
    None
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

/// How often `name` is read as a variable in `code` (not as `.name`, a member).
fn word_count(code: &str, name: &str) -> usize {
    if name.is_empty() {
        return 0;
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    code.match_indices(name)
        .filter(|(at, _)| {
            let before = code[..*at].chars().next_back();
            let after = code[at + name.len()..].chars().next();
            let member = code[..*at].trim_end().ends_with('.') && !code[..*at].trim_end().ends_with("..");
            !before.is_some_and(is_word) && !after.is_some_and(is_word) && !member
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js(text: &str) -> Result<Removal, Refusal> {
        remove(text, Lang::Js)
    }

    #[test]
    fn a_push_function_its_timer_and_its_last_call_go_and_nothing_else() {
        let before = "const client = require('prom-client');\nclient.collectDefaultMetrics();\nconst URL = process.env.PUSHGATEWAY_URL || 'http://pushgateway:9091';\nconst EVERY = Number(process.env.PUSH_INTERVAL_SECONDS || 15);\n\nconst gateway = new client.Pushgateway(URL, {}, client.register);\n\nasync function push() {\n  try {\n    await gateway.pushAdd({ jobName: 'api' });\n  } catch (err) {\n    console.error(err);\n  }\n}\n\nconst timer = setInterval(push, EVERY * 1000);\n\nfunction shutdown() {\n  clearInterval(timer);\n  server.close();\n  // One last push before we go.\n  push().finally(() => process.exit(0));\n}\n";
        let after = js(before).unwrap();
        assert_eq!(
            after.after,
            "const client = require('prom-client');\nclient.collectDefaultMetrics();\n\nfunction shutdown() {\n  server.close();\n  process.exit(0);\n}\n"
        );
        assert!(after.mentions.is_empty(), "{:?}", after.mentions);
    }

    #[test]
    fn a_try_left_with_one_side_is_unwrapped_in_the_files_indentation() {
        let before = "async function job() {\n\ttry {\n\t\tawait gateway.pushAdd({ jobName: 'a' });\n\t} finally {\n\t\tdone();\n\t}\n}\nconst gateway = new Pushgateway(URL);\n";
        assert_eq!(js(before).unwrap().after, "async function job() {\n\tdone();\n}\n");
        let py = "def run():\r\n    try:\r\n        work()\r\n        more()\r\n    finally:\r\n        push_to_gateway(GW, job=\"a\")\r\n";
        assert_eq!(
            remove(py, Lang::Python).unwrap().after,
            "def run():\r\n    work()\r\n    more()\r\n"
        );
        // With a handler, only the `finally` goes.
        let handled = "try:\n    work()\nexcept OSError:\n    log()\nfinally:\n    push_to_gateway(GW, job='a')\n";
        assert_eq!(
            remove(handled, Lang::Python).unwrap().after,
            "try:\n    work()\nexcept OSError:\n    log()\n"
        );
    }

    #[test]
    fn a_gateway_still_used_elsewhere_leaves_the_file_to_a_person_naming_the_line() {
        let before = "const gateway = new client.Pushgateway(URL);\nsetInterval(() => gateway.pushAdd({ jobName: 'a' }), 1000);\napp.get('/flush', async (req, res) => res.json(await gateway.pushAdd({ jobName: 'a' })));\n";
        let refusal = js(before).unwrap_err();
        assert_eq!(refusal.line, 3, "{refusal:?}");
        assert!(refusal.reason.contains("`gateway`"), "{refusal:?}");
        // A string spanning lines inside the body to unwrap would change if dedented.
        let py = "try:\n    print('''a\n  b''')\nfinally:\n    push_to_gateway(GW, job='a')\n";
        assert_eq!(remove(py, Lang::Python).unwrap_err().line, 3);
        // No push call read: nothing to remove, said so.
        assert!(js("const a = 1;\n").is_err());
    }

    #[test]
    fn python_names_only_the_push_read_go_and_prose_about_it_is_pointed_at() {
        let before = "\"\"\"Pushes its counters.\"\"\"\nimport os\nimport logging\nfrom prometheus_client import Counter, push_to_gateway\n\nGW = os.environ.get(\"PUSHGATEWAY\", \"pushgateway:9091\")\nlog = logging.getLogger(__name__)\nlogging.basicConfig()\n\ndef push():\n    \"\"\"Push now.\"\"\"\n    log.info(\"pushing\")\n    push_to_gateway(GW, job=\"a\")\n\ndef main():\n    push()\n    print(f\"done, sent to {GW}\")\n";
        let after = remove(before, Lang::Python).unwrap();
        // `GW` is still read by the f-string: it stays, and the line is pointed at.
        assert_eq!(
            after.after,
            "\"\"\"Pushes its counters.\"\"\"\nimport os\nimport logging\nfrom prometheus_client import Counter\n\nGW = os.environ.get(\"PUSHGATEWAY\", \"pushgateway:9091\")\nlogging.basicConfig()\n\ndef main():\n    print(f\"done, sent to {GW}\")\n"
        );
        assert_eq!(after.mentions, [1, 6]);
    }

    #[test]
    fn a_push_loop_goes_with_its_thread_but_never_on_its_own() {
        let threaded = "import threading\nimport time\n\nfrom prometheus_client import push_to_gateway\n\n\ndef push_forever():\n    while True:\n        push_to_gateway(GW, job='a')\n        time.sleep(5)\n\n\n@app.on_event('startup')\ndef start():\n    threading.Thread(target=push_forever, daemon=True).start()\n\n\n@app.get('/')\ndef root():\n    return 'ok'\n";
        assert_eq!(
            remove(threaded, Lang::Python).unwrap().after,
            "@app.get('/')\ndef root():\n    return 'ok'\n"
        );
        // The script's own main loop: without it the script would end.
        let script = "from prometheus_client import push_to_gateway\nimport time\n\nstart_http_server(8000)\nwhile True:\n    push_to_gateway(GW, job='a')\n    time.sleep(5)\n";
        assert_eq!(remove(script, Lang::Python).unwrap_err().line, 5);
        // A route whose body was only the push keeps its route: a person decides.
        let route = "from prometheus_client import push_to_gateway\n\n@app.post('/flush')\ndef flush():\n    push_to_gateway(GW, job='a')\n";
        assert_eq!(remove(route, Lang::Python).unwrap_err().line, 4);
    }
}

#[cfg(test)]
mod props {
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
}
