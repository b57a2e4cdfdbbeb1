package io.confkit

/** A participant's status (`CONFKIT_PARTICIPANT_STATUS_*`); the constant names are the stable names. */
enum class ParticipantStatus(val code: Int) {
    RESERVED(0),
    CONNECTING(1),
    ON_AIR(2),
    INACTIVE(3),
    DECLINE(4),
    LEFT(5),
    KICKED(6),
    WARNING(7),
    ERROR(8);

    companion object {
        private val byCode = values()

        /** The status with this code, or null (the ABI uses -1 for "none"). */
        @JvmStatic
        fun fromCode(code: Int): ParticipantStatus? = if (code in byCode.indices) byCode[code] else null

        /**
         * The status with this name, resolved by the library ("CONNECTED" is
         * accepted for [ON_AIR]); unknown names throw [ConfkitStatus.INVALID_ARGUMENT].
         */
        @JvmStatic
        fun fromName(name: String): ParticipantStatus {
            val arg = name.utf8()
            val out = IntArray(1)
            call { N.confkit_participant_status_from_name(arg.bytes, arg.len, out, it) }
            return fromCode(out[0]) ?: throw ConfkitException(
                ConfkitStatus.INVALID_ARGUMENT, "status code ${out[0]} is not known to this binding"
            )
        }
    }
}

/** USER (sends and receives) or LISTENER (receives only); [UNKNOWN] for a type this binding does not know. */
enum class ParticipantType {
    USER,
    LISTENER,
    UNKNOWN;

    internal companion object {
        /** `CONFKIT_PARTICIPANT_TYPE_*` (views). */
        fun fromCode(code: Int): ParticipantType = when (code) {
            0 -> USER
            1 -> LISTENER
            else -> UNKNOWN
        }

        /** The JSON spelling ("USER", "LISTENER"). */
        fun fromName(name: String): ParticipantType = when (name) {
            "USER" -> USER
            "LISTENER" -> LISTENER
            else -> UNKNOWN
        }
    }
}

/** What the media layer saw, for [Session.report] (`CONFKIT_REPORT_*`). */
enum class MediaReport(val code: Int) {
    /** The media connection is up (CONNECTING → ON_AIR). */
    CONNECTED(2),
    /** Media trouble (ON_AIR → WARNING). */
    MEDIA_TROUBLE(3),
    /** Trouble over (WARNING → ON_AIR). */
    RECOVERED(4),
    /** The connection failed (→ ERROR). */
    FAILURE(5),
    /** Idle (ON_AIR → INACTIVE). */
    IDLE(6)
}

/** What happened to one invitee's invitation (`CONFKIT_DELIVERY_*`). */
enum class Delivery(val code: Int) {
    /** Delivered to at least one open session. */
    DELIVERED(0),
    /** No open session: not kept, invite again later. */
    NO_OPEN_SESSION(1),
    /** Not notified, as asked. */
    NOT_REQUESTED(2),
    /** Already in the conference: no token, nothing sent. */
    ALREADY_IN_CONFERENCE(3),
    /**
     * A code this binding does not know (a newer library); the raw code is
     * [InviteResult.deliveryCode]. The library never sends -1.
     */
    UNKNOWN(-1);

    companion object {
        /**
         * The delivery with this code, or [UNKNOWN]. Never throws: the code comes
         * from an invitation the library already sent.
         */
        @JvmStatic
        fun fromCode(code: Int): Delivery = values().firstOrNull { it.code == code && it != UNKNOWN } ?: UNKNOWN
    }
}

/** Options of a new conference; zero means "the default / no limit". */
data class ConferenceOptions @JvmOverloads constructor(
    val isProtected: Boolean = false,
    val audioOnly: Boolean = false,
    val participantLimit: Int = 0,
    val emptyTtlSecs: Long = 0,
    val tokenTtlSecs: Long = 0
) {
    init {
        require(participantLimit >= 0) { "participantLimit must not be negative" }
        require(emptyTtlSecs >= 0 && tokenTtlSecs >= 0) { "durations must not be negative" }
    }

    internal fun toNative(): ConferenceOptionsStruct = ConferenceOptionsStruct().also {
        it.is_protected = if (isProtected) 1 else 0
        it.audio_only = if (audioOnly) 1 else 0
        it.participant_limit = participantLimit
        it.empty_ttl_secs = emptyTtlSecs
        it.token_ttl_secs = tokenTtlSecs
    }
}

/** Platform settings; zero means "the default". */
data class PlatformOptions @JvmOverloads constructor(
    /** Token lifetime in seconds (default 3 hours). */
    val tokenTtlSecs: Long = 0,
    /** Clock leeway for token checks in seconds (default 60). */
    val leewaySecs: Long = 0,
    /** Lifetime of an empty conference in seconds (default 1 hour). */
    val emptyTtlSecs: Long = 0,
    /** Most events a session's queue holds (default 1,024); on overflow the oldest go and one [Event.EventsMissed] stands for them. */
    val maxQueuedEvents: Long = 0,
    /** Seconds before a connected participant's token expires when a fresh one is sent (default 300). */
    val tokenRefreshLeadSecs: Long = 0
) {
    init {
        require(tokenTtlSecs >= 0 && leewaySecs >= 0 && emptyTtlSecs >= 0 && tokenRefreshLeadSecs >= 0) {
            "durations must not be negative"
        }
        require(maxQueuedEvents >= 0) { "maxQueuedEvents must not be negative" }
    }

    internal fun toNative(): PlatformOptionsStruct = PlatformOptionsStruct().also {
        it.token_ttl_secs = tokenTtlSecs
        it.leeway_secs = leewaySecs
        it.empty_ttl_secs = emptyTtlSecs
        it.max_queued_events = maxQueuedEvents
        it.token_refresh_lead_secs = tokenRefreshLeadSecs
    }
}

/** A conference as created or fetched (a snapshot). */
data class ConferenceInfo(
    val id: String,
    val alias: String,
    val owner: String,
    /**
     * False when a create found a live conference with that alias (nobody
     * notified; only its owner gets a fresh owner token).
     */
    val isNew: Boolean,
    val isProtected: Boolean,
    /** Participants of any status. */
    val participantCount: Long,
    /** Participants in the conference now. */
    val presentCount: Long
)

/** One user to invite; null [permissions] gives [PermissionSet.DEFAULT]. */
data class Invitee @JvmOverloads constructor(val externalId: String, val permissions: PermissionSet? = null) {
    @JvmOverloads
    constructor(externalId: ExternalId, permissions: PermissionSet? = null) : this(externalId.value, permissions)
}

/** The outcome for one invitee, in the order of the request. */
data class InviteResult(
    val externalId: String,
    val delivery: Delivery,
    /** How many open sessions received the invitation. */
    val sessions: Long,
    /** The invitee's permissions after the invitation. */
    val permissions: PermissionSet,
    /** The raw `CONFKIT_DELIVERY_*` code (the one [delivery] stands for, also when it is [Delivery.UNKNOWN]). */
    val deliveryCode: Int = delivery.code
    // No token (ABI 2): an invitee's token reaches the invitee only, in their
    // Event.InvitationReceived (and the app server in REST answers).
)

/** An HTTP answer from [Platform.handleRest]: the status and the JSON body (empty for 204). */
data class RestResponse(val status: Int, val body: String) {
    val isSuccess: Boolean get() = status in 200..299
}

/** The claims of a token that [Verifier.verify] accepted. */
data class Claims(
    /** `sub`: the external ID the token was issued to. */
    val subject: String,
    /** `conf`: the conference ID. */
    val conferenceId: String,
    /** `iss`. */
    val issuer: String,
    /** `jti`. */
    val tokenId: String,
    /** `perms`. */
    val permissions: PermissionSet,
    /** `iat`, seconds since the epoch. */
    val issuedAt: Long,
    /** `nbf`, seconds since the epoch. */
    val notBefore: Long,
    /** `exp`, seconds since the epoch. */
    val expiresAt: Long
) {
    fun allows(permission: Permission): Boolean = permission in permissions
}
