// Errors: the C ABI's status codes and messages.

import CConfkit

/// A failure reported by confkit: a status (the C ABI's stable
/// `confkit_status`) and the library's message.
public struct ConfkitError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The stable status codes of the C ABI (`CONFKIT_STATUS_*`), plus two
    /// negative values that only this wrapper produces.
    public enum Status: Int32, CaseIterable, Sendable {
        /// A required pointer argument was NULL.
        case nullArgument = 1
        /// A string argument was not valid UTF-8.
        case invalidUTF8 = 2
        /// An argument was invalid (ID, alias, JSON, option...).
        case invalidArgument = 3
        /// A permission name is unknown.
        case unknownPermission = 4
        /// A token is malformed, badly signed, for another user, or missing.
        case tokenInvalid = 5
        /// A token expired or is not yet valid (beyond the leeway).
        case tokenExpired = 6
        /// A token was revoked.
        case tokenRevoked = 7
        /// A token is for another conference.
        case tokenWrongConference = 8
        /// The caller lacks a permission, would grant one it does not hold,
        /// targets itself with a permission update, or acts while listening.
        case notAllowed = 9
        /// The caller must join the conference first.
        case notInConference = 10
        /// The conference is unknown or destroyed.
        case conferenceNotFound = 11
        /// The conference is full.
        case atMaxCapacity = 12
        /// The participant's status does not allow this.
        case invalidTransition = 13
        /// The session is unknown or closed.
        case sessionNotFound = 14
        /// No such participant.
        case participantNotFound = 15
        /// A key, key id or JWK set is invalid.
        case keyInvalid = 16
        /// An input is larger than its cap.
        case tooLarge = 17
        /// The object was closed.
        case closed = 18
        /// REST create: the alias names a live conference this request may
        /// not take over (HTTP 409).
        case aliasTaken = 19
        /// The platform's store could not make the operation durable: nothing changed; try again.
        case storeUnavailable = 20
        /// A panic was caught at the boundary: a bug in confkit, please report it.
        case panic = 99
        /// Wrapper only: a status this package does not know (see `code`).
        case unknown = -1
        /// Wrapper only: the linked libconfkit has another ABI version than
        /// the header this package was built with.
        case abiMismatch = -2

        /// The status for a raw `confkit_status` (`.unknown` for new values).
        public init(code: Int32) {
            self = Status(rawValue: code) ?? .unknown
        }

        /// The stable upper-case name, e.g. "CONFERENCE_NOT_FOUND" (the
        /// library's `confkit_status_name`).
        public var name: String {
            switch self {
            case .unknown:
                return "UNKNOWN"
            case .abiMismatch:
                return "ABI_MISMATCH"
            default:
                return swiftString(confkit_status_name(rawValue)) ?? "UNKNOWN"
            }
        }
    }

    /// What went wrong.
    public let status: Status
    /// The raw status code (differs from `status.rawValue` only for `.unknown`).
    public let code: Int32
    /// The library's message.
    public let message: String

    /// An error with a known status.
    public init(status: Status, message: String) {
        self.status = status
        self.code = status.rawValue
        self.message = message
    }

    /// An error from a raw status code.
    public init(code: Int32, message: String) {
        self.status = Status(code: code)
        self.code = code
        self.message = message
    }

    public var description: String {
        return "ConfkitError(\(status.name), \(code)): \(message)"
    }

    /// Turns a C call's outcome into a thrown error; frees `error` in every case.
    static func check(status: confkit_status, error: OpaquePointer?) throws {
        defer {
            if let error = error {
                confkit_error_free(error)
            }
        }
        if status == 0 {
            return
        }
        var message = ""
        if let error = error {
            message = swiftString(confkit_error_message(error)) ?? ""
        }
        if message.isEmpty {
            message = Status(code: status).name
        }
        throw ConfkitError(code: status, message: message)
    }

    /// A C call reported success but left its out-parameter NULL (a bug).
    static func missingOutput(_ function: String) -> ConfkitError {
        return ConfkitError(status: .nullArgument, message: "\(function) returned OK without its output")
    }
}
