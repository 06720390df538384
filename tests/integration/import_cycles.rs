//! No two files of `src/` import each other, directly or round a circle (docs/architecture.md):
//! a base type lives in a file that imports nothing of the files that use it.
//!
//! The graph is read from the source text. A path in a `use` item (`crate::…`, `super::…`,
//! `self::…`, or a child module's name) or a `crate::…` path in code is an edge from the file
//! it is written in to the file that *defines* what it names: a name re-exported with `pub use`
//! is followed to its definition, so a re-export never hides a circle nor makes one.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

/// Circles allowed to stay: none is left. Issue 18 gave each folder's base types a file that
/// imports nothing back (`promql/model.rs`, `stack/kube/model.rs`, `verify/check.rs`,
/// `dashboard/site.rs`) and left `mod.rs` files naming and re-exporting their parts. Any circle
/// fails the test; an entry here would have to name one that still exists.
const KNOWN: &[&[&str]] = &[];

#[test]
fn no_file_of_src_imports_a_file_that_imports_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = Graph::read(&src);
    let circles = graph.circles();
    for circle in &circles {
        eprintln!(
            "import circle through {:?}, e.g. {}",
            circle,
            graph.one_round(circle).join(" → ")
        );
    }
    let known: Vec<BTreeSet<&str>> = KNOWN.iter().map(|files| files.iter().copied().collect()).collect();
    let new: Vec<String> = circles
        .iter()
        .filter(|circle| !known.iter().any(|k| circle.iter().all(|f| k.contains(f.as_str()))))
        .map(|circle| graph.one_round(circle).join(" → "))
        .collect();
    assert!(
        new.is_empty(),
        "files import each other; move the shared type into a file both can import:\n{}",
        new.join("\n")
    );
    let gone: Vec<String> = known
        .iter()
        .filter(|k| {
            !circles
                .iter()
                .any(|circle| circle.iter().any(|f| k.contains(f.as_str())))
        })
        .map(|k| format!("{k:?}"))
        .collect();
    assert!(
        gone.is_empty(),
        "no circle left in these; remove them from KNOWN:\n{}",
        gone.join("\n")
    );
}

#[test]
fn a_circle_through_super_and_a_re_export_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod base;\npub mod a;\n");
    write(
        "base.rs",
        "// use crate::a::Widget; in a comment is no edge\npub struct Text;\n",
    );
    write(
        "a/mod.rs",
        "mod scan;\nmod panel;\npub use scan::Widget;\nconst S: &str = \"use crate::x;\";\n",
    );
    write("a/scan.rs", "use super::panel::Kind;\npub struct Widget;\n");
    write(
        "a/panel.rs",
        "use crate::base::Text;\nuse crate::a::Widget;\npub enum Kind {}\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
    );
    let graph = Graph::read(dir.path());
    assert_eq!(
        graph.circles(),
        vec![BTreeSet::from(["a/panel.rs".to_string(), "a/scan.rs".to_string()])]
    );
    assert_eq!(
        graph.edges["a/panel.rs"],
        BTreeSet::from(["base.rs".to_string(), "a/scan.rs".to_string()])
    );
    assert!(graph.edges["base.rs"].is_empty());
}

struct Graph {
    root: PathBuf,
    /// File (relative to `src/`) → the files it imports.
    edges: BTreeMap<String, BTreeSet<String>>,
}

/// One `use` tree flattened to its paths, with the inline modules (`mod tests { … }`) it sits in.
struct Import {
    inline: Vec<String>,
    path: Vec<String>,
}

impl Graph {
    fn read(root: &Path) -> Graph {
        let mut files = Vec::new();
        rust_files(root, &mut files);
        let mut graph = Graph {
            root: root.to_path_buf(),
            edges: BTreeMap::new(),
        };
        let imports: BTreeMap<String, Vec<Import>> = files
            .iter()
            .map(|file| {
                let code = code_only(&std::fs::read_to_string(root.join(file)).unwrap());
                (file.clone(), imports_of(&code))
            })
            .collect();
        let re_exports: BTreeMap<String, Vec<&Import>> = imports
            .iter()
            .map(|(file, list)| {
                (
                    file.clone(),
                    list.iter()
                        .filter(|i| i.path.first().is_some_and(|s| s == "pub"))
                        .collect(),
                )
            })
            .collect();
        for (file, list) in &imports {
            let mut targets = BTreeSet::new();
            for import in list {
                if let Some(target) = graph.resolve(file, import, &re_exports, 0)
                    && &target != file
                {
                    targets.insert(target);
                }
            }
            graph.edges.insert(file.clone(), targets);
        }
        graph
    }

    /// The file defining what `import` (written in `file`) names, or `None` outside the crate.
    fn resolve(
        &self,
        file: &str,
        import: &Import,
        re_exports: &BTreeMap<String, Vec<&Import>>,
        depth: usize,
    ) -> Option<String> {
        let path: Vec<&str> = import.path.iter().map(String::as_str).filter(|s| *s != "pub").collect();
        let mut here = module_of(file);
        here.extend(import.inline.iter().cloned());
        let (mut module, rest): (Vec<String>, &[&str]) = match path.first()? {
            &"crate" => (Vec::new(), &path[1..]),
            &"self" => (here, &path[1..]),
            &"super" => {
                let mut module = here;
                let mut rest = &path[..];
                while rest.first() == Some(&"super") {
                    module.pop();
                    rest = &rest[1..];
                }
                (module, rest)
            }
            first
                if self
                    .module_file(&[here.clone(), vec![first.to_string()]].concat())
                    .is_some() =>
            {
                (here, &path[..])
            }
            _ => return None,
        };
        for segment in rest {
            if *segment == "*" || *segment == "self" {
                break;
            }
            let child = [module.clone(), vec![segment.to_string()]].concat();
            if self.module_file(&child).is_some() {
                module = child;
                continue;
            }
            // An item of `module`: followed to its definition when `module` re-exports it.
            let defining = self.module_file(&module)?;
            if depth < 8 {
                for re_export in re_exports.get(&defining).into_iter().flatten() {
                    if re_export.path.last().map(String::as_str) == Some(segment) && re_export.inline.is_empty() {
                        return self.resolve(&defining, re_export, re_exports, depth + 1);
                    }
                }
            }
            return Some(defining);
        }
        self.module_file(&module)
    }

    fn module_file(&self, module: &[String]) -> Option<String> {
        if module.is_empty() {
            return Some("lib.rs".to_string());
        }
        let base = module.join("/");
        [format!("{base}.rs"), format!("{base}/mod.rs")]
            .into_iter()
            .find(|candidate| self.root.join(candidate).is_file())
    }

    /// The strongly connected parts of more than one file (Tarjan), each sorted.
    fn circles(&self) -> Vec<BTreeSet<String>> {
        struct Walk<'g> {
            graph: &'g Graph,
            index: BTreeMap<&'g str, usize>,
            low: BTreeMap<&'g str, usize>,
            stack: Vec<&'g str>,
            found: Vec<BTreeSet<String>>,
        }
        fn visit<'g>(walk: &mut Walk<'g>, file: &'g str) {
            let n = walk.index.len();
            walk.index.insert(file, n);
            walk.low.insert(file, n);
            walk.stack.push(file);
            for next in &walk.graph.edges[file] {
                let next = next.as_str();
                if !walk.graph.edges.contains_key(next) {
                    continue;
                }
                if !walk.index.contains_key(next) {
                    visit(walk, next);
                    let low = walk.low[file].min(walk.low[next]);
                    walk.low.insert(file, low);
                } else if walk.stack.contains(&next) {
                    let low = walk.low[file].min(walk.index[next]);
                    walk.low.insert(file, low);
                }
            }
            if walk.low[file] == walk.index[file] {
                let mut part = BTreeSet::new();
                while let Some(top) = walk.stack.pop() {
                    part.insert(top.to_string());
                    if top == file {
                        break;
                    }
                }
                if part.len() > 1 {
                    walk.found.push(part);
                }
            }
        }
        let mut walk = Walk {
            graph: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            found: Vec::new(),
        };
        for file in self.edges.keys() {
            if !walk.index.contains_key(file.as_str()) {
                visit(&mut walk, file);
            }
        }
        walk.found.sort();
        walk.found
    }

    /// A shortest way round `circle` from its first file back to it, for the message.
    fn one_round(&self, circle: &BTreeSet<String>) -> Vec<String> {
        let start = circle.first().expect("a circle has files");
        let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([start.as_str()]);
        while let Some(file) = queue.pop_front() {
            for next in self.edges[file].iter().filter(|n| circle.contains(*n)) {
                if next == start {
                    let mut round = vec![start.clone()];
                    let mut at = file;
                    while at != start {
                        round.push(at.to_string());
                        at = came_from[at];
                    }
                    round.push(start.clone());
                    round.reverse();
                    return round;
                }
                if !came_from.contains_key(next.as_str()) {
                    came_from.insert(next, file);
                    queue.push_back(next);
                }
            }
        }
        circle.iter().cloned().collect()
    }
}

fn rust_files(root: &Path, out: &mut Vec<String>) {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    walk(root, root, out);
}

/// The module a file is: `stack/source.rs` → `[stack, source]`, `stack/mod.rs` → `[stack]`.
fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file.trim_end_matches(".rs").split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib" || p == "main") {
        parts.pop();
    }
    parts
}

/// The text with comments, string and char literals blanked out (their length kept).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |out: &mut String, from: &[char]| out.extend(from.iter().map(|c| if *c == '\n' { '\n' } else { ' ' }));
    while i < chars.len() {
        let rest = &chars[i..];
        let end = if rest.starts_with(&['/', '/']) {
            i + rest.iter().position(|c| *c == '\n').unwrap_or(rest.len())
        } else if rest.starts_with(&['/', '*']) {
            let mut depth = 0;
            let mut j = i;
            loop {
                if j + 1 >= chars.len() {
                    break chars.len();
                }
                if chars[j] == '/' && chars[j + 1] == '*' {
                    depth += 1;
                    j += 2;
                } else if chars[j] == '*' && chars[j + 1] == '/' {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break j;
                    }
                } else {
                    j += 1;
                }
            }
        } else if rest[0] == 'r' && (rest.get(1) == Some(&'"') || rest.get(1) == Some(&'#')) && !ident_before(&chars, i)
        {
            let hashes = rest[1..].iter().take_while(|c| **c == '#').count();
            if rest.get(1 + hashes) != Some(&'"') {
                out.push(rest[0]);
                i += 1;
                continue;
            }
            let close: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            let body = i + 2 + hashes;
            (body..chars.len())
                .find(|j| chars[*j..].starts_with(&close))
                .map_or(chars.len(), |j| j + close.len())
        } else if rest[0] == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            (j + 1).min(chars.len())
        } else if rest[0] == '\'' && rest.get(1) == Some(&'\\') {
            i + 2
                + rest[2..]
                    .iter()
                    .position(|c| *c == '\'')
                    .map_or(rest.len() - 2, |p| p + 1)
        } else if rest[0] == '\'' && rest.get(2) == Some(&'\'') {
            i + 3
        } else {
            out.push(rest[0]);
            i += 1;
            continue;
        };
        blank(&mut out, &chars[i..end]);
        i = end;
    }
    out
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// Every `use` path and every `crate::…` path in `code`, flattened (`a::{b, c::d}` → `a::b`,
/// `a::c::d`), with the inline modules each is written in. A `pub use` path starts with `pub`.
fn imports_of(code: &str) -> Vec<Import> {
    let tokens = tokens(code);
    let mut out = Vec::new();
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        match tokens[i].as_str() {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            "mod" if tokens.get(i + 2).is_some_and(|t| t == "{") => {
                inline.push((tokens[i + 1].clone(), depth));
                depth += 1;
                i += 3;
                continue;
            }
            "use" => {
                let public = i > 0 && (tokens[i - 1] == "pub" || tokens[i - 1] == ")");
                let end = (i..tokens.len()).find(|j| tokens[*j] == ";").unwrap_or(tokens.len());
                let names: Vec<String> = inline.iter().map(|(name, _)| name.clone()).collect();
                for path in flatten(&tokens[i + 1..end]) {
                    let path = if public {
                        [vec!["pub".to_string()], path].concat()
                    } else {
                        path
                    };
                    out.push(Import {
                        inline: names.clone(),
                        path,
                    });
                }
                i = end + 1;
                continue;
            }
            "crate" if tokens.get(i + 1).is_some_and(|t| t == "::") => {
                let mut path = vec!["crate".to_string()];
                let mut j = i + 1;
                while tokens.get(j).is_some_and(|t| t == "::") && tokens.get(j + 1).is_some_and(|t| is_ident(t)) {
                    path.push(tokens[j + 1].clone());
                    j += 2;
                }
                out.push(Import {
                    inline: inline.iter().map(|(name, _)| name.clone()).collect(),
                    path,
                });
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn is_ident(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Identifiers, `::`, `*` and single punctuation characters.
fn tokens(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push("::".to_string());
            i += 2;
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// A `use` tree's tokens as its paths; `as` renames are dropped.
fn flatten(tokens: &[String]) -> Vec<Vec<String>> {
    let tokens: Vec<&String> = tokens.iter().filter(|t| *t != "::" && *t != "(" && *t != ")").collect();
    fn walk(tokens: &[&String], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        while *i < tokens.len() {
            match tokens[*i].as_str() {
                "{" => {
                    *i += 1;
                    loop {
                        walk(tokens, i, &path, out);
                        match tokens.get(*i).map(|t| t.as_str()) {
                            Some(",") => *i += 1,
                            Some("}") => {
                                *i += 1;
                                return;
                            }
                            _ => return,
                        }
                        if tokens.get(*i).is_some_and(|t| *t == "}") {
                            *i += 1;
                            return;
                        }
                    }
                }
                "," | "}" => break,
                "as" => *i += 2,
                name => {
                    path.push(name.to_string());
                    *i += 1;
                }
            }
        }
        if path.len() > prefix.len() {
            out.push(path);
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    walk(&tokens, &mut i, &[], &mut out);
    out
}
