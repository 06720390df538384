//! Every stack, every phase, through the real CLI and in order, as an operator meets them: the
//! phase's patch applies with `git apply --check` to the files as they stand, what it writes
//! passes promtool, rolling it back gives the bytes before it back, applying it again gives the
//! same bytes, and rolling everything back gives the stack back.

use pullover::stack::Stack;
use pullover::stack::settings::Overrides;

use crate::support::{applicable_phases, git_apply, promtool_check_config, pullover, require_tool, stacks};

#[test]
fn every_stack_every_phase_applies_checks_out_and_rolls_back_byte_for_byte() {
    let promtool = require_tool("promtool");
    for name in stacks() {
        let p = pullover().stack(&name);
        let original = p.hashes();
        for phase in applicable_phases() {
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
                if let Err(out) = promtool_check_config(&config) {
                    panic!("{what}: promtool rejects what pullover wrote:\n{out}");
                }
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
}
