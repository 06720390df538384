//! CLI-level tests: each runs the real binary on a copy of a stack in `stacks/`.

mod support;
mod trust;

mod analyze;
mod bad_corpus;
mod bad_input;
mod bench_stack;
mod completions;
mod compose_schema;
mod concurrency;
mod crash;
mod dashboards;
mod dashboards_live;
mod demo;
mod dialects;
mod docs;
mod dual_run;
mod engine;
mod engine_corpus;
mod every_phase;
mod expose;
mod hand_edits;
mod init;
mod kubernetes;
mod live_client;
mod pushed_identity;
mod pushed_identity_live;
mod remove;
mod remove_props;
mod saved_plan;
mod scrape;
mod secrets;
mod shapes;
mod verify_e2e;
mod verify_report;
mod workflow;
