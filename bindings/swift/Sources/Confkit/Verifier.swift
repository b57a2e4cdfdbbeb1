// Offline verification of conference access tokens on a device.

import CConfkit
import Foundation

/// The verified claims of a conference access token.
public struct Claims: Equatable, Sendable {
    /// `sub`: the external ID the token was issued to.
    public let subject: String
    /// `conf`: the conference ID (UUID text).
    public let conferenceId: String
    /// `iss`: the issuing platform.
    public let issuer: String
    /// `jti`: the token id.
    public let tokenId: String
    /// `perms`: what the holder may do.
    public let permissions: PermissionSet
    /// `iat`, seconds since the Unix epoch.
    public let issuedAt: UInt64
    /// `nbf`, seconds since the Unix epoch.
    public let notBefore: UInt64
    /// `exp`, seconds since the Unix epoch.
    public let expiresAt: UInt64

    /// Copies everything out of C claims (which the caller frees).
    init(handle: OpaquePointer) {
        subject = swiftString(confkit_claims_subject(handle)) ?? ""
        conferenceId = swiftString(confkit_claims_conference_id(handle)) ?? ""
        issuer = swiftString(confkit_claims_issuer(handle)) ?? ""
        tokenId = swiftString(confkit_claims_token_id(handle)) ?? ""
        permissions = PermissionSet(rawValue: confkit_claims_permissions(handle))
        issuedAt = confkit_claims_issued_at(handle)
        notBefore = confkit_claims_not_before(handle)
        expiresAt = confkit_claims_expires_at(handle)
    }
}

/// Verifies conference access tokens (EdDSA / Ed25519 JWTs) offline, with the
/// platform's public keys.
///
/// Immutable and thread-safe; the C verifier is freed in `deinit`.
public final class Verifier: @unchecked Sendable {
    /// The usual clock leeway, in seconds (`CONFKIT_DEFAULT_LEEWAY_SECS`, 60).
    public static let defaultLeewaySeconds: UInt64 = UInt64(truncatingIfNeeded: CONFKIT_DEFAULT_LEEWAY_SECS)

    /// The length of an Ed25519 public key.
    public static let publicKeyLength = 32

    /// Most tokens `enableCache(capacity:)` takes
    /// (`CONFKIT_MAX_VERIFIER_CACHE_TOKENS`).
    public static let maxCacheTokens = 1 << 20

    /// Most tokens one `verifyBatch` call takes (`CONFKIT_MAX_BATCH_TOKENS`).
    public static let maxBatchTokens = Int(CONFKIT_MAX_BATCH_TOKENS)

    let handle: OpaquePointer

    /// A verifier from a JWK set (JSON, as served at `/.well-known/jwks.json`
    /// or returned by `Platform.jwks()`). Every key must be OKP / Ed25519 with
    /// a `kid`.
    ///
    /// - Throws: `.keyInvalid` for a bad set, `.invalidUTF8`, `.tooLarge`.
    public init(jwks: Data) throws {
        try Confkit.checkABI()
        var out: OpaquePointer? = nil
        try withBytesArg([UInt8](jwks)) { jwksArg in
            try ffi { error in
                confkit_verifier_from_jwks(jwksArg.pointer, jwksArg.count, &out, error)
            }
        }
        guard let handle = out else {
            throw ConfkitError.missingOutput("confkit_verifier_from_jwks")
        }
        self.handle = handle
    }

    /// A verifier from a JWK set given as JSON text.
    public convenience init(jwksJSON: String) throws {
        try self.init(jwks: Data(jwksJSON.utf8))
    }

    /// A verifier from one Ed25519 public key (32 bytes) and its key id.
    ///
    /// - Throws: `.keyInvalid` for a key of another length, a weak key or a bad key id.
    public init(keyId: String, publicKey: Data) throws {
        try Confkit.checkABI()
        if publicKey.count != Verifier.publicKeyLength {
            // The C function reads exactly 32 bytes and takes no length: check here.
            throw ConfkitError(status: .keyInvalid, message: "an Ed25519 public key is \(Verifier.publicKeyLength) bytes, not \(publicKey.count)")
        }
        var out: OpaquePointer? = nil
        try withUTF8Arg(keyId) { kid in
            try withBytesArg([UInt8](publicKey)) { keyArg in
                try ffi { error in
                    confkit_verifier_from_public_key(kid.pointer, kid.count, keyArg.pointer, &out, error)
                }
            }
        }
        guard let handle = out else {
            throw ConfkitError.missingOutput("confkit_verifier_from_public_key")
        }
        self.handle = handle
    }

    deinit {
        confkit_verifier_free(handle)
    }

    /// Turns on this verifier's cache of verified tokens, holding up to
    /// `capacity` tokens (least recently used out). For a server that sees
    /// the same tokens again (a reconnect, a listen after a join): a cached
    /// token costs a lookup instead of a signature check, and its time and
    /// conference are still checked on every call. Safe while other threads
    /// verify. A phone, which checks each token once, leaves it off.
    ///
    /// - Throws: `.invalidArgument` for a capacity of 0 or a second call (the
    ///   cache stays as it was), `.tooLarge` over `Verifier.maxCacheTokens`.
    public func enableCache(capacity: Int) throws {
        if capacity < 0 {
            throw ConfkitError(status: .invalidArgument, message: "a cache capacity of \(capacity)")
        }
        try ffi { error in
            confkit_verifier_enable_cache(handle, capacity, error)
        }
    }

    /// Verifies a token.
    ///
    /// - Parameters:
    ///   - token: the JWT (compact serialization).
    ///   - conferenceId: the conference being joined; the token must be for
    ///     it. `nil` accepts a token for any conference.
    ///   - now: the time to check against, seconds since the Unix epoch
    ///     (`nil`: the device's clock).
    ///   - leewaySeconds: the clock leeway.
    /// - Returns: the verified claims.
    /// - Throws: `ConfkitError` whose status names the failed check:
    ///   `.tokenInvalid`, `.tokenExpired`, `.tokenWrongConference`,
    ///   `.unknownPermission`, `.invalidArgument` (a malformed conference ID).
    public func verify(
        token: String,
        conferenceId: String? = nil,
        now: UInt64? = nil,
        leewaySeconds: UInt64 = Verifier.defaultLeewaySeconds
    ) throws -> Claims {
        let time = now ?? unixNow()
        var out: OpaquePointer? = nil
        try withUTF8Arg(token) { tokenArg in
            try withOptionalUTF8Arg(conferenceId) { idArg in
                try ffi { error in
                    confkit_verifier_verify(
                        handle,
                        tokenArg.pointer,
                        tokenArg.count,
                        time,
                        idArg.pointer,
                        idArg.count,
                        leewaySeconds,
                        &out,
                        error
                    )
                }
            }
        }
        guard let claims = out else {
            throw ConfkitError.missingOutput("confkit_verifier_verify")
        }
        defer { confkit_claims_free(claims) }
        return Claims(handle: claims)
    }

    /// Verifies many tokens at once, each as `verify` would (the same
    /// `conferenceId`, `now` and `leewaySeconds`), at a fraction of the cost
    /// per token when many are signed by one key: a server admitting a
    /// webinar, a join storm. A phone, which checks one token at a time, uses
    /// `verify`.
    ///
    /// - Returns: one result per token, in order: its claims, or the error
    ///   `verify` would have thrown for it (its status names the failed check;
    ///   the message is the status's name).
    /// - Throws: `.tooLarge` for more than `Verifier.maxBatchTokens` tokens,
    ///   `.invalidArgument` for a malformed conference ID; then no token is
    ///   checked.
    ///
    /// One difference from verifying one at a time, for tokens only the key's
    /// holder could have made (a signature whose nonce carries a torsion
    /// component may be accepted): see the README's "Batch verification".
    public func verifyBatch(
        tokens: [String],
        conferenceId: String? = nil,
        now: UInt64? = nil,
        leewaySeconds: UInt64 = Verifier.defaultLeewaySeconds
    ) throws -> [Result<Claims, ConfkitError>] {
        let count = tokens.count
        if count > Verifier.maxBatchTokens {
            // Checked here too, before copying the tokens.
            throw ConfkitError(status: .tooLarge, message: "\(count) tokens, more than the \(Verifier.maxBatchTokens) of a batch")
        }
        let time = now ?? unixNow()
        // Every token's bytes in one block (one byte more, so that an empty
        // last token still points inside it), and the arrays the C call reads.
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int] = []
        for token in tokens {
            let utf8 = Array(token.utf8)
            offsets.append(bytes.count)
            lengths.append(utf8.count)
            bytes.append(contentsOf: utf8)
        }
        bytes.append(0)
        var statuses = [confkit_status](repeating: 0, count: count)
        var claims = [OpaquePointer?](repeating: nil, count: count)
        // Written only on success: after a throw there is nothing to free.
        try withOptionalUTF8Arg(conferenceId) { idArg in
            try bytes.withUnsafeBufferPointer { data in
                let base = data.baseAddress
                let pointers: [UnsafePointer<UInt8>?] = offsets.map { offset in base.map { $0 + offset } }
                try pointers.withUnsafeBufferPointer { tokenPointers in
                    try lengths.withUnsafeBufferPointer { tokenLengths in
                        try statuses.withUnsafeMutableBufferPointer { statusSlots in
                            try claims.withUnsafeMutableBufferPointer { claimSlots in
                                try ffi { error in
                                    confkit_verifier_verify_batch(
                                        handle,
                                        tokenPointers.baseAddress,
                                        tokenLengths.baseAddress,
                                        count,
                                        time,
                                        idArg.pointer,
                                        idArg.count,
                                        leewaySeconds,
                                        statusSlots.baseAddress,
                                        claimSlots.baseAddress,
                                        error
                                    )
                                }
                            }
                        }
                    }
                }
            }
        }
        defer {
            for case let claim? in claims {
                confkit_claims_free(claim)
            }
        }
        return (0..<count).map { (i: Int) -> Result<Claims, ConfkitError> in
            if let claim = claims[i] {
                return .success(Claims(handle: claim))
            }
            let status = ConfkitError.Status(code: statuses[i])
            return .failure(ConfkitError(code: statuses[i], message: status.name))
        }
    }
}
