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
mod js;
mod python;

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
mod props;
#[cfg(test)]
mod tests;
