//! Reading a capture: blocks, sections, metadata, events.
//!
//! A capture is a sequence of blocks `{u32 type, u32 total_len, body,
//! padding, u32 total_len}`, gzip-compressed or not. A section header
//! starts each section (a concatenation of captures is several sections);
//! metadata blocks come before the section's first event block. Events are
//! handed out one at a time from a reused buffer, so memory stays bounded
//! however long the capture.
//!
//! Hostile input: every length is checked before it is used, blocks are
//! capped in size, and an error names the byte offset (in the uncompressed
//! stream) of the block that is wrong. Events before the error were handed
//! out already.

use super::blocks::Blocks;
use super::meta::{self, Cursor, FdInfo, GroupInfo, MachineInfo, ThreadInfo, UserInfo};
use super::table::{self, EventInfo};
use std::io::{BufReader, Read};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const SHB: u32 = 0x0A0D_0D0A;
const SHB_MAGIC: u32 = 0x1A2B_3C4D;
const MI: [u32; 2] = [0x201, 0x8002_ABCD];
const FDL: [u32; 2] = [0x203, 0x8001_ABCD];
const FDL_V2: u32 = 0x218;
const EV: [u32; 2] = [0x204, 0x8010_ABCD];
const EV_V2: u32 = 0x216;
const EV_V2_LARGE: u32 = 0x221;
const IL: [u32; 3] = [0x205, 0x8011_ABCD, 0x219];
const UL: [u32; 2] = [0x206, 0x8012_ABCD];
const UL_V2: u32 = 0x220;
const EVF: u32 = 0x208;
const EVF_V2: u32 = 0x217;
const EVF_V2_LARGE: u32 = 0x222;

/// Largest block other than a large-payload event block.
const MAX_BLOCK: usize = 64 << 20;
/// Largest large-payload event block.
const MAX_LARGE_BLOCK: usize = 256 << 20;

/// Something wrong inside a block body, at an offset relative to it.
#[derive(Debug)]
pub struct FormatError {
    at: usize,
    what: String,
}

impl FormatError {
    pub(super) fn at(at: usize, what: String) -> FormatError {
        FormatError { at, what }
    }

    pub(super) fn shift(mut self, by: usize) -> FormatError {
        self.at += by;
        self
    }
}

/// Why a capture cannot be read (further).
#[derive(Debug, thiserror::Error)]
pub enum ScapError {
    /// Opening or reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The capture.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a valid capture.
    #[error("{path}: byte {offset}: {what}")]
    Format {
        /// The capture.
        path: String,
        /// Offset in the uncompressed stream.
        offset: u64,
        /// What is wrong.
        what: String,
    },
}

/// Counters of what the reader skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Event blocks read.
    pub events: u64,
    /// Events whose code this table does not know (skipped).
    pub unknown_events: u64,
    /// Blocks skipped: of unknown types, or metadata after a section's
    /// first event (libs writes none there; taking them in would let a
    /// file grow the tables without bound).
    pub skipped_blocks: u64,
    /// Sections (captures) read.
    pub sections: u64,
}

/// The metadata of the current section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Format version (major, minor) of the section header.
    pub version: (u16, u16),
    /// The machine.
    pub machine: Option<MachineInfo>,
    /// Threads alive when the capture started.
    pub threads: Vec<ThreadInfo>,
    /// Their fds: (tid, fd).
    pub fds: Vec<(u64, FdInfo)>,
    /// Users.
    pub users: Vec<UserInfo>,
    /// Groups.
    pub groups: Vec<GroupInfo>,
    /// Network interface blocks seen (their entries are not decoded).
    pub interface_blocks: u32,
}

/// One event, borrowed from the reader's buffer.
#[derive(Debug)]
pub struct Event<'a> {
    /// The metadata of the section this event is the first of (a capture
    /// made of several sections, such as concatenated files; not set for
    /// the first section, whose metadata [`Reader::metadata`] gives).
    pub section: Option<&'a Metadata>,
    /// Offset of its block in the uncompressed stream.
    pub offset: u64,
    /// CPU it happened on.
    pub cpu: u16,
    /// Block flags (1 = apply to state only, do not run rules).
    pub flags: u32,
    /// Time, ns since the epoch.
    pub ts: u64,
    /// Thread id.
    pub tid: u64,
    /// Event code.
    pub code: u16,
    /// The code's description.
    pub info: &'static EventInfo,
    data: &'a [u8],
    params: &'a [(u32, u32)],
}

impl<'a> Event<'a> {
    /// Number of parameters present (old versions of an event have fewer).
    pub fn nparams(&self) -> usize {
        self.params.len()
    }

    /// Parameter `i`'s bytes.
    pub fn param(&self, i: usize) -> Option<&'a [u8]> {
        let (s, l) = *self.params.get(i)?;
        self.data.get(s as usize..(s + l) as usize)
    }

    /// The parameter named `name`.
    pub fn param_named(&self, name: &str) -> Option<&'a [u8]> {
        // names are short: compared in place, without a call to memcmp
        let same =
            |a: &str| a.len() == name.len() && a.bytes().zip(name.bytes()).all(|(x, y)| x == y);
        let i = self.info.params.iter().position(|p| same(p.0))?;
        self.param(i)
    }

    /// `evt.type`: the event's name, or for a generic event (a syscall
    /// the driver has no event of its own for) the name of its syscall.
    pub fn type_name(&self) -> &'static str {
        let generic = self.info.params.first().map(|p| p.1) == Some(table::ParamType::Syscallid);
        if generic
            && let Some(&[a, b, ..]) = self.param(0)
            && let Some(n) = table::syscall_name(u16::from_le_bytes([a, b]))
        {
            return n;
        }
        self.info.name
    }

    /// Shown by sysdig (meta-events are not).
    pub fn is_meta(&self) -> bool {
        self.info.category & table::EC_METAEVENT != 0
    }
}

/// A file whose bytes read so far are counted (for progress).
struct Counted {
    file: std::fs::File,
    read: Arc<AtomicU64>,
}

impl Read for Counted {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(b)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A capture file's uncompressed bytes as a stream (gzip is recognised by
/// its magic bytes), and the count of the file's bytes read so far.
fn open_stream(path: &Path) -> std::io::Result<(Box<dyn Read + Send>, Arc<AtomicU64>)> {
    let read = Arc::new(AtomicU64::new(0));
    let file = Counted {
        file: std::fs::File::open(path)?,
        read: read.clone(),
    };
    // The reader buffers (`Blocks`); this buffer serves the sniffing and
    // the decompressor, and larger reads go past it.
    let mut f = BufReader::with_capacity(64 << 10, file);
    let gz = {
        use std::io::BufRead;
        f.fill_buf()?.starts_with(&[0x1f, 0x8b])
    };
    let stream: Box<dyn Read + Send> = if gz {
        Box::new(flate2::bufread::MultiGzDecoder::new(f))
    } else {
        Box::new(f)
    };
    Ok((stream, read))
}

/// A capture file's bytes, decompressed if it is gzip-compressed (for
/// tools that work on the blocks themselves).
pub fn file_bytes(path: &Path) -> Result<Vec<u8>, ScapError> {
    let mut out = Vec::new();
    open_stream(path)
        .and_then(|(mut s, _)| s.read_to_end(&mut out))
        .map_err(|source| ScapError::Io {
            path: path.display().to_string(),
            source,
        })?;
    Ok(out)
}

/// A capture being read.
pub struct Reader {
    src: Blocks,
    path: String,
    offset: u64,
    /// The current block: type, offset, and its body's range in `src`.
    block: (u32, u64, Range<usize>),
    /// A block read ahead (the first event block after metadata).
    held: bool,
    params: Vec<(u32, u32)>,
    meta: Metadata,
    /// A section began since the last event.
    new_section: bool,
    /// What was skipped.
    pub stats: ReadStats,
    /// The file's bytes read so far (compressed ones for gzip), when
    /// reading a file.
    file_read: Option<Arc<AtomicU64>>,
}

impl Reader {
    /// Opens a capture file (gzip-compressed or not) and reads its first
    /// section's metadata.
    pub fn open(path: &Path) -> Result<Reader, ScapError> {
        let shown = path.display().to_string();
        match open_stream(path) {
            Ok((src, read)) => {
                let mut r = Reader::new(src, shown)?;
                r.file_read = Some(read);
                Ok(r)
            }
            Err(source) => Err(ScapError::Io {
                path: shown,
                source,
            }),
        }
    }

    /// Reads a capture from `src` (uncompressed); `name` is used in errors.
    pub fn new(src: Box<dyn Read + Send>, name: String) -> Result<Reader, ScapError> {
        let mut r = Reader {
            src: Blocks::new(src),
            path: name,
            offset: 0,
            block: (0, 0, 0..0),
            held: false,
            params: Vec::new(),
            meta: Metadata::default(),
            new_section: false,
            stats: ReadStats::default(),
            file_read: None,
        };
        if !r.next_block()? {
            return Err(r.error(0, "empty file: no section header".into()));
        }
        if r.block.0 != SHB {
            return Err(r.error(0, "not a capture file: no section header block".into()));
        }
        r.read_metadata()?;
        Ok(r)
    }

    /// How many of the file's bytes were read (as stored: compressed ones
    /// for a gzip file); `None` for a stream.
    pub fn file_position(&self) -> Option<u64> {
        self.file_read.as_ref().map(|r| r.load(Ordering::Relaxed))
    }

    /// The current section's metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.meta
    }

    fn error(&self, offset: u64, what: String) -> ScapError {
        ScapError::Format {
            path: self.path.clone(),
            offset,
            what,
        }
    }

    /// Reads the next block into `self.block`; false at a clean end.
    fn next_block(&mut self) -> Result<bool, ScapError> {
        if self.held {
            self.held = false;
            return Ok(true);
        }
        let at = self.offset;
        let got = self.src.fill(8).map_err(|e| self.io(e))?;
        if got == 0 {
            return Ok(false);
        }
        if got < 8 {
            return Err(self.error(at, format!("truncated block header ({got} of 8 bytes)")));
        }
        let start = self.src.pos();
        let hdr = &self.src.bytes()[start..start + 8];
        let kind = u32::from_le_bytes(hdr[..4].try_into().expect("4"));
        let total = u32::from_le_bytes(hdr[4..].try_into().expect("4")) as usize;
        let cap = if kind == EV_V2_LARGE || kind == EVF_V2_LARGE {
            MAX_LARGE_BLOCK
        } else {
            MAX_BLOCK
        };
        if total < 12 || total > cap || !total.is_multiple_of(4) {
            return Err(self.error(
                at,
                format!("block of type {kind:#x} has an invalid length {total}"),
            ));
        }
        let got = self.src.fill(total).map_err(|e| self.io(e))?;
        if got < total {
            return Err(self.error(
                at,
                format!(
                    "truncated block of type {kind:#x}: {} of {} bytes",
                    got - 8,
                    total - 8
                ),
            ));
        }
        // filling may have moved the bytes
        let start = self.src.pos();
        let block = &self.src.bytes()[start..start + total];
        let trailer = u32::from_le_bytes(block[total - 4..].try_into().expect("4"));
        if trailer as usize != total {
            return Err(self.error(
                at,
                format!("block of type {kind:#x}: length {total} but trailer says {trailer}"),
            ));
        }
        self.src.advance(total);
        self.block.2 = start + 8..start + total - 4;
        self.block.0 = kind;
        self.block.1 = at;
        self.offset += total as u64;
        Ok(true)
    }

    fn io(&self, source: std::io::Error) -> ScapError {
        ScapError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Reads the section header (already in `self.block`) and the metadata
    /// blocks after it, stopping at (and holding) the first event block.
    fn read_metadata(&mut self) -> Result<(), ScapError> {
        let at = self.block.1;
        let mut c = Cursor::new(&self.src.bytes()[self.block.2.clone()]);
        let magic = c.u32().map_err(|e| self.fmt_err(at, e))?;
        if magic != SHB_MAGIC {
            return Err(self.error(
                at,
                format!(
                    "byte-order magic {magic:#x} (big-endian or not a capture; expected {SHB_MAGIC:#x})"
                ),
            ));
        }
        let major = c.u16().map_err(|e| self.fmt_err(at, e))?;
        let minor = c.u16().map_err(|e| self.fmt_err(at, e))?;
        if major != 1 {
            return Err(self.error(at, format!("unsupported format version {major}.{minor}")));
        }
        self.meta = Metadata {
            version: (major, minor),
            ..Metadata::default()
        };
        self.stats.sections += 1;
        self.held = false;
        while self.next_block()? {
            if is_event_block(self.block.0) || self.block.0 == SHB {
                self.held = true;
                break;
            }
            self.metadata_block()?;
        }
        Ok(())
    }

    fn fmt_err(&self, block_at: u64, e: FormatError) -> ScapError {
        // the body starts 8 bytes into the block
        self.error(block_at + 8 + e.at as u64, e.what)
    }

    fn metadata_block(&mut self) -> Result<(), ScapError> {
        let (kind, at) = (self.block.0, self.block.1);
        let body = &self.src.bytes()[self.block.2.clone()];
        let r = (|| -> Result<(), FormatError> {
            if MI.contains(&kind) {
                self.meta.machine = Some(meta::machine(body)?);
            } else if let Some(v) = meta::proclist_version(kind) {
                self.meta.threads.extend(meta::proclist(v, body)?);
            } else if FDL.contains(&kind) || kind == FDL_V2 {
                let (tid, fds) = meta::fdlist(kind == FDL_V2, body)?;
                self.meta.fds.extend(fds.into_iter().map(|f| (tid, f)));
            } else if UL.contains(&kind) || kind == UL_V2 {
                let (users, groups) = meta::userlist(kind == UL_V2, body)?;
                self.meta.users.extend(users);
                self.meta.groups.extend(groups);
            } else if IL.contains(&kind) {
                self.meta.interface_blocks += 1;
            } else {
                self.stats.skipped_blocks += 1;
            }
            Ok(())
        })();
        r.map_err(|e| self.fmt_err(at, e))
    }

    /// The next event, or None at the end of the capture.
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, ScapError> {
        loop {
            if !self.next_block()? {
                return Ok(None);
            }
            let kind = self.block.0;
            if kind == SHB {
                self.read_metadata()?;
                self.new_section = true;
                continue;
            }
            if !is_event_block(kind) {
                self.stats.skipped_blocks += 1;
                continue;
            }
            self.stats.events += 1;
            let at = self.block.1;
            let head = match self.decode_event(kind) {
                Ok(Some(h)) => h,
                Ok(None) => {
                    self.stats.unknown_events += 1;
                    continue;
                }
                Err(e) => return Err(self.fmt_err(at, e)),
            };
            let new_section = std::mem::take(&mut self.new_section);
            return Ok(Some(Event {
                section: new_section.then_some(&self.meta),
                offset: at,
                cpu: head.cpu,
                flags: head.flags,
                ts: head.ts,
                tid: head.tid,
                code: head.code,
                info: head.info,
                data: &self.src.bytes()[self.block.2.clone()][head.data],
                params: &self.params,
            }));
        }
    }

    /// Parses the event in the current block; None for an unknown code.
    fn decode_event(&mut self, kind: u32) -> Result<Option<Head>, FormatError> {
        let body = &self.src.bytes()[self.block.2.clone()];
        let mut c = Cursor::new(body);
        let cpu = c.u16()?;
        let flags = if matches!(kind, EVF | EVF_V2 | EVF_V2_LARGE) {
            c.u32()?
        } else {
            0
        };
        let start = c.pos();
        let ts = c.u64()?;
        let tid = c.u64()?;
        let len = c.u32()? as usize;
        let code = c.u16()?;
        let v2 = matches!(kind, EV_V2 | EV_V2_LARGE | EVF_V2 | EVF_V2_LARGE);
        let nparams = if v2 { Some(c.u32()?) } else { None };
        let Some(info) = table::info(code) else {
            return Ok(None);
        };
        let data = &body[start..];
        if len > data.len() || len < c.pos() - start {
            return Err(FormatError::at(
                start,
                format!(
                    "event length {len} does not fit its block ({} bytes)",
                    data.len()
                ),
            ));
        }
        let data = &data[..len];
        let hdr = c.pos() - start;
        self.params.clear();
        let parsed = match nparams {
            Some(n) => lengths(data, hdr, n as usize, info.len_size(), &mut self.params),
            None => v1_lengths(data, hdr, info, &mut self.params),
        };
        match parsed {
            Ok(()) => {}
            // old meta-events were written with inexact lengths; they carry
            // nothing a replay needs
            Err(_) if nparams.is_none() && info.category & table::EC_METAEVENT != 0 => {
                return Ok(None);
            }
            Err(e) => return Err(e.shift(start)),
        }
        Ok(Some(Head {
            cpu,
            flags,
            ts,
            tid,
            code,
            info,
            data: start..start + len,
        }))
    }
}

/// The fixed part of an event just parsed; `data` is its range in the block.
struct Head {
    cpu: u16,
    flags: u32,
    ts: u64,
    tid: u64,
    code: u16,
    info: &'static EventInfo,
    data: std::ops::Range<usize>,
}

fn is_event_block(kind: u32) -> bool {
    EV.contains(&kind) || matches!(kind, EV_V2 | EV_V2_LARGE | EVF | EVF_V2 | EVF_V2_LARGE)
}

/// The parameter length at `o` (the caller checked that it is in `data`),
/// `size` bytes wide.
fn len_at(data: &[u8], o: usize, size: usize) -> usize {
    if size == 4 {
        u32::from_le_bytes(data[o..o + 4].try_into().expect("4")) as usize
    } else {
        u16::from_le_bytes(data[o..o + 2].try_into().expect("2")) as usize
    }
}

/// Parameter ranges of a v2 event: `n` lengths of `size` bytes after the
/// header, then the values back to back; all must fit in `data`.
fn lengths(
    data: &[u8],
    hdr: usize,
    n: usize,
    size: usize,
    out: &mut Vec<(u32, u32)>,
) -> Result<(), FormatError> {
    let table_end = n
        .checked_mul(size)
        .and_then(|t| t.checked_add(hdr))
        .filter(|&e| e <= data.len())
        .ok_or_else(|| {
            FormatError::at(
                hdr,
                format!("{n} parameters do not fit in event length {}", data.len()),
            )
        })?;
    let mut at = table_end;
    for i in 0..n {
        let o = hdr + i * size;
        let l = len_at(data, o, size);
        if l > data.len() - at {
            return Err(FormatError::at(
                o,
                format!(
                    "parameter {i} length {l} exceeds event length {}",
                    data.len()
                ),
            ));
        }
        out.push((at as u32, l as u32));
        at += l;
    }
    Ok(())
}

/// Parameter ranges of a v1 event (no parameter count in the header): the
/// count is the largest n ≤ the table's for which the lengths add up to
/// exactly the event length, as libs computes it.
fn v1_lengths(
    data: &[u8],
    hdr: usize,
    info: &EventInfo,
    out: &mut Vec<(u32, u32)>,
) -> Result<(), FormatError> {
    let size = info.len_size();
    for n in (0..=info.params.len()).rev() {
        let table_end = hdr + n * size;
        if table_end > data.len() {
            continue;
        }
        let total: usize = (0..n).map(|i| len_at(data, hdr + i * size, size)).sum();
        if table_end + total == data.len() {
            out.clear();
            return lengths(data, hdr, n, size, out);
        }
    }
    Err(FormatError::at(
        hdr,
        format!(
            "{} event: no parameter count matches its length {}",
            info.name,
            data.len()
        ),
    ))
}
