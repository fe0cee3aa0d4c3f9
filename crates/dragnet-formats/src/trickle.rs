//! A test reader that hands out at most a few bytes per read, so that readers meet every
//! record, string and line split across their read buffers.

use std::io::{self, Read};

/// Hands out at most `step` bytes of `data` per read.
pub(crate) struct Trickle<'a> {
    pub data: &'a [u8],
    pub step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}
