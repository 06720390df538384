//! The statement outline of a JavaScript or Python file, at the level `--remove-push-code`
//! needs: which lines make one statement, and the blocks inside it (function bodies,
//! try/catch/finally clauses, callbacks). Strings and comments are masked first, so brackets
//! and names are read from code only. Grep-level like the rest of the code reader: what it
//! cannot place makes the caller leave the file to a person.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Js,
    Python,
    Go,
    Java,
}

impl Lang {
    pub fn of(path: &str) -> Option<Lang> {
        let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
        match ext {
            "js" | "mjs" | "cjs" | "ts" | "mts" => Some(Lang::Js),
            "py" => Some(Lang::Python),
            "go" => Some(Lang::Go),
            "java" => Some(Lang::Java),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Line {
    /// Byte offsets: the line's first byte, and just after its newline.
    pub start: usize,
    pub end: usize,
    /// No code on it (blank, or only a comment).
    pub blank: bool,
    /// Only a comment.
    pub comment: bool,
    /// Bracket depth before and after the line's code.
    pub depth_start: i32,
    pub depth_end: i32,
    /// The line starts inside a string that began on an earlier line (a dedent would change it).
    pub in_string: bool,
}

#[derive(Debug, Clone)]
pub struct Stmt {
    /// First and last line (inclusive).
    pub first: usize,
    pub last: usize,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone)]
pub struct Block {
    /// Lines of the header that opens it (`try {`, `} finally {`, `def push():`).
    pub header: Range<usize>,
    /// Lines of its body.
    pub content: Range<usize>,
    /// The line closing it (JavaScript's `}` line), where the language has one.
    pub close: Option<usize>,
    /// `try`, `catch`, `except`, `finally`, `else`, `function`, `def`, `while`, … or `other`.
    pub keyword: String,
    pub stmts: Vec<Stmt>,
}

/// A file read as code: its masked text (strings' and comments' contents blanked, byte
/// offsets kept), its lines and its top-level statements.
pub struct Outline {
    pub lang: Lang,
    pub masked: String,
    pub lines: Vec<Line>,
    pub top: Vec<Stmt>,
}

impl Outline {
    pub fn read(text: &str, lang: Lang) -> Option<Outline> {
        let (masked, continued) = match lang {
            Lang::Js => mask_js(text),
            Lang::Python => mask_python(text),
            // Java's strings, chars and comments are written as Go's interpreted ones.
            Lang::Go | Lang::Java => mask_go(text),
        };
        let lines = lines(text, &masked, &continued);
        let top = match lang {
            Lang::Js | Lang::Go | Lang::Java => {
                let (stmts, next) = js_block(lang, &lines, &masked, 0, 0);
                (next >= lines.len()).then_some(stmts)?
            }
            Lang::Python => {
                let logical = logical_lines(&lines, &masked);
                let (stmts, next) = py_suite(&logical, &lines, 0, 0)?;
                (next >= logical.len()).then_some(stmts)?
            }
        };
        Some(Outline {
            lang,
            masked,
            lines,
            top,
        })
    }

    /// The masked code of line `i`, without its newline.
    pub fn code(&self, i: usize) -> &str {
        self.lines
            .get(i)
            .and_then(|l| self.masked.get(l.start..l.end))
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    /// Byte range of lines `lines` (inclusive of the last one's newline).
    pub fn span(&self, lines: Range<usize>) -> Range<usize> {
        let start = self.lines.get(lines.start).map_or(self.masked.len(), |l| l.start);
        let end = lines
            .end
            .checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .map_or(start, |l| l.end);
        start..end.max(start)
    }

    /// The line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.lines
            .partition_point(|l| l.end <= offset)
            .min(self.lines.len().saturating_sub(1))
    }
}

fn lines(text: &str, masked: &str, continued: &[usize]) -> Vec<Line> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    while start < text.len() {
        let end = text
            .get(start..)
            .and_then(|t| t.find('\n'))
            .map_or(text.len(), |i| start + i + 1);
        let code = masked.get(start..end).unwrap_or("");
        let depth_start = depth;
        for c in code.chars() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            }
        }
        let blank = code.trim().is_empty();
        out.push(Line {
            start,
            end,
            blank,
            comment: blank && !text.get(start..end).unwrap_or("").trim().is_empty(),
            depth_start,
            depth_end: depth,
            in_string: continued.binary_search(&start).is_ok(),
        });
        start = end;
    }
    out
}

/// Blanks the bytes of `c` at `at` (every byte, so offsets hold for any character).
fn blank(out: &mut [u8], at: usize, c: char) {
    if c == '\n' || c == '\r' {
        return;
    }
    for b in out.iter_mut().skip(at).take(c.len_utf8()) {
        *b = b' ';
    }
}

/// JavaScript with the contents of strings, template text (not its `${…}`), regular
/// expressions and comments blanked; and the offsets of lines that start inside a string.
fn mask_js(text: &str) -> (String, Vec<usize>) {
    #[derive(PartialEq)]
    enum S {
        Code,
        Line,
        Block,
        Str(char),
        Regex { class: bool },
    }
    let mut out = text.as_bytes().to_vec();
    let mut continued = Vec::new();
    let mut state = S::Code;
    let mut templates: Vec<usize> = Vec::new();
    let mut prev_code: Option<char> = None;
    let mut prev_word = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|(_, n)| *n);
        if c == '\n' && matches!(state, S::Str(_)) {
            continued.push(i + 1);
        }
        match state {
            S::Code => match c {
                '/' if next == Some('/') => {
                    state = S::Line;
                    blank(&mut out, i, c);
                }
                '/' if next == Some('*') => {
                    state = S::Block;
                    blank(&mut out, i, c);
                }
                '/' if starts_a_regex(prev_code, &prev_word) => {
                    state = S::Regex { class: false };
                    prev_code = Some(c);
                }
                '\'' | '"' | '`' => {
                    state = S::Str(c);
                    prev_code = Some(c);
                }
                '{' => {
                    if let Some(top) = templates.last_mut() {
                        *top += 1;
                    }
                    prev_code = Some(c);
                }
                '}' => {
                    match templates.last_mut() {
                        Some(0) => {
                            templates.pop();
                            state = S::Str('`');
                        }
                        Some(top) => *top -= 1,
                        None => {}
                    }
                    prev_code = Some(c);
                }
                _ => follow_code(c, &mut prev_code, &mut prev_word),
            },
            S::Line => {
                if c == '\n' {
                    state = S::Code;
                } else {
                    blank(&mut out, i, c);
                }
            }
            S::Block => {
                blank(&mut out, i, c);
                if c == '*' && next == Some('/') {
                    if let Some((j, slash)) = chars.next() {
                        blank(&mut out, j, slash);
                    }
                    state = S::Code;
                }
            }
            S::Str(q) => {
                if c == '\\' {
                    blank(&mut out, i, c);
                    if let Some((j, escaped)) = chars.next() {
                        blank(&mut out, j, escaped);
                    }
                } else if c == q {
                    state = S::Code;
                    prev_code = Some(c);
                } else if q == '`' && c == '$' && next == Some('{') {
                    blank(&mut out, i, c);
                    chars.next();
                    templates.push(0);
                    state = S::Code;
                    prev_code = Some('{');
                } else if c == '\n' && q != '`' {
                    state = S::Code;
                } else {
                    blank(&mut out, i, c);
                }
            }
            S::Regex { class } => {
                if c == '\\' {
                    blank(&mut out, i, c);
                    if let Some((j, escaped)) = chars.next() {
                        blank(&mut out, j, escaped);
                    }
                } else if c == '/' && !class {
                    state = S::Code;
                    prev_code = Some(c);
                } else if c == '\n' {
                    state = S::Code;
                } else {
                    state = S::Regex {
                        class: (class || c == '[') && c != ']',
                    };
                    blank(&mut out, i, c);
                }
            }
        }
    }
    (String::from_utf8(out).unwrap_or_default(), continued)
}

/// Whether a `/` after `prev_code` (the last character of code) and `prev_word` (the last
/// word) opens a regular expression rather than dividing.
fn starts_a_regex(prev_code: Option<char>, prev_word: &str) -> bool {
    prev_code.is_none_or(|p| "(,=:[!&|?{};+-*%<>~^".contains(p))
        || matches!(prev_word, "return" | "typeof" | "case" | "in" | "of")
}

/// Keeps the last character of code and the last word up to date past `c`, for
/// [`starts_a_regex`].
fn follow_code(c: char, prev_code: &mut Option<char>, prev_word: &mut String) {
    let in_word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    if in_word(c) {
        if !prev_code.is_some_and(in_word) {
            prev_word.clear();
        }
        prev_word.push(c);
    }
    if !c.is_whitespace() {
        if !in_word(c) {
            prev_word.clear();
        }
        *prev_code = Some(c);
    }
}

/// Go with the contents of strings (interpreted and raw), runes and comments blanked; and
/// the offsets of lines that start inside a raw string.
fn mask_go(text: &str) -> (String, Vec<usize>) {
    let mut out = text.as_bytes().to_vec();
    let mut continued = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    if bytes[i] != b'\r' {
                        out[i] = b' ';
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                out[i] = b' ';
                out[i + 1] = b' ';
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    if bytes[i] != b'\n' && bytes[i] != b'\r' {
                        out[i] = b' ';
                    }
                    i += 1;
                }
                for b in out.iter_mut().skip(i).take(2) {
                    *b = b' ';
                }
                i += 2;
            }
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' && i + 1 < bytes.len() && bytes[i + 1] != b'\n' {
                        out[i] = b' ';
                        i += 1;
                    }
                    out[i] = b' ';
                    i += 1;
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    if bytes[i] == b'\n' {
                        continued.push(i + 1);
                    } else if bytes[i] != b'\r' {
                        out[i] = b' ';
                    }
                    i += 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    // Blanking went byte by byte over whole strings and comments: no character is split.
    (String::from_utf8_lossy(&out).into_owned(), continued)
}

/// Python with the contents of strings and comments blanked; an f-string's `{…}` fields stay
/// (they are code, and may name what is removed).
fn mask_python(text: &str) -> (String, Vec<usize>) {
    let mut out = text.as_bytes().to_vec();
    let mut continued = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let c = bytes[i];
        if c == b'#' {
            while i < text.len() && bytes[i] != b'\n' {
                out[i] = b' ';
                i += 1;
            }
            continue;
        }
        if c != b'\'' && c != b'"' {
            i += 1;
            continue;
        }
        let prefix: String = text
            .get(..i)
            .unwrap_or("")
            .chars()
            .rev()
            .take_while(|p| p.is_ascii_alphabetic())
            .collect::<String>()
            .to_ascii_lowercase();
        let fstring = prefix.len() <= 2 && prefix.contains('f');
        let triple = bytes.get(i + 1) == Some(&c) && bytes.get(i + 2) == Some(&c);
        let quote_len = if triple { 3 } else { 1 };
        i += quote_len;
        let mut field = 0usize;
        while i < text.len() {
            let b = bytes[i];
            if field > 0 {
                match b {
                    b'{' => field += 1,
                    b'}' => field -= 1,
                    _ => {}
                }
                i += 1;
                continue;
            }
            if b == b'\\' {
                out[i] = b' ';
                if i + 1 < text.len() && bytes[i + 1] != b'\n' {
                    out[i + 1] = b' ';
                }
                i += 2;
                continue;
            }
            if b == c && (!triple || (bytes.get(i + 1) == Some(&c) && bytes.get(i + 2) == Some(&c))) {
                i += quote_len;
                break;
            }
            if b == b'\n' {
                if !triple {
                    break;
                }
                continued.push(i + 1);
                i += 1;
                continue;
            }
            if fstring && b == b'{' {
                if bytes.get(i + 1) == Some(&b'{') {
                    out[i] = b' ';
                    out[i + 1] = b' ';
                    i += 2;
                } else {
                    field = 1;
                    i += 1;
                }
                continue;
            }
            if b != b'\r' {
                out[i] = b' ';
            }
            i += 1;
        }
    }
    // Blanking went byte by byte: a multi-byte character is blank in all its bytes or none.
    (String::from_utf8_lossy(&out).into_owned(), continued)
}

/// Statements of the block (JavaScript's or Go's, by their braces) whose body starts at line `i` with bracket depth `depth`, and the
/// line that ends it (its closing `}` line, or the end of the file).
fn js_block(lang: Lang, lines: &[Line], masked: &str, mut i: usize, depth: i32) -> (Vec<Stmt>, usize) {
    let mut stmts = Vec::new();
    while i < lines.len() {
        let line = &lines[i];
        if line.blank {
            i += 1;
            continue;
        }
        if closes_below(line, masked, depth) {
            return (stmts, i);
        }
        let (stmt, next) = js_stmt(lang, lines, masked, i, depth);
        stmts.push(stmt);
        i = next;
    }
    (stmts, i)
}

/// Whether the closing brackets that start `line` take it below `depth`.
fn closes_below(line: &Line, masked: &str, depth: i32) -> bool {
    let code = masked.get(line.start..line.end).unwrap_or("");
    let closers = code
        .chars()
        .take_while(|c| c.is_whitespace() || matches!(c, ')' | ']' | '}'))
        .filter(|c| !c.is_whitespace())
        .count() as i32;
    line.depth_start - closers < depth
}

fn js_stmt(lang: Lang, lines: &[Line], masked: &str, first: usize, depth: i32) -> (Stmt, usize) {
    let mut blocks = Vec::new();
    let mut j = first;
    loop {
        let line = &lines[j];
        // A line that closes the enclosing block ends the statement before it (the last
        // property of an object literal ends with `,`).
        if j > first && !line.blank && closes_below(line, masked, depth) {
            let last = (first..j).rev().find(|i| !lines[*i].blank).unwrap_or(first);
            return (Stmt { first, last, blocks }, j);
        }
        let code = masked.get(line.start..line.end).unwrap_or("").trim_end();
        if code.ends_with('{') && line.depth_end > depth {
            let (stmts, close) = js_block(lang, lines, masked, j + 1, line.depth_end);
            blocks.push(Block {
                header: j..j + 1,
                content: j + 1..close,
                close: (close < lines.len()).then_some(close),
                keyword: js_keyword(code),
                stmts,
            });
            if close >= lines.len() {
                return (
                    Stmt {
                        first,
                        last: lines.len() - 1,
                        blocks,
                    },
                    lines.len(),
                );
            }
            j = close;
            let close_code = masked.get(lines[j].start..lines[j].end).unwrap_or("").trim_end();
            if close_code.ends_with('{') && lines[j].depth_end > depth {
                continue;
            }
        }
        if lines[j].depth_end <= depth && !js_continues(lang, lines, masked, j) {
            return (Stmt { first, last: j, blocks }, j + 1);
        }
        j += 1;
        if j >= lines.len() {
            return (
                Stmt {
                    first,
                    last: j - 1,
                    blocks,
                },
                j,
            );
        }
    }
}

/// Whether the statement on line `j` goes on to the next line with code.
fn js_continues(lang: Lang, lines: &[Line], masked: &str, j: usize) -> bool {
    let code = |l: &Line| masked.get(l.start..l.end).unwrap_or("").trim().to_string();
    let this = code(&lines[j]);
    // Go ends a statement at a line's end unless an operator, comma, open bracket or `.` is
    // last (its semicolon rule); `case x:` and labels end with `:` and are statements.
    if lang == Lang::Go {
        return ["=", ",", "(", "[", "{", "&&", "||", "+", "-", "*", "/", "."]
            .iter()
            .any(|e| this.ends_with(e));
    }
    // Java's statements end with `;` (or a block's `}`); an annotation goes on to what it marks.
    if lang == Lang::Java {
        return !(this.ends_with(';') || this.ends_with('}') || this.ends_with('{'));
    }
    if ["=", ",", "(", "[", "&&", "||", "??", "+", "?", ":", "=>", "."]
        .iter()
        .any(|e| this.ends_with(e))
    {
        return true;
    }
    let Some(next) = lines.iter().skip(j + 1).find(|l| !l.blank) else {
        return false;
    };
    let next = code(next);
    [".", "?", ":", "&&", "||", "??"].iter().any(|s| next.starts_with(s))
        || ["catch", "finally", "else"]
            .iter()
            .any(|k| next.starts_with(k) && !next[k.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_'))
}

fn js_keyword(header: &str) -> String {
    let head = header
        .trim_start_matches(|c: char| c.is_whitespace() || c == '}')
        .trim_start();
    for keyword in ["try", "catch", "finally", "else", "if", "for", "while", "switch", "do"] {
        if head.starts_with(keyword)
            && !head[keyword.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$')
        {
            return keyword.to_string();
        }
    }
    if head.contains("function") || head.contains("=>") || head.contains("func(") || head.contains("func ") {
        return "function".to_string();
    }
    "other".to_string()
}

/// A Python logical line: physical lines joined by open brackets or a trailing backslash.
#[derive(Debug, Clone)]
pub struct Logical {
    first: usize,
    last: usize,
    indent: usize,
    code: String,
}

fn logical_lines(lines: &[Line], masked: &str) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].blank {
            i += 1;
            continue;
        }
        let first = i;
        let mut code = String::new();
        loop {
            let physical = masked.get(lines[i].start..lines[i].end).unwrap_or("");
            code.push_str(physical.trim_end());
            code.push(' ');
            let joined = physical.trim_end().ends_with('\\');
            let string_goes_on = lines.get(i + 1).is_some_and(|l| l.in_string);
            if (lines[i].depth_end > 0 || joined || string_goes_on) && i + 1 < lines.len() {
                i += 1;
            } else {
                break;
            }
        }
        let head = masked.get(lines[first].start..lines[first].end).unwrap_or("");
        out.push(Logical {
            first,
            last: i,
            indent: head.len() - head.trim_start_matches([' ', '\t']).len(),
            code: code.trim().to_string(),
        });
        i += 1;
    }
    out
}

fn py_suite(logical: &[Logical], lines: &[Line], mut k: usize, indent: usize) -> Option<(Vec<Stmt>, usize)> {
    let mut stmts = Vec::new();
    while k < logical.len() {
        let ll = &logical[k];
        if ll.indent < indent {
            break;
        }
        if ll.indent > indent {
            return None;
        }
        let (stmt, next) = py_stmt(logical, lines, k)?;
        stmts.push(stmt);
        k = next;
    }
    Some((stmts, k))
}

fn py_stmt(logical: &[Logical], lines: &[Line], mut k: usize) -> Option<(Stmt, usize)> {
    let first = logical[k].first;
    let indent = logical[k].indent;
    while logical[k].code.starts_with('@') {
        k += 1;
        if k >= logical.len() || logical[k].indent != indent {
            return None;
        }
    }
    let mut blocks = Vec::new();
    let mut last = logical[k].last;
    loop {
        let header = &logical[k];
        if !header.code.ends_with(':') {
            // A simple statement (or a one-line `if x: y`, read as one).
            if blocks.is_empty() {
                return Some((Stmt { first, last, blocks }, k + 1));
            }
            return Some((Stmt { first, last, blocks }, k));
        }
        let body = k + 1;
        let inner = logical.get(body).map(|l| l.indent).filter(|i| *i > indent)?;
        let (stmts, next) = py_suite(logical, lines, body, inner)?;
        let end = stmts.last().map_or(header.last + 1, |s| s.last + 1);
        blocks.push(Block {
            header: header.first..header.last + 1,
            content: logical[body].first..end,
            close: None,
            keyword: py_keyword(&header.code),
            stmts,
        });
        last = end - 1;
        k = next;
        let clause = logical.get(k).filter(|l| {
            l.indent == indent
                && ["except", "else", "elif", "finally"].iter().any(|c| {
                    l.code.starts_with(c) && !l.code[c.len()..].starts_with(|x: char| x.is_alphanumeric() || x == '_')
                })
        });
        if clause.is_none() {
            let _ = lines;
            return Some((Stmt { first, last, blocks }, k));
        }
    }
}

fn py_keyword(header: &str) -> String {
    let head = header.strip_prefix("async ").unwrap_or(header).trim_start();
    head.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("other")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_statements_and_their_blocks() {
        let js = "const a = /[/{]/;\nasync function push() {\n  try {\n    await gw.pushAdd({ jobName: 'x' });\n  } catch (err) {\n    console.error(`push ${err}`);\n  }\n}\n\nsetInterval(() => {\n  gw\n    .pushAdd({})\n    .catch(() => {})\n}, 1000)\n";
        let outline = Outline::read(js, Lang::Js).unwrap();
        let shape: Vec<(usize, usize, usize)> = outline.top.iter().map(|s| (s.first, s.last, s.blocks.len())).collect();
        assert_eq!(shape, [(0, 0, 0), (1, 7, 1), (9, 13, 1)]);
        let tried = &outline.top[1].blocks[0].stmts[0];
        let keywords: Vec<&str> = tried.blocks.iter().map(|b| b.keyword.as_str()).collect();
        assert_eq!(keywords, ["try", "catch"]);
        assert_eq!(outline.top[2].blocks[0].stmts.len(), 1);
    }

    #[test]
    fn python_suites_clauses_and_f_string_fields() {
        let py = "def main():\n    \"\"\"Doc\n  still doc\"\"\"\n    try:\n        push_to_gateway(GW, job='a',\n                        registry=r)\n    except OSError:\n        log.warning(f\"{GW} failed\")\n    finally:\n        pass\n\nmain()\n";
        let outline = Outline::read(py, Lang::Python).unwrap();
        assert_eq!(outline.top.len(), 2);
        let body = &outline.top[0].blocks[0].stmts;
        assert_eq!(body.len(), 2);
        let keywords: Vec<&str> = body[1].blocks.iter().map(|b| b.keyword.as_str()).collect();
        assert_eq!(keywords, ["try", "except", "finally"]);
        assert!(outline.lines[2].in_string);
        assert!(outline.code(7).contains("{GW}"));
    }
}
