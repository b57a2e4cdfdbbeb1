// The conference authority an app server (or a test) embeds.

import CConfkit
import Foundation

/// The conference authority: creates conferences, holds the Ed25519 signing
/// key, mints access tokens, answers the REST-style requests and queues the
/// events of every session.
///
/// Thread-safe: share one instance between threads freely. The C platform is
/// freed in `deinit`; sessions still open keep its state alive until they are
/// freed too.
public final class Platform: @unchecked Sendable {
    /// Platform settings; zero in a field means confkit's default.
    public struct Options: Equatable, Sendable {
        /// Token lifetime in seconds (0: 3 hours).
        public var tokenTTLSeconds: UInt64
        /// Clock leeway for token checks in seconds (0: 60).
        public var leewaySeconds: UInt64
        /// Lifetime of an empty conference in seconds (0: 1 hour).
        public var emptyConferenceTTLSeconds: UInt64
        /// Most events a session's queue holds (0: 1,024); on overflow the
        /// oldest go and one `.eventsMissed` stands for them.
        public var maxQueuedEvents: UInt64
        /// Seconds before a connected participant's token expires when a
        /// fresh one is sent (0: 300).
        public var tokenRefreshLeadSeconds: UInt64

        public init(
            tokenTTLSeconds: UInt64 = 0, leewaySeconds: UInt64 = 0, emptyConferenceTTLSeconds: UInt64 = 0,
            maxQueuedEvents: UInt64 = 0, tokenRefreshLeadSeconds: UInt64 = 0
        ) {
            self.tokenTTLSeconds = tokenTTLSeconds
            self.leewaySeconds = leewaySeconds
            self.emptyConferenceTTLSeconds = emptyConferenceTTLSeconds
            self.maxQueuedEvents = maxQueuedEvents
            self.tokenRefreshLeadSeconds = tokenRefreshLeadSeconds
        }
    }

    /// The length of a signing seed.
    public static let seedLength = 32

    let handle: OpaquePointer

    /// Creates a platform.
    ///
    /// - Parameters:
    ///   - seed: the Ed25519 signing key's 32-byte seed (so a server keeps its
    ///     key across restarts), or `nil` to generate a key.
    ///   - keyId: the key's `kid` (1 to 128 bytes of UTF-8).
    ///   - clock: a manual clock, or `nil` for the system clock.
    ///   - options: settings, or `nil` for the defaults.
    /// - Throws: `ConfkitError` (`.abiMismatch` when the linked library does
    ///   not match the header, `.keyInvalid` for a bad seed or key id).
    public init(seed: Data? = nil, keyId: String, clock: ManualClock? = nil, options: Options? = nil) throws {
        try Confkit.checkABI()
        if let seed = seed, seed.count != Platform.seedLength {
            // The C function reads exactly 32 bytes and takes no length: check here.
            throw ConfkitError(status: .keyInvalid, message: "seed must be \(Platform.seedLength) bytes, not \(seed.count)")
        }
        let cOptions = options.map(Platform.native)
        let clockHandle: OpaquePointer? = clock?.handle
        var out: OpaquePointer? = nil
        try withOptionalDataArg(seed) { seedArg in
            try withUTF8Arg(keyId) { kid in
                try withOptionalPointer(to: cOptions) { optionsPointer in
                    try ffi { error in
                        confkit_platform_new_with(
                            seedArg.pointer,
                            kid.pointer,
                            kid.count,
                            clockHandle,
                            optionsPointer,
                            &out,
                            error
                        )
                    }
                }
            }
        }
        guard let handle = out else {
            throw ConfkitError.missingOutput("confkit_platform_new_with")
        }
        self.handle = handle
    }

    /// Opens a platform that keeps what it must not lose (conferences,
    /// participants, revocations, trusted keys) in the SQLite file at `path`
    /// (created if missing): opened again on the same file, it finds them,
    /// with everyone who was connected having left. Every operation is on
    /// disk before it answers; one whose commit fails throws
    /// `.storeUnavailable` and changes nothing. The seed is required: tokens
    /// issued before a restart must still verify after it.
    ///
    /// - Throws: `ConfkitError` (`.storeUnavailable` when the file cannot be
    ///   opened or read, or the library was built without its `sqlite`
    ///   feature, as phone builds are).
    public static func open(path: String, seed: Data, keyId: String, clock: ManualClock? = nil, options: Options? = nil) throws -> Platform {
        try Confkit.checkABI()
        guard seed.count == Platform.seedLength else {
            throw ConfkitError(status: .keyInvalid, message: "seed must be \(Platform.seedLength) bytes, not \(seed.count)")
        }
        let cOptions = options.map(Platform.native)
        let clockHandle: OpaquePointer? = clock?.handle
        var out: OpaquePointer? = nil
        try withUTF8Arg(path) { pathArg in
            try withOptionalDataArg(seed) { seedArg in
                try withUTF8Arg(keyId) { kid in
                    try withOptionalPointer(to: cOptions) { optionsPointer in
                        try ffi { error in
                            confkit_platform_open(
                                pathArg.pointer,
                                pathArg.count,
                                seedArg.pointer,
                                kid.pointer,
                                kid.count,
                                clockHandle,
                                optionsPointer,
                                &out,
                                error
                            )
                        }
                    }
                }
            }
        }
        guard let handle = out else {
            throw ConfkitError.missingOutput("confkit_platform_open")
        }
        return Platform(handle: handle)
    }

    /// The C struct for `options`.
    private static func native(_ options: Options) -> confkit_platform_options {
        var o = confkit_platform_options()
        o.token_ttl_secs = options.tokenTTLSeconds
        o.leeway_secs = options.leewaySeconds
        o.empty_ttl_secs = options.emptyConferenceTTLSeconds
        o.max_queued_events = options.maxQueuedEvents
        o.token_refresh_lead_secs = options.tokenRefreshLeadSeconds
        return o
    }

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        confkit_platform_free(handle)
    }

    /// Answers one REST-style request: method ("GET", "POST", "DELETE"), path
    /// (e.g. "/v2/conferences/create") and JSON body.
    ///
    /// HTTP errors (4xx) are answers, not thrown errors: they come back as a
    /// status with a JSON body `{"error_code", "error_reason", "error_description"}`.
    ///
    /// - Returns: the HTTP status and the JSON body (empty for 204).
    /// - Throws: `ConfkitError` only when no answer could be produced.
    public func handleRest(method: String, path: String, body: Data? = nil) throws -> (status: UInt16, body: Data) {
        var httpStatus: UInt16 = 0
        var response = confkit_buffer()
        try withUTF8Arg(method) { methodArg in
            try withUTF8Arg(path) { pathArg in
                try withOptionalDataArg(body) { bodyArg in
                    try ffi { error in
                        confkit_platform_handle_rest(
                            handle,
                            methodArg.pointer,
                            methodArg.count,
                            pathArg.pointer,
                            pathArg.count,
                            bodyArg.pointer,
                            bodyArg.count,
                            &httpStatus,
                            &response,
                            error
                        )
                    }
                }
            }
        }
        return (status: httpStatus, body: takeBuffer(response))
    }

    /// The platform's public keys as a JWK set (JSON), for devices that verify
    /// tokens offline (`Verifier(jwks:)`).
    public func jwks() throws -> Data {
        var buffer = confkit_buffer()
        try ffi { error in
            confkit_platform_jwks(handle, &buffer, error)
        }
        return takeBuffer(buffer)
    }

    /// Destroys every empty conference past its time to live (every operation
    /// also does this first).
    ///
    /// - Returns: how many conferences were destroyed.
    @discardableResult
    public func expireConferences() throws -> Int {
        var count: Int = 0
        try ffi { error in
            confkit_platform_expire_conferences(handle, &count, error)
        }
        return count
    }

    /// Opens a session for a user (see `Session.init(platform:externalId:name:avatarUrl:)`).
    public func openSession(externalId: String, name: String = "", avatarUrl: String? = nil) throws -> Session {
        return try Session(platform: self, externalId: externalId, name: name, avatarUrl: avatarUrl)
    }
}
