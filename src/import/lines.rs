//! Physical line numbers for records.
//!
//! The csv crate's `Position::line()` of a record is the line its reader stood
//! on when it began the record: just after the previous record's terminator.
//! That is where the record starts only in `\n` files without blank lines.
//! After a CRLF terminator the reader stops at the `\r` (the `\n` is still to
//! come), blank lines before a record are skipped inside the read, and a lone
//! `\r` (old Mac files) ends a record without counting as a line. So lines are
//! counted here instead: this reader notes every CR and LF byte it passes on,
//! and the record's start is its `Position::byte()` moved past the CR and LF
//! bytes there. A line break is `\n`, `\r\n` or a lone `\r`, as editors count.
//! Only breaks not yet counted are kept, so memory is bounded by the csv
//! reader's buffer and the longest record.

use std::collections::VecDeque;
use std::io::{self, Read};

/// A reader that notes the offset of every CR and LF byte it passes on.
pub struct LineBreaks<R> {
    inner: R,
    read: u64,
    breaks: VecDeque<(u64, u8)>,
    /// Line breaks before the first byte still in `breaks`.
    counted: u64,
}

impl<R: Read> LineBreaks<R> {
    pub fn new(inner: R) -> Self {
        LineBreaks {
            inner,
            read: 0,
            breaks: VecDeque::new(),
            counted: 0,
        }
    }

    /// The line (from 1) of the first byte at or after `offset` that is not a
    /// CR or LF: where a record read from `offset` starts. Call with
    /// increasing offsets, once the record has been read.
    pub fn line_at(&mut self, offset: u64) -> u64 {
        let mut start = offset;
        for &(at, _) in &self.breaks {
            match at.cmp(&start) {
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => start += 1,
                std::cmp::Ordering::Greater => break,
            }
        }
        while let Some((at, byte)) = self.breaks.front().copied() {
            if at >= start {
                break;
            }
            self.breaks.pop_front();
            let crlf = byte == b'\r' && self.breaks.front() == Some(&(at + 1, b'\n'));
            self.counted += u64::from(!crlf);
        }
        self.counted + 1
    }
}

impl<R: Read> Read for LineBreaks<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, byte) in buf[..n].iter().enumerate() {
            if matches!(byte, b'\r' | b'\n') {
                self.breaks.push_back((self.read + i as u64, *byte));
            }
        }
        self.read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &'static [u8]) -> LineBreaks<&'static [u8]> {
        let mut reader = LineBreaks::new(text);
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        reader
    }

    #[test]
    fn lines_are_counted_past_the_breaks_at_an_offset() {
        // Offsets: a0 b1 \r2 \n3 \r4 \n5 c6 d7 \n8 e9 \r10 f11 \n12 g13
        let mut reader = read_all(b"ab\r\n\r\ncd\ne\rf\ng");
        assert_eq!(reader.line_at(0), 1);
        assert_eq!(reader.line_at(2), 3, "after CRLF and a blank CRLF line");
        assert_eq!(reader.line_at(9), 4);
        assert_eq!(reader.line_at(11), 5, "a lone CR is a line break");
        assert_eq!(reader.line_at(12), 6);
    }

    #[test]
    fn breaks_inside_a_record_count_for_the_next_one() {
        // Offsets: "0 x1 \r2 \n3 y4 "5 \n6 z7
        let mut reader = read_all(b"\"x\r\ny\"\nz");
        assert_eq!(reader.line_at(0), 1);
        assert_eq!(reader.line_at(6), 3);
    }
}
