//! `pullover verify`: the live checks for where the stack stands, as a report.
//!
//! Which checks run depends on the last applied phase ([`check::Stage`]):
//! - before `scrape`: the app's `/metrics` parses as text exposition format ([`scrape`]);
//! - after `scrape`: Prometheus runs the new job, its target is up and scrapes fast;
//! - after `dual-run`: every pushed series agrees with its scraped twin ([`dual`]);
//! - after `dashboards`: every rewritten query returns what its original returned
//!   ([`queries`]);
//! - after `remove` (and `docs`): nothing fresh comes from the Pushgateway ([`gone`]).
//!
//! The same checks are the gate `apply` runs before the next phase. [`reload`] posts
//! `/-/reload` and waits until the new configuration is live. Everything that decides is pure
//! and tested; the async functions only fetch.
//!
//! [`check`] holds the base types every check uses; [`run`] runs the checks of a stage into
//! a [`run::VerifyReport`], which [`render`] prints and [`html`] charts. The HTTP clients and
//! the exposition format they read live in [`crate::live`].

pub mod check;
pub mod compare;
pub mod dual;
pub mod dual_query;
pub mod events;
pub mod found;
pub mod gone;
pub mod history;
pub mod html;
pub mod load;
pub mod outcome;
pub mod pairs;
pub mod queries;
pub mod reload;
pub mod render;
pub mod run;
pub mod runner;
pub mod scrape;
pub mod selector;
pub mod settle;
pub mod variables;
pub mod window;
