package io.confkit

import com.sun.jna.Pointer
import com.sun.jna.ptr.PointerByReference
import java.io.File
import java.lang.reflect.Modifier

object AbiTests {
    /** One C function of the header: name, return type, parameter types. */
    data class CFunction(val name: String, val returns: String, val params: List<String>)

    fun parseHeader(text: String): List<CFunction> {
        val noComments = text
            .replace(Regex("/\\*.*?\\*/", RegexOption.DOT_MATCHES_ALL), " ")
            .replace(Regex("//[^\n]*"), " ")
        val start = noComments.indexOf("extern \"C\" {")
        val body = noComments.substring(start + "extern \"C\" {".length)
            .lines().filter { !it.trim().startsWith("#") }.joinToString(" ")
        return body.split(';').mapNotNull { decl ->
            val d = decl.replace(Regex("\\s+"), " ").trim()
            val open = d.indexOf('(')
            if (open < 0 || !d.contains("confkit_")) return@mapNotNull null
            val head = d.substring(0, open).trim()
            val name = head.substringAfterLast(' ').trimStart('*')
            val returns = head.substring(0, head.length - name.length).trim()
            val inner = d.substring(open + 1, d.lastIndexOf(')')).trim()
            val params = if (inner == "void" || inner.isBlank()) emptyList() else inner.split(',').map { p ->
                // Drop the parameter name: the last identifier.
                p.trim().replace(Regex("[A-Za-z_][A-Za-z0-9_]*$"), "").trim()
            }
            CFunction(name, returns, params)
        }
    }

    /**
     * Parameters that are C arrays (bound as a [Pointer] to native memory),
     * by function, which their C type alone does not tell from an
     * out-parameter.
     */
    val ARRAY_PARAMETERS = mapOf(
        // tokens, token_lens, statuses_out, claims_out
        "confkit_verifier_verify_batch" to setOf(1, 2, 8, 9)
    )

    /** The Java type a C type must be bound to (see the table at the top of Native.kt). */
    fun expectedJava(c: String, isReturn: Boolean): Class<*> {
        val t = c.replace("const ", "").replace("struct ", "").replace(" *", "*").trim()
        return when (t) {
            "void" -> Void.TYPE
            "bool" -> java.lang.Byte.TYPE
            "size_t" -> SizeT::class.java
            "uint16_t*" -> ShortArray::class.java
            "uint32_t", "int32_t", "confkit_status" -> Integer.TYPE
            "uint64_t", "int64_t" -> java.lang.Long.TYPE
            "uint32_t*", "int32_t*" -> IntArray::class.java
            "uint64_t*" -> LongArray::class.java
            "size_t*" -> SizeTByReference::class.java
            "uint8_t*" -> ByteArray::class.java
            "char*" -> if (isReturn) Pointer::class.java else fail("char* parameter")
            "confkit_buffer" -> BufferStruct.ByValue::class.java
            "confkit_buffer*" -> Pointer::class.java
            "confkit_conference_options*" -> ConferenceOptionsStruct::class.java
            "confkit_platform_options*" -> PlatformOptionsStruct::class.java
            "confkit_listener_fn" -> ListenerCallback::class.java
            "confkit_release_fn" -> ReleaseCallback::class.java
            "void*" -> Pointer::class.java
            else -> when {
                t.startsWith("confkit_") && t.endsWith("**") -> PointerByReference::class.java
                t.startsWith("confkit_") && t.endsWith("*") -> Pointer::class.java
                else -> fail("no mapping rule for C type \"$c\"")
            }
        }
    }

    fun register() {
        test("abi: library ABI version matches the binding, version string") {
            assertEq(4, Confkit.ABI_VERSION, "binding ABI")
            assertEq(Confkit.ABI_VERSION, Confkit.abiVersion, "library ABI")
            assertTrue(Confkit.version.startsWith("confkit ")) { "version \"${Confkit.version}\"" }
        }

        test("abi: a mismatching ABI version is refused with a clear error") {
            // ABI 3 (no batch verification) is refused, and so is a future ABI 5.
            val e = assertThrows<ConfkitLoadError> { Loader.checkAbi(3) }
            val m = e.message ?: ""
            assertTrue(m.contains("ABI mismatch") && m.contains("version 3") && m.contains("version 4")) { m }
            assertThrows<ConfkitLoadError> { Loader.checkAbi(2) }
            assertThrows<ConfkitLoadError> { Loader.checkAbi(5) }
            Loader.checkAbi(4)
        }

        test("abi: every header function is bound with the right parameter and return types") {
            val path = System.getProperty("confkit.header") ?: "../../include/confkit.h"
            val header = File(path)
            assertTrue(header.isFile) { "header not found at $path (set -Dconfkit.header)" }
            val functions = parseHeader(header.readText())
            assertTrue(functions.size > 80) { "parsed only ${functions.size} functions" }
            // The device half's functions and the authority's, registered apart.
            val methods = (ConfkitNative::class.java.declaredMethods + ConfkitAuthorityNative::class.java.declaredMethods)
                .filter { Modifier.isNative(it.modifiers) }.associateBy { it.name }
            val missing = functions.map { it.name }.filter { it !in methods }
            val extra = methods.keys.filter { name -> functions.none { it.name == name } }
            assertTrue(missing.isEmpty() && extra.isEmpty()) { "missing: $missing, not in header: $extra" }
            for (f in functions) {
                val m = methods.getValue(f.name)
                assertEq(f.params.size, m.parameterCount, "${f.name} parameter count")
                assertEq(expectedJava(f.returns, true), m.returnType, "${f.name} return type (${f.returns})")
                val arrays = ARRAY_PARAMETERS[f.name].orEmpty()
                f.params.forEachIndexed { i, p ->
                    val expected = if (i in arrays) Pointer::class.java else expectedJava(p, false)
                    assertEq(expected, m.parameterTypes[i], "${f.name} parameter $i ($p)")
                }
            }
        }

        test("abi: status codes and names match the library") {
            for (s in ConfkitStatus.values()) {
                if (s == ConfkitStatus.UNKNOWN) continue
                assertEq(s.name, Confkit.statusName(s.code), "name of ${s.code}")
                assertEq(s, ConfkitStatus.fromCode(s.code), "fromCode(${s.code})")
            }
            assertEq(19, ConfkitStatus.ALIAS_TAKEN.code, "ALIAS_TAKEN code")
            assertEq("ALIAS_TAKEN", Confkit.statusName(19), "ALIAS_TAKEN name")
            assertEq(20, ConfkitStatus.STORE_UNAVAILABLE.code, "STORE_UNAVAILABLE code")
            assertEq("STORE_UNAVAILABLE", Confkit.statusName(20), "STORE_UNAVAILABLE name")
            assertEq(ConfkitStatus.UNKNOWN, ConfkitStatus.fromCode(21), "21 is not a status")
            assertEq("UNKNOWN", Confkit.statusName(12345), "unknown code name")
            assertEq(ConfkitStatus.UNKNOWN, ConfkitStatus.fromCode(12345), "unknown code")
        }

        test("abi: a panic inside the library becomes PANIC, not a crash") {
            println("      (expected: the library's panic hook prints the message of the panic it then catches)")
            expectError(ConfkitStatus.PANIC, "panic in confkit: confkit_test_panic called") { Confkit.testPanic() }
        }
    }
}
