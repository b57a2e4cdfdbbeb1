package io.confkit

import com.sun.jna.Pointer

/** A user's identity as an event shows it. */
data class ParticipantInfo(val externalId: String, val name: String, val avatarUrl: String?)

/** A participant as the others see them. */
data class Participant(
    val externalId: String,
    val name: String,
    val avatarUrl: String?,
    val status: ParticipantStatus,
    val type: ParticipantType,
    val permissions: PermissionSet
)

/** Why a conference ended. */
enum class EndReason { TERMINATED, EXPIRED, UNKNOWN }

/**
 * One event from a session's queue, copied out of the native event (which is
 * freed at once). The typed fields come from the `confkit_event_*` getters;
 * the few the C ABI has no getter for (names, avatars, participant type, end
 * reason, isProtected) are read from [json], the wire format, which is always
 * available to forward over the host's own transport.
 */
sealed class Event {
    /** Position in the session's queue: 1, 2, ... */
    abstract val sequence: Long
    /**
     * The conference the event is about. Null only for [EventsMissed] (about
     * the session's queue, not a conference) and possibly for [Unknown]; every
     * other kind narrows it to a non-null `String`.
     */
    abstract val conferenceId: String?
    /** The JSON `type`, e.g. "participantUpdated". */
    abstract val type: String
    /** The whole event as JSON (the wire format). */
    abstract val json: String

    /** A conference this user created now exists. */
    data class ConferenceCreated(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val conferenceAlias: String,
        val isProtected: Boolean
    ) : Event()

    /** The conference was destroyed. */
    data class ConferenceEnded(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val reason: EndReason
    ) : Event()

    /** This user was invited; [token] and [permissions] are set for protected conferences. */
    data class InvitationReceived(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val conferenceAlias: String,
        val inviter: ParticipantInfo,
        val token: String?,
        val permissions: PermissionSet?
    ) : Event()

    /** Someone was added to the conference. */
    data class ParticipantAdded(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val participant: Participant
    ) : Event()

    /** Someone's status changed ([participant] shows the new status). */
    data class ParticipantUpdated(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val participant: Participant,
        val oldStatus: ParticipantStatus,
        val newStatus: ParticipantStatus
    ) : Event()

    /**
     * This user's permissions were replaced; the old token is revoked. [token]
     * (protected conferences) is the new one: only this user receives it.
     */
    data class PermissionsUpdated(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val permissions: PermissionSet,
        val token: String?
    ) : Event()

    /** This session's place was taken by another session of the same user. */
    data class Switched(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val externalId: String
    ) : Event()

    /**
     * Someone this session saw is no longer visible to it (a participant who
     * became a listener, seen from another listener): drop them from the view.
     */
    data class ParticipantRemoved(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val externalId: String
    ) : Event()

    /**
     * A fresh token for this user (protected conference they are in), sent
     * shortly before their current one expires; same [permissions]. The old
     * token stays valid until its own expiry.
     */
    data class TokenRefreshed(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val token: String,
        val permissions: PermissionSet,
        /** The new token's `exp`, seconds since the Unix epoch. */
        val expiresAt: Long
    ) : Event()

    /**
     * The session's queue overflowed: events [firstMissedSequence] up to this
     * event's own [sequence] were dropped, and the next event has
     * [firstAvailableSequence]. Resynchronise the views kept from events (e.g.
     * fetch the conferences again). [conferenceId] is always null.
     */
    data class EventsMissed(
        override val sequence: Long,
        override val conferenceId: String?,
        override val type: String,
        override val json: String,
        val firstMissedSequence: Long,
        val firstAvailableSequence: Long
    ) : Event()

    /** A kind this binding does not know (a newer library); see [json]. */
    data class Unknown(
        override val sequence: Long,
        override val conferenceId: String?,
        override val type: String,
        override val json: String,
        val kind: Int
    ) : Event()

    /** What the `confkit_event_*` getters say about one native event. */
    internal data class Raw(
        val kind: Int,
        val sequence: Long,
        val conferenceId: String?,
        val type: String,
        val json: String,
        val externalId: String? = null,
        val alias: String? = null,
        val token: String? = null,
        val oldStatus: Int = -1,
        val newStatus: Int = -1,
        val permissions: Int = 0,
        val tokenExpiresAt: Long = 0,
        val firstAvailableSequence: Long = 0
    )

    internal companion object {
        const val CONFERENCE_CREATED = 1
        const val CONFERENCE_ENDED = 2
        const val INVITATION_RECEIVED = 3
        const val PARTICIPANT_ADDED = 4
        const val PARTICIPANT_UPDATED = 5
        const val PERMISSIONS_UPDATED = 6
        const val SWITCHED = 7
        const val PARTICIPANT_REMOVED = 8
        const val TOKEN_REFRESHED = 9
        const val EVENTS_MISSED = 10

        /** Copies a native event into a Kotlin value (the caller frees it). */
        fun fromNative(e: Pointer): Event {
            val n = N
            return fromRaw(
                Raw(
                    kind = n.confkit_event_kind(e),
                    sequence = n.confkit_event_sequence(e),
                    conferenceId = n.confkit_event_conference_id(e).cString(),
                    type = n.confkit_event_type(e).cString() ?: "UNKNOWN",
                    json = n.confkit_event_json(e).cString() ?: "{}",
                    externalId = n.confkit_event_external_id(e).cString(),
                    alias = n.confkit_event_conference_alias(e).cString(),
                    token = n.confkit_event_token(e).cString(),
                    oldStatus = n.confkit_event_old_status(e),
                    newStatus = n.confkit_event_new_status(e),
                    permissions = n.confkit_event_permissions(e),
                    tokenExpiresAt = n.confkit_event_token_expires_at(e),
                    firstAvailableSequence = n.confkit_event_first_available_sequence(e)
                )
            )
        }

        /** The typed event for what the getters said (makes no native call, so tests can feed it any kind). */
        fun fromRaw(r: Raw): Event {
            val kind = r.kind
            val seq = r.sequence
            // Every kind but events missed (and maybe a future one) has a conference.
            val conf = r.conferenceId ?: ""
            val type = r.type
            val json = r.json
            val externalId = r.externalId
            val alias = r.alias
            val token = r.token
            val oldStatus = ParticipantStatus.fromCode(r.oldStatus)
            val newStatus = ParticipantStatus.fromCode(r.newStatus)
            val perms = PermissionSet.fromNative(r.permissions)
            val doc = try {
                MiniJson.obj(json)
            } catch (ex: IllegalArgumentException) {
                emptyMap<String, Any?>()
            }

            fun participant(): Participant {
                val p = doc["participant"] as? Map<*, *> ?: emptyMap<String, Any?>()
                return Participant(
                    externalId = externalId ?: (p["externalId"] as? String ?: ""),
                    name = p["name"] as? String ?: "",
                    avatarUrl = p["avatarUrl"] as? String,
                    status = newStatus ?: ParticipantStatus.RESERVED,
                    type = when (p["type"]) {
                        "USER" -> ParticipantType.USER
                        "LISTENER" -> ParticipantType.LISTENER
                        else -> ParticipantType.UNKNOWN
                    },
                    permissions = perms
                )
            }

            return when (kind) {
                CONFERENCE_CREATED -> ConferenceCreated(
                    seq, conf, type, json, alias ?: "", doc["isProtected"] == true
                )
                CONFERENCE_ENDED -> ConferenceEnded(
                    seq, conf, type, json,
                    when (doc["reason"]) {
                        "TERMINATED" -> EndReason.TERMINATED
                        "EXPIRED" -> EndReason.EXPIRED
                        else -> EndReason.UNKNOWN
                    }
                )
                INVITATION_RECEIVED -> {
                    val inviter = doc["inviter"] as? Map<*, *> ?: emptyMap<String, Any?>()
                    InvitationReceived(
                        seq, conf, type, json, alias ?: "",
                        ParticipantInfo(externalId ?: "", inviter["name"] as? String ?: "", inviter["avatarUrl"] as? String),
                        token,
                        // The getter says 0 both for "no permissions" and "none carried": JSON tells them apart.
                        if (doc.containsKey("permissions")) perms else null
                    )
                }
                PARTICIPANT_ADDED -> ParticipantAdded(seq, conf, type, json, participant())
                PARTICIPANT_UPDATED -> ParticipantUpdated(
                    seq, conf, type, json, participant(),
                    oldStatus ?: ParticipantStatus.RESERVED, newStatus ?: ParticipantStatus.RESERVED
                )
                PERMISSIONS_UPDATED -> PermissionsUpdated(seq, conf, type, json, perms, token)
                SWITCHED -> Switched(seq, conf, type, json, externalId ?: "")
                PARTICIPANT_REMOVED -> ParticipantRemoved(
                    seq, conf, type, json, externalId ?: (doc["externalId"] as? String ?: "")
                )
                TOKEN_REFRESHED -> TokenRefreshed(
                    seq, conf, type, json, token ?: (doc["token"] as? String ?: ""), perms,
                    if (r.tokenExpiresAt != 0L) r.tokenExpiresAt else (doc["expiresAt"] as? Long ?: 0L)
                )
                EVENTS_MISSED -> EventsMissed(
                    seq, r.conferenceId, type, json,
                    doc["firstMissedSequence"] as? Long ?: 0L,
                    if (r.firstAvailableSequence != 0L) r.firstAvailableSequence
                    else (doc["firstAvailableSequence"] as? Long ?: seq + 1)
                )
                else -> Unknown(seq, r.conferenceId, type, json, kind)
            }
        }
    }
}
