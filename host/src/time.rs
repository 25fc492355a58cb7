//! Times as alerts and fields show them: UTC time of day, ISO 8601, and
//! local time from the system's zone file (a TZif reader: no libc, no
//! crate carries this small a need).

/// `HH:MM:SS.nnnnnnnnn` of a time in ns since the epoch (UTC).
pub fn time_of_day(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let sub = ns.rem_euclid(1_000_000_000);
    let day = secs.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}.{sub:09}",
        day / 3600,
        day / 60 % 60,
        day % 60
    )
}

/// `HH:MM:SS.nnnnnnnnn` in the machine's local time zone (`TZ` names a
/// zoneinfo file, else `/etc/localtime`), as Falco prints text alerts.
pub fn local_time_of_day(ns: i64) -> String {
    time_of_day(ns + local_offset(ns.div_euclid(1_000_000_000)) * 1_000_000_000)
}

/// UTC offset in seconds at a time (0 when no zone information is readable).
pub fn local_offset(secs: i64) -> i64 {
    static ZONE: std::sync::OnceLock<Option<Zone>> = std::sync::OnceLock::new();
    ZONE.get_or_init(|| {
        let path = match std::env::var("TZ") {
            Ok(tz) if !tz.is_empty() => {
                let tz = tz.trim_start_matches(':');
                if tz.starts_with('/') {
                    std::path::PathBuf::from(tz)
                } else {
                    std::path::Path::new("/usr/share/zoneinfo").join(tz)
                }
            }
            _ => std::path::PathBuf::from("/etc/localtime"),
        };
        Zone::parse(&std::fs::read(path).ok()?)
    })
    .as_ref()
    .map_or(0, |z| z.offset_at(secs))
}

/// A zoneinfo (TZif) file's transitions (its 64-bit data when present).
#[derive(Debug)]
pub struct Zone {
    transitions: Vec<(i64, usize)>,
    offsets: Vec<(i64, bool)>,
}

impl Zone {
    /// Parses TZif data; `None` when malformed.
    pub fn parse(b: &[u8]) -> Option<Zone> {
        let header = |b: &[u8]| -> Option<[usize; 6]> {
            if b.get(..4)? != b"TZif" {
                return None;
            }
            let mut c = [0usize; 6];
            for (i, v) in c.iter_mut().enumerate() {
                *v = u32::from_be_bytes(b.get(20 + 4 * i..24 + 4 * i)?.try_into().ok()?) as usize;
            }
            Some(c)
        };
        let [isut, isstd, leap, timecnt, typecnt, charcnt] = header(b)?;
        let v1_len = 44 + timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
        // Version 2+ repeats the data with 64-bit times after the v1 block.
        let (data, tsize, timecnt, typecnt) = match (b.get(4), b.get(v1_len..)) {
            (Some(v), Some(rest)) if *v >= b'2' && rest.len() >= 44 => {
                let [_, _, _, t, ty, _] = header(rest)?;
                (&rest[44..], 8, t, ty)
            }
            _ => (&b[44..], 4, timecnt, typecnt),
        };
        let mut transitions = Vec::with_capacity(timecnt);
        let idx_at = timecnt * tsize;
        for i in 0..timecnt {
            let t = if tsize == 8 {
                i64::from_be_bytes(data.get(i * 8..i * 8 + 8)?.try_into().ok()?)
            } else {
                i64::from(i32::from_be_bytes(
                    data.get(i * 4..i * 4 + 4)?.try_into().ok()?,
                ))
            };
            transitions.push((t, *data.get(idx_at + i)? as usize));
        }
        let types_at = idx_at + timecnt;
        let mut offsets = Vec::with_capacity(typecnt);
        for i in 0..typecnt {
            let e = data.get(types_at + i * 6..types_at + i * 6 + 6)?;
            offsets.push((
                i64::from(i32::from_be_bytes(e[..4].try_into().ok()?)),
                e[4] != 0,
            ));
        }
        if offsets.is_empty() || transitions.iter().any(|(_, i)| *i >= offsets.len()) {
            return None;
        }
        Some(Zone {
            transitions,
            offsets,
        })
    }

    /// The UTC offset in effect at `secs` since the epoch.
    pub fn offset_at(&self, secs: i64) -> i64 {
        match self.transitions.partition_point(|(t, _)| *t <= secs) {
            0 => {
                self.offsets
                    .iter()
                    .find(|(_, dst)| !dst)
                    .unwrap_or(&self.offsets[0])
                    .0
            }
            n => self.offsets[self.transitions[n - 1].1].0,
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` of a time in ns since the epoch.
pub fn iso8601(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let (y, m, d) = guest_sdk::time::civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}T{}Z", time_of_day(ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoneinfo_offsets() {
        let Ok(b) = std::fs::read("/usr/share/zoneinfo/Europe/Paris") else {
            eprintln!("SKIPPED: no tzdata (/usr/share/zoneinfo/Europe/Paris)");
            return;
        };
        let z = Zone::parse(&b).expect("valid TZif");
        assert_eq!(z.offset_at(1_720_000_000), 7200, "July 2024: CEST");
        assert_eq!(z.offset_at(1_705_000_000), 3600, "January 2024: CET");
        assert!(Zone::parse(b"not a zone").is_none());
    }

    #[test]
    fn formats_times() {
        assert_eq!(time_of_day(3_723_000_000_005), "01:02:03.000000005");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            iso8601(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000000000Z"
        );
    }
}
