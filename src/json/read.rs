//! A strict pull reader for JSON: the objects a token carries (its header,
//! its claims, a JWK set) and the messages a device reads from the server.
//!
//! It reads exactly RFC 8259 JSON with one rule of its own: every string,
//! read or skipped, must be valid UTF-8 and may not hold a lone surrogate
//! escape (RFC 8259 section 8.1 requires UTF-8 for JSON exchanged between
//! systems). Numbers that confkit skips are checked against the grammar
//! only, whatever their magnitude, unless the caller refuses numbers beyond
//! f64's range ([`Reader::finite_numbers`]). Skipped values may nest to any
//! depth unless the caller gives a limit ([`Reader::with_max_depth`]):
//! skipping is iterative and the input is bounded by its caller's size cap.
//!
//! The caller reads an object member by member ([`Reader::object`]) and
//! decides for each member what it must be; what confkit reads is checked
//! against serde_json's typed reading by `tests/token_json.rs` (tokens) and
//! `src/wire/read_tests.rs` (server messages).

use std::borrow::Cow;

/// Why a text is not the JSON expected: a short reason and the byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonError {
    pub(crate) reason: Cow<'static, str>,
    pub(crate) offset: usize,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.offset)
    }
}

/// A cursor over JSON text.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Containers open around the cursor.
    depth: usize,
    /// Most containers that may be open at once.
    max_depth: usize,
    /// The same text, when it is already known to be UTF-8 (strings are then
    /// sliced from it, not checked again).
    text: Option<&'a str>,
    /// Whether a number too large for an f64 is refused wherever it is.
    finite: bool,
}

/// A place in the text to come back to ([`Reader::rewind`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    pos: usize,
    depth: usize,
}

type Result<T> = std::result::Result<T, JsonError>;

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader::with_max_depth(bytes, usize::MAX)
    }

    /// A reader that refuses more than `max_depth` objects and arrays one
    /// inside another (the outermost included), also where it skips.
    pub(crate) fn with_max_depth(bytes: &'a [u8], max_depth: usize) -> Self {
        Reader {
            bytes,
            pos: 0,
            depth: 0,
            max_depth,
            text: None,
            finite: false,
        }
    }

    /// This reader, refusing any number too large in magnitude for an f64
    /// once correctly rounded (as serde_json with `float_roundtrip` refuses
    /// it in every value it builds), also where it skips.
    pub(crate) fn finite_numbers(mut self) -> Self {
        self.finite = true;
        self
    }

    /// [`Reader::with_max_depth`] for text already checked as UTF-8 (a whole
    /// message, checked once instead of string by string).
    pub(crate) fn with_text(text: &'a str, max_depth: usize) -> Self {
        Reader {
            text: Some(text),
            ..Reader::with_max_depth(text.as_bytes(), max_depth)
        }
    }

    /// Where the cursor is, to come back to.
    pub(crate) fn mark(&mut self) -> Mark {
        self.skip_whitespace();
        Mark {
            pos: self.pos,
            depth: self.depth,
        }
    }

    /// Back to `mark` (after a failed attempt to read a value one way).
    pub(crate) fn rewind(&mut self, mark: Mark) {
        self.pos = mark.pos;
        self.depth = mark.depth;
    }

    /// The text from `mark` to the cursor.
    pub(crate) fn since(&self, mark: Mark) -> &'a [u8] {
        &self.bytes[mark.pos..self.pos]
    }

    fn open(&mut self) -> Result<()> {
        if self.depth >= self.max_depth {
            return Err(self.error("nested too deeply"));
        }
        self.depth += 1;
        Ok(())
    }

    /// An error at the current position.
    pub(crate) fn error(&self, reason: impl Into<Cow<'static, str>>) -> JsonError {
        JsonError {
            reason: reason.into(),
            offset: self.pos,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// The next byte after whitespace, not consumed: what kind of value
    /// comes (`{`, `[`, `"`, a digit or `-`, `t`, `f`, `n`).
    pub(crate) fn peek_token(&mut self) -> Result<u8> {
        self.skip_whitespace();
        self.peek()
            .ok_or_else(|| self.error("unexpected end of JSON"))
    }

    fn expect(&mut self, byte: u8) -> Result<()> {
        if self.peek_token()? == byte {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected '{}'", byte as char)))
        }
    }

    /// Reads a whole text that is one object: `member` is called with each
    /// member's name (escapes decoded) and must read its value. Only
    /// whitespace may follow the object.
    pub(crate) fn object<F>(mut self, member: F) -> Result<()>
    where
        F: FnMut(&str, &mut Reader<'a>) -> Result<()>,
    {
        self.members(member)?;
        self.skip_whitespace();
        if self.pos != self.bytes.len() {
            return Err(self.error("trailing characters after the object"));
        }
        Ok(())
    }

    /// Only whitespace is left.
    pub(crate) fn end(&mut self) -> Result<()> {
        self.skip_whitespace();
        if self.pos != self.bytes.len() {
            return Err(self.error("trailing characters after the value"));
        }
        Ok(())
    }

    /// Reads an object value, as [`Reader::object`] does, and stops after it.
    pub(crate) fn members<F>(&mut self, mut member: F) -> Result<()>
    where
        F: FnMut(&str, &mut Reader<'a>) -> Result<()>,
    {
        self.expect(b'{')?;
        self.open()?;
        if self.peek_token()? == b'}' {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            if self.peek_token()? != b'"' {
                return Err(self.error("expected a member name"));
            }
            let name = self.string()?;
            self.expect(b':')?;
            member(&name, self)?;
            match self.peek_token()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    /// Whether the next value is `null`; if so, it is consumed.
    pub(crate) fn null(&mut self) -> Result<bool> {
        if self.peek_token()? == b'n' {
            self.literal(b"null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// A string value, borrowed when it has no escapes.
    pub(crate) fn string(&mut self) -> Result<Cow<'a, str>> {
        if self.peek_token()? != b'"' {
            return Err(self.error("expected a string"));
        }
        self.pos += 1;
        let bytes = self.bytes;
        let start = self.pos;
        let mut owned: Option<Vec<u8>> = None;
        let mut run = start;
        loop {
            // Up to the next byte that needs a look.
            self.pos += plain_run(&bytes[self.pos..]);
            let Some(b) = self.peek() else {
                return Err(self.error("unterminated string: the text ends"));
            };
            match b {
                b'"' => {
                    let end = self.pos;
                    self.pos += 1;
                    let invalid = || JsonError {
                        reason: "invalid UTF-8 in a string".into(),
                        offset: end,
                    };
                    return match owned {
                        None => match self.text {
                            // Both ends are quotes, so on character boundaries.
                            Some(text) => {
                                text.get(start..end).map(Cow::Borrowed).ok_or_else(invalid)
                            }
                            None => std::str::from_utf8(&bytes[start..end])
                                .map(Cow::Borrowed)
                                .map_err(|_| invalid()),
                        },
                        Some(mut v) => {
                            v.extend_from_slice(&bytes[run..end]);
                            String::from_utf8(v).map(Cow::Owned).map_err(|_| invalid())
                        }
                    };
                }
                b'\\' => {
                    let buf = owned.get_or_insert_with(Vec::new);
                    buf.extend_from_slice(&bytes[run..self.pos]);
                    self.pos += 1;
                    self.escape(buf)?;
                    run = self.pos;
                }
                _ => return Err(self.error("control character in a string")),
            }
        }
    }

    /// Consumes a string, checking it as [`Reader::string`] does, without
    /// decoding it.
    fn skip_string(&mut self) -> Result<()> {
        if self.peek_token()? != b'"' {
            return Err(self.error("expected a string"));
        }
        self.pos += 1;
        let bytes = self.bytes;
        let mut run = self.pos;
        let mut scratch = Vec::new();
        loop {
            self.pos += plain_run(&bytes[self.pos..]);
            let Some(b) = self.peek() else {
                return Err(self.error("unterminated string: the text ends"));
            };
            // Escapes are ASCII, so each run between them must be UTF-8.
            let text = &bytes[run..self.pos];
            if self.text.is_none() && !text.is_ascii() && std::str::from_utf8(text).is_err() {
                return Err(self.error("invalid UTF-8 in a string"));
            }
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                b'\\' => {
                    self.pos += 1;
                    scratch.clear();
                    self.escape(&mut scratch)?;
                    run = self.pos;
                }
                _ => return Err(self.error("control character in a string")),
            }
        }
    }

    /// Decodes one escape (the backslash consumed) onto `out`.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let Some(b) = self.peek() else {
            return Err(self.error("unterminated string: the text ends"));
        };
        self.pos += 1;
        let byte = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let first = self.hex4()?;
                let code = match first {
                    0xd800..=0xdbff => {
                        if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                            return Err(self.error("lone surrogate in a \\u escape"));
                        }
                        self.pos += 2;
                        let second = self.hex4()?;
                        if !(0xdc00..=0xdfff).contains(&second) {
                            return Err(self.error("lone surrogate in a \\u escape"));
                        }
                        0x10000 + ((u32::from(first) - 0xd800) << 10) + (u32::from(second) - 0xdc00)
                    }
                    0xdc00..=0xdfff => {
                        return Err(self.error("lone surrogate in a \\u escape"));
                    }
                    _ => u32::from(first),
                };
                let c = char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))?;
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                return Ok(());
            }
            _ => return Err(self.error("invalid escape")),
        };
        out.push(byte);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u16> {
        let Some(digits) = self.bytes.get(self.pos..self.pos + 4) else {
            return Err(self.error("unterminated \\u escape"));
        };
        let mut v = 0u16;
        for &d in digits {
            let n = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(self.error("invalid \\u escape")),
            };
            v = (v << 4) | u16::from(n);
        }
        self.pos += 4;
        Ok(v)
    }

    /// `true` or `false`.
    pub(crate) fn boolean(&mut self) -> Result<bool> {
        match self.peek_token()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => Err(self.error("expected true or false")),
        }
    }

    /// An integer that fits in an i64 (no fraction or exponent; `-0` is
    /// refused, as serde_json reads it as a float).
    pub(crate) fn i64(&mut self) -> Result<i64> {
        let start = self.peek_token().map(|_| self.pos)?;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("invalid number"));
            }
        }
        let magnitude = self.u64().map_err(|e| JsonError {
            reason: e.reason,
            offset: start,
        })?;
        let value = if negative {
            0i64.checked_sub_unsigned(magnitude).filter(|v| *v != 0)
        } else {
            i64::try_from(magnitude).ok()
        };
        value.ok_or_else(|| JsonError {
            reason: "integer out of range".into(),
            offset: start,
        })
    }

    /// A non-negative integer that fits in a u64 (no sign, fraction or
    /// exponent).
    pub(crate) fn u64(&mut self) -> Result<u64> {
        let start = self.peek_token().map(|_| self.pos)?;
        let end = self.number()?;
        let text = &self.bytes[start..end];
        if text.iter().any(|b| matches!(b, b'-' | b'.' | b'e' | b'E')) {
            self.pos = start;
            return Err(self.error("expected a non-negative integer"));
        }
        let mut v = 0u64;
        for &d in text {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
                .ok_or_else(|| JsonError {
                    reason: "integer out of range".into(),
                    offset: start,
                })?;
        }
        Ok(v)
    }

    /// Consumes a number (RFC 8259's grammar) and returns where it ends.
    fn number(&mut self) -> Result<usize> {
        let start = self.peek_token().map(|_| self.pos)?;
        let end = self.number_grammar()?;
        if self.finite && overflows_f64(&self.bytes[start..end]) {
            return Err(JsonError {
                reason: "number out of range".into(),
                offset: start,
            });
        }
        Ok(end)
    }

    fn number_grammar(&mut self) -> Result<usize> {
        if self.peek_token()? == b'-' {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("expected a value")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        if let Some(b'0'..=b'9') = self.peek() {
            return Err(self.error("invalid number"));
        }
        Ok(self.pos)
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<()> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.error("invalid number"));
        }
        self.digits();
        Ok(())
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<()> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error("expected a value"))
        }
    }

    /// An array: `element` is called for each element and must read it.
    pub(crate) fn array<F>(&mut self, mut element: F) -> Result<()>
    where
        F: FnMut(&mut Reader<'a>) -> Result<()>,
    {
        self.expect(b'[')?;
        self.open()?;
        if self.peek_token()? == b']' {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            element(self)?;
            match self.peek_token()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    /// Consumes any one value, checking it (nesting is tracked on a stack of
    /// its own, not by recursion).
    pub(crate) fn skip(&mut self) -> Result<()> {
        // The closing byte of each open container.
        let mut open: Vec<u8> = Vec::new();
        loop {
            // A value.
            let first = self.peek_token()?;
            if matches!(first, b'{' | b'[')
                && self.depth.saturating_add(open.len()) >= self.max_depth
            {
                return Err(self.error("nested too deeply"));
            }
            match first {
                b'{' => {
                    self.pos += 1;
                    if self.peek_token()? == b'}' {
                        self.pos += 1;
                    } else {
                        open.push(b'}');
                        self.member_name()?;
                        continue;
                    }
                }
                b'[' => {
                    self.pos += 1;
                    if self.peek_token()? == b']' {
                        self.pos += 1;
                    } else {
                        open.push(b']');
                        continue;
                    }
                }
                b'"' => self.skip_string()?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => {
                    self.number()?;
                }
            }
            // After a value: close containers or go on to the next element.
            loop {
                let Some(&close) = open.last() else {
                    return Ok(());
                };
                match self.peek_token()? {
                    b',' => {
                        self.pos += 1;
                        if close == b'}' {
                            self.member_name()?;
                        }
                        break;
                    }
                    b if b == close => {
                        self.pos += 1;
                        open.pop();
                    }
                    _ => return Err(self.error("expected ',' or the end of a container")),
                }
            }
        }
    }

    /// Consumes any one value, as [`Reader::skip`] does, and returns its
    /// text (UTF-8: every string in it was checked, the rest is ASCII).
    pub(crate) fn raw(&mut self) -> Result<&'a [u8]> {
        let start = self.mark();
        self.skip()?;
        Ok(self.since(start))
    }

    /// A member name and its colon, inside a skipped object.
    fn member_name(&mut self) -> Result<()> {
        if self.peek_token()? != b'"' {
            return Err(self.error("expected a member name"));
        }
        self.string()?;
        self.expect(b':')
    }
}

/// Whether a number (its text already checked against RFC 8259's grammar)
/// is too large in magnitude for an f64: at least 2^1024 − 2^970, the
/// smallest value that rounds to infinity.
fn overflows_f64(text: &[u8]) -> bool {
    /// 2^1024 − 2^970 in decimal, without its trailing zeros (309 digits
    /// in all: the first is in the 10^308 place).
    const LIMIT: &[u8] = b"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
    let text = text.strip_prefix(b"-").unwrap_or(text);
    let (mantissa, exponent) = match text.iter().position(|b| matches!(b, b'e' | b'E')) {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, &b""[..]),
    };
    let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, &b""[..]),
    };
    let (negative, digits) = match exponent.first() {
        Some(b'-') => (true, &exponent[1..]),
        Some(b'+') => (false, &exponent[1..]),
        _ => (false, exponent),
    };
    let mut e: i64 = 0;
    for &d in digits {
        e = e.saturating_mul(10).saturating_add(i64::from(d - b'0'));
    }
    if negative {
        e = -e;
    }
    let significant = || int.iter().chain(frac).copied();
    let zeros = significant().take_while(|&d| d == b'0').count();
    if zeros == int.len() + frac.len() {
        return false; // zero
    }
    // The power of ten of the first significant digit.
    let len = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let power = (len(int.len()) - 1 - len(zeros)).saturating_add(e);
    match power.cmp(&308) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => {
            let mut digits = significant().skip(zeros);
            for &limit in LIMIT {
                match digits.next() {
                    Some(d) if d == limit => {}
                    Some(d) => return d > limit,
                    // The rest of LIMIT is not all zeros: below it.
                    None => return false,
                }
            }
            true
        }
    }
}

/// How many bytes at the start of `text` need no look inside a string: not
/// `"`, `\`, or a control character. Eight at a time while there are
/// eight: a byte of a word `w` is `b` when `w ^ b·1` has a zero byte, and
/// below 0x20 when `w − 0x20·1` borrows into its top bit (exact for "any
/// byte", which is all that is asked before the byte-wise search).
fn plain_run(text: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & TOPS;
    let mut i = 0;
    while let Some(chunk) = text.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let special = zero_byte(w ^ (ONES * u64::from(b'"')))
            | zero_byte(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & TOPS);
        if special != 0 {
            break;
        }
        i += 8;
    }
    i + text[i..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(text.len() - i)
}

/// Fills `slot` from a member seen once; a second time is an error (a JSON
/// object's names should be unique, RFC 8259 section 4, and two different
/// values for one claim are refused rather than one chosen).
pub(crate) fn once<T>(slot: &mut Option<T>, name: &str, r: &Reader<'_>, value: T) -> Result<()> {
    if slot.is_some() {
        return Err(r.error(format!("duplicate member \"{name}\"")));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip_all(text: &str) -> Result<()> {
        let mut r = Reader::new(text.as_bytes());
        r.skip()?;
        r.skip_whitespace();
        if r.pos != text.len() {
            return Err(r.error("trailing"));
        }
        Ok(())
    }

    #[test]
    fn skips_valid_values_and_refuses_invalid_ones() {
        for ok in [
            "0",
            "-0",
            "12",
            "-1.5e+3",
            "1E9",
            "1e400",
            "true",
            "false",
            "null",
            "\"\"",
            "\"a\\u00e9\\ud83d\\ude00\"",
            "[]",
            "{}",
            "[1,[2,{\"a\":[]}],\"x\"]",
            " { \"a\" : { \"b\" : [ null ] } , \"c\" : 1 } ",
        ] {
            assert_eq!(skip_all(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "+1",
            "tru",
            "nul",
            "[1,]",
            "[,]",
            "{\"a\"}",
            "{\"a\":1,}",
            "{a:1}",
            "[1 2]",
            "[1}",
            "{\"a\":1]",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"\u{1}\"",
            "\"abc",
            "[[[",
            "1 2",
        ] {
            assert!(skip_all(bad).is_err(), "{bad:?} was accepted");
        }
        let mut r = Reader::new(b"\"\xff\"");
        assert!(r.skip().is_err(), "invalid UTF-8 in a skipped string");
    }

    #[test]
    fn a_number_overflows_exactly_where_an_f64_becomes_infinite() {
        let limit = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
        // The limit minus one (it ends in 2).
        let below = format!("{}1", &limit[..limit.len() - 1]);
        let mut cases: Vec<String> = [
            "0", "-0", "0.0", "1", "1e308", "1e309", "-1e309", "1E+309", "9e307", "1e400",
            "1e-400", "0.000001e314", "0.00001e314", "10e307", "10e308",
            "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
            "1.79769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791e308",
            "1e99999999999999999999999", "1e-99999999999999999999999", "0e99999",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        cases.push(limit.to_owned());
        cases.push(format!("{limit}.0"));
        cases.push(format!("-{limit}"));
        cases.push(below.clone());
        cases.push(format!("{below}.9999"));
        cases.push(format!("0.{limit}e309"));
        for c in &cases {
            let expected = c.parse::<f64>().is_ok_and(f64::is_infinite);
            assert_eq!(overflows_f64(c.as_bytes()), expected, "{c}");
            let mut r = Reader::new(c.as_bytes()).finite_numbers();
            assert_eq!(r.skip().is_err(), expected, "{c}");
            assert!(Reader::new(c.as_bytes()).skip().is_ok(), "{c}");
        }
    }

    #[test]
    fn a_plain_run_stops_at_the_first_byte_that_needs_a_look() {
        for len in 0..20 {
            for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                for at in 0..=len {
                    let mut text = vec![b'a'; len];
                    text.extend_from_slice("é☃ ~\x7f".as_bytes());
                    let plain = text.len();
                    text.insert(at.min(plain), special);
                    assert_eq!(plain_run(&text), at.min(plain), "{len} {special} {at}");
                }
                assert_eq!(plain_run(&vec![b' '; len]), len);
            }
        }
        for b in 0u8..=255 {
            let special = b == b'"' || b == b'\\' || b < 0x20;
            let text = [b'x', b'x', b'x', b'x', b'x', b'x', b'x', b, b'x'];
            assert_eq!(plain_run(&text), if special { 7 } else { 9 }, "{b}");
        }
    }

    #[test]
    fn skips_deep_nesting_without_recursion() {
        let depth = 100_000;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(skip_all(&text), Ok(()));
        assert!(skip_all(&"[".repeat(depth)).is_err());
    }

    #[test]
    fn reads_strings_and_integers() {
        let mut r = Reader::new(br#""a\"\\\/\b\f\n\r\t\u0041\ud83d\ude00z""#);
        assert_eq!(r.string().unwrap(), "a\"\\/\u{8}\u{c}\n\r\tA\u{1f600}z");
        let mut r = Reader::new(b"\"plain\"");
        assert!(matches!(r.string().unwrap(), Cow::Borrowed("plain")));
        for (text, want) in [("0", Some(0)), ("18446744073709551615", Some(u64::MAX))] {
            assert_eq!(Reader::new(text.as_bytes()).u64().ok(), want, "{text}");
        }
        for text in ["18446744073709551616", "-1", "1.0", "1e3", "\"1\"", "null"] {
            assert!(Reader::new(text.as_bytes()).u64().is_err(), "{text}");
        }
    }

    #[test]
    fn an_object_must_be_the_whole_text_and_names_are_decoded() {
        let mut seen = Vec::new();
        Reader::new(br#" {"i\u0061t": 1, "x": [true]} "#)
            .object(|name, r| {
                seen.push(name.to_owned());
                r.skip()
            })
            .unwrap();
        assert_eq!(seen, ["iat", "x"]);
        assert!(Reader::new(b"{} x").object(|_, r| r.skip()).is_err());
        assert!(Reader::new(b"[]").object(|_, r| r.skip()).is_err());
        assert!(Reader::new(b"{\"a\":1").object(|_, r| r.skip()).is_err());
    }
}
