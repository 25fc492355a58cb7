//! Helpers for plugins whose payloads are JSON.

use serde_json::Value as J;

/// Parses a payload (`None` if it is not JSON).
pub fn parse(data: &[u8]) -> Option<J> {
    serde_json::from_slice(data).ok()
}

/// Follows an RFC 6901 JSON pointer (`/a/b/0`; "" is the whole document).
pub fn pointer<'a>(doc: &'a J, ptr: &str) -> Option<&'a J> {
    doc.pointer(ptr)
}

/// Follows a dotted path (`userIdentity.sessionContext.attributes.mfaAuthenticated`).
pub fn path<'a>(doc: &'a J, dotted: &str) -> Option<&'a J> {
    dotted.split('.').try_fold(doc, |v, k| v.get(k))
}

/// Falco's rendering of a JSON value as a field's text: strings without
/// quotes, everything else as compact JSON. `null` is no value.
pub fn text(v: &J) -> Option<String> {
    match v {
        J::Null => None,
        J::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The text at a dotted path.
pub fn text_at(doc: &J, dotted: &str) -> Option<String> {
    path(doc, dotted).and_then(text)
}

/// `2024-03-01T12:34:56Z` (optionally with fractional seconds or an offset)
/// → nanoseconds since the epoch.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    let mut nanos = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
        rest = &frac[digits.len()..];
        let mut n: String = digits.chars().take(9).collect();
        while n.len() < 9 {
            n.push('0');
        }
        nanos = n.parse().ok()?;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o[1..3].parse::<i64>().ok()? * 3600 + o[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    // Days from the civil date (proleptic Gregorian).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset;
    u64::try_from(secs * 1_000_000_000 + nanos).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2024-03-01T12:34:56Z"),
            Some(1_709_296_496_000_000_000)
        );
        assert_eq!(
            parse_rfc3339("2024-03-01T12:34:56.5+01:00"),
            Some(1_709_292_896_500_000_000)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
