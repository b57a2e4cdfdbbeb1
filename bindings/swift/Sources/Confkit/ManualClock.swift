// A clock that moves only when told, for tests and simulations.

import CConfkit

/// A clock that moves only when told (seconds since the Unix epoch). Give it
/// to a `Platform` to make token lifetimes and conference expiry deterministic.
///
/// Thread-safe; the C clock is freed in `deinit` (a platform using it keeps
/// its own reference).
public final class ManualClock: @unchecked Sendable {
    let handle: OpaquePointer

    /// A clock showing `now` (seconds since the Unix epoch).
    public init(now: UInt64) throws {
        try Confkit.checkABI()
        var out: OpaquePointer? = nil
        try ffi { error in
            confkit_clock_new(now, &out, error)
        }
        guard let handle = out else {
            throw ConfkitError.missingOutput("confkit_clock_new")
        }
        self.handle = handle
    }

    deinit {
        confkit_clock_free(handle)
    }

    /// The clock's time, seconds since the Unix epoch.
    public var now: UInt64 {
        return confkit_clock_now(handle)
    }

    /// Sets the clock's time.
    public func set(_ now: UInt64) throws {
        try ffi { error in
            confkit_clock_set(handle, now, error)
        }
    }

    /// Moves the clock forward.
    public func advance(by seconds: UInt64) throws {
        try ffi { error in
            confkit_clock_advance(handle, seconds, error)
        }
    }
}
