//! A small regular-expression matcher for `wait --match`: does the body of
//! an HTTP answer contain a match? No captures, no replacement.
//!
//! A regex crate would cost the static binary 100 KiB or more (`regex-lite`
//! included); this one is a few KiB. Patterns compile to a Thompson NFA run
//! as a Pike VM, so matching is linear in the text whatever the pattern
//! (no catastrophic backtracking on a large body).
//!
//! Syntax (a subset of Rust's `regex` and of POSIX ERE): literals, `.`,
//! classes `[a-z0-9_]`, `[^...]`, `\d \w \s` and their negations `\D \W \S`,
//! anchors `^ $`, word boundaries `\b \B`, groups `(...)` and `(?:...)`,
//! alternation `|`, repetition `* + ? {n} {n,} {n,m}` (a trailing `?`, for
//! laziness, is accepted and changes nothing here), escapes `\n \t \r` and
//! `\` before any punctuation, and flags at the very start: `(?i)` ignore
//! case, `(?s)` `.` matches newlines, `(?m)` `^`/`$` match at line breaks.
//! Anything else is a clear error.

/// Upper bound on compiled instructions, so `a{1000}{1000}` fails cleanly.
const MAX_PROGRAM: usize = 20_000;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Regex {
    program: Vec<Inst>,
    flags: Flags,
}

#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    ignore_case: bool,
    dot_all: bool,
    multi_line: bool,
}

#[derive(Debug, Clone)]
enum Node {
    Empty,
    Char(char),
    Any,
    Class(Class),
    Start,
    End,
    WordBoundary(bool),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

#[derive(Debug, Clone)]
struct Class {
    ranges: Vec<(char, char)>,
    negated: bool,
}

#[derive(Debug, Clone)]
enum Inst {
    Char(char),
    Any,
    Class(Class),
    Start,
    End,
    WordBoundary(bool),
    Split(usize, usize),
    Jmp(usize),
    Match,
}

impl Regex {
    /// Compiles `pattern`; the error says what is wrong and where.
    pub fn new(pattern: &str) -> Result<Regex, String> {
        let mut parser = Parser {
            chars: pattern.chars().collect(),
            at: 0,
        };
        let flags = parser.flags()?;
        let node = parser.alternation(0)?;
        if parser.at < parser.chars.len() {
            return Err(parser.error("unmatched )"));
        }
        let mut program = Vec::new();
        compile(&node, &mut program)?;
        program.push(Inst::Match);
        Ok(Regex { program, flags })
    }

    /// Whether `text` contains a match anywhere.
    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let size = self.program.len();
        let mut current = Threads::new(size);
        let mut next = Threads::new(size);
        for at in 0..=chars.len() {
            // Unanchored search: a new thread starts at every position.
            self.add(&mut current, 0, &chars, at);
            if current.matched {
                return true;
            }
            if at == chars.len() {
                break;
            }
            next.clear();
            for i in 0..current.list.len() {
                let pc = current.list[i];
                if self.step(pc, chars[at]) {
                    self.add(&mut next, pc + 1, &chars, at + 1);
                }
            }
            if next.matched {
                return true;
            }
            std::mem::swap(&mut current, &mut next);
        }
        false
    }

    /// Whether the character instruction at `pc` accepts `c`.
    fn step(&self, pc: usize, c: char) -> bool {
        match &self.program[pc] {
            Inst::Char(want) => {
                *want == c || (self.flags.ignore_case && same_ignoring_case(*want, c))
            }
            Inst::Any => self.flags.dot_all || c != '\n',
            Inst::Class(class) => {
                class.matches(c)
                    || (self.flags.ignore_case && other_cases(c).any(|o| class.matches(o)))
            }
            _ => false,
        }
    }

    /// Adds `pc` and everything reachable from it without reading a character.
    fn add(&self, threads: &mut Threads, pc: usize, chars: &[char], at: usize) {
        if threads.seen[pc] == threads.generation {
            return;
        }
        threads.seen[pc] = threads.generation;
        let before = at.checked_sub(1).map(|i| chars[i]);
        let after = chars.get(at).copied();
        match self.program[pc] {
            Inst::Jmp(to) => self.add(threads, to, chars, at),
            Inst::Split(a, b) => {
                self.add(threads, a, chars, at);
                self.add(threads, b, chars, at);
            }
            Inst::Start => {
                if before.is_none() || (self.flags.multi_line && before == Some('\n')) {
                    self.add(threads, pc + 1, chars, at);
                }
            }
            Inst::End => {
                if after.is_none() || (self.flags.multi_line && after == Some('\n')) {
                    self.add(threads, pc + 1, chars, at);
                }
            }
            Inst::WordBoundary(want) => {
                let word = |c: Option<char>| c.is_some_and(is_word);
                if (word(before) != word(after)) == want {
                    self.add(threads, pc + 1, chars, at);
                }
            }
            Inst::Match => threads.matched = true,
            _ => threads.list.push(pc),
        }
    }
}

/// The set of live threads (program counters) at one position.
struct Threads {
    list: Vec<usize>,
    seen: Vec<u32>,
    generation: u32,
    matched: bool,
}

impl Threads {
    fn new(size: usize) -> Threads {
        Threads {
            list: Vec::new(),
            seen: vec![0; size],
            generation: 1,
            matched: false,
        }
    }

    fn clear(&mut self) {
        self.list.clear();
        self.generation += 1;
        self.matched = false;
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn other_cases(c: char) -> impl Iterator<Item = char> {
    c.to_lowercase().chain(c.to_uppercase())
}

fn same_ignoring_case(a: char, b: char) -> bool {
    a.to_lowercase().eq(b.to_lowercase())
}

impl Class {
    fn matches(&self, c: char) -> bool {
        self.ranges.iter().any(|&(low, high)| low <= c && c <= high) != self.negated
    }

    /// `\d`, `\w`, `\s` (ASCII, as in POSIX classes).
    fn perl(letter: char) -> Option<Class> {
        let ranges = match letter.to_ascii_lowercase() {
            'd' => vec![('0', '9')],
            'w' => vec![('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')],
            's' => vec![('\t', '\r'), (' ', ' ')],
            _ => return None,
        };
        Some(Class {
            ranges,
            negated: letter.is_ascii_uppercase(),
        })
    }
}

fn compile(node: &Node, program: &mut Vec<Inst>) -> Result<(), String> {
    if program.len() > MAX_PROGRAM {
        return Err("the pattern is too large (repetition counts multiply)".to_owned());
    }
    match node {
        Node::Empty => {}
        Node::Char(c) => program.push(Inst::Char(*c)),
        Node::Any => program.push(Inst::Any),
        Node::Class(class) => program.push(Inst::Class(class.clone())),
        Node::Start => program.push(Inst::Start),
        Node::End => program.push(Inst::End),
        Node::WordBoundary(want) => program.push(Inst::WordBoundary(*want)),
        Node::Concat(nodes) => {
            for node in nodes {
                compile(node, program)?;
            }
        }
        Node::Alt(branches) => {
            // Split(first, rest) ... each branch jumps to the end.
            let mut jumps = Vec::new();
            for (i, branch) in branches.iter().enumerate() {
                let split = program.len();
                if i + 1 < branches.len() {
                    program.push(Inst::Split(split + 1, 0));
                }
                compile(branch, program)?;
                if i + 1 < branches.len() {
                    jumps.push(program.len());
                    program.push(Inst::Jmp(0));
                    let next = program.len();
                    program[split] = Inst::Split(split + 1, next);
                }
            }
            let end = program.len();
            for jump in jumps {
                program[jump] = Inst::Jmp(end);
            }
        }
        Node::Repeat { node, min, max } => {
            for _ in 0..*min {
                compile(node, program)?;
            }
            match max {
                None => {
                    // loop: Split(body, out); body; Jmp(loop)
                    let split = program.len();
                    program.push(Inst::Split(split + 1, 0));
                    compile(node, program)?;
                    program.push(Inst::Jmp(split));
                    let out = program.len();
                    program[split] = Inst::Split(split + 1, out);
                }
                Some(max) => {
                    let mut splits = Vec::new();
                    for _ in *min..*max {
                        splits.push(program.len());
                        program.push(Inst::Split(0, 0));
                        compile(node, program)?;
                    }
                    let out = program.len();
                    for split in splits {
                        program[split] = Inst::Split(split + 1, out);
                    }
                }
            }
        }
    }
    Ok(())
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn error(&self, what: &str) -> String {
        format!("invalid regular expression at offset {}: {what}", self.at)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// `(?ims)` at the start of the pattern.
    fn flags(&mut self) -> Result<Flags, String> {
        let mut flags = Flags::default();
        let rest: String = self.chars.iter().take(6).collect();
        if !rest.starts_with("(?") || rest.starts_with("(?:") {
            return Ok(flags);
        }
        self.at = 2;
        loop {
            match self.peek() {
                Some('i') => flags.ignore_case = true,
                Some('s') => flags.dot_all = true,
                Some('m') => flags.multi_line = true,
                Some(')') => {
                    self.at += 1;
                    return Ok(flags);
                }
                _ => {
                    return Err(
                        self.error("unsupported group or flag (known: (?:...), (?i), (?s), (?m))")
                    );
                }
            }
            self.at += 1;
        }
    }

    fn alternation(&mut self, depth: usize) -> Result<Node, String> {
        if depth > 100 {
            return Err(self.error("groups nest too deeply"));
        }
        let mut branches = vec![self.concatenation(depth)?];
        while self.eat('|') {
            branches.push(self.concatenation(depth)?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alt(branches)
        })
    }

    fn concatenation(&mut self, depth: usize) -> Result<Node, String> {
        let mut nodes = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom(depth)?;
            nodes.push(self.repetition(atom)?);
        }
        Ok(Node::Concat(nodes))
    }

    fn repetition(&mut self, mut node: Node) -> Result<Node, String> {
        loop {
            let (min, max) = match self.peek() {
                Some('*') => (0, None),
                Some('+') => (1, None),
                Some('?') => (0, Some(1)),
                Some('{') => match self.counts() {
                    Some(counts) => counts,
                    None => return Ok(node),
                },
                _ => return Ok(node),
            };
            self.at += 1;
            if matches!(node, Node::Start | Node::End | Node::WordBoundary(_)) {
                return Err(self.error("an anchor cannot be repeated"));
            }
            if let Some(max) = max {
                if min > max {
                    return Err(self.error("{n,m} with n > m"));
                }
            }
            self.eat('?'); // laziness does not change whether there is a match
            node = Node::Repeat {
                node: Box::new(node),
                min,
                max,
            };
        }
    }

    /// `{n}`, `{n,}`, `{n,m}` (n, m up to 1000); leaves `at` on the
    /// closing brace. `None` (and `at` unchanged) when the brace starts no
    /// such count: it is then a literal `{`, as JSON patterns need.
    fn counts(&mut self) -> Option<(u32, Option<u32>)> {
        let start = self.at;
        let len = self.chars[start..].iter().position(|&c| c == '}')?;
        let inner: String = self.chars[start + 1..start + len].iter().collect();
        let number = |s: &str| s.parse::<u32>().ok().filter(|&n| n <= 1000);
        let counts = match inner.split_once(',') {
            None => number(&inner).map(|n| (n, Some(n))),
            Some((low, "")) => number(low).map(|n| (n, None)),
            Some((low, high)) => number(low).zip(number(high)).map(|(l, h)| (l, Some(h))),
        }?;
        self.at = start + len;
        Some(counts)
    }

    fn atom(&mut self, depth: usize) -> Result<Node, String> {
        let Some(c) = self.peek() else {
            return Ok(Node::Empty);
        };
        self.at += 1;
        Ok(match c {
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            '(' => {
                if self.eat('?') && !self.eat(':') {
                    return Err(
                        self.error("unsupported group (known: (?:...); flags only at the start)")
                    );
                }
                let inner = self.alternation(depth + 1)?;
                if !self.eat(')') {
                    return Err(self.error("unclosed ("));
                }
                inner
            }
            '[' => Node::Class(self.class()?),
            '\\' => self.escape()?,
            '*' | '+' | '?' => return Err(self.error("nothing to repeat")),
            c => Node::Char(c),
        })
    }

    fn escape(&mut self) -> Result<Node, String> {
        let Some(c) = self.peek() else {
            return Err(self.error("a pattern cannot end with \\"));
        };
        self.at += 1;
        if let Some(class) = Class::perl(c) {
            return Ok(Node::Class(class));
        }
        Ok(match c {
            'b' => Node::WordBoundary(true),
            'B' => Node::WordBoundary(false),
            'n' => Node::Char('\n'),
            't' => Node::Char('\t'),
            'r' => Node::Char('\r'),
            c if c.is_ascii_punctuation() || c == ' ' => Node::Char(c),
            _ => return Err(self.error(&format!("unknown escape \\{c}"))),
        })
    }

    fn class(&mut self) -> Result<Class, String> {
        let negated = self.eat('^');
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error("unclosed ["));
            };
            self.at += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            let low = match c {
                '\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.error("unclosed ["));
                    };
                    self.at += 1;
                    if let Some(class) = Class::perl(e) {
                        if class.negated {
                            return Err(
                                self.error("\\D, \\W and \\S are not supported inside [...]")
                            );
                        }
                        ranges.extend(class.ranges);
                        continue;
                    }
                    match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        e if e.is_ascii_punctuation() || e == ' ' => e,
                        _ => return Err(self.error(&format!("unknown escape \\{e}"))),
                    }
                }
                c => c,
            };
            let is_range = self.peek() == Some('-') && self.chars.get(self.at + 1) != Some(&']');
            if is_range && self.chars.get(self.at + 1).is_some() {
                self.at += 1;
                let mut high = self.chars[self.at];
                self.at += 1;
                if high == '\\' {
                    let Some(e) = self.peek() else {
                        return Err(self.error("unclosed ["));
                    };
                    self.at += 1;
                    high = e;
                }
                if high < low {
                    return Err(self.error("a class range goes backwards"));
                }
                ranges.push((low, high));
            } else {
                ranges.push((low, low));
            }
        }
        Ok(Class { ranges, negated })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        Regex::new(pattern).unwrap().is_match(text)
    }

    #[test]
    fn literals_classes_and_anchors() {
        assert!(m("ok", "status: ok"));
        assert!(!m("ok", "status: OK"));
        assert!(m("(?i)ok", "status: OK"));
        assert!(m("^status", "status: ok"));
        assert!(!m("^ok", "status: ok"));
        assert!(m("ok$", "status: ok"));
        assert!(!m("status$", "status: ok"));
        assert!(m("(?m)^b$", "a\nb\nc"));
        assert!(!m("^b$", "a\nb\nc"));
        assert!(m(r#""status": *"UP""#, r#"{"status":   "UP"}"#));
        assert!(m("[0-9]+ items", "there are 42 items"));
        assert!(!m("[^a-z]", "abc"));
        assert!(m(r"\d{3}-\d{4}", "call 555-1234"));
        assert!(!m(r"\d{3}-\d{4}", "call 55-1234"));
        assert!(m(r"^\w+\s\W$", "abc !"));
        assert!(m(r"\bcat\b", "a cat."));
        assert!(!m(r"\bcat\b", "concatenate"));
        assert!(m("a.c", "abc"));
        assert!(!m("a.c", "a\nc"));
        assert!(m("(?s)a.c", "a\nc"));
        assert!(m(r"1\.5", "v1.5"));
        assert!(!m(r"1\.5", "v105"));
        assert!(m("[-a]", "-"));
        assert!(m("[]x]", "]"));
        assert!(m(r#"{"a":{"b":1}}"#, r#"x{"a":{"b":1}}"#));
        assert!(m("a{,2}", "a{,2}"));
    }

    #[test]
    fn groups_alternation_and_repetition() {
        assert!(m("^(ready|ok)$", "ok"));
        assert!(m("^(ready|ok)$", "ready"));
        assert!(!m("^(ready|ok)$", "readyok"));
        assert!(m("^(?:ab)+$", "ababab"));
        assert!(!m("^(?:ab)+$", "ababa"));
        assert!(m("^a{2,3}$", "aaa"));
        assert!(!m("^a{2,3}$", "aaaa"));
        assert!(m("^a{2,}$", "aaaaa"));
        assert!(m("^colou?r$", "color"));
        assert!(m("^a*?b", "aaab"));
        assert!(m("", "anything"));
        assert!(m("^$", ""));
        assert!(m("(a*)*b", "aaab"));
        // Linear time: this would take forever with naive backtracking.
        let text = "a".repeat(5000);
        assert!(!m("^(a|a)*(a|a)*b$", &text));
    }

    #[test]
    fn bad_patterns_are_clear_errors() {
        for (pattern, what) in [
            ("(", "unclosed ("),
            ("a)", "unmatched )"),
            ("[a", "unclosed ["),
            ("*a", "nothing to repeat"),
            (r"\q", "unknown escape"),
            ("a{2,1}", "n > m"),
            ("(?P<x>a)", "unsupported group"),
            ("a{1000}{1000}", "too large"),
            ("[z-a]", "backwards"),
            ("a\\", "cannot end"),
        ] {
            let error = Regex::new(pattern).unwrap_err();
            assert!(error.contains(what), "{pattern}: {error}");
        }
    }
}
