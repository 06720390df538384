//! Parsers from other crates that can panic on odd input (yaml-edit, promql-parser) run through
//! [`contain`]: a panic there becomes an error the caller reports, and prints nothing, where
//! [`install_panic_hook`] is in place (the binary installs it first thing).

use std::cell::Cell;
use std::panic::{self, UnwindSafe};
use std::sync::Once;

thread_local! {
    static CONTAINING: Cell<bool> = const { Cell::new(false) };
}

/// `work()`, or `None` when it panicked.
pub fn contain<T>(work: impl FnOnce() -> T + UnwindSafe) -> Option<T> {
    let outer = CONTAINING.with(|flag| flag.replace(true));
    let result = panic::catch_unwind(work).ok();
    CONTAINING.with(|flag| flag.set(outer));
    result
}

/// The default panic message for every panic but a contained one.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !CONTAINING.with(Cell::get) {
                default(info);
            }
        }));
    });
}
