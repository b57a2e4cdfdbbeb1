package io.confkit

import com.sun.jna.Pointer
import com.sun.jna.ptr.PointerByReference

/** Library-wide information and settings. */
object Confkit {
    /** The C ABI version this binding was written for. */
    const val ABI_VERSION: Int = Loader.ABI_VERSION

    /** The loaded library's name and version, e.g. "confkit 0.1.0". */
    @JvmStatic
    val version: String get() = N.confkit_version().cString() ?: "confkit (unknown)"

    /** The loaded library's ABI version (equal to [ABI_VERSION] once loaded). */
    @JvmStatic
    val abiVersion: Int get() = N.confkit_abi_version()

    /** Native objects and buffers currently allocated (for leak tests). */
    @JvmStatic
    fun liveObjects(): Long = N.confkit_live_objects()

    /** The stable name of a status code, as the library spells it. */
    @JvmStatic
    fun statusName(code: Int): String = N.confkit_status_name(code).cString() ?: "UNKNOWN"

    /**
     * Receives exceptions thrown by session listeners (and by the cleaner),
     * which must never unwind into native code. Default: print the stack trace.
     */
    @JvmStatic
    @Volatile
    var callbackErrorHandler: (Throwable) -> Unit = { it.printStackTrace() }

    internal fun reportCallbackError(t: Throwable) {
        try {
            callbackErrorHandler(t)
        } catch (ignored: Throwable) {
        }
    }

    /** Test support: a panic inside the library, caught at the boundary. */
    internal fun testPanic() {
        call { N.confkit_test_panic(it) }
    }
}

/** A clock that moves only when told (seconds since the Unix epoch), for tests and simulations. */
class ManualClock(now: Long) : NativeObject(newClock(now), "ManualClock", { N.confkit_clock_free(it) }) {
    /** The clock's time. */
    var now: Long
        get() = native { N.confkit_clock_now(it) }
        set(value) = set(value)

    fun set(now: Long) {
        require(now >= 0) { "time must not be negative" }
        native { p -> call { N.confkit_clock_set(p, now, it) } }
    }

    fun advance(secs: Long) {
        require(secs >= 0) { "cannot move a clock backwards with advance" }
        native { p -> call { N.confkit_clock_advance(p, secs, it) } }
    }

    private companion object {
        fun newClock(now: Long): Pointer {
            require(now >= 0) { "time must not be negative" }
            val out = PointerByReference()
            call { N.confkit_clock_new(now, out, it) }
            return out.value
        }
    }
}

/**
 * The conference authority an app server embeds (and tests run in process).
 *
 * @param signingSeed 32 bytes to derive the Ed25519 signing key from (so a
 *   server keeps its key across restarts), or null to generate one.
 * @param keyId the key's `kid` (1..128 bytes of UTF-8).
 * @param clock a [ManualClock], or null for the system clock. The platform
 *   keeps its own reference: closing the clock later does not affect it.
 * @param options token lifetime, leeway and empty-conference lifetime.
 */
class Platform private constructor(
    handle: Pointer,
    /** The manual clock the platform runs on, if any. */
    val clock: ManualClock?
) : NativeObject(handle, "Platform", { NA.confkit_platform_free(it) }) {

    /** A platform that keeps nothing across restarts (tests, simulations). */
    @JvmOverloads
    constructor(
        signingSeed: ByteArray? = null,
        keyId: String = "confkit-key-1",
        clock: ManualClock? = null,
        options: PlatformOptions? = null
    ) : this(newPlatform(signingSeed, keyId, clock, options), clock)

    /**
     * Answers one REST-style request (DESIGN "REST-style interface"), e.g.
     * `handleRest("POST", "/v2/conferences/create", json)`. 4xx answers are
     * responses, not exceptions.
     */
    @JvmOverloads
    fun handleRest(method: String, path: String, body: String? = null): RestResponse {
        val m = method.utf8()
        val pa = path.utf8()
        val b = body.utf8()
        val status = ShortArray(1)
        val response = BufferOut()
        native { p ->
            call {
                NA.confkit_platform_handle_rest(p, m.bytes, m.len, pa.bytes, pa.len, b.bytes, b.len, status, response.out, it)
            }
        }
        return RestResponse(status[0].toInt() and 0xFFFF, response.takeString())
    }

    /** The platform's public keys as a JWK set (JSON), for offline verification. */
    fun jwks(): String {
        val out = BufferOut()
        native { p -> call { NA.confkit_platform_jwks(p, out.out, it) } }
        return out.takeString()
    }

    /** Destroys every empty conference past its time to live; returns how many. */
    fun expireConferences(): Long {
        val count = SizeTByReference()
        native { p -> call { NA.confkit_platform_expire_conferences(p, count, it) } }
        return count.value
    }

    /**
     * Opens a session for a user. Only users with an open session receive
     * notifications (invitations included). The session keeps the platform's
     * state alive, even after this [Platform] is closed.
     */
    @JvmOverloads
    fun openSession(externalId: String, name: String = "", avatarUrl: String? = null): Session {
        val e = externalId.utf8()
        val n = name.utf8()
        val a = avatarUrl.utf8()
        val out = PointerByReference()
        native { p -> call { NA.confkit_session_open(p, e.bytes, e.len, n.bytes, n.len, a.bytes, a.len, out, it) } }
        return Session(out.value, externalId)
    }

    companion object {
        /**
         * A platform that keeps what it must not lose (conferences,
         * participants, revocations, trusted keys) in the SQLite file at
         * [path], created if missing: opened again on the same file, it finds
         * them, with everyone who was connected having left. Every operation
         * is on disk before it answers; one whose commit fails throws
         * [ConfkitStatus.STORE_UNAVAILABLE] and changes nothing.
         *
         * @param signingSeed required (32 bytes): tokens issued before a
         *   restart must still verify after it.
         * @throws ConfkitException STORE_UNAVAILABLE when the file cannot be
         *   opened or read, or the library was built without its `sqlite` feature.
         */
        @JvmStatic
        @JvmOverloads
        fun open(
            path: String,
            signingSeed: ByteArray,
            keyId: String = "confkit-key-1",
            clock: ManualClock? = null,
            options: PlatformOptions? = null
        ): Platform {
            if (signingSeed.size != 32) {
                throw ConfkitException(ConfkitStatus.KEY_INVALID, "signing seed must be 32 bytes, got ${signingSeed.size}")
            }
            val pa = path.utf8()
            val k = keyId.utf8()
            val o = options?.toNative()
            val out = PointerByReference()
            val open = { c: Pointer? ->
                call { NA.confkit_platform_open(pa.bytes, pa.len, signingSeed, k.bytes, k.len, c, o, out, it) }
            }
            if (clock != null) clock.native { c -> open(c) } else open(null)
            return Platform(out.value, clock)
        }

        private fun newPlatform(seed: ByteArray?, keyId: String, clock: ManualClock?, options: PlatformOptions?): Pointer {
            // The ABI reads exactly 32 bytes and cannot check: never hand it a shorter array.
            if (seed != null && seed.size != 32) {
                throw ConfkitException(ConfkitStatus.KEY_INVALID, "signing seed must be 32 bytes, got ${seed.size}")
            }
            val k = keyId.utf8()
            val out = PointerByReference()
            if (clock == null && options == null) {
                call { NA.confkit_platform_new(seed, k.bytes, k.len, out, it) }
            } else {
                val o = options?.toNative()
                val create = { c: Pointer? -> call { NA.confkit_platform_new_with(seed, k.bytes, k.len, c, o, out, it) } }
                if (clock != null) clock.native { c -> create(c) } else create(null)
            }
            return out.value
        }
    }
}
