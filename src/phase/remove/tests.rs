//! The small judgements `remove` makes about settings and targets.

use super::*;

fn gateway(host: &str, port: u16) -> Gateway {
    Gateway {
        service: Some(host.to_string()),
        host: host.to_string(),
        port,
        job: Some("pushgateway".into()),
        honor_labels: true,
    }
}

#[test]
fn a_value_points_at_the_gateway_only_when_it_names_that_host() {
    for value in [
        "pushgateway",
        "pushgateway:9091",
        "http://pushgateway:9091",
        "http://pushgateway:9091/metrics/job/x",
        "https://user@pushgateway/",
        "--push.gateway=pushgateway:9091",
        "a,pushgateway:9091",
    ] {
        assert!(points_at(value, "pushgateway"), "{value}");
    }
    for value in [
        "pushgateway-old:9091",
        "my-pushgateway:9091",
        "http://prometheus-pushgateway:9091",
        "pushgateway_data:/data",
        "",
    ] {
        assert!(!points_at(value, "pushgateway"), "{value}");
    }
    assert!(!points_at("anything", ""));
}

#[test]
fn an_environment_entry_belongs_to_the_gateway_by_name_or_by_value() {
    let gw = gateway("pushgateway", 9091);
    assert!(is_gateway_env("PUSHGATEWAY_PORT", Some("9091"), &gw));
    assert!(is_gateway_env("push_gateway", None, &gw));
    assert!(is_gateway_env("METRICS_SINK", Some("http://pushgateway:9091"), &gw));
    assert!(!is_gateway_env("PUSH_INTERVAL_SECONDS", Some("15"), &gw));
    assert!(!is_gateway_env("VOLUME", Some("pushgateway_data"), &gw));
}
