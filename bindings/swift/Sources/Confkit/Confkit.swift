// Library-wide information and the ABI check.

import CConfkit

/// Library-wide information: versions, the ABI check, the live-object counter.
///
/// Thread safety: every class of this package (`Platform`, `Session`,
/// `ManualClock`, `Verifier`) wraps a confkit object that is thread-safe, so an
/// instance may be shared between threads and used from several at once.
/// Each instance frees its C object in `deinit`, which Swift runs only once no
/// reference (and so no call in progress) remains.
public enum Confkit {
    /// The loaded library's name and version, e.g. "confkit 0.1.0".
    public static var version: String {
        return swiftString(confkit_version()) ?? "confkit (unknown version)"
    }

    /// The C ABI version of the library actually linked.
    public static var abiVersion: UInt32 {
        return confkit_abi_version()
    }

    /// The C ABI version of the header this package was compiled against
    /// (`CONFKIT_ABI_VERSION` in include/confkit.h).
    public static let headerABIVersion: UInt32 = UInt32(truncatingIfNeeded: CONFKIT_ABI_VERSION)

    /// The C ABI version this package's sources were written for. ABI 2:
    /// invite results carry no token, `updatePermissions` returns nothing
    /// (the target's token reaches the target in its event), and events may
    /// be `.participantRemoved`, `.tokenRefreshed` or `.eventsMissed`. ABI 3
    /// adds the device half (`confkit_client_*`), which this package does not
    /// wrap yet: everything it wraps is unchanged.
    public static let bindingABIVersion: UInt32 = 4

    /// How many confkit objects and buffers are allocated and not yet freed,
    /// across all threads. For leak tests.
    public static var liveObjects: Int64 {
        return confkit_live_objects()
    }

    /// The ABI mismatch, if any. Computed once, on first use (a `static let`
    /// is initialised lazily and exactly once, even with several threads).
    private static let abiMismatch: ConfkitError? = {
        let loaded = confkit_abi_version()
        let expected = UInt32(truncatingIfNeeded: CONFKIT_ABI_VERSION)
        if expected != Confkit.bindingABIVersion {
            return ConfkitError(
                status: .abiMismatch,
                message: "confkit ABI mismatch: the Swift package's sources were written for ABI "
                    + "version \(Confkit.bindingABIVersion), but include/confkit.h has CONFKIT_ABI_VERSION "
                    + "\(expected); update the package for the new header"
            )
        }
        if loaded == expected {
            return nil
        }
        return ConfkitError(
            status: .abiMismatch,
            message: "confkit ABI mismatch: the Swift package was built against "
                + "include/confkit.h with CONFKIT_ABI_VERSION \(expected), but the linked "
                + "libconfkit (\(Confkit.version)) has ABI version \(loaded); rebuild "
                + "libconfkit and this package from the same confkit revision"
        )
    }()

    /// Checks that the linked libconfkit has the ABI of the header this package
    /// was built with, and that this header has the ABI the package's sources
    /// were written for (`bindingABIVersion`). Called by every constructor of a root object
    /// (`Platform`, `ManualClock`, `Verifier`); the check runs once.
    ///
    /// - Throws: `ConfkitError` with status `.abiMismatch` when they differ.
    public static func checkABI() throws {
        if let error = abiMismatch {
            throw error
        }
    }
}
