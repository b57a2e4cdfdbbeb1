package io.confkit

/**
 * A minimal JSON reader (objects → Map, arrays → List, strings, Long/Double
 * numbers, booleans, null). The binding uses it only for the few event fields
 * the C ABI has no getter for; it is small on purpose, not a general library.
 */
internal object MiniJson {
    fun parse(text: String): Any? {
        val p = Parser(text)
        p.ws()
        val v = p.value()
        p.ws()
        if (p.i != text.length) p.fail("trailing characters")
        return v
    }

    @Suppress("UNCHECKED_CAST")
    fun obj(text: String): Map<String, Any?> =
        parse(text) as? Map<String, Any?> ?: throw IllegalArgumentException("JSON is not an object")

    /**
     * The text of member [key] of the JSON object [text], exactly as written
     * (e.g. a request's `result`, handed on without re-encoding), or null when
     * the object has no such member. Malformed JSON throws IllegalArgumentException.
     */
    fun rawMember(text: String, key: String): String? {
        val p = Parser(text)
        p.ws()
        val spans = p.objSpans()
        p.ws()
        if (p.i != text.length) p.fail("trailing characters")
        return spans[key]
    }

    private class Parser(val s: String) {
        var i = 0

        fun fail(what: String): Nothing = throw IllegalArgumentException("bad JSON at $i: $what")

        fun ws() {
            while (i < s.length && s[i].isWhitespace()) i++
        }

        fun value(): Any? {
            if (i >= s.length) fail("unexpected end")
            return when (s[i]) {
                '{' -> obj()
                '[' -> arr()
                '"' -> str()
                't' -> lit("true", true)
                'f' -> lit("false", false)
                'n' -> lit("null", null)
                else -> num()
            }
        }

        fun lit(word: String, v: Any?): Any? {
            if (!s.startsWith(word, i)) fail("expected $word")
            i += word.length
            return v
        }

        fun obj(): Map<String, Any?> {
            val m = LinkedHashMap<String, Any?>()
            i++
            ws()
            if (i < s.length && s[i] == '}') {
                i++
                return m
            }
            while (true) {
                ws()
                if (i >= s.length || s[i] != '"') fail("expected a key")
                val k = str()
                ws()
                if (i >= s.length || s[i] != ':') fail("expected ':'")
                i++
                ws()
                m[k] = value()
                ws()
                if (i >= s.length) fail("unexpected end")
                when (s[i++]) {
                    ',' -> {}
                    '}' -> return m
                    else -> fail("expected ',' or '}'")
                }
            }
        }

        /** Reads an object, keeping the text of each member's value. */
        fun objSpans(): Map<String, String> {
            if (i >= s.length || s[i] != '{') fail("expected an object")
            val m = LinkedHashMap<String, String>()
            i++
            ws()
            if (i < s.length && s[i] == '}') {
                i++
                return m
            }
            while (true) {
                ws()
                if (i >= s.length || s[i] != '"') fail("expected a key")
                val k = str()
                ws()
                if (i >= s.length || s[i] != ':') fail("expected ':'")
                i++
                ws()
                val start = i
                value()
                m[k] = s.substring(start, i)
                ws()
                if (i >= s.length) fail("unexpected end")
                when (s[i++]) {
                    ',' -> {}
                    '}' -> return m
                    else -> fail("expected ',' or '}'")
                }
            }
        }

        fun arr(): List<Any?> {
            val l = ArrayList<Any?>()
            i++
            ws()
            if (i < s.length && s[i] == ']') {
                i++
                return l
            }
            while (true) {
                ws()
                l.add(value())
                ws()
                if (i >= s.length) fail("unexpected end")
                when (s[i++]) {
                    ',' -> {}
                    ']' -> return l
                    else -> fail("expected ',' or ']'")
                }
            }
        }

        fun str(): String {
            val b = StringBuilder()
            i++
            while (true) {
                if (i >= s.length) fail("unterminated string")
                val c = s[i++]
                when (c) {
                    '"' -> return b.toString()
                    '\\' -> {
                        if (i >= s.length) fail("bad escape")
                        when (val e = s[i++]) {
                            '"', '\\', '/' -> b.append(e)
                            'b' -> b.append('\b')
                            'f' -> b.append('\u000C')
                            'n' -> b.append('\n')
                            'r' -> b.append('\r')
                            't' -> b.append('\t')
                            'u' -> {
                                if (i + 4 > s.length) fail("bad \\u escape")
                                b.append(s.substring(i, i + 4).toInt(16).toChar())
                                i += 4
                            }
                            else -> fail("bad escape \\$e")
                        }
                    }
                    else -> b.append(c)
                }
            }
        }

        fun num(): Any {
            val start = i
            while (i < s.length && (s[i].isDigit() || s[i] in "+-.eE")) i++
            val t = s.substring(start, i)
            if (t.length == 0) fail("unexpected character '${s[start]}'")
            return t.toLongOrNull() ?: t.toDoubleOrNull() ?: fail("bad number $t")
        }
    }
}

/**
 * Keeps tokens out of `toString`: every JSON member whose name ends in
 * "token" or "Token" gets the value `"<redacted>"`, and anything shaped like a
 * JWT (three base64url parts, the first starting with `eyJ`) becomes
 * `<redacted>` too.
 */
internal object Redact {
    const val MARK = "<redacted>"

    private val MEMBER = Regex("(\"[A-Za-z_]*[Tt]oken\"\\s*:\\s*)\"(?:[^\"\\\\]|\\\\.)*\"")
    private val JWT = Regex("eyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+")

    fun text(s: String): String = JWT.replace(MEMBER.replace(s) { m -> m.groupValues[1] + "\"" + MARK + "\"" }, MARK)

    /** A token field as toString shows it: null, or the mark. */
    fun token(t: String?): String = if (t == null) "null" else MARK
}
