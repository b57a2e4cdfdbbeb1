package io.confkit

import com.sun.jna.Memory
import com.sun.jna.Native
import com.sun.jna.Pointer
import com.sun.jna.ptr.PointerByReference

/** What [Verifier.verifyBatch] found for one token: its claims, or the status saying which check failed. */
data class BatchResult(
    /** The verified claims, or null when the token was refused. */
    val claims: Claims?,
    /** OK, or the status [Verifier.verify] would have thrown. */
    val status: ConfkitStatus
)

/**
 * Verifies conference access tokens offline with trusted Ed25519 public keys
 * (a device uses the platform's JWK set). Immutable and thread-safe.
 */
class Verifier private constructor(ptr: Pointer) :
    NativeObject(ptr, "Verifier", { N.confkit_verifier_free(it) }) {

    /**
     * Verifies [token] at [now] (seconds since the epoch) with a clock leeway.
     * When [conferenceId] is given the token must be for that conference.
     * Failures throw [ConfkitException] with a `TOKEN_*` status (or
     * UNKNOWN_PERMISSION) saying which check failed.
     */
    @JvmOverloads
    fun verify(token: String, now: Long, conferenceId: String? = null, leewaySecs: Long = DEFAULT_LEEWAY_SECS): Claims {
        require(now >= 0 && leewaySecs >= 0) { "now and leewaySecs must not be negative" }
        val t = token.utf8()
        val c = conferenceId.utf8()
        val out = PointerByReference()
        native { p -> call { N.confkit_verifier_verify(p, t.bytes, t.len, now, c.bytes, c.len, leewaySecs, out, it) } }
        return consume(out.value, { N.confkit_claims_free(it) }) { readClaims(it) }
    }

    /**
     * Verifies many [tokens] at once, each as [verify] would (same [now],
     * [conferenceId] and [leewaySecs]), at a fraction of the cost per token
     * when many are signed by one key (a server admitting a webinar). The
     * result at index i is token i's: its claims, or the status [verify]
     * would have thrown. Throws TOO_LARGE for more than [MAX_BATCH_TOKENS]
     * tokens and INVALID_ARGUMENT for a malformed [conferenceId].
     */
    @JvmOverloads
    fun verifyBatch(
        tokens: List<String>,
        now: Long,
        conferenceId: String? = null,
        leewaySecs: Long = DEFAULT_LEEWAY_SECS
    ): List<BatchResult> {
        require(now >= 0 && leewaySecs >= 0) { "now and leewaySecs must not be negative" }
        val n = tokens.size
        val c = conferenceId.utf8()
        if (n == 0) {
            native { p -> call { N.confkit_verifier_verify_batch(p, null, null, SizeT(0), now, c.bytes, c.len, leewaySecs, null, null, it) } }
            return emptyList()
        }
        if (n > MAX_BATCH_TOKENS) {
            throw ConfkitException(ConfkitStatus.TOO_LARGE, ConfkitStatus.TOO_LARGE.code, "$n tokens, more than the $MAX_BATCH_TOKENS of a batch")
        }
        val encoded = tokens.map { it.toByteArray(Charsets.UTF_8) }
        // One block for every token's bytes (one more byte, so that an empty
        // last token still points inside it), and the arrays the ABI reads.
        val data = Memory(encoded.fold(1L) { sum, b -> sum + b.size })
        val pointers = Memory(n.toLong() * Native.POINTER_SIZE)
        val lens = Memory(n.toLong() * Native.SIZE_T_SIZE)
        val statuses = Memory(n * 4L)
        val claims = Memory(n.toLong() * Native.POINTER_SIZE)
        try {
            var offset = 0L
            encoded.forEachIndexed { i, bytes ->
                data.write(offset, bytes, 0, bytes.size)
                pointers.setPointer(i.toLong() * Native.POINTER_SIZE, data.share(offset))
                if (Native.SIZE_T_SIZE == 8) lens.setLong(i * 8L, bytes.size.toLong()) else lens.setInt(i * 4L, bytes.size)
                offset += bytes.size
            }
            native { p ->
                call {
                    N.confkit_verifier_verify_batch(p, pointers, lens, SizeT(n.toLong()), now, c.bytes, c.len, leewaySecs, statuses, claims, it)
                }
            }
            val owned = (0 until n).map { claims.getPointer(it.toLong() * Native.POINTER_SIZE) }
            try {
                return owned.mapIndexed { i, cl ->
                    if (cl == null) BatchResult(null, ConfkitStatus.fromCode(statuses.getInt(i * 4L)))
                    else BatchResult(readClaims(cl), ConfkitStatus.OK)
                }
            } finally {
                // Every claims object is freed, even if reading one failed.
                owned.forEach { if (it != null) N.confkit_claims_free(it) }
            }
        } finally {
            // Also keeps the token bytes reachable until the native call returned.
            data.close()
            pointers.close()
            lens.close()
            statuses.close()
            claims.close()
        }
    }

    /**
     * Turns on this verifier's cache of verified tokens, holding up to
     * [capacity] tokens (1 to [MAX_CACHE_TOKENS], least recently used out):
     * for a server that sees the same tokens again (reconnects, a listen after
     * a join), a cached token costs a lookup instead of a signature check;
     * its time and conference are still checked every time. At most once per
     * verifier: a second call throws INVALID_ARGUMENT, as does a capacity of
     * 0; over the maximum throws TOO_LARGE. Safe while other threads verify.
     */
    fun enableCache(capacity: Int) {
        require(capacity >= 0) { "capacity must not be negative" }
        native { p -> call { N.confkit_verifier_enable_cache(p, SizeT(capacity.toLong()), it) } }
    }

    private fun readClaims(cl: Pointer): Claims {
        val n = N
        return Claims(
            subject = n.confkit_claims_subject(cl).cString() ?: "",
            conferenceId = n.confkit_claims_conference_id(cl).cString() ?: "",
            issuer = n.confkit_claims_issuer(cl).cString() ?: "",
            tokenId = n.confkit_claims_token_id(cl).cString() ?: "",
            permissions = PermissionSet.fromNative(n.confkit_claims_permissions(cl)),
            issuedAt = n.confkit_claims_issued_at(cl),
            notBefore = n.confkit_claims_not_before(cl),
            expiresAt = n.confkit_claims_expires_at(cl)
        )
    }

    companion object {
        /** Most tokens one [verifyBatch] call takes (`CONFKIT_MAX_BATCH_TOKENS`). */
        const val MAX_BATCH_TOKENS: Int = 4096

        /** Most tokens [enableCache] takes (`CONFKIT_MAX_VERIFIER_CACHE_TOKENS`). */
        const val MAX_CACHE_TOKENS: Int = 1 shl 20

        /** The usual clock leeway (`CONFKIT_DEFAULT_LEEWAY_SECS`). */
        const val DEFAULT_LEEWAY_SECS: Long = 60

        /** A verifier from a JWK set (as served at `/.well-known/jwks.json` or by [Platform.jwks]). */
        @JvmStatic
        fun fromJwks(jwksJson: String): Verifier {
            val j = jwksJson.utf8()
            val out = PointerByReference()
            call { N.confkit_verifier_from_jwks(j.bytes, j.len, out, it) }
            return Verifier(out.value)
        }

        /** A verifier from one 32-byte Ed25519 public key and its key id. */
        @JvmStatic
        fun fromPublicKey(keyId: String, publicKey: ByteArray): Verifier {
            // The ABI reads exactly 32 bytes and cannot check: never hand it a shorter array.
            if (publicKey.size != 32) {
                throw ConfkitException(ConfkitStatus.KEY_INVALID, "public key must be 32 bytes, got ${publicKey.size}")
            }
            val k = keyId.utf8()
            val out = PointerByReference()
            call { N.confkit_verifier_from_public_key(k.bytes, k.len, publicKey, out, it) }
            return Verifier(out.value)
        }
    }
}
