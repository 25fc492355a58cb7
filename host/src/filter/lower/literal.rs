//! Literal values of conditions, parsed by the type of the field they are
//! compared with.

use super::{LowerError, error};
use crate::filter::ast::Literal;
use crate::filter::ir::ip_bytes;

/// Parses a boolean (`true`, `FALSE`, …).
pub(super) fn parse_bool(l: &Literal) -> Result<bool, LowerError> {
    match l.text.as_str() {
        "true" | "TRUE" | "True" => Ok(true),
        "false" | "FALSE" | "False" => Ok(false),
        _ => Err(error(
            l.span,
            format!("filter error: unrecognized boolean value {}", l.text),
        )),
    }
}

/// Parses a number as Falco's grammar allows: decimal (optionally signed) or hex.
pub fn parse_num(l: &Literal, field: &str) -> Result<i64, LowerError> {
    let t = l.text.trim();
    let parsed = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok().map(|v| v as i64)
    } else if let Ok(v) = t.parse::<i64>() {
        Some(v)
    } else {
        t.parse::<u64>().ok().map(|v| v as i64)
    };
    let _ = field;
    parsed.ok_or_else(|| error(l.span, format!("{} is not a valid number", l.text)))
}

/// Parses an IP address or network (`10.0.0.0/8`) as 16 bytes and a prefix
/// length over them.
pub(super) fn parse_net(l: &Literal, field: &str) -> Result<([u8; 16], u8), LowerError> {
    let bad = || {
        error(
            l.span,
            format!(
                "'{}' is not a valid IP address or network for field '{field}'",
                l.text
            ),
        )
    };
    let (addr, prefix) = match l.text.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
        None => (l.text.as_str(), None),
    };
    let ip: std::net::IpAddr = addr.parse().map_err(|_| bad())?;
    let (max, offset) = if ip.is_ipv4() { (32, 96) } else { (128, 0) };
    let p = prefix.unwrap_or(max);
    if p > max {
        return Err(bad());
    }
    Ok((ip_bytes(ip), p + offset))
}

/// Parses the hex string of `bcontains`/`bstartswith` (pairs of hex digits).
pub(super) fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.is_empty() || !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
