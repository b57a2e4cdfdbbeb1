//! An append-only JSON writer. Strings are escaped exactly as serde_json
//! escapes them (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control
//! characters as `\u00xx`, everything else as is), so a value written here
//! and by serde_json gives the same bytes when the members come in the same
//! order; `src/wire/write.rs` tests that.

/// JSON text being built. Commas are placed by the writer: call `key`
/// before each member's value, and the value methods in order.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: Vec<u8>,
    comma: bool,
}

impl Writer {
    /// An empty text.
    pub(crate) fn new() -> Self {
        Writer::default()
    }

    /// The text written.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    /// The text written, as a string (it is always UTF-8: only `&str` and
    /// ASCII are ever appended).
    pub(crate) fn into_string(self) -> String {
        String::from_utf8(self.out).unwrap_or_default()
    }

    fn separate(&mut self) {
        if self.comma {
            self.out.push(b',');
        }
        self.comma = true;
    }

    /// `{`; close it with [`Writer::end_object`].
    pub(crate) fn begin_object(&mut self) {
        self.separate();
        self.out.push(b'{');
        self.comma = false;
    }

    /// `}`.
    pub(crate) fn end_object(&mut self) {
        self.out.push(b'}');
        self.comma = true;
    }

    /// `[`; close it with [`Writer::end_array`].
    pub(crate) fn begin_array(&mut self) {
        self.separate();
        self.out.push(b'[');
        self.comma = false;
    }

    /// `]`.
    pub(crate) fn end_array(&mut self) {
        self.out.push(b']');
        self.comma = true;
    }

    /// A member's name; its value comes next.
    pub(crate) fn key(&mut self, name: &str) {
        self.separate();
        self.escaped(name);
        self.out.push(b':');
        self.comma = false;
    }

    /// A string value.
    pub(crate) fn string(&mut self, s: &str) {
        self.separate();
        self.escaped(s);
    }

    /// A number.
    pub(crate) fn u64(&mut self, n: u64) {
        self.separate();
        self.out.extend_from_slice(n.to_string().as_bytes());
    }

    /// A number.
    pub(crate) fn i64(&mut self, n: i64) {
        self.separate();
        self.out.extend_from_slice(n.to_string().as_bytes());
    }

    /// `true` or `false`.
    pub(crate) fn bool(&mut self, b: bool) {
        self.separate();
        self.out
            .extend_from_slice(if b { b"true" as &[u8] } else { b"false" });
    }

    /// `null`.
    pub(crate) fn null(&mut self) {
        self.separate();
        self.out.extend_from_slice(b"null");
    }

    /// A value that is already JSON text (checked by whoever read it).
    pub(crate) fn raw(&mut self, json: &str) {
        self.separate();
        self.out.extend_from_slice(json.as_bytes());
    }

    /// A string member.
    pub(crate) fn str_member(&mut self, name: &str, value: &str) {
        self.key(name);
        self.string(value);
    }

    /// A number member.
    pub(crate) fn u64_member(&mut self, name: &str, value: u64) {
        self.key(name);
        self.u64(value);
    }

    /// A string member, or `null`.
    pub(crate) fn opt_str_member(&mut self, name: &str, value: Option<&str>) {
        self.key(name);
        match value {
            Some(s) => self.string(s),
            None => self.null(),
        }
    }

    fn escaped(&mut self, s: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.out.push(b'"');
        let bytes = s.as_bytes();
        let mut run = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let short = match b {
                b'"' => b'"',
                b'\\' => b'\\',
                0x08 => b'b',
                0x0c => b'f',
                b'\n' => b'n',
                b'\r' => b'r',
                b'\t' => b't',
                0x00..=0x1f => b'u',
                _ => continue,
            };
            self.out.extend_from_slice(&bytes[run..i]);
            self.out.push(b'\\');
            self.out.push(short);
            if short == b'u' {
                self.out.extend_from_slice(b"00");
                self.out.push(HEX[usize::from(b >> 4)]);
                self.out.push(HEX[usize::from(b & 0xf)]);
            }
            run = i + 1;
        }
        self.out.extend_from_slice(&bytes[run..]);
        self.out.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é☃😀\u{7f}\u{2028}");
        for s in [all.as_str(), "", "plain", "\"\\/", "a\u{0}b\u{1f}"] {
            let mut w = Writer::new();
            w.string(s);
            assert_eq!(w.into_string(), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn commas_go_between_members_and_elements() {
        let mut w = Writer::new();
        w.begin_object();
        w.str_member("a", "x");
        w.key("b");
        w.begin_array();
        w.u64(1);
        w.begin_object();
        w.end_object();
        w.null();
        w.i64(-3);
        w.end_array();
        w.key("c");
        w.bool(false);
        w.opt_str_member("d", None);
        w.key("e");
        w.raw("{\"z\":[]}");
        w.end_object();
        assert_eq!(
            w.into_string(),
            r#"{"a":"x","b":[1,{},null,-3],"c":false,"d":null,"e":{"z":[]}}"#
        );
    }
}
