//! The bytes under the reader: one buffer that blocks are parsed in place
//! from (no copy per block), refilled by large reads.

use std::io::Read;

/// How much is read at once (and the buffer's first size).
const CHUNK: usize = 1 << 20;

/// A stream's bytes, buffered: `buf[pos..end]` are read and not consumed.
pub(super) struct Blocks {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

impl Blocks {
    pub(super) fn new(inner: Box<dyn Read + Send>) -> Blocks {
        Blocks {
            inner,
            buf: Vec::new(),
            pos: 0,
            end: 0,
        }
    }

    /// Makes `n` bytes available at the read position, reading as needed;
    /// returns how many are (fewer only at the end of the stream). Bytes
    /// before the read position may move: ranges into them end here. The
    /// buffer grows only as bytes arrive, so a block's lying length in a
    /// truncated file costs no more memory than the file has.
    pub(super) fn fill(&mut self, n: usize) -> std::io::Result<usize> {
        if self.end - self.pos >= n {
            return Ok(n);
        }
        self.buf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        while self.end < n {
            if self.end == self.buf.len() {
                let grown = (self.buf.len() * 2).clamp(CHUNK, n.max(CHUNK));
                self.buf.resize(grown, 0);
            }
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => break,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(n.min(self.end))
    }

    /// The read position, as an index into [`Blocks::bytes`].
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// Consumes `n` available bytes (they stay readable until the next
    /// [`Blocks::fill`]).
    pub(super) fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }

    /// The buffer's bytes (index with positions from [`Blocks::pos`]).
    pub(super) fn bytes(&self) -> &[u8] {
        &self.buf[..self.end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that gives at most 3 bytes per read.
    struct Trickle(Vec<u8>, usize);

    impl Read for Trickle {
        fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
            let n = b.len().min(3).min(self.0.len() - self.1);
            b[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn fills_across_reads_and_stops_at_the_end() {
        let data: Vec<u8> = (0..=255).cycle().take(3 * CHUNK + 5).collect();
        let mut b = Blocks::new(Box::new(Trickle(data.clone(), 0)));
        assert_eq!(b.fill(10).unwrap(), 10);
        assert_eq!(&b.bytes()[b.pos()..b.pos() + 10], &data[..10]);
        b.advance(7);
        // a request larger than the buffer grows it
        assert_eq!(b.fill(2 * CHUNK).unwrap(), 2 * CHUNK);
        assert_eq!(
            &b.bytes()[b.pos()..b.pos() + 2 * CHUNK],
            &data[7..7 + 2 * CHUNK]
        );
        b.advance(2 * CHUNK);
        let left = data.len() - 7 - 2 * CHUNK;
        assert_eq!(b.fill(CHUNK * 4).unwrap(), left);
        b.advance(left);
        assert_eq!(b.fill(1).unwrap(), 0);
    }
}
