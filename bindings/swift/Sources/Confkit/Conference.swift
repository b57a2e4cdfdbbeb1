// Conference operations, performed on behalf of a session's user.

import CConfkit

/// Options chosen by a conference's creator; zero in a numeric field means
/// "the platform's default / no limit".
public struct ConferenceOptions: Equatable, Sendable {
    /// Joining and listening need a conference access token.
    public var isProtected: Bool
    /// Audio only.
    public var audioOnly: Bool
    /// Most participants in the conference at once (0: no limit).
    public var participantLimit: UInt32
    /// Seconds an empty conference lives (0: the platform's default).
    public var emptyTTLSeconds: UInt64
    /// Lifetime of the conference's tokens (0: the platform's default).
    public var tokenTTLSeconds: UInt64

    public init(
        isProtected: Bool = false,
        audioOnly: Bool = false,
        participantLimit: UInt32 = 0,
        emptyTTLSeconds: UInt64 = 0,
        tokenTTLSeconds: UInt64 = 0
    ) {
        self.isProtected = isProtected
        self.audioOnly = audioOnly
        self.participantLimit = participantLimit
        self.emptyTTLSeconds = emptyTTLSeconds
        self.tokenTTLSeconds = tokenTTLSeconds
    }
}

/// A conference's description, as created or fetched (a snapshot).
public struct ConferenceInfo: Equatable, Sendable {
    /// The conference ID (UUID text).
    public let id: String
    /// The alias as its creator spelled it.
    public let alias: String
    /// The owner's external ID.
    public let owner: String
    /// Whether a create made it (false: the alias named a live conference and
    /// nobody was notified; invite instead; only its owner gets a fresh owner
    /// token). Always false for a fetch.
    public let isNew: Bool
    /// Whether joining needs a token.
    public let isProtected: Bool
    /// Participants of any status.
    public let participantCount: Int
    /// Participants in the conference now.
    public let presentCount: Int

    /// Copies everything out of a C conference info (which the caller frees).
    init(handle: OpaquePointer) {
        id = swiftString(confkit_conference_info_id(handle)) ?? ""
        alias = swiftString(confkit_conference_info_alias(handle)) ?? ""
        owner = swiftString(confkit_conference_info_owner(handle)) ?? ""
        isNew = confkit_conference_info_is_new(handle)
        isProtected = confkit_conference_info_is_protected(handle)
        participantCount = confkit_conference_info_participant_count(handle)
        presentCount = confkit_conference_info_present_count(handle)
    }
}

/// The answer to `Session.createConference(alias:options:)`.
public struct CreatedConference: Equatable, Sendable {
    /// The conference (new, or the live one the alias named: see `isNew`).
    public let conference: ConferenceInfo
    /// The owner's token with every permission, for a protected conference
    /// this call created or whose owner asked again (a fresh one); `nil`
    /// otherwise.
    public let ownerToken: String?
}

/// One user to invite.
public struct Invitee: Equatable, Sendable {
    /// Their external ID.
    public var externalId: String
    /// What they may do; `nil` gives `PermissionSet.defaultInvitee`.
    public var permissions: PermissionSet?

    public init(_ externalId: String, permissions: PermissionSet? = nil) {
        self.externalId = externalId
        self.permissions = permissions
    }
}

/// Whether an invitation reached its invitee.
public enum Delivery: Equatable, Sendable {
    /// Delivered to this many open sessions of the invitee.
    case delivered(sessions: Int)
    /// The invitee has no open session: the invitation is not kept; invite
    /// them again later.
    case noOpenSession
    /// Not notified, as asked (REST `notification: false`).
    case notRequested
    /// Already in the conference: no new token, nothing sent.
    case alreadyInConference
    /// A value this package does not know (`CONFKIT_DELIVERY_*`).
    case unknown(code: Int32)
}

/// What an invitation did for one invitee.
public struct InviteResult: Equatable, Sendable {
    /// Who.
    public let externalId: String
    /// Whether the invitation reached them.
    public let delivery: Delivery
    /// Their permissions after the invitation.
    public let permissions: PermissionSet
    // No token (ABI 2): an invitee's token reaches the invitee only, in their
    // `.invitationReceived` event (and the app server in REST answers).
}

extension Session {
    /// Creates a conference owned by this session's user.
    ///
    /// An alias that already names a live conference (ignoring case) returns
    /// that conference with `isNew` false and no notification; its owner then
    /// gets a fresh `ownerToken`, anyone else none.
    public func createConference(alias: String, options: ConferenceOptions = ConferenceOptions()) throws -> CreatedConference {
        var cOptions = confkit_conference_options()
        cOptions.is_protected = options.isProtected
        cOptions.audio_only = options.audioOnly
        cOptions.participant_limit = options.participantLimit
        cOptions.empty_ttl_secs = options.emptyTTLSeconds
        cOptions.token_ttl_secs = options.tokenTTLSeconds
        var infoOut: OpaquePointer? = nil
        var tokenOut = confkit_buffer()
        try withUTF8Arg(alias) { aliasArg in
            try ffi { error in
                confkit_conference_create(handle, aliasArg.pointer, aliasArg.count, &cOptions, &infoOut, &tokenOut, error)
            }
        }
        let ownerToken = takeTokenBuffer(tokenOut)
        guard let info = infoOut else {
            throw ConfkitError.missingOutput("confkit_conference_create")
        }
        defer { confkit_conference_info_free(info) }
        return CreatedConference(conference: ConferenceInfo(handle: info), ownerToken: ownerToken)
    }

    /// Fetches a live conference by ID.
    ///
    /// - Throws: `.conferenceNotFound` for an unknown or destroyed conference.
    public func fetchConference(id conferenceId: String) throws -> ConferenceInfo {
        return try fetch(conferenceId: conferenceId, alias: nil)
    }

    /// Fetches a live conference by alias (ignoring case).
    ///
    /// - Throws: `.conferenceNotFound` for an unknown or destroyed conference.
    public func fetchConference(alias: String) throws -> ConferenceInfo {
        return try fetch(conferenceId: nil, alias: alias)
    }

    private func fetch(conferenceId: String?, alias: String?) throws -> ConferenceInfo {
        var infoOut: OpaquePointer? = nil
        try withOptionalUTF8Arg(conferenceId) { idArg in
            try withOptionalUTF8Arg(alias) { aliasArg in
                try ffi { error in
                    confkit_conference_fetch(handle, idArg.pointer, idArg.count, aliasArg.pointer, aliasArg.count, &infoOut, error)
                }
            }
        }
        guard let info = infoOut else {
            throw ConfkitError.missingOutput("confkit_conference_fetch")
        }
        defer { confkit_conference_info_free(info) }
        return ConferenceInfo(handle: info)
    }

    /// Joins as a USER (status CONNECTING until `report(conferenceId:_:)` says
    /// `.connected`). Protected conferences need a token.
    ///
    /// - Returns: the permissions granted.
    @discardableResult
    public func join(conferenceId: String, token: String? = nil) throws -> PermissionSet {
        var bits: UInt32 = 0
        try withUTF8Arg(conferenceId) { idArg in
            try withOptionalUTF8Arg(token) { tokenArg in
                try ffi { error in
                    confkit_conference_join(handle, idArg.pointer, idArg.count, tokenArg.pointer, tokenArg.count, &bits, error)
                }
            }
        }
        return PermissionSet(rawValue: bits)
    }

    /// Joins as a LISTENER: receives only, and is not told about other
    /// listeners. Otherwise as `join(conferenceId:token:)`.
    @discardableResult
    public func listen(conferenceId: String, token: String? = nil) throws -> PermissionSet {
        var bits: UInt32 = 0
        try withUTF8Arg(conferenceId) { idArg in
            try withOptionalUTF8Arg(token) { tokenArg in
                try ffi { error in
                    confkit_conference_listen(handle, idArg.pointer, idArg.count, tokenArg.pointer, tokenArg.count, &bits, error)
                }
            }
        }
        return PermissionSet(rawValue: bits)
    }

    /// Reports what the media layer saw for this session's participant.
    ///
    /// - Returns: the participant's new status.
    /// - Throws: `.invalidTransition` for a move the lifecycle does not allow.
    @discardableResult
    public func report(conferenceId: String, _ report: MediaReport) throws -> ParticipantStatus {
        var code: Int32 = -1
        try withUTF8Arg(conferenceId) { idArg in
            try ffi { error in
                confkit_conference_report(handle, idArg.pointer, idArg.count, report.rawValue, &code, error)
            }
        }
        guard let status = ParticipantStatus(rawValue: code) else {
            throw ConfkitError(status: .unknown, message: "participant status \(code) is not known to this package")
        }
        return status
    }

    /// Leaves the conference this session is connected to (→ LEFT).
    public func leave(conferenceId: String) throws {
        try withUTF8Arg(conferenceId) { idArg in
            try ffi { error in
                confkit_conference_leave(handle, idArg.pointer, idArg.count, error)
            }
        }
    }

    /// Declines this user's invitation (RESERVED → DECLINE).
    public func decline(conferenceId: String) throws {
        try withUTF8Arg(conferenceId) { idArg in
            try ffi { error in
                confkit_conference_decline(handle, idArg.pointer, idArg.count, error)
            }
        }
    }

    /// Ends the conference (owner only): everyone is told, it is destroyed.
    public func terminate(conferenceId: String) throws {
        try withUTF8Arg(conferenceId) { idArg in
            try ffi { error in
                confkit_conference_terminate(handle, idArg.pointer, idArg.count, error)
            }
        }
    }

    /// Removes a participant. This session must be in the conference as a
    /// user (not listening) and be the owner's or hold KICK; the
    /// participant's earlier tokens stop admitting them.
    public func kick(conferenceId: String, externalId: String) throws {
        try withUTF8Arg(conferenceId) { idArg in
            try withUTF8Arg(externalId) { externalIdArg in
                try ffi { error in
                    confkit_conference_kick(handle, idArg.pointer, idArg.count, externalIdArg.pointer, externalIdArg.count, error)
                }
            }
        }
    }

    /// Replaces another participant's permissions. This session must be in
    /// the conference as a user (not listening), be the owner's or hold
    /// UPDATE_PERMISSIONS, and not be the target (`.notAllowed`). The
    /// participant's old token is revoked; they receive `.permissionsUpdated`
    /// with their new token, which this caller never sees.
    public func updatePermissions(conferenceId: String, externalId: String, permissions: PermissionSet) throws {
        try withUTF8Arg(conferenceId) { idArg in
            try withUTF8Arg(externalId) { externalIdArg in
                try ffi { error in
                    confkit_conference_update_permissions(
                        handle,
                        idArg.pointer,
                        idArg.count,
                        externalIdArg.pointer,
                        externalIdArg.count,
                        permissions.rawValue,
                        error
                    )
                }
            }
        }
    }

    /// Invites users on behalf of this session's user, who must be in the
    /// conference as a user (not listening; and, when it is protected, hold
    /// INVITE) and grant nothing they lack unless they are the owner or hold
    /// UPDATE_PERMISSIONS. All or nothing: on failure nobody is invited.
    ///
    /// - Returns: one result per invitee, in order: whether the invitation was
    ///   delivered (invite `.noOpenSession` invitees again later) and their
    ///   permissions. No token: each invitee's token reaches the invitee
    ///   only, in their `.invitationReceived` event.
    public func invite(conferenceId: String, invitees: [Invitee]) throws -> [InviteResult] {
        var listOut: OpaquePointer? = nil
        try ffi { error in
            confkit_invite_list_new(&listOut, error)
        }
        guard let list = listOut else {
            throw ConfkitError.missingOutput("confkit_invite_list_new")
        }
        defer { confkit_invite_list_free(list) }
        for invitee in invitees {
            let hasPermissions = invitee.permissions != nil
            let bits = invitee.permissions?.rawValue ?? 0
            try withUTF8Arg(invitee.externalId) { externalIdArg in
                try ffi { error in
                    confkit_invite_list_add(list, externalIdArg.pointer, externalIdArg.count, hasPermissions, bits, error)
                }
            }
        }

        var resultsOut: OpaquePointer? = nil
        try withUTF8Arg(conferenceId) { idArg in
            try ffi { error in
                confkit_conference_invite(handle, idArg.pointer, idArg.count, list, &resultsOut, error)
            }
        }
        guard let results = resultsOut else {
            throw ConfkitError.missingOutput("confkit_conference_invite")
        }
        defer { confkit_invite_results_free(results) }

        var out: [InviteResult] = []
        let count = confkit_invite_results_len(results)
        out.reserveCapacity(count)
        for index in 0..<count {
            let code = confkit_invite_results_delivery(results, index)
            let delivery: Delivery
            switch code {
            case CONFKIT_DELIVERY_DELIVERED:
                delivery = .delivered(sessions: confkit_invite_results_sessions(results, index))
            case CONFKIT_DELIVERY_NO_OPEN_SESSION:
                delivery = .noOpenSession
            case CONFKIT_DELIVERY_NOT_REQUESTED:
                delivery = .notRequested
            case CONFKIT_DELIVERY_ALREADY_IN_CONFERENCE:
                delivery = .alreadyInConference
            default:
                delivery = .unknown(code: code)
            }
            out.append(InviteResult(
                externalId: swiftString(confkit_invite_results_external_id(results, index)) ?? "",
                delivery: delivery,
                permissions: PermissionSet(rawValue: confkit_invite_results_permissions(results, index))
            ))
        }
        return out
    }

    /// Invites users by external ID, each with the default invitee permissions.
    public func invite(conferenceId: String, externalIds: [String]) throws -> [InviteResult] {
        return try invite(conferenceId: conferenceId, invitees: externalIds.map { Invitee($0) })
    }
}
