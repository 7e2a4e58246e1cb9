//! Turning Docker's log frames into whole lines.
//!
//! The daemon sends a container's output in frames that follow the writes the process
//! made, not its lines: one frame may hold several lines, or half of one, and stdout and
//! stderr frames interleave. Callers (the `logs` command, start-failure reports) want
//! lines, so each stream is buffered separately and cut at `\n`.

use std::fmt;

/// Which of the container's output streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    /// Standard output (also a TTY container's only stream).
    Stdout,
    /// Standard error.
    Stderr,
}

/// One whole line of container output, without its line terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The stream that produced it.
    pub stream: LogStream,
    /// The text, invalid UTF-8 replaced, trailing `\r` removed.
    pub text: String,
}

/// How much history to request (MaestroNG `logs -n N`; no `-n` = everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogTail {
    /// The whole log.
    #[default]
    All,
    /// Only the last N lines.
    Last(u64),
}

impl fmt::Display for LogTail {
    /// The value of the API's `tail` query parameter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogTail::All => f.write_str("all"),
            LogTail::Last(n) => write!(f, "{n}"),
        }
    }
}

/// Buffers partial lines per stream until their newline arrives.
#[derive(Debug, Default)]
pub(crate) struct LineAssembler {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl LineAssembler {
    /// Adds one frame's bytes and returns the lines it completed, in order.
    pub(crate) fn push(&mut self, stream: LogStream, bytes: &[u8]) -> Vec<LogLine> {
        let buf = match stream {
            LogStream::Stdout => &mut self.stdout,
            LogStream::Stderr => &mut self.stderr,
        };
        buf.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            let rest = buf.split_off(pos + 1);
            let mut line = std::mem::replace(buf, rest);
            line.pop();
            lines.push(make_line(stream, &line));
        }
        lines
    }

    /// Returns what is left once the stream has ended: a last line without a newline.
    pub(crate) fn finish(&mut self) -> Vec<LogLine> {
        let mut lines = Vec::new();
        for (stream, buf) in [
            (LogStream::Stdout, &mut self.stdout),
            (LogStream::Stderr, &mut self.stderr),
        ] {
            if !buf.is_empty() {
                lines.push(make_line(stream, buf));
                buf.clear();
            }
        }
        lines
    }
}

fn make_line(stream: LogStream, bytes: &[u8]) -> LogLine {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    LogLine {
        stream,
        text: String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[LogLine]) -> Vec<(LogStream, &str)> {
        lines.iter().map(|l| (l.stream, l.text.as_str())).collect()
    }

    #[test]
    fn split_frames_are_joined_and_streams_kept_apart() {
        let mut a = LineAssembler::default();
        assert!(a.push(LogStream::Stdout, b"hel").is_empty());
        assert!(a.push(LogStream::Stderr, b"oops ").is_empty());
        let got = a.push(LogStream::Stdout, b"lo\nwor");
        assert_eq!(texts(&got), [(LogStream::Stdout, "hello")]);
        let got = a.push(LogStream::Stderr, b"there\r\n");
        assert_eq!(texts(&got), [(LogStream::Stderr, "oops there")]);
        let got = a.push(LogStream::Stdout, b"ld\n\nlast");
        assert_eq!(
            texts(&got),
            [(LogStream::Stdout, "world"), (LogStream::Stdout, "")]
        );
        assert_eq!(texts(&a.finish()), [(LogStream::Stdout, "last")]);
        assert!(a.finish().is_empty());
    }

    #[test]
    fn tail_renders_as_the_api_expects() {
        assert_eq!(LogTail::All.to_string(), "all");
        assert_eq!(LogTail::Last(5).to_string(), "5");
    }
}
