//! What can go wrong reading or editing a YAML file, and how it reads as a diagnostic.

use super::route::Route;
use crate::diagnostic::Diagnostic;
use crate::stack::source::SourceFile;

#[derive(Debug, Clone, thiserror::Error)]
pub enum YamlError {
    #[error("{message}")]
    Syntax { message: String, offset: usize },
    #[error("cannot edit `{route}`: {reason}")]
    Unsupported {
        route: Route,
        reason: String,
        offset: Option<usize>,
    },
    #[error("`{route}` is not in the file")]
    NotFound { route: Route },
    #[error(
        "cannot remove `{route}`: it defines the anchor `&{anchor}`, which `*{anchor}` on line {alias_line} still uses"
    )]
    AnchorInUse {
        route: Route,
        anchor: String,
        alias_line: usize,
        offset: usize,
    },
    #[error("after editing `{route}` the file would not mean what was intended ({detail}); nothing was written")]
    Verify { route: Route, detail: String },
}

impl YamlError {
    pub fn offset(&self) -> Option<usize> {
        match self {
            YamlError::Syntax { offset, .. } => Some(*offset),
            YamlError::Unsupported { offset, .. } => *offset,
            YamlError::AnchorInUse { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    pub fn to_diagnostic(&self, file: &SourceFile) -> Diagnostic {
        let diag = match self {
            YamlError::Syntax { message, .. } => {
                Diagnostic::error(format!("{} is not valid YAML: {message}", file.path))
            }
            other => Diagnostic::error(format!("{}: {other}", file.path)),
        };
        let diag = match self.offset() {
            Some(offset) => {
                let end = file.text()[offset.min(file.text().len())..]
                    .find(['\n', '\r'])
                    .map_or(file.text().len(), |i| offset + i)
                    .max(offset + 1)
                    .min(file.text().len().max(offset + 1));
                diag.at(file, offset..end, "")
            }
            None => diag,
        };
        match self {
            YamlError::Syntax { .. } => {
                diag.help(format!("fix {} and run pullover again; nothing was written", file.path))
            }
            YamlError::Unsupported { .. } => {
                diag.help("make this edit by hand, or rewrite the node in block style; nothing was written")
            }
            // Compose keeps `x-` blocks for anchors; Prometheus and promtool
            // refuse any unknown top-level key, `x-` ones included.
            YamlError::AnchorInUse { anchor, .. } if file.path.file_name().contains("compose") => diag.help(format!(
                "move `&{anchor}` to an `x-` block that stays, or write its value out where `*{anchor}` is; nothing was written"
            )),
            YamlError::AnchorInUse { anchor, .. } => diag.help(format!(
                "write the value of `&{anchor}` out where `*{anchor}` is (this file cannot hold an `x-` block: Prometheus refuses unknown top-level keys); nothing was written"
            )),
            _ => diag,
        }
    }
}
