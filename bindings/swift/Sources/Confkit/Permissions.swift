// Permissions, permission sets and participant statuses.

import CConfkit

/// One permission of a participant of a protected conference. The raw value
/// is the stable bit index of the C ABI and of tokens (`confkit_permission_name`).
public enum Permission: UInt32, CaseIterable, Sendable {
    /// Invite others.
    case invite = 0
    /// Join the conference (listening needs it too).
    case join = 1
    /// Send audio.
    case sendAudio = 2
    /// Send video.
    case sendVideo = 3
    /// Share a screen.
    case shareScreen = 4
    /// Share a video file.
    case shareVideo = 5
    /// Share a file.
    case shareFile = 6
    /// Send messages.
    case sendMessage = 7
    /// Record.
    case record = 8
    /// Live stream.
    case stream = 9
    /// Remove a participant.
    case kick = 10
    /// Change other participants' permissions.
    case updatePermissions = 11

    /// The permission with this stable name (case-sensitive, e.g. "SEND_AUDIO").
    ///
    /// - Throws: `ConfkitError` with status `.unknownPermission` for any other name.
    public init(name: String) throws {
        var bit: UInt32 = 0
        try withUTF8Arg(name) { arg in
            try ffi { errorOut in
                confkit_permission_from_name(arg.pointer, arg.count, &bit, errorOut)
            }
        }
        guard let permission = Permission(rawValue: bit) else {
            throw ConfkitError(status: .unknownPermission, message: "permission bit \(bit) is not known to this package")
        }
        self = permission
    }

    /// The stable upper-case name used in JSON and tokens, e.g. "SEND_AUDIO".
    public var name: String {
        return swiftString(confkit_permission_name(rawValue)) ?? "UNKNOWN"
    }

    /// The set holding only this permission.
    public var asSet: PermissionSet {
        return PermissionSet(rawValue: UInt32(1) << rawValue)
    }
}

/// A set of permissions, with the C ABI's stable bits (bit n is the
/// `Permission` with raw value n).
public struct PermissionSet: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// The set of the given permissions.
    public init(permissions: [Permission]) {
        var bits: UInt32 = 0
        for permission in permissions {
            bits |= permission.asSet.rawValue
        }
        self.init(rawValue: bits)
    }

    /// The set of the given permission names (e.g. from JSON).
    ///
    /// - Throws: `ConfkitError` with status `.unknownPermission` for an unknown
    ///   name: names are never silently dropped.
    public init(names: [String]) throws {
        var bits: UInt32 = 0
        for name in names {
            bits |= try Permission(name: name).asSet.rawValue
        }
        self.init(rawValue: bits)
    }

    public static let invite = PermissionSet(rawValue: 1 << 0)
    public static let join = PermissionSet(rawValue: 1 << 1)
    public static let sendAudio = PermissionSet(rawValue: 1 << 2)
    public static let sendVideo = PermissionSet(rawValue: 1 << 3)
    public static let shareScreen = PermissionSet(rawValue: 1 << 4)
    public static let shareVideo = PermissionSet(rawValue: 1 << 5)
    public static let shareFile = PermissionSet(rawValue: 1 << 6)
    public static let sendMessage = PermissionSet(rawValue: 1 << 7)
    public static let record = PermissionSet(rawValue: 1 << 8)
    public static let stream = PermissionSet(rawValue: 1 << 9)
    public static let kick = PermissionSet(rawValue: 1 << 10)
    public static let updatePermissions = PermissionSet(rawValue: 1 << 11)

    /// Every permission: the owner's set (`CONFKIT_PERMISSIONS_ALL`).
    public static let all = PermissionSet(rawValue: UInt32(truncatingIfNeeded: CONFKIT_PERMISSIONS_ALL))

    /// What an invitee gets when the invitation names no permissions
    /// (`CONFKIT_PERMISSIONS_DEFAULT`): all but INVITE, KICK and UPDATE_PERMISSIONS.
    public static let defaultInvitee = PermissionSet(rawValue: UInt32(truncatingIfNeeded: CONFKIT_PERMISSIONS_DEFAULT))

    /// Whether the set holds `permission`.
    public func allows(_ permission: Permission) -> Bool {
        return rawValue & permission.asSet.rawValue != 0
    }

    /// The permissions in the set, in bit order.
    public var permissions: [Permission] {
        return Permission.allCases.filter { allows($0) }
    }

    /// The stable names of the permissions in the set, in bit order.
    public var names: [String] {
        return permissions.map { $0.name }
    }

    public var description: String {
        return "[" + names.joined(separator: ", ") + "]"
    }
}

/// A participant's status (`CONFKIT_PARTICIPANT_STATUS_*`).
public enum ParticipantStatus: Int32, CaseIterable, Sendable {
    /// Invited, not yet joined.
    case reserved = 0
    /// Joined, media connecting.
    case connecting = 1
    /// Connected and taking part.
    case onAir = 2
    /// Connected but idle.
    case inactive = 3
    /// Declined the invitation.
    case decline = 4
    /// Left.
    case left = 5
    /// Kicked.
    case kicked = 6
    /// Connected with media trouble.
    case warning = 7
    /// The connection failed.
    case error = 8

    /// The status with this stable name; "CONNECTED" is accepted for ON_AIR.
    ///
    /// - Throws: `ConfkitError` with status `.invalidArgument` for an unknown name.
    public init(name: String) throws {
        var code: Int32 = -1
        try withUTF8Arg(name) { arg in
            try ffi { errorOut in
                confkit_participant_status_from_name(arg.pointer, arg.count, &code, errorOut)
            }
        }
        guard let status = ParticipantStatus(rawValue: code) else {
            throw ConfkitError(status: .invalidArgument, message: "participant status \(code) is not known to this package")
        }
        self = status
    }

    /// The stable upper-case name, e.g. "ON_AIR".
    public var name: String {
        return swiftString(confkit_participant_status_name(rawValue)) ?? "UNKNOWN"
    }
}

/// What the media layer saw for the local participant
/// (`CONFKIT_REPORT_*`, for `Session.report(conferenceId:_:)`).
public enum MediaReport: Int32, CaseIterable, Sendable {
    /// The media connection is up (CONNECTING → ON_AIR).
    case connected = 2
    /// Media trouble (ON_AIR → WARNING).
    case mediaTrouble = 3
    /// Trouble over (WARNING → ON_AIR).
    case recovered = 4
    /// The connection failed (→ ERROR).
    case failure = 5
    /// Idle (ON_AIR → INACTIVE).
    case idle = 6
}
