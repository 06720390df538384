//! CLI-level tests: each runs the real binary on a copy of a stack in `stacks/`.

mod support;

mod analyze;
mod bad_input;
mod crash;
mod dashboards;
mod engine;
mod scrape;
