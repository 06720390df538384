//! Every stack, every phase, through the real CLI and in order, as an operator meets them: the
//! phase's patch applies with `git apply --check` to the files as they stand, what it writes
//! passes promtool (of the stack's own Prometheus major version, where the machine has one; the
//! test says which promtool checked which stack), rolling it back gives the bytes before it
//! back, applying it again gives the same bytes, and rolling everything back gives the stack back.

use pullover::phase::PhaseId;
use pullover::stack::Stack;
use pullover::stack::settings::Overrides;

use crate::support::{git_apply, promtool_check_for, pullover, require_tool, stacks};

#[test]
fn every_stack_every_phase_applies_checks_out_and_rolls_back_byte_for_byte() {
    let promtool = require_tool("promtool");
    let mut checked_by = std::collections::BTreeMap::new();
    for name in stacks() {
        let p = pullover().stack(&name);
        let original = p.hashes();
        for phase in PhaseId::ALL {
            let phase = phase.name();
            let what = format!("{name} {phase}");
            let before = p.hashes();

            let patch = p.path().parent().unwrap().join(format!("{phase}.patch"));
            p.run(["plan", phase, "--patch", patch.to_str().unwrap()]).success();
            if std::fs::metadata(&patch).unwrap().len() > 0 {
                git_apply(&p.path(), &patch, true, &what);
            }

            p.run(["apply", phase, "--yes"]).success();
            let after = p.hashes();
            if promtool {
                let stack = Stack::load(&p.path(), &Overrides::default()).unwrap_or_else(|e| panic!("{what}: {e}"));
                let config = p.file(stack.prometheus.file.path.as_str());
                let version = stack.prometheus_dialect.version;
                let checked = match promtool_check_for(version, &config) {
                    Some(Err(out)) => panic!("{what}: promtool rejects what pullover wrote:\n{out}"),
                    Some(Ok(promtool)) => promtool,
                    None => "not checked: no promtool of its major version here".to_string(),
                };
                checked_by.insert(name.clone(), format!("Prometheus {version} stack, {checked}"));
            }

            p.run(["rollback", "--yes"]).success();
            assert_eq!(
                p.hashes(),
                before,
                "{what}: rollback did not give the bytes before it back"
            );
            p.run(["apply", phase, "--yes"]).success();
            assert_eq!(p.hashes(), after, "{what}: applying it again wrote other bytes");
        }
        p.run(["rollback", "--to", "baseline", "--yes"]).success();
        assert_eq!(
            p.hashes(),
            original,
            "{name}: rollback --to baseline did not give the stack back"
        );
    }
    for (stack, checked) in &checked_by {
        eprintln!("{stack}: {checked}");
    }
}
