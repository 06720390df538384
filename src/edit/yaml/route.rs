//! Routes name a YAML node symbolically (`services.pushgateway`,
//! `scrape_configs[job_name=pushgateway]`) and are looked up again in the
//! current text before every edit, so a series of edits never works on stale
//! offsets.

use std::fmt;

use yaml_serde::Value;

use super::tree::{Node, NodeKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Item(ItemMatch),
}

/// Which item of a sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemMatch {
    Index(usize),
    /// A scalar item equal to this (`- pushgateway`).
    Scalar(String),
    /// A scalar item starting with this (`- PUSHGATEWAY_URL=...`).
    ScalarPrefix(String),
    /// A mapping item whose `key` is this scalar (`- job_name: pushgateway`).
    Field {
        key: String,
        value: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Route(pub Vec<Seg>);

impl Route {
    pub fn root() -> Route {
        Route(Vec::new())
    }

    pub fn key(mut self, key: impl Into<String>) -> Route {
        self.0.push(Seg::Key(key.into()));
        self
    }

    pub fn item(mut self, item: ItemMatch) -> Route {
        self.0.push(Seg::Item(item));
        self
    }

    pub fn parent(&self) -> Option<(Route, &Seg)> {
        let (last, rest) = self.0.split_last()?;
        Some((Route(rest.to_vec()), last))
    }

    /// Finds the node this route names in the syntax tree.
    pub fn find(&self, root: &Node) -> Option<Node> {
        let mut node = root.clone();
        for seg in &self.0 {
            node = match seg {
                Seg::Key(key) => node.get(key)?.value?,
                Seg::Item(m) => {
                    let items = node.items();
                    let index = item_index_in_tree(&node, m)?;
                    items.into_iter().nth(index)?.value?
                }
            };
        }
        Some(node)
    }

    /// Finds the value this route names in the typed view.
    pub fn find_value<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        let mut value = root;
        for seg in &self.0 {
            value = match seg {
                Seg::Key(key) => value.as_mapping()?.get(key.as_str())?,
                Seg::Item(m) => {
                    let seq = value.as_sequence()?;
                    seq.get(item_index_in_values(seq, m)?)?
                }
            };
        }
        Some(value)
    }

    pub fn find_value_mut<'v>(&self, root: &'v mut Value) -> Option<&'v mut Value> {
        let mut value = root;
        for seg in &self.0 {
            value = match seg {
                Seg::Key(key) => value.as_mapping_mut()?.get_mut(key.as_str())?,
                Seg::Item(m) => {
                    let seq = value.as_sequence_mut()?;
                    let index = item_index_in_values(seq, m)?;
                    seq.get_mut(index)?
                }
            };
        }
        Some(value)
    }
}

pub(crate) fn item_index_in_tree(seq: &Node, m: &ItemMatch) -> Option<usize> {
    let items = seq.items();
    match m {
        ItemMatch::Index(i) => (*i < items.len()).then_some(*i),
        ItemMatch::Scalar(s) => items
            .iter()
            .position(|it| it.value.as_ref().and_then(Node::scalar).as_deref() == Some(s)),
        ItemMatch::ScalarPrefix(p) => items.iter().position(|it| {
            it.value
                .as_ref()
                .and_then(Node::scalar)
                .is_some_and(|v| v.starts_with(p.as_str()))
        }),
        ItemMatch::Field { key, value } => items.iter().position(|it| {
            it.value
                .as_ref()
                .filter(|n| n.kind() == NodeKind::Mapping)
                .and_then(|n| n.get(key))
                .and_then(|e| e.value)
                .and_then(|v| v.scalar())
                .as_deref()
                == Some(value)
        }),
    }
}

pub(crate) fn item_index_in_values(seq: &[Value], m: &ItemMatch) -> Option<usize> {
    match m {
        ItemMatch::Index(i) => (*i < seq.len()).then_some(*i),
        ItemMatch::Scalar(s) => seq.iter().position(|v| scalar_string(v).as_deref() == Some(s)),
        ItemMatch::ScalarPrefix(p) => seq
            .iter()
            .position(|v| scalar_string(v).is_some_and(|v| v.starts_with(p.as_str()))),
        ItemMatch::Field { key, value } => seq.iter().position(|v| {
            v.as_mapping()
                .and_then(|m| m.get(key.as_str()))
                .and_then(scalar_string)
                .as_deref()
                == Some(value)
        }),
    }
}

/// A scalar as the string YAML would compare it by (`8080` → "8080").
pub fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Item(ItemMatch::Index(n)) => write!(f, "[{n}]")?,
                Seg::Item(ItemMatch::Scalar(s)) => write!(f, "[{s}]")?,
                Seg::Item(ItemMatch::ScalarPrefix(s)) => write!(f, "[{s}…]")?,
                Seg::Item(ItemMatch::Field { key, value }) => write!(f, "[{key}={value}]")?,
            }
        }
        Ok(())
    }
}
