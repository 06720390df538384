//! Java (simpleclient): which statements are push logic, and what only served them.
//!
//! Certain push logic: a `PushGateway` made with `new PushGateway(…)` (a field or a local),
//! the `push` / `pushAdd` / `delete` calls on it (or on `new PushGateway(…)` itself). Then,
//! with the rules shared with JavaScript and Go: a `try` around nothing else (its `catch`
//! with it), a method whose body went (and its calls, `Job::push` references included), a
//! scheduler's `schedule…(…)` of such a method, the local scheduler nothing else uses, and the
//! imports only the removed code named. Unused locals compile in Java, but are removed alike.

use std::sync::LazyLock;

use regex::Regex;

use super::{Engine, Fate, word_count};
use crate::phase::remove::push_code::outline::Stmt;

impl Engine<'_> {
    pub(super) fn java_fate(&mut self, stmt: &Stmt, shape: &str) -> Option<Fate> {
        static GATEWAY: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:(?:private|public|protected|static|final)\s+)*(?:[\w.]+\.)?PushGateway\s+(\w+)\s*=\s*new\s+(?:[\w.]+\.)?PushGateway\s*\(.*\)\s*;$")
                .expect("static regex")
        });
        static PUSH: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:(?P<on>\w+)|new\s+(?:[\w.]+\.)?PushGateway\s*\(.*\))\s*\.\s*(?:push|pushAdd|delete)\s*\(.*\)\s*;$")
                .expect("static regex")
        });
        static METHOD: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:(?:private|public|protected|static|final|synchronized)\s+)*void\s+(\w+)\s*\([^)]*\)\s*(?:throws\s+[\w.,\s]+)?\{\s*\}$")
                .expect("static regex")
        });
        static SCHEDULE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^\w+\s*\.\s*(?:scheduleAtFixedRate|scheduleWithFixedDelay|schedule)\s*\(\s*(?:[\w.]+::(?P<r>\w+)|\(\s*\)\s*->\s*(?P<l>\w+)\s*\(\s*\))\s*,.*\)\s*;$")
                .expect("static regex")
        });
        static CALL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(\w+)\s*\(\s*\)\s*;$").expect("static regex"));
        if stmt.blocks.is_empty() {
            if let Some(caps) = GATEWAY.captures(shape) {
                let name = caps.get(1)?.as_str().to_string();
                return self.kill(Some(&name));
            }
            if let Some(caps) = PUSH.captures(shape)
                && caps.name("on").is_none_or(|on| self.names.contains(on.as_str()))
            {
                return self.kill(None);
            }
            if let Some(caps) = SCHEDULE.captures(shape)
                && self.names.contains(caps.name("r").or(caps.name("l"))?.as_str())
            {
                return self.kill(None);
            }
            if let Some(caps) = CALL.captures(shape)
                && self.names.contains(caps.get(1)?.as_str())
            {
                return self.kill(None);
            }
            return None;
        }
        if stmt.blocks.len() == 1
            && self.emptied(&stmt.blocks[0])
            && let Some(caps) = METHOD.captures(shape)
            && caps.get(1)?.as_str() != "main"
        {
            let name = caps.get(1)?.as_str().to_string();
            return self.kill(Some(&name));
        }
        None
    }

    /// The name a removable Java local binds: an executor made by `Executors`, a setting read
    /// with `System.getenv`.
    pub(super) fn java_binding(&self, stmt: &Stmt, shape: &str) -> Option<String> {
        static LOCAL: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(?:final\s+)?[\w.<>]+\s+(\w+)\s*=\s*(?:Executors\s*\.\s*\w+\s*\(\s*\d*\s*\)|System\s*\.\s*getenv\s*\([^;]*\))\s*;$")
                .expect("static regex")
        });
        if !stmt.blocks.is_empty() {
            return None;
        }
        Some(LOCAL.captures(shape)?.get(1)?.as_str().to_string())
    }

    /// `import a.b.Name;` that only the removed code named.
    pub(super) fn java_imports(&self, top: &[Stmt], stmt: &Stmt, removed: &str) -> Option<Fate> {
        static IMPORT: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^import\s+(?:[\w]+\s*\.\s*)+(\w+)\s*;$").expect("static regex"));
        let shape = self.shape(stmt);
        let name = IMPORT.captures(&shape)?.get(1)?.as_str().to_string();
        (word_count(removed, &name) > 0 && !self.read_outside_helpers(top, stmt, &name)).then_some(Fate::Dead)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Lang, remove};

    #[test]
    fn the_gateway_its_push_method_schedule_executor_and_imports_go() {
        let before = include_str!(
            "../../../../../stacks/push-only/java-simpleclient/reports/src/main/java/com/example/reports/ReportJob.java"
        );
        let after = remove(before, Lang::Java).unwrap().after;
        for gone in [
            "import java.io.IOException;",
            "import java.util.concurrent.Executors;",
            "import io.prometheus.client.exporter.PushGateway;",
            "PushGateway GATEWAY",
            "static void push()",
            "scheduleAtFixedRate",
            "ScheduledExecutorService scheduler",
            "// Push every 30 seconds",
        ] {
            assert!(!after.contains(gone), "{gone}\n{after}");
        }
        for kept in [
            "import java.util.Random;",
            "import io.prometheus.client.Gauge;",
            "private ReportJob() {",
            "REPORTS.labels(region).inc();",
        ] {
            assert!(after.contains(kept), "{kept}\n{after}");
        }
    }
}
