//! The query sites of a dashboard — what kind of string, whose, where — and the [`Collector`]
//! that gathers them while the classic or v2 walker reads the file. Below both walkers and the
//! scan that picks one, so none of them imports another.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use jsonc_parser::ast::{StringLit, Value};

use super::datasource::{self, Datasource, DatasourceIndex, KnownDatasources, SkipReason};
use super::json::get_str;
use super::position::{LineCol, line_col};

/// What kind of string a query site is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteKind {
    /// A panel query (`targets[].expr`; v2 `queries[].spec.query.spec.expr`).
    PanelTarget,
    /// A query variable's query (`query` string, `query.query`; v2 `spec.query.spec.query`).
    TemplateQuery,
    /// A query variable's `definition` (the text Grafana shows; kept in step with the query).
    TemplateDefinition,
    /// An annotation query (`expr`, `target.expr`; v2 `spec.query.spec.expr`).
    Annotation,
    /// A panel link URL that seems to carry a query (Explore or Prometheus graph links). The value
    /// is a URL, possibly percent-encoded: report it, do not hand it to the PromQL rewriter.
    PanelLink,
}

impl fmt::Display for SiteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SiteKind::PanelTarget => "panel query",
            SiteKind::TemplateQuery => "variable query",
            SiteKind::TemplateDefinition => "variable definition",
            SiteKind::Annotation => "annotation query",
            SiteKind::PanelLink => "panel link",
        })
    }
}

/// What a query belongs to, for messages a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A panel; `row` is the title of the row (or v2 tab) it sits in, if any.
    Panel {
        title: Option<String>,
        row: Option<String>,
    },
    Variable {
        name: Option<String>,
    },
    Annotation {
        name: Option<String>,
    },
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted = |name: &Option<String>| match name {
            Some(name) => format!("{name:?}"),
            None => "(untitled)".to_owned(),
        };
        match self {
            Owner::Panel { title, row: None } => write!(f, "panel {}", quoted(title)),
            Owner::Panel { title, row: Some(row) } => write!(f, "panel {} in row {row:?}", quoted(title)),
            Owner::Variable { name } => write!(f, "variable {}", quoted(name)),
            Owner::Annotation { name } => write!(f, "annotation {}", quoted(name)),
        }
    }
}

/// One string in the file that holds a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySite {
    /// RFC 6901 pointer to the string.
    pub pointer: String,
    pub kind: SiteKind,
    pub owner: Owner,
    /// Shared by the sites of a file that go to the same data source: a stack keeps every
    /// dashboard's scan while it plans, and most name one or two.
    pub datasource: Arc<Datasource>,
    /// The string as Grafana reads it (escapes decoded).
    pub value: String,
    /// Byte range of the literal in the source, quotes included (pass it to `rewrite_strings`).
    pub literal: Range<usize>,
    /// A panel query's `legendFormat`, when it has one: its labels must exist on what the query
    /// returns. Boxed: most queries have none, and a stack keeps every dashboard's sites.
    pub legend: Option<Box<Legend>>,
}

/// A panel query's `legendFormat` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Legend {
    /// Decoded, as Grafana reads it.
    pub value: String,
    /// Byte range of the literal in the source, quotes included.
    pub literal: Range<usize>,
}

impl QuerySite {
    /// 1-based line and column of the literal's opening quote.
    pub fn location(&self, source: &str) -> LineCol {
        line_col(source, self.literal.start)
    }
}

/// A query site that is not PromQL for pullover's purposes, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedSite {
    pub site: QuerySite,
    pub reason: SkipReason,
}

/// A panel that is a reference to a library panel (its queries live in Grafana's library).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryPanelRef {
    /// Pointer to the panel (classic) or element (v2).
    pub pointer: String,
    pub uid: Option<String>,
    pub name: Option<String>,
    /// The dashboard panel's own title and row.
    pub owner: Owner,
    /// Byte range of the `libraryPanel` object.
    pub span: Range<usize>,
}

/// Gathers sites while walking; classifies them once the whole file has been seen (a uid's
/// type may be stated after its first use).
pub(crate) struct Collector {
    base: usize,
    candidates: Vec<Candidate>,
    library_panels: Vec<LibraryPanelRef>,
    pub index: DatasourceIndex,
    /// What a candidate's site holds until `finish` gives it its own data source.
    unresolved: Arc<Datasource>,
}

struct Candidate {
    /// Its `datasource` is set once the whole file is seen, from `datasource`.
    site: QuerySite,
    datasource: Datasource,
    verdict: Verdict,
}

enum Verdict {
    ByDatasource,
    Keep,
    Skip(SkipReason),
}

impl Collector {
    pub(super) fn new(base: usize) -> Self {
        Self {
            base,
            candidates: Vec::new(),
            library_panels: Vec::new(),
            index: DatasourceIndex::default(),
            unresolved: Arc::new(Datasource::Default),
        }
    }

    /// A query string, kept or skipped according to its data source.
    pub fn query(
        &mut self,
        literal: Option<&StringLit<'_>>,
        pointer: String,
        kind: SiteKind,
        owner: &Owner,
        datasource: &Datasource,
    ) {
        self.push(literal, pointer, kind, owner, datasource, Verdict::ByDatasource);
    }

    /// A panel query with its `legendFormat`.
    pub fn panel_query(
        &mut self,
        literal: Option<&StringLit<'_>>,
        legend: Option<&StringLit<'_>>,
        pointer: String,
        owner: &Owner,
        datasource: &Datasource,
    ) {
        let count = self.candidates.len();
        self.query(literal, pointer, SiteKind::PanelTarget, owner, datasource);
        if self.candidates.len() > count
            && let (Some(candidate), Some(legend)) = (self.candidates.last_mut(), legend)
        {
            candidate.site.legend = Some(Box::new(Legend {
                value: legend.value.to_string(),
                literal: self.base + legend.range.start..self.base + legend.range.end,
            }));
        }
    }

    /// A query string that is skipped whatever its data source.
    pub fn skipped(
        &mut self,
        literal: Option<&StringLit<'_>>,
        pointer: String,
        kind: SiteKind,
        owner: &Owner,
        datasource: &Datasource,
        reason: SkipReason,
    ) {
        self.push(literal, pointer, kind, owner, datasource, Verdict::Skip(reason));
    }

    /// A panel link URL; kept (for reporting) if it seems to carry a query.
    pub fn link(&mut self, literal: Option<&StringLit<'_>>, pointer: String, owner: &Owner) {
        if let Some(url) = literal
            && carries_query(&url.value)
        {
            self.push(
                Some(url),
                pointer,
                SiteKind::PanelLink,
                owner,
                &Datasource::Default,
                Verdict::Keep,
            );
        }
    }

    pub fn library_panel(&mut self, reference: &Value<'_>, pointer: String, owner: &Owner) {
        let range = match reference {
            Value::Object(object) => object.range,
            _ => return,
        };
        self.library_panels.push(LibraryPanelRef {
            pointer,
            uid: get_str(reference, "uid").map(str::to_owned),
            name: get_str(reference, "name").map(str::to_owned),
            owner: owner.clone(),
            span: self.base + range.start..self.base + range.end,
        });
    }

    fn push(
        &mut self,
        literal: Option<&StringLit<'_>>,
        pointer: String,
        kind: SiteKind,
        owner: &Owner,
        datasource: &Datasource,
        verdict: Verdict,
    ) {
        let Some(literal) = literal else { return };
        // An empty query holds nothing to rewrite or report.
        if literal.value.trim().is_empty() {
            return;
        }
        self.index.note(datasource);
        self.candidates.push(Candidate {
            site: QuerySite {
                pointer,
                kind,
                owner: owner.clone(),
                datasource: Arc::clone(&self.unresolved),
                value: literal.value.to_string(),
                literal: self.base + literal.range.start..self.base + literal.range.end,
                legend: None,
            },
            datasource: datasource.clone(),
            verdict,
        });
    }

    pub(super) fn finish(self, known: &KnownDatasources) -> (Vec<QuerySite>, Vec<SkippedSite>, Vec<LibraryPanelRef>) {
        // Sized to the candidates: a stack keeps every dashboard's scan while it plans.
        let mut sites = Vec::with_capacity(self.candidates.len());
        let mut skipped = Vec::new();
        let mut shared: HashMap<Datasource, Arc<Datasource>> = HashMap::new();
        for Candidate {
            mut site,
            datasource,
            verdict,
        } in self.candidates
        {
            let mut datasource = self.index.resolve(&datasource);
            known.resolve(&mut datasource);
            site.datasource = Arc::clone(
                shared
                    .entry(datasource)
                    .or_insert_with_key(|datasource| Arc::new(datasource.clone())),
            );
            let verdict = match verdict {
                Verdict::ByDatasource if *site.datasource == Datasource::Default => {
                    known.default_skip().map_or(Ok(()), Err)
                }
                Verdict::ByDatasource => datasource::classify(&site.datasource),
                Verdict::Keep => Ok(()),
                Verdict::Skip(reason) => Err(reason),
            };
            match verdict {
                Ok(()) => sites.push(site),
                Err(reason) => skipped.push(SkippedSite { site, reason }),
            }
        }
        // File order, so reports read top to bottom.
        sites.sort_by_key(|site| site.literal.start);
        sites.shrink_to_fit();
        skipped.sort_by_key(|skipped| skipped.site.literal.start);
        (sites, skipped, self.library_panels)
    }
}

/// Explore links, Prometheus graph links (`/graph?g0.expr=`) and URLs with an `expr`
/// parameter or JSON field (plain or percent-encoded) carry a query.
fn carries_query(url: &str) -> bool {
    let url = url.to_ascii_lowercase();
    ["/explore", "expr=", "\"expr\"", "%22expr%22"]
        .iter()
        .any(|marker| url.contains(marker))
}
