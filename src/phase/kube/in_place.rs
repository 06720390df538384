//! Edits to the documents of a Kubernetes stack's files, and to YAML kept as text inside them
//! (a ConfigMap's `prometheus.yml: |`, `additionalScrapeConfigs: |`), gathered per document and
//! made one after another, so a phase can change one document several ways and write each file
//! once. Text inside a string changes line by line ([`embedded::line_edits`]): the block keeps
//! its indentation and every line not edited stays byte for byte.

use std::collections::BTreeMap;

use crate::changeset::ChangeSetBuilder;
use crate::diagnostic::Diagnostic;
use crate::edit::yaml::{Route, ScalarStyle, ScalarTextEdit, YamlDoc, YamlEdit, YamlError};
use crate::stack::kube::{KubeStack, embedded};
use crate::stack::source::SourceFile;

/// A document of the stack: one of a manifest file, or a values file (one document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Holder {
    Manifest { manifest: usize, doc: usize },
    Values(usize),
}

impl Holder {
    fn file<'k>(&self, kube: &'k KubeStack) -> &'k SourceFile {
        match *self {
            Holder::Manifest { manifest, .. } => &kube.manifests[manifest].file,
            Holder::Values(index) => &kube.values[index].file,
        }
    }

    fn original<'k>(&self, kube: &'k KubeStack) -> &'k YamlDoc {
        match *self {
            Holder::Manifest { manifest, doc } => &kube.manifests[manifest].stream.docs()[doc].doc,
            Holder::Values(index) => &kube.values[index].doc,
        }
    }

    /// Where the document starts in its file.
    fn start(&self, kube: &KubeStack) -> usize {
        match *self {
            Holder::Manifest { manifest, doc } => kube.manifests[manifest].stream.docs()[doc].range.start,
            Holder::Values(_) => 0,
        }
    }
}

/// The documents a phase has edited so far, each as its current text.
#[derive(Debug, Default)]
pub struct Edits {
    docs: BTreeMap<Holder, YamlDoc>,
    /// The first reason given for each file.
    because: BTreeMap<Holder, String>,
}

impl Edits {
    /// Whether a document of the manifest has been edited.
    pub fn touches_manifest(&self, manifest_index: usize) -> bool {
        self.docs
            .keys()
            .any(|h| matches!(h, Holder::Manifest { manifest, .. } if *manifest == manifest_index))
    }

    /// The current text of a manifest's edited documents.
    pub fn manifest_docs(&self, manifest_index: usize) -> Vec<(usize, String)> {
        self.docs
            .iter()
            .filter_map(|(h, doc)| match h {
                Holder::Manifest { manifest, doc: index } if *manifest == manifest_index => {
                    Some((*index, doc.text().to_string()))
                }
                _ => None,
            })
            .collect()
    }

    fn current(&mut self, kube: &KubeStack, holder: Holder) -> &YamlDoc {
        self.docs.entry(holder).or_insert_with(|| holder.original(kube).clone())
    }

    fn diagnostic(kube: &KubeStack, holder: Holder, error: YamlError) -> Diagnostic {
        let by = holder.start(kube);
        let shifted = match error {
            YamlError::Unsupported { route, reason, offset } => YamlError::Unsupported {
                route,
                reason,
                offset: offset.map(|o| o + by),
            },
            YamlError::Syntax { message, offset } => YamlError::Syntax {
                message,
                offset: offset + by,
            },
            other => other,
        };
        shifted.to_diagnostic(holder.file(kube))
    }

    fn replace(&mut self, kube: &KubeStack, holder: Holder, text: String, because: &str) -> Result<(), Diagnostic> {
        let doc = YamlDoc::parse(&text).map_err(|e| Self::diagnostic(kube, holder, e))?;
        self.docs.insert(holder, doc);
        self.because.entry(holder).or_insert_with(|| because.to_string());
        Ok(())
    }

    /// Edits the document itself.
    pub fn edit(
        &mut self,
        kube: &KubeStack,
        holder: Holder,
        edits: &[YamlEdit],
        because: &str,
    ) -> Result<(), Diagnostic> {
        if edits.is_empty() {
            return Ok(());
        }
        let text = self
            .current(kube, holder)
            .edit(edits)
            .map_err(|e| Self::diagnostic(kube, holder, e))?;
        self.replace(kube, holder, text, because)
    }

    /// Edits the YAML held as text in the literal block at `outer`: `edits` name routes inside
    /// that text.
    pub fn edit_inside(
        &mut self,
        kube: &KubeStack,
        holder: Holder,
        outer: &Route,
        edits: &[YamlEdit],
        because: &str,
    ) -> Result<(), Diagnostic> {
        if edits.is_empty() {
            return Ok(());
        }
        let file = holder.file(kube).path.clone();
        let doc = self.current(kube, holder).clone();
        let Some((ScalarStyle::Literal, inner_text)) = doc.scalar_text(outer) else {
            return Err(Diagnostic::error(format!(
                "{file}: `{outer}` holds YAML as text pullover edits only in a literal block (`|`)"
            ))
            .help("write it as a literal block (`key: |`), then plan again; nothing was written"));
        };
        let inner = YamlDoc::parse(&inner_text).map_err(|e| {
            Diagnostic::error(format!("{file}: the YAML held in `{outer}` does not parse: {e}"))
                .help("fix it, then plan again; nothing was written")
        })?;
        let new_inner = inner.edit(edits).map_err(|e| {
            Diagnostic::error(format!("{file}: in the YAML held in `{outer}`: {e}"))
                .help("make this edit by hand; nothing was written")
        })?;
        let text = doc
            .edit_scalar_text(&[ScalarTextEdit {
                route: outer.clone(),
                edits: embedded::line_edits(&inner_text, &new_inner),
            }])
            .map_err(|e| Self::diagnostic(kube, holder, e))?;
        self.replace(kube, holder, text, because)?;
        // Read back: the block must now hold exactly the edited text.
        let held = self
            .docs
            .get(&holder)
            .and_then(|d| d.scalar_text(outer))
            .map(|(_, t)| t);
        if held.as_deref() != Some(new_inner.as_str()) {
            return Err(Diagnostic::error(format!(
                "{file}: after editing the YAML held in `{outer}` the block does not read back as intended (a bug in pullover); nothing was written"
            )));
        }
        Ok(())
    }

    /// Makes `make(route)` at the route `rel` of the values of `kube.values[index]`, in the
    /// values file, the release's inline values, or the YAML text holding them.
    pub fn edit_values(
        &mut self,
        kube: &KubeStack,
        index: usize,
        rel: &Route,
        make: impl Fn(Route) -> Vec<YamlEdit>,
        because: &str,
    ) -> Result<(), Diagnostic> {
        let at = ValuesAt::of(kube, index, rel)?;
        match at.inner {
            None => self.edit(kube, at.holder, &make(at.outer), because),
            Some(inner) => self.edit_inside(kube, at.holder, &at.outer, &make(inner), because),
        }
    }

    /// Every edited file's new text into the change set: values files whole, manifests with
    /// their edited documents put back (`removed` documents of a manifest are left to the
    /// caller, which merges them with [`Self::manifest_docs`]).
    pub fn values_into(&self, kube: &KubeStack, mut builder: ChangeSetBuilder) -> ChangeSetBuilder {
        for (holder, doc) in &self.docs {
            if let Holder::Values(index) = holder {
                let because = self.because.get(holder).map_or("", String::as_str);
                builder = builder.modify(&kube.values[*index].file, doc.text().to_string(), because);
            }
        }
        builder
    }

    /// The manifests this collector edited, each with its new text and the first reason.
    pub fn manifests_into(
        &self,
        kube: &KubeStack,
        mut builder: ChangeSetBuilder,
    ) -> Result<ChangeSetBuilder, Diagnostic> {
        let manifests: std::collections::BTreeSet<usize> = self
            .docs
            .keys()
            .filter_map(|h| match h {
                Holder::Manifest { manifest, .. } => Some(*manifest),
                Holder::Values(_) => None,
            })
            .collect();
        for manifest_index in manifests {
            let manifest = &kube.manifests[manifest_index];
            let after = manifest
                .stream
                .replace_docs(&self.manifest_docs(manifest_index))
                .map_err(|e| e.to_diagnostic(&manifest.file))?;
            let because = self
                .because
                .iter()
                .find(|(h, _)| matches!(h, Holder::Manifest { manifest, .. } if *manifest == manifest_index))
                .map_or("", |(_, b)| b.as_str());
            builder = builder.modify(&manifest.file, after, because);
        }
        Ok(builder)
    }
}

/// Where a route of a chart's values is written: the document holding them, the route there,
/// and, when the values are YAML held as text (an Application's `helm.values: |`), the route
/// inside that text (`outer` is then the string).
#[derive(Debug, Clone)]
pub struct ValuesAt {
    pub holder: Holder,
    pub outer: Route,
    pub inner: Option<Route>,
}

impl ValuesAt {
    /// `rel`, a route of the values of `kube.values[index]`, where it is written.
    pub fn of(kube: &KubeStack, index: usize, rel: &Route) -> Result<ValuesAt, Diagnostic> {
        let values = &kube.values[index];
        let Some(release) = &values.release else {
            return Ok(ValuesAt {
                holder: Holder::Values(index),
                outer: rel.clone(),
                inner: None,
            });
        };
        let object = &kube.objects[release.object];
        let holder = Holder::Manifest {
            manifest: object.manifest,
            doc: object.doc,
        };
        match &release.values {
            Some((route, false)) => Ok(ValuesAt {
                holder,
                outer: under(route, rel),
                inner: None,
            }),
            Some((route, true)) => Ok(ValuesAt {
                holder,
                outer: route.clone(),
                inner: Some(rel.clone()),
            }),
            None => Err(Diagnostic::error(format!(
                "{}: {} has no inline values to change `{rel}` in",
                values.file.path,
                object.display()
            ))
            .help("set it by hand where the release's values are kept; nothing was written")),
        }
    }
}

/// `base` followed by `rest`.
pub fn under(base: &Route, rest: &Route) -> Route {
    Route([base.0.clone(), rest.0.clone()].concat())
}
