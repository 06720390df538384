//! Real-world query shapes under each honor_labels mode; one row per shape, by topic. Each row
//! is one test: the outcome of one query under each mode ([`super::table`]), as an inline
//! snapshot a reviewer reads.

mod gateway_series;
mod grafana;
mod grouping;
mod selectors;
mod syntax;
