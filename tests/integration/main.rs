//! CLI-level tests: each runs the real binary on a copy of a stack in `stacks/`.

mod support;

mod bad_input;
mod compose_schema;
mod crash;
mod engine;
mod remove;
mod remove_props;
mod scrape;
