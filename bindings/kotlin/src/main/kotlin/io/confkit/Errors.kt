package io.confkit

/** The stable `CONFKIT_STATUS_*` codes. [UNKNOWN] stands for a code this binding does not know. */
enum class ConfkitStatus(val code: Int) {
    OK(0),
    NULL_ARGUMENT(1),
    INVALID_UTF8(2),
    INVALID_ARGUMENT(3),
    UNKNOWN_PERMISSION(4),
    TOKEN_INVALID(5),
    TOKEN_EXPIRED(6),
    TOKEN_REVOKED(7),
    TOKEN_WRONG_CONFERENCE(8),
    NOT_ALLOWED(9),
    NOT_IN_CONFERENCE(10),
    CONFERENCE_NOT_FOUND(11),
    AT_MAX_CAPACITY(12),
    INVALID_TRANSITION(13),
    SESSION_NOT_FOUND(14),
    PARTICIPANT_NOT_FOUND(15),
    KEY_INVALID(16),
    TOO_LARGE(17),
    CLOSED(18),
    /** REST create: the alias names a live conference this request may not take over (HTTP 409). */
    ALIAS_TAKEN(19),
    /** The platform's store could not make the operation durable: nothing changed; try again (REST 503). */
    STORE_UNAVAILABLE(20),
    PANIC(99),
    UNKNOWN(-1);

    companion object {
        private val byCode = values().filter { it != UNKNOWN }.associateBy { it.code }

        /** The status with this code, or [UNKNOWN]. */
        @JvmStatic
        fun fromCode(code: Int): ConfkitStatus = byCode[code] ?: UNKNOWN
    }
}

/**
 * A confkit call failed. [status] is the typed code, [code] the raw value (the
 * same unless [status] is [ConfkitStatus.UNKNOWN]) and [message] the library's
 * own description (from `confkit_error_message`).
 */
class ConfkitException(
    val status: ConfkitStatus,
    val code: Int,
    message: String
) : RuntimeException(message) {
    constructor(status: ConfkitStatus, message: String) : this(status, status.code, message)

    override fun toString(): String = "ConfkitException(${status.name}): $message"

    companion object {
        private const val serialVersionUID = 1L
    }
}
