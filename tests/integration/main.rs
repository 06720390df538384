//! CLI-level tests: each runs the real binary on a copy of a stack in `stacks/`.

mod support;

mod bad_input;
mod completions;
mod crash;
mod docs;
mod dual_run;
mod engine;
mod init;
mod live_client;
mod scrape;
mod verify_e2e;
