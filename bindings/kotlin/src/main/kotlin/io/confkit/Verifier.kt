package io.confkit

import com.sun.jna.Pointer
import com.sun.jna.ptr.PointerByReference

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
        return consume(out.value, { N.confkit_claims_free(it) }) { cl ->
            val n = N
            Claims(
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
    }

    companion object {
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
