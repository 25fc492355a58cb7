//! Calendar arithmetic and RFC 3339 timestamps (shared by the plugins and
//! the host).

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2026-11-22T18:31:42.123456789Z` (any fraction, `Z`/`z` or a `±hh:mm`
/// offset) → nanoseconds since the epoch; `None` if malformed or outside
/// what i64 nanoseconds hold (years 1677 to 2262).
pub fn parse_rfc3339_ns(t: &str) -> Option<i64> {
    // One pass over the bytes (a source parses one per event).
    let mut c = Cursor {
        b: t.as_bytes(),
        i: 0,
    };
    let y = c.num()?;
    c.eat(b'-')?;
    let m = c.num()?;
    c.eat(b'-')?;
    let day = c.num()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    c.eat(b'T').or_else(|| c.eat(b't'))?;
    let hh = c.num()?;
    c.eat(b':')?;
    let mm = c.num()?;
    c.eat(b':')?;
    let ss = c.num()?;
    let mut nanos = 0i64;
    if c.eat(b'.').is_some() {
        // Nanosecond precision: digits past the ninth are dropped.
        let start = c.i;
        while let Some(d) = c.b.get(c.i).filter(|d| d.is_ascii_digit()) {
            if c.i - start < 9 {
                nanos += i64::from(d - b'0') * 10i64.pow(8 - (c.i - start) as u32);
            }
            c.i += 1;
        }
    }
    let offset = match c.b.get(c.i)? {
        b'Z' | b'z' => {
            c.i += 1;
            0
        }
        &sign @ (b'+' | b'-') => {
            c.i += 1;
            let h = c.num()?;
            c.eat(b':')?;
            let o = h * 3600 + c.num()? * 60;
            if sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    if c.i != c.b.len() {
        return None;
    }
    let secs = days_from_civil(y, m, day)
        .checked_mul(86_400)?
        .checked_add(hh * 3600 + mm * 60 + ss - offset)?;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// A position in the text being parsed.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    /// One to nine decimal digits.
    fn num(&mut self) -> Option<i64> {
        let start = self.i;
        let mut n = 0i64;
        while let Some(d) = self.b.get(self.i).filter(|d| d.is_ascii_digit()) {
            if self.i - start == 9 {
                return None;
            }
            n = n * 10 + i64::from(d - b'0');
            self.i += 1;
        }
        (self.i > start).then_some(n)
    }

    /// The byte `c`, skipped.
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_and_rfc3339() {
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        for z in [-800_000, -1, 0, 1, 11017, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(parse_rfc3339_ns("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ns("2024-03-01T12:34:56Z"),
            Some(1_709_296_496_000_000_000)
        );
        assert_eq!(
            parse_rfc3339_ns("2024-03-01T12:34:56.5+01:00"),
            Some(1_709_292_896_500_000_000)
        );
        assert_eq!(
            parse_rfc3339_ns("2018-10-26T13:38:34.902914Z"),
            Some(1_540_561_114_902_914_000)
        );
        assert_eq!(parse_rfc3339_ns("yesterday"), None);
        assert_eq!(
            parse_rfc3339_ns("2024-03-01t12:34:56.123456789123z"),
            Some(1_709_296_496_123_456_789)
        );
        assert_eq!(
            parse_rfc3339_ns("2024-03-01T12:34:56-02:30"),
            Some(1_709_296_496_000_000_000 + 9_000_000_000_000)
        );
        for bad in [
            "",
            "2024-03-01",
            "2024-03-01T12:34Z",
            "2024-03-01T12:34:56",
            "2024-03-01T12:34:56Zx",
            "2024-03-01T12:34:56.x Z",
            "2024-03-01T12:34:56+01",
            "2024-03-01 12:34:56Z",
            "2024--03-01T12:34:56Z",
            "2024-00-01T12:34:56Z",
            "1234567890-03-01T12:34:56Z",
        ] {
            assert_eq!(parse_rfc3339_ns(bad), None, "{bad}");
        }
        assert_eq!(parse_rfc3339_ns("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_ns("2024-03-01T00:00:00"), None);
        // Out of the i64 nanosecond range (1677..2262): no value, no overflow.
        assert_eq!(parse_rfc3339_ns("0001-01-01T00:00:00Z"), None);
        assert_eq!(
            parse_rfc3339_ns("1969-12-31T23:59:59Z"),
            Some(-1_000_000_000)
        );
    }
}
