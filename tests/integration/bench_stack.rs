//! The plan benchmark's generated stack (`benches/plan/generate.rs`), small: every phase plans
//! and applies on it, each does the work the benchmark times, and rollback gives it back. If
//! the generator drifted from what pullover reads, the benchmark would time nothing.

#[allow(dead_code)]
#[path = "../../benches/plan/generate.rs"]
mod generate;

use generate::Size;

use crate::support::pullover;

const SMALL: Size = Size {
    dashboards: 6,
    panels: 12,
    jobs: 20,
    services: 12,
    apps: 3,
    pushed_as_gateway: false,
};

#[test]
fn every_phase_does_its_work_on_the_generated_stack_and_rollback_restores_it() {
    every_phase_on(SMALL);
}

#[test]
fn every_phase_does_its_work_on_the_generated_stack_in_the_users_shape() {
    every_phase_on(Size {
        pushed_as_gateway: true,
        ..SMALL
    });
}

fn every_phase_on(size: Size) {
    let p = pullover();
    std::fs::create_dir_all(p.path()).unwrap();
    generate::write_stack(&p.path(), size).unwrap();
    let before = p.hashes();

    let scrape = p.run(["plan", "scrape"]);
    scrape.success();
    for app in ["app-000", "app-001", "app-002"] {
        assert!(
            scrape.stdout.contains(&format!("+  - job_name: {app}")),
            "{}",
            scrape.stdout
        );
    }
    p.run(["apply", "scrape", "--yes"]).success();
    p.run(["apply", "dual-run", "--yes"]).success();

    // Every dashboard selects pushed series of some app: each one is rewritten.
    let dashboards = p.run(["plan", "dashboards"]);
    dashboards.success();
    for d in 0..size.dashboards {
        let file = format!("a/grafana/dashboards/dashboard-{d:04}.json");
        assert!(
            dashboards.stdout.contains(&file),
            "{file} not rewritten:\n{}",
            dashboards.stdout
        );
    }
    assert!(
        dashboards.stdout.contains("prometheus/rules/apps.yml"),
        "{}",
        dashboards.stdout
    );
    p.run(["apply", "dashboards", "--yes"]).success();

    let remove = p.run(["plan", "remove"]);
    remove.success();
    assert!(remove.stdout.contains("-  pushgateway:"), "{}", remove.stdout);
    p.run(["apply", "remove", "--yes"]).success();

    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    assert_eq!(p.hashes(), before, "rollback did not restore the generated stack");
}
