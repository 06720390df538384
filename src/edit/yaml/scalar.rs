//! Editing the text inside scalars, in place.
//!
//! Edits are given in the coordinates of the decoded value (what Prometheus reads from a rule's
//! `expr`), and land on the scalar as written: plain, `'single'` (with `''`), `"double"` (with
//! escapes), literal `|`/`|-`/`|+` and folded `>` blocks keep their style, indentation and line
//! breaks, and every byte outside the edited ranges stays as it is.
//!
//! What cannot be done exactly is refused, never approximated: an edit that reaches into a folded
//! line break or a block scalar's final line breaks, a block scalar with an explicit indentation
//! indicator, a line break in new text for anything but a literal block. Before anything is
//! returned, the scalar as read must decode to exactly the value the typed parse gives, and the
//! edited file must parse to the old value with exactly the intended strings replaced.

use std::ops::Range;

use yaml_serde::Value;

use super::doc::YamlDoc;
use super::error::YamlError;
use super::quoted::{decode_escape, escape_double};
use super::route::Route;
use super::tree::NodeKind;
use crate::edit::{Splice, apply_splices, line_ending};

/// How a scalar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|`, `|-`, `|+`
    Literal,
    /// `>`, `>-`, `>+`
    Folded,
}

/// Edits to the decoded text of the scalar at `route`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalarTextEdit {
    pub route: Route,
    /// Byte ranges of the decoded value, each with the decoded text to put there. They must not
    /// overlap, and must start and end between characters.
    pub edits: Vec<(Range<usize>, String)>,
}

impl YamlDoc {
    /// The style and decoded text of the scalar at `route`, when pullover can map it exactly.
    pub fn scalar_text(&self, route: &Route) -> Option<(ScalarStyle, String)> {
        let node = route.find(self.root()?)?;
        let scalar = RawScalar::read(&self.text, node.range()).ok()?;
        let typed = route.find_value(&self.value)?;
        (typed.as_str() == Some(scalar.value.as_str())).then_some((scalar.style, scalar.value))
    }

    /// Applies edits to the text inside scalars and returns the new file text.
    ///
    /// Every scalar keeps its style; bytes outside the edited ranges do not change. The result
    /// is parsed again and must equal the old document with exactly the edited strings changed.
    pub fn edit_scalar_text(&self, edits: &[ScalarTextEdit]) -> Result<String, YamlError> {
        let eol = line_ending(&self.text);
        let mut splices = Vec::new();
        let mut expected = self.value.clone();
        for edit in edits.iter().filter(|e| !e.edits.is_empty()) {
            let route = &edit.route;
            let unsupported = |reason: String, offset: usize| YamlError::Unsupported {
                route: route.clone(),
                reason,
                offset: Some(offset),
            };
            let node = self
                .root()
                .and_then(|root| route.find(root))
                .ok_or_else(|| YamlError::NotFound { route: route.clone() })?;
            let at = node.range().start;
            if node.kind() != NodeKind::Scalar {
                return Err(unsupported(
                    "it is not a scalar (an alias or a tagged value?)".into(),
                    at,
                ));
            }
            let Some(Value::String(typed)) = route.find_value(&self.value) else {
                return Err(unsupported("it is not a string".into(), at));
            };
            let scalar = RawScalar::read(&self.text, node.range()).map_err(|reason| unsupported(reason, at))?;
            if &scalar.value != typed {
                return Err(unsupported(
                    "pullover cannot map this scalar's text exactly; edit it by hand".into(),
                    at,
                ));
            }
            let (scalar_splices, value) = scalar
                .splices(&edit.edits, eol, &self.text)
                .map_err(|reason| unsupported(reason, at))?;
            splices.extend(scalar_splices);
            let slot = route
                .find_value_mut(&mut expected)
                .ok_or_else(|| YamlError::NotFound { route: route.clone() })?;
            *slot = Value::String(value);
        }
        if splices.is_empty() {
            return Ok(self.text.clone());
        }
        let first_route = edits.first().map(|e| e.route.clone()).unwrap_or_default();
        let new_text = apply_splices(&self.text, &splices).map_err(|e| YamlError::Verify {
            route: first_route.clone(),
            detail: e.to_string(),
        })?;
        let new_doc = YamlDoc::parse(&new_text).map_err(|e| YamlError::Verify {
            route: first_route.clone(),
            detail: format!("the result does not parse: {e}"),
        })?;
        if new_doc.value != expected {
            let route = edits
                .iter()
                .find(|e| e.route.find_value(&new_doc.value) != e.route.find_value(&expected))
                .map_or(first_route, |e| e.route.clone());
            return Err(YamlError::Verify {
                route,
                detail: "the edited text does not decode to the intended value".into(),
            });
        }
        Ok(new_text)
    }
}

/// Where a piece of the decoded value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// Written as is.
    Verbatim,
    /// An escape (`''`, `\"`, `\u00e9`) standing for one character.
    Escape,
    /// A line break with the indentation around it (folded to a space, kept as `\n`, or gone
    /// after an escaped line break).
    Break,
    /// A block scalar's final line breaks, which its chomping indicator decides.
    Chomp,
}

#[derive(Debug, Clone)]
struct Segment {
    decoded: Range<usize>,
    raw: Range<usize>,
    piece: Piece,
}

/// A scalar as written, decoded, with a map from the decoded value back to the raw text.
#[derive(Debug, Clone)]
struct RawScalar {
    style: ScalarStyle,
    value: String,
    /// Every decoded byte, in order; raw ranges are absolute offsets in the file.
    segments: Vec<Segment>,
    /// Where the value's text starts and ends in the file (inside quotes, after a block header).
    content: Range<usize>,
    /// The indentation of a block scalar's lines.
    indent: usize,
}

#[derive(Default)]
struct Decoder {
    value: String,
    segments: Vec<Segment>,
}

impl Decoder {
    fn push(&mut self, raw: Range<usize>, decoded: &str, piece: Piece) {
        let start = self.value.len();
        self.value.push_str(decoded);
        let end = self.value.len();
        if let Some(last) = self.segments.last_mut()
            && piece == Piece::Verbatim
            && last.piece == Piece::Verbatim
            && last.raw.end == raw.start
        {
            last.raw.end = raw.end;
            last.decoded.end = end;
            return;
        }
        if raw.is_empty() && decoded.is_empty() {
            return;
        }
        self.segments.push(Segment {
            decoded: start..end,
            raw,
            piece,
        });
    }
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// The end of a line break at `at` (`\n` or `\r\n`), if one starts there.
fn break_at(text: &str, at: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    match bytes.get(at) {
        Some(b'\n') => Some(at + 1),
        Some(b'\r') if bytes.get(at + 1) == Some(&b'\n') => Some(at + 2),
        _ => None,
    }
}

/// What `n` line breaks between two pieces of flow text fold to.
fn folded(breaks: usize) -> String {
    if breaks <= 1 {
        " ".to_string()
    } else {
        "\n".repeat(breaks - 1)
    }
}

impl RawScalar {
    /// Reads the scalar at `range` of `text` (a node range from the syntax tree).
    fn read(text: &str, range: Range<usize>) -> Result<RawScalar, String> {
        let raw = text
            .get(range.clone())
            .ok_or_else(|| "the scalar's range is outside the file".to_string())?;
        // YAML reads a lone `\r` as a line break too; such files are not edited.
        if raw
            .match_indices('\r')
            .any(|(at, _)| raw.as_bytes().get(at + 1) != Some(&b'\n'))
        {
            return Err("a carriage return without a line feed inside the scalar".into());
        }
        match raw.as_bytes().first() {
            Some(b'\'') => RawScalar::quoted(text, range, ScalarStyle::SingleQuoted),
            Some(b'"') => RawScalar::quoted(text, range, ScalarStyle::DoubleQuoted),
            Some(b'|') => RawScalar::block(text, range, ScalarStyle::Literal),
            Some(b'>') => RawScalar::block(text, range, ScalarStyle::Folded),
            _ => RawScalar::plain(text, range),
        }
    }

    fn plain(text: &str, range: Range<usize>) -> Result<RawScalar, String> {
        let bytes = text.as_bytes();
        let mut end = range.end;
        while end > range.start
            && bytes
                .get(end - 1)
                .is_some_and(|&c| is_blank(c) || c == b'\n' || c == b'\r')
        {
            end -= 1;
        }
        let mut decoder = Decoder::default();
        let mut at = range.start;
        while at < end {
            // One line's text, without blanks around it (a first line has none before).
            let line_end = text[at..end].find(['\r', '\n']).map_or(end, |i| at + i);
            let mut text_end = line_end;
            while text_end > at && bytes.get(text_end - 1).is_some_and(|&c| is_blank(c)) {
                text_end -= 1;
            }
            decoder.push(at..text_end, &text[at..text_end], Piece::Verbatim);
            if line_end >= end {
                break;
            }
            let (next, breaks) = skip_breaks(text, text_end, end);
            if next <= at || breaks == 0 {
                return Err("a line break pullover cannot read".into());
            }
            decoder.push(text_end..next, &folded(breaks), Piece::Break);
            at = next;
        }
        Ok(RawScalar {
            style: ScalarStyle::Plain,
            value: decoder.value,
            segments: decoder.segments,
            content: range.start..end,
            indent: 0,
        })
    }

    fn quoted(text: &str, range: Range<usize>, style: ScalarStyle) -> Result<RawScalar, String> {
        let bytes = text.as_bytes();
        let quote = if style == ScalarStyle::SingleQuoted {
            b'\''
        } else {
            b'"'
        };
        if range.len() < 2 || bytes.get(range.end - 1) != Some(&quote) {
            return Err("the quoted scalar does not end with its quote".into());
        }
        let inner = range.start + 1..range.end - 1;
        let mut decoder = Decoder::default();
        let mut pending_blanks: Option<usize> = None;
        let mut at = inner.start;
        while at < inner.end {
            let Some(&c) = bytes.get(at) else { break };
            if c == b'\n' || c == b'\r' {
                let from = pending_blanks.take().unwrap_or(at);
                let (next, breaks) = skip_breaks(text, at, inner.end);
                if next <= at || breaks == 0 {
                    return Err("a line break pullover cannot read".into());
                }
                decoder.push(from..next, &folded(breaks), Piece::Break);
                at = next;
                continue;
            }
            if is_blank(c) {
                pending_blanks.get_or_insert(at);
                at += 1;
                continue;
            }
            if let Some(from) = pending_blanks.take() {
                decoder.push(from..at, &text[from..at], Piece::Verbatim);
            }
            if style == ScalarStyle::SingleQuoted && c == b'\'' {
                if bytes.get(at + 1) != Some(&b'\'') || at + 2 > inner.end {
                    return Err("a lone `'` inside a single-quoted scalar".into());
                }
                decoder.push(at..at + 2, "'", Piece::Escape);
                at += 2;
                continue;
            }
            if style == ScalarStyle::DoubleQuoted && c == b'\\' {
                if let Some(after_break) = break_at(text, at + 1) {
                    // An escaped line break: the break and the next line's indentation vanish.
                    let mut next = after_break;
                    while next < inner.end && bytes.get(next).is_some_and(|&c| is_blank(c)) {
                        next += 1;
                    }
                    decoder.push(at..next, "", Piece::Break);
                    at = next;
                    continue;
                }
                let (decoded, length) = decode_escape(&text[at..inner.end])?;
                decoder.push(at..at + length, &decoded.to_string(), Piece::Escape);
                at += length;
                continue;
            }
            let width = text[at..].chars().next().map_or(1, char::len_utf8);
            decoder.push(at..at + width, &text[at..at + width], Piece::Verbatim);
            at += width;
        }
        if let Some(from) = pending_blanks {
            decoder.push(from..inner.end, &text[from..inner.end], Piece::Verbatim);
        }
        Ok(RawScalar {
            style,
            value: decoder.value,
            segments: decoder.segments,
            content: inner,
            indent: 0,
        })
    }

    fn block(text: &str, range: Range<usize>, style: ScalarStyle) -> Result<RawScalar, String> {
        let bytes = text.as_bytes();
        let header_end = text[range.clone()]
            .find(['\r', '\n'])
            .map(|i| range.start + i)
            .ok_or_else(|| "a block scalar without content lines".to_string())?;
        let mut chomp = Chomp::Clip;
        for c in text[range.start + 1..header_end].chars() {
            match c {
                '-' => chomp = Chomp::Strip,
                '+' => chomp = Chomp::Keep,
                '1'..='9' => {
                    return Err("block scalars with an explicit indentation indicator are not edited".into());
                }
                ' ' | '\t' | '#' => break,
                _ => return Err(format!("unexpected `{c}` in the block scalar header")),
            }
        }
        let first_line =
            break_at(text, header_end).ok_or_else(|| "a block scalar header without a line break".to_string())?;
        // Lines: (start, end of text, end of line break).
        let mut lines = Vec::new();
        let mut at = first_line;
        while at < range.end {
            let end = text[at..range.end].find(['\r', '\n']).map_or(range.end, |i| at + i);
            let next = break_at(text, end).unwrap_or(end).min(range.end);
            lines.push((at, end, next));
            if next == at {
                break;
            }
            at = next;
        }
        let leading_spaces =
            |(start, end, _): (usize, usize, usize)| text[start..end].bytes().take_while(|&c| c == b' ').count();
        let indent = lines
            .iter()
            .find(|&&(start, end, _)| text[start..end].bytes().any(|c| c != b' '))
            .map(|&line| leading_spaces(line))
            .ok_or_else(|| "an empty block scalar".to_string())?;
        if indent == 0 {
            return Err("a block scalar at indentation 0".into());
        }
        // Each line's text after the indentation.
        let texts: Vec<Range<usize>> = lines
            .iter()
            .map(|&(start, end, _)| (start + indent.min(end - start))..end)
            .collect();
        for (&(start, end, _), body) in lines.iter().zip(&texts) {
            let has_content = text[start..end].bytes().any(|c| c != b' ');
            if has_content && leading_spaces((start, end, 0)) < indent {
                return Err("a block scalar line is indented less than its first line".into());
            }
            if body.start > body.end {
                return Err("a block scalar line could not be read".into());
            }
        }
        let Some(last) = texts.iter().rposition(|body| !body.is_empty()) else {
            return Err("an empty block scalar".into());
        };
        let mut decoder = Decoder::default();
        let more_indented = |body: &Range<usize>| bytes.get(body.start).is_some_and(|&c| is_blank(c));
        let mut previous: Option<usize> = None;
        for (index, body) in texts.iter().enumerate().take(last + 1) {
            match style {
                ScalarStyle::Literal => {
                    if let Some(prev) = previous {
                        let from = texts.get(prev).map_or(body.start, |p| p.end);
                        decoder.push(from..body.start, "\n", Piece::Break);
                    }
                    decoder.push(body.clone(), &text[body.clone()], Piece::Verbatim);
                    previous = Some(index);
                }
                _ => {
                    // Folded: empty lines fold into the break between two text lines.
                    if body.is_empty() {
                        continue;
                    }
                    if let Some(prev) = previous
                        && let Some(prev_body) = texts.get(prev)
                    {
                        let blank_lines = index - prev - 1;
                        let decoded = if more_indented(prev_body) || more_indented(body) {
                            "\n".repeat(blank_lines + 1)
                        } else if blank_lines == 0 {
                            " ".to_string()
                        } else {
                            "\n".repeat(blank_lines)
                        };
                        decoder.push(prev_body.end..body.start, &decoded, Piece::Break);
                    }
                    decoder.push(body.clone(), &text[body.clone()], Piece::Verbatim);
                    previous = Some(index);
                }
            }
        }
        let (body_end, last_break_end) = match (texts.get(last), lines.get(last)) {
            (Some(body), Some(&(_, _, next))) => (body.end, next),
            _ => return Err("a block scalar line could not be read".into()),
        };
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => {
                if last_break_end > body_end {
                    decoder.push(body_end..last_break_end, "\n", Piece::Chomp);
                }
            }
            Chomp::Keep => {
                let trailing = lines.iter().skip(last).filter(|&&(_, end, next)| next > end).count();
                decoder.push(body_end..range.end, &"\n".repeat(trailing), Piece::Chomp);
            }
        }
        Ok(RawScalar {
            style,
            value: decoder.value,
            segments: decoder.segments,
            content: first_line..body_end,
            indent,
        })
    }

    /// The splices that make the decoded value `edits` applied to it, and that new value.
    fn splices(
        &self,
        edits: &[(Range<usize>, String)],
        eol: &str,
        text: &str,
    ) -> Result<(Vec<Splice>, String), String> {
        let mut ordered: Vec<&(Range<usize>, String)> = edits.iter().collect();
        ordered.sort_by_key(|(range, _)| (range.start, range.end));
        let mut value = String::with_capacity(self.value.len() + 16);
        let mut copied = 0;
        let mut splices = Vec::new();
        for (range, replacement) in ordered {
            let before = self
                .value
                .get(copied..range.start)
                .filter(|_| range.start <= range.end && self.value.get(range.clone()).is_some())
                .ok_or_else(|| {
                    format!(
                        "edit {}..{} overlaps another, lies outside the value or splits a character",
                        range.start, range.end
                    )
                })?;
            value.push_str(before);
            value.push_str(replacement);
            copied = range.end;
            let raw_start = self.raw_at(range.start, true)?;
            let raw_end = if range.is_empty() {
                raw_start
            } else {
                self.raw_at(range.end, false)?
            };
            for segment in &self.segments {
                let covered = segment.raw.start >= raw_start && segment.raw.end <= raw_end && !segment.raw.is_empty();
                match segment.piece {
                    Piece::Chomp if covered => {
                        return Err("the edit reaches the block scalar's final line breaks".into());
                    }
                    Piece::Break if covered && self.style != ScalarStyle::Literal => {
                        return Err("the edit spans a folded line break".into());
                    }
                    _ => {}
                }
            }
            let (raw, encoded) = self.at_blank_line(text, raw_start..raw_end, self.encode(replacement, eol)?);
            splices.push(Splice::replace(raw, encoded));
        }
        value.push_str(self.value.get(copied..).unwrap_or_default());
        Ok((splices, value))
    }

    /// A literal block's whole lines inserted or removed next to an empty line of it: an empty
    /// line carries no indentation, so the edit's own line starts and ends are placed here. New
    /// lines before an empty one start indented and leave it empty; removed lines before one
    /// take their indentation with them.
    fn at_blank_line(&self, text: &str, raw: Range<usize>, mut encoded: String) -> (Range<usize>, String) {
        if self.style != ScalarStyle::Literal || self.indent == 0 {
            return (raw, encoded);
        }
        let empty_line_after = |at: usize| text[at..].starts_with('\n') || text[at..].starts_with("\r\n");
        let line_start = text[..raw.start].rfind('\n').map_or(0, |i| i + 1);
        let indent = " ".repeat(self.indent);
        if !empty_line_after(raw.end) {
            return (raw, encoded);
        }
        if encoded.is_empty() {
            // The indentation before the removed lines would be left on the empty line.
            let blanks = &text[line_start..raw.start];
            if !blanks.is_empty() && blanks.bytes().all(|b| b == b' ') && text[raw.clone()].ends_with('\n') {
                return (line_start..raw.end, encoded);
            }
            return (raw, encoded);
        }
        if raw.start == line_start && !encoded.starts_with(['\n', '\r']) {
            encoded.insert_str(0, &indent);
        }
        if let Some(kept) = encoded.strip_suffix(indent.as_str())
            && kept.ends_with('\n')
        {
            encoded.truncate(kept.len());
        }
        (raw, encoded)
    }

    /// The raw offset of decoded offset `at`: the start (`start == true`) or end of an edit.
    fn raw_at(&self, at: usize, start: bool) -> Result<usize, String> {
        for segment in &self.segments {
            if segment.decoded.start < at && at < segment.decoded.end {
                return match segment.piece {
                    Piece::Verbatim => Ok(segment.raw.start + (at - segment.decoded.start)),
                    Piece::Escape => Err("the edit starts or ends inside an escape sequence".into()),
                    Piece::Break | Piece::Chomp => Err("the edit starts or ends inside a line break".into()),
                };
            }
        }
        let starting = || {
            self.segments
                .iter()
                .find(|s| s.decoded.start == at)
                .map(|s| s.raw.start)
        };
        let ending = || self.segments.iter().find(|s| s.decoded.end == at).map(|s| s.raw.end);
        let boundary = if start {
            starting().or_else(ending)
        } else {
            ending().or_else(starting)
        };
        match boundary {
            Some(offset) => Ok(offset),
            None if at == 0 => Ok(self.content.start),
            None if at == self.value.len() => Ok(self.content.end),
            None => Err(format!("offset {at} is not in the value")),
        }
    }

    /// `replacement` written the way this scalar writes text.
    fn encode(&self, replacement: &str, eol: &str) -> Result<String, String> {
        let control = |c: char| (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}');
        let no_breaks = |style: &str| {
            if replacement.contains(['\n', '\r']) {
                Err(format!("a line break cannot be added to a {style} scalar exactly"))
            } else if replacement.chars().any(control) {
                Err(format!("a control character cannot be written in a {style} scalar"))
            } else {
                Ok(())
            }
        };
        match self.style {
            ScalarStyle::Plain => no_breaks("plain").map(|()| replacement.to_string()),
            ScalarStyle::Folded => no_breaks("folded").map(|()| replacement.to_string()),
            ScalarStyle::SingleQuoted => no_breaks("single-quoted").map(|()| replacement.replace('\'', "''")),
            ScalarStyle::DoubleQuoted => Ok(escape_double(replacement)),
            ScalarStyle::Literal => {
                if replacement.chars().any(|c| c != '\n' && control(c)) {
                    return Err("a control character cannot be written in a literal block".into());
                }
                let indent = " ".repeat(self.indent);
                let mut out = String::with_capacity(replacement.len() + 8);
                let pieces: Vec<&str> = replacement.split('\n').collect();
                for (index, piece) in pieces.iter().enumerate() {
                    if index > 0 {
                        out.push_str(eol);
                        // An empty line inside the new text needs no indentation.
                        if !piece.is_empty() || index + 1 == pieces.len() {
                            out.push_str(&indent);
                        }
                    }
                    out.push_str(piece);
                }
                Ok(out)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// From `at` (the end of a line's text, before blanks and the break) over line breaks and the
/// blanks around them, up to `limit`: the next text's offset and how many breaks there were.
fn skip_breaks(text: &str, at: usize, limit: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut next = at;
    let mut breaks = 0;
    loop {
        while next < limit && bytes.get(next).is_some_and(|&c| is_blank(c)) {
            next += 1;
        }
        match break_at(text, next) {
            Some(after) if after <= limit => {
                breaks += 1;
                next = after;
            }
            _ => break,
        }
    }
    (next, breaks)
}

#[cfg(test)]
mod tests;
