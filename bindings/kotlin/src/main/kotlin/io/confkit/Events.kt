package io.confkit

import com.sun.jna.Pointer

/** A user's identity as an event shows it. */
data class ParticipantInfo(val externalId: String, val name: String, val avatarUrl: String?)

/** A participant as the others see them. */
data class Participant(
    val externalId: String,
    val name: String,
    val avatarUrl: String?,
    /** Where they stand; null for a status code this binding does not know (see [statusCode]). */
    val status: ParticipantStatus?,
    val type: ParticipantType,
    val permissions: PermissionSet,
    /** The raw `CONFKIT_PARTICIPANT_STATUS_*` code [status] stands for. */
    val statusCode: Int = status?.code ?: -1
)

/** `Name(field=value, ...)` with tokens redacted from every value (see [Redact]). */
internal fun show(name: String, vararg fields: Pair<String, Any?>): String =
    fields.joinToString(", ", "$name(", ")") { "${it.first}=${Redact.text(it.second.toString())}" }

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
    /** The whole event as JSON (the wire format). It may carry a token: keep it out of logs. */
    abstract val json: String

    /** A conference this user created now exists. */
    data class ConferenceCreated(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val conferenceAlias: String,
        val isProtected: Boolean
    ) : Event() {
        override fun toString() = show(
            "ConferenceCreated", "sequence" to sequence, "conferenceId" to conferenceId, "type" to type, "json" to json,
            "conferenceAlias" to conferenceAlias, "isProtected" to isProtected
        )
    }

    /** The conference was destroyed. */
    data class ConferenceEnded(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val reason: EndReason
    ) : Event() {
        override fun toString() = show(
            "ConferenceEnded", "sequence" to sequence, "conferenceId" to conferenceId, "type" to type, "json" to json,
            "reason" to reason
        )
    }

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
    ) : Event() {
        override fun toString() = show(
            "InvitationReceived", "sequence" to sequence, "conferenceId" to conferenceId, "type" to type,
            "json" to json, "conferenceAlias" to conferenceAlias, "inviter" to inviter, "token" to Redact.token(token),
            "permissions" to permissions
        )
    }

    /** Someone was added to the conference. */
    data class ParticipantAdded(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val participant: Participant
    ) : Event() {
        override fun toString() = show(
            "ParticipantAdded", "sequence" to sequence, "conferenceId" to conferenceId, "type" to type, "json" to json,
            "participant" to participant
        )
    }

    /**
     * Someone's status changed ([participant] shows the new status). A status
     * is null when its code is one this binding does not know (a newer
     * library): see [oldStatusCode] / [newStatusCode]; it is never guessed.
     */
    data class ParticipantUpdated(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val participant: Participant,
        val oldStatus: ParticipantStatus?,
        val newStatus: ParticipantStatus?,
        /** The raw code of [oldStatus]. */
        val oldStatusCode: Int = oldStatus?.code ?: -1,
        /** The raw code of [newStatus]. */
        val newStatusCode: Int = newStatus?.code ?: -1
    ) : Event() {
        override fun toString() = show(
            "ParticipantUpdated", "sequence" to sequence, "conferenceId" to conferenceId, "type" to type,
            "json" to json, "participant" to participant, "oldStatus" to (oldStatus ?: "UNKNOWN($oldStatusCode)"),
            "newStatus" to (newStatus ?: "UNKNOWN($newStatusCode)")
        )
    }

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
    ) : Event() {
        override fun toString() = show(
            "PermissionsUpdated", "sequence" to sequence, "conferenceId" to conferenceId, "type" to type,
            "json" to json, "permissions" to permissions, "token" to Redact.token(token)
        )
    }

    /** This session's place was taken by another session of the same user. */
    data class Switched(
        override val sequence: Long,
        override val conferenceId: String,
        override val type: String,
        override val json: String,
        val externalId: String
    ) : Event() {
        override fun toString() = show(
            "Switched", "sequence" to sequence, "conferenceId" to conferenceId, "type" to type, "json" to json,
            "externalId" to externalId
        )
    }

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
    ) : Event() {
        override fun toString() = show(
            "ParticipantRemoved", "sequence" to sequence, "conferenceId" to conferenceId, "type" to type,
            "json" to json, "externalId" to externalId
        )
    }

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
    ) : Event() {
        override fun toString() = show(
            "TokenRefreshed", "sequence" to sequence, "conferenceId" to conferenceId, "type" to type, "json" to json,
            "token" to Redact.token(token), "permissions" to permissions, "expiresAt" to expiresAt
        )
    }

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
    ) : Event() {
        override fun toString() = show(
            "EventsMissed", "sequence" to sequence, "conferenceId" to conferenceId, "type" to type, "json" to json,
            "firstMissedSequence" to firstMissedSequence, "firstAvailableSequence" to firstAvailableSequence
        )
    }

    /**
     * An event this binding cannot represent as its typed class, with
     * everything the getters said: a [kind] it does not know (a newer library;
     * [unreadable] is null), or a known kind whose [json] it could not read
     * ([unreadable] says why; the typed class would have had to guess the
     * fields the JSON carries). Never dropped, never guessed.
     */
    data class Unknown(
        override val sequence: Long,
        override val conferenceId: String?,
        override val type: String,
        override val json: String,
        val kind: Int,
        val unreadable: String? = null
    ) : Event() {
        override fun toString() = show(
            "Unknown", "sequence" to sequence, "conferenceId" to conferenceId, "type" to type, "json" to json,
            "kind" to kind, "unreadable" to unreadable
        )
    }

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
            val n = NA
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

        /**
         * The typed event for what the getters said (makes no native call, so
         * tests can feed it any kind). Never throws: an event that cannot be
         * read as its kind becomes [Unknown] with the reason.
         */
        fun fromRaw(r: Raw): Event = try {
            typed(r)
        } catch (e: Unreadable) {
            Unknown(r.sequence, r.conferenceId, r.type, r.json, r.kind, e.message)
        } catch (e: RuntimeException) {
            Unknown(r.sequence, r.conferenceId, r.type, r.json, r.kind, "cannot read the event: $e")
        }

        private fun typed(r: Raw): Event {
            val kind = r.kind
            val seq = r.sequence
            val type = r.type
            val json = r.json
            val perms = PermissionSet.fromNative(r.permissions)
            // The JSON is read only by the kinds that need a field from it; if it
            // cannot be read, the event is Unknown (never fields made up as "").
            val docCache = arrayOfNulls<Map<String, Any?>>(1)
            fun doc(): Map<String, Any?> = docCache[0] ?: try {
                MiniJson.obj(json)
            } catch (ex: IllegalArgumentException) {
                throw Unreadable("its JSON cannot be read (${ex.message})")
            }.also { docCache[0] = it }

            fun conf(): String = r.conferenceId ?: throw Unreadable("a $type event without a conference ID")
            fun externalId(): String = r.externalId ?: throw Unreadable("a $type event without an external ID")

            fun participant(): Participant {
                val p = doc().objAt("participant")
                return Participant(
                    externalId = r.externalId ?: p.string("externalId"),
                    name = p.string("name"),
                    avatarUrl = p.optString("avatarUrl"),
                    status = ParticipantStatus.fromCode(r.newStatus),
                    type = ParticipantType.fromName(p.string("type")),
                    permissions = perms,
                    statusCode = r.newStatus
                )
            }

            return when (kind) {
                CONFERENCE_CREATED -> ConferenceCreated(
                    seq, conf(), type, json, r.alias ?: doc().string("conferenceAlias"),
                    doc().bool("isProtected")
                )
                CONFERENCE_ENDED -> ConferenceEnded(
                    seq, conf(), type, json,
                    when (doc().string("reason")) {
                        "TERMINATED" -> EndReason.TERMINATED
                        "EXPIRED" -> EndReason.EXPIRED
                        else -> EndReason.UNKNOWN
                    }
                )
                INVITATION_RECEIVED -> {
                    val inviter = doc().objAt("inviter")
                    InvitationReceived(
                        seq, conf(), type, json, r.alias ?: doc().string("conferenceAlias"),
                        ParticipantInfo(
                            r.externalId ?: inviter.string("externalId"), inviter.string("name"),
                            inviter.optString("avatarUrl")
                        ),
                        r.token,
                        // The getter says 0 both for "no permissions" and "none carried": JSON tells them apart.
                        if (doc()["permissions"] != null) perms else null
                    )
                }
                PARTICIPANT_ADDED -> ParticipantAdded(seq, conf(), type, json, participant())
                PARTICIPANT_UPDATED -> ParticipantUpdated(
                    seq, conf(), type, json, participant(),
                    ParticipantStatus.fromCode(r.oldStatus), ParticipantStatus.fromCode(r.newStatus),
                    r.oldStatus, r.newStatus
                )
                PERMISSIONS_UPDATED -> PermissionsUpdated(seq, conf(), type, json, perms, r.token)
                SWITCHED -> Switched(seq, conf(), type, json, externalId())
                PARTICIPANT_REMOVED -> ParticipantRemoved(
                    seq, conf(), type, json, r.externalId ?: doc().string("externalId")
                )
                TOKEN_REFRESHED -> TokenRefreshed(
                    seq, conf(), type, json, r.token ?: doc().string("token"), perms,
                    if (r.tokenExpiresAt != 0L) r.tokenExpiresAt else doc().long("expiresAt")
                )
                EVENTS_MISSED -> EventsMissed(
                    seq, r.conferenceId, type, json, doc().long("firstMissedSequence"),
                    if (r.firstAvailableSequence != 0L) r.firstAvailableSequence
                    else doc().long("firstAvailableSequence")
                )
                else -> Unknown(seq, r.conferenceId, type, json, kind)
            }
        }
    }
}

/** Why an event or update could not be read as its kind (caught: it becomes an Unknown). */
internal class Unreadable(message: String) : RuntimeException(message) {
    companion object {
        private const val serialVersionUID = 1L
    }
}

// Strict readers of the JSON fields the C ABI has no getter for: a missing or
// mistyped field is Unreadable, never a made-up default.

@Suppress("UNCHECKED_CAST")
internal fun Map<String, Any?>.objAt(key: String): Map<String, Any?> =
    this[key] as? Map<String, Any?> ?: throw Unreadable("no object \"$key\" in the JSON")

internal fun Map<String, Any?>.string(key: String): String =
    this[key] as? String ?: throw Unreadable("no string \"$key\" in the JSON")

/** An optional string: absent or null is null, anything but a string is Unreadable. */
internal fun Map<String, Any?>.optString(key: String): String? = when (val v = this[key]) {
    null -> null
    is String -> v
    else -> throw Unreadable("\"$key\" is not a string in the JSON")
}

internal fun Map<String, Any?>.long(key: String): Long =
    this[key] as? Long ?: throw Unreadable("no integer \"$key\" in the JSON")

internal fun Map<String, Any?>.bool(key: String): Boolean =
    this[key] as? Boolean ?: throw Unreadable("no boolean \"$key\" in the JSON")
