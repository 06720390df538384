//! Prometheus durations (`30s`, `1m30s`, `2h`), read by the rule Prometheus itself applies
//! (`model.ParseDuration` in prometheus/common): whole numbers, each followed by a unit of `y`,
//! `w`, `d`, `h`, `m`, `s`, `ms`, the units from largest to smallest and each at most once; `0`
//! alone is zero; nothing else (no spaces, signs or fractions). The one reader for settings,
//! configuration files, queries and what servers report, so pullover never accepts what
//! Prometheus refuses, nor the other way round.

use std::time::Duration;

/// Units from largest to smallest, in nanoseconds (`1y` is 365 days, as for Prometheus).
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3600 * NANOS_PER_SECOND),
    ("w", 7 * 24 * 3600 * NANOS_PER_SECOND),
    ("d", 24 * 3600 * NANOS_PER_SECOND),
    ("h", 3600 * NANOS_PER_SECOND),
    ("m", 60 * NANOS_PER_SECOND),
    ("s", NANOS_PER_SECOND),
    ("ms", 1_000_000),
];

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// The duration `text` spells, or `None` where Prometheus would refuse it (it holds durations
/// as signed 64-bit nanoseconds, so also past about 292 years).
pub fn parse_prometheus_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut total: u64 = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let unit_len = rest[digits..].bytes().take_while(|b| !b.is_ascii_digit()).count();
        if digits == 0 || unit_len == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        let unit = &rest[digits..digits + unit_len];
        let position = UNITS.iter().position(|(name, _)| *name == unit)?;
        if position < next_unit {
            return None;
        }
        next_unit = position + 1;
        total = total.checked_add(number.checked_mul(UNITS[position].1)?)?;
        rest = &rest[digits + unit_len..];
    }
    (!text.is_empty() && total <= i64::MAX as u64).then(|| Duration::from_nanos(total))
}

/// `4s`, `1m30s`, `250ms`: a duration as a person reads it and Prometheus parses it (whole
/// milliseconds; [`parse_prometheus_duration`] reads it back).
pub fn format_prometheus_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        return "0s".into();
    }
    if !millis.is_multiple_of(1000) {
        return format!("{millis}ms");
    }
    let mut seconds = millis / 1000;
    let mut out = String::new();
    for (unit, size) in [("h", 3600), ("m", 60), ("s", 1)] {
        if seconds >= size {
            out.push_str(&format!("{}{unit}", seconds / size));
            seconds %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn durations_prometheus_reads() {
        assert_eq!(parse_prometheus_duration("30s"), secs(30));
        assert_eq!(parse_prometheus_duration("1m30s"), secs(90));
        assert_eq!(parse_prometheus_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_prometheus_duration("1h"), secs(3600));
        assert_eq!(
            parse_prometheus_duration("1y2w3d4h5m6s7ms"),
            Some(Duration::from_millis(
                ((((365 + 14 + 3) * 24 + 4) * 60 + 5) * 60 + 6) * 1000 + 7
            ))
        );
        assert_eq!(parse_prometheus_duration("0"), secs(0));
        assert_eq!(parse_prometheus_duration("0s"), secs(0));
        assert_eq!(parse_prometheus_duration("106751d"), secs(106_751 * 86_400));
    }

    #[test]
    fn durations_prometheus_refuses() {
        for text in [
            "", "2x", "30", "s", "1m1m", "30s1m", "1ms1s", "1.5m", "-1s", " 30s", "30s ", "1 m", "00", "300y",
        ] {
            assert_eq!(parse_prometheus_duration(text), None, "{text:?}");
        }
    }

    #[test]
    fn what_is_formatted_reads_back_the_same() {
        for millis in [
            0u64, 1, 250, 999, 1000, 1500, 59_000, 60_000, 90_000, 3_600_000, 3_661_000, 86_400_000, 93_784_005,
        ] {
            let duration = Duration::from_millis(millis);
            let text = format_prometheus_duration(duration);
            assert_eq!(parse_prometheus_duration(&text), Some(duration), "{text}");
        }
        assert_eq!(format_prometheus_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_prometheus_duration(Duration::from_millis(250)), "250ms");
    }
}
