// Events taken from a session's queue.

import CConfkit

/// One event of a session's queue: its sequence number, the conference it is
/// about, what happened (`kind`) and the whole event as JSON (the wire format,
/// for hosts that forward events over their own transport).
public struct Event: Equatable, Sendable {
    /// What happened, from the C ABI's typed getters.
    public enum Kind: Equatable, Sendable {
        /// The conference this user created exists.
        case conferenceCreated(alias: String)
        /// The conference was destroyed (terminated, or expired while empty).
        case conferenceEnded
        /// This user was invited by `inviter` (an external ID). For protected
        /// conferences `token` is the invitee's token and `permissions` their
        /// set; otherwise `token` is nil and `permissions` empty.
        case invitationReceived(alias: String, inviter: String, token: String?, permissions: PermissionSet)
        /// A participant was added (invited, or joined uninvited).
        case participantAdded(externalId: String, status: ParticipantStatus, permissions: PermissionSet)
        /// A participant's status changed.
        case participantUpdated(externalId: String, oldStatus: ParticipantStatus, newStatus: ParticipantStatus, permissions: PermissionSet)
        /// This user's permissions were replaced; the old token is revoked.
        /// `token` is the new one (protected conferences only).
        case permissionsUpdated(permissions: PermissionSet, token: String?)
        /// This session's place in the conference was taken by another session
        /// of the same user.
        case switched(externalId: String)
        /// A kind this package does not know (`code` is `confkit_event_kind`);
        /// read `json`.
        case unknown(code: Int32)
    }

    /// Increases by one per event within a session, starting at 1.
    public let sequence: UInt64
    /// The conference ID (UUID text).
    public let conferenceId: String
    /// The JSON `type` name, e.g. "participantUpdated".
    public let typeName: String
    /// What happened.
    public let kind: Kind
    /// The whole event as JSON.
    public let json: String

    /// Copies everything out of a C event (which the caller frees).
    init(handle: OpaquePointer) {
        sequence = confkit_event_sequence(handle)
        conferenceId = swiftString(confkit_event_conference_id(handle)) ?? ""
        typeName = swiftString(confkit_event_type(handle)) ?? "UNKNOWN"
        json = swiftString(confkit_event_json(handle)) ?? "{}"
        kind = Event.readKind(handle)
    }

    private static func readKind(_ handle: OpaquePointer) -> Kind {
        let code = confkit_event_kind(handle)
        let externalId = swiftString(confkit_event_external_id(handle))
        let alias = swiftString(confkit_event_conference_alias(handle))
        let token = swiftString(confkit_event_token(handle))
        let oldStatus = ParticipantStatus(rawValue: confkit_event_old_status(handle))
        let newStatus = ParticipantStatus(rawValue: confkit_event_new_status(handle))
        let permissions = PermissionSet(rawValue: confkit_event_permissions(handle))

        switch code {
        case CONFKIT_EVENT_CONFERENCE_CREATED:
            return .conferenceCreated(alias: alias ?? "")
        case CONFKIT_EVENT_CONFERENCE_ENDED:
            return .conferenceEnded
        case CONFKIT_EVENT_INVITATION_RECEIVED:
            return .invitationReceived(alias: alias ?? "", inviter: externalId ?? "", token: token, permissions: permissions)
        case CONFKIT_EVENT_PARTICIPANT_ADDED:
            guard let status = newStatus else {
                return .unknown(code: code)
            }
            return .participantAdded(externalId: externalId ?? "", status: status, permissions: permissions)
        case CONFKIT_EVENT_PARTICIPANT_UPDATED:
            guard let before = oldStatus, let after = newStatus else {
                return .unknown(code: code)
            }
            return .participantUpdated(externalId: externalId ?? "", oldStatus: before, newStatus: after, permissions: permissions)
        case CONFKIT_EVENT_PERMISSIONS_UPDATED:
            return .permissionsUpdated(permissions: permissions, token: token)
        case CONFKIT_EVENT_SWITCHED:
            return .switched(externalId: externalId ?? "")
        default:
            return .unknown(code: code)
        }
    }
}
