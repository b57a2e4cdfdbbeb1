// Small helpers every wrapper uses to talk to the C ABI: UTF-8 arguments,
// status + error objects, borrowed C strings and owned buffers.
package io.confkit

import com.sun.jna.Pointer
import com.sun.jna.ptr.PointerByReference

/** A UTF-8 argument: the bytes and their length (the ABI takes pointer + length). */
internal class Utf8(text: String?) {
    @JvmField val bytes: ByteArray? = text?.toByteArray(Charsets.UTF_8)
    @JvmField val len: SizeT = SizeT((bytes?.size ?: 0).toLong())
}

internal fun String?.utf8(): Utf8 = Utf8(this)

/** A borrowed `const char *` as a Kotlin string (copied), or null for NULL. */
internal fun Pointer?.cString(): String? = this?.getString(0, "UTF-8")

/**
 * Runs one fallible native call with a fresh `confkit_error **` slot. On a
 * non-zero status the error object is read, freed, and thrown as a
 * [ConfkitException].
 */
internal inline fun call(block: (PointerByReference) -> Int) {
    val err = PointerByReference()
    val status = block(err)
    if (status != 0) throw takeError(status, err.value)
}

/** Reads and frees an error object (NULL tolerated) and makes the exception. */
internal fun takeError(status: Int, error: Pointer?): ConfkitException {
    if (error == null) {
        val name = N.confkit_status_name(status).cString() ?: "UNKNOWN"
        return ConfkitException(ConfkitStatus.fromCode(status), status, "$name (no detail)")
    }
    try {
        val code = N.confkit_error_code(error)
        val message = N.confkit_error_message(error).cString() ?: ""
        return ConfkitException(ConfkitStatus.fromCode(code), code, message)
    } finally {
        N.confkit_error_free(error)
    }
}

/**
 * A `confkit_buffer` out-parameter: pass [out] (a pointer to the struct's own
 * memory) to the call, then [take] the bytes, which copies them and frees the
 * native buffer by value. A call that failed wrote nothing: [take] then
 * returns an empty array and frees nothing.
 */
internal class BufferOut {
    private val struct = BufferStruct.ByValue()

    val out: Pointer get() = struct.pointer

    fun take(): ByteArray {
        struct.read()
        val data = struct.data ?: return ByteArray(0)
        try {
            val len = struct.len.toLong()
            require(len <= Int.MAX_VALUE) { "confkit buffer of $len bytes is too large" }
            return data.getByteArray(0, len.toInt())
        } finally {
            N.confkit_buffer_free(struct)
            struct.data = null
            struct.len = SizeT(0)
            struct.write()
        }
    }

    fun takeString(): String = String(take(), Charsets.UTF_8)
}

/** Frees a native result object after its contents were copied out. */
internal inline fun <T> consume(ptr: Pointer, free: (Pointer) -> Unit, read: (Pointer) -> T): T {
    try {
        return read(ptr)
    } finally {
        free(ptr)
    }
}
