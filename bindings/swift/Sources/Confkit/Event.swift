// Events taken from a session's queue.

import CConfkit
import Foundation

/// One event of a session's queue: its sequence number, the conference it is
/// about (none for `.eventsMissed`), what happened (`kind`) and the whole
/// event as JSON (the wire format, for hosts that forward events over their
/// own transport).
public struct Event: Equatable, Sendable {
    /// What happened, from the C ABI's typed getters.
    public enum Kind: Equatable, Sendable {
        /// The conference this user created exists.
        case conferenceCreated(alias: String)
        /// The conference was destroyed (terminated, or expired while empty).
        case conferenceEnded
        /// This user was invited by `inviter` (an external ID). For protected
        /// conferences `token` is the invitee's token (only the invitee
        /// receives it: the inviter's `InviteResult` has none) and
        /// `permissions` their set; otherwise `token` is nil and `permissions`
        /// empty.
        case invitationReceived(alias: String, inviter: String, token: String?, permissions: PermissionSet)
        /// A participant was added (invited, or joined uninvited).
        case participantAdded(externalId: String, status: ParticipantStatus, permissions: PermissionSet)
        /// A participant's status changed.
        case participantUpdated(externalId: String, oldStatus: ParticipantStatus, newStatus: ParticipantStatus, permissions: PermissionSet)
        /// This user's permissions were replaced; the old token is revoked.
        /// `token` is the new one (protected conferences only); only this user
        /// receives it, never the one who updated them.
        case permissionsUpdated(permissions: PermissionSet, token: String?)
        /// This session's place in the conference was taken by another session
        /// of the same user.
        case switched(externalId: String)
        /// Someone this session saw is no longer visible to it (a participant
        /// who became a listener, seen from another listener): drop them from
        /// the view.
        case participantRemoved(externalId: String)
        /// A fresh token for this user, shortly before their current one
        /// expires (same `permissions`); `expiresAt` is its `exp`, seconds
        /// since the Unix epoch. The old token stays valid until its own expiry.
        case tokenRefreshed(token: String, permissions: PermissionSet, expiresAt: UInt64)
        /// The session's queue overflowed: events `firstMissedSequence` up to
        /// this event's own sequence were dropped; the next event has
        /// `firstAvailableSequence`. Resynchronise what you keep from events
        /// (e.g. fetch the conferences again). `Event.conferenceId` is nil.
        case eventsMissed(firstMissedSequence: UInt64, firstAvailableSequence: UInt64)
        /// A kind this package does not know (`code` is `confkit_event_kind`);
        /// read `json`.
        case unknown(code: Int32)
    }

    /// Increases by one per event within a session, starting at 1.
    public let sequence: UInt64
    /// The conference ID (UUID text); `nil` only for `.eventsMissed` (which is
    /// about the session's queue) and possibly for `.unknown`.
    public let conferenceId: String?
    /// The JSON `type` name, e.g. "participantUpdated".
    public let typeName: String
    /// What happened.
    public let kind: Kind
    /// The whole event as JSON.
    public let json: String

    /// What the C ABI's `confkit_event_*` getters say about one event.
    struct Raw: Equatable {
        var kind: Int32
        var sequence: UInt64
        var conferenceId: String?
        var typeName: String
        var json: String
        var externalId: String? = nil
        var alias: String? = nil
        var token: String? = nil
        var oldStatus: Int32 = -1
        var newStatus: Int32 = -1
        var permissions: UInt32 = 0
        var tokenExpiresAt: UInt64 = 0
        var firstAvailableSequence: UInt64 = 0

        /// Reads every getter of a C event (which the caller frees).
        init(handle: OpaquePointer) {
            kind = confkit_event_kind(handle)
            sequence = confkit_event_sequence(handle)
            conferenceId = swiftString(confkit_event_conference_id(handle))
            typeName = swiftString(confkit_event_type(handle)) ?? "UNKNOWN"
            json = swiftString(confkit_event_json(handle)) ?? "{}"
            externalId = swiftString(confkit_event_external_id(handle))
            alias = swiftString(confkit_event_conference_alias(handle))
            token = swiftString(confkit_event_token(handle))
            oldStatus = confkit_event_old_status(handle)
            newStatus = confkit_event_new_status(handle)
            permissions = confkit_event_permissions(handle)
            tokenExpiresAt = confkit_event_token_expires_at(handle)
            firstAvailableSequence = confkit_event_first_available_sequence(handle)
        }

        init(kind: Int32, sequence: UInt64, conferenceId: String?, typeName: String, json: String) {
            self.kind = kind
            self.sequence = sequence
            self.conferenceId = conferenceId
            self.typeName = typeName
            self.json = json
        }
    }

    /// Copies everything out of a C event (which the caller frees).
    init(handle: OpaquePointer) {
        self.init(raw: Raw(handle: handle))
    }

    /// The typed event for what the getters said.
    init(raw: Raw) {
        sequence = raw.sequence
        conferenceId = raw.conferenceId
        typeName = raw.typeName
        json = raw.json
        kind = Event.readKind(raw)
    }

    /// A non-negative integer member of the event's JSON, if present.
    private static func jsonNumber(_ json: String, _ key: String) -> UInt64? {
        guard let value = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: []),
              let object = value as? [String: Any] else {
            return nil
        }
        switch object[key] {
        case let number as NSNumber:
            return number.uint64Value
        case let number as Int:
            return number >= 0 ? UInt64(number) : nil
        case let number as UInt64:
            return number
        default:
            return nil
        }
    }

    private static func readKind(_ raw: Raw) -> Kind {
        let code = raw.kind
        let externalId = raw.externalId
        let alias = raw.alias
        let token = raw.token
        let oldStatus = ParticipantStatus(rawValue: raw.oldStatus)
        let newStatus = ParticipantStatus(rawValue: raw.newStatus)
        let permissions = PermissionSet(rawValue: raw.permissions)

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
        case CONFKIT_EVENT_PARTICIPANT_REMOVED:
            return .participantRemoved(externalId: externalId ?? "")
        case CONFKIT_EVENT_TOKEN_REFRESHED:
            guard let fresh = token else {
                return .unknown(code: code)
            }
            return .tokenRefreshed(token: fresh, permissions: permissions, expiresAt: raw.tokenExpiresAt)
        case CONFKIT_EVENT_EVENTS_MISSED:
            // The first missed sequence has no getter: it is read from the JSON.
            return .eventsMissed(
                firstMissedSequence: jsonNumber(raw.json, "firstMissedSequence") ?? 0,
                firstAvailableSequence: raw.firstAvailableSequence
            )
        default:
            return .unknown(code: code)
        }
    }
}
