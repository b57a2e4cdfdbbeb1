// Value types for the two kinds of ID the device API takes, so a conference ID
// and a user's external ID cannot be swapped by accident. Plain final classes
// (Kotlin 1.3's inline classes are experimental): one small object per ID.
package io.confkit

/**
 * A conference's ID: the hyphenated UUID text form (36 characters), as the
 * library spells it. Upper-case hex digits are accepted and kept in lower
 * case, so two spellings of one conference are equal. Anything else throws
 * [ConfkitException] with [ConfkitStatus.INVALID_ARGUMENT], the status the
 * library gives the same text.
 *
 * [toString] is the [value] itself, so the ID can go straight into a path or
 * a log line.
 */
class ConferenceId(value: String) : Comparable<ConferenceId> {
    /** The UUID text, lower case. */
    val value: String = normalize(value)

    override fun equals(other: Any?): Boolean = other is ConferenceId && other.value == value

    override fun hashCode(): Int = value.hashCode()

    override fun compareTo(other: ConferenceId): Int = value.compareTo(other.value)

    override fun toString(): String = value

    companion object {
        private val UUID = Regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

        private fun normalize(text: String): String {
            val lower = text.toLowerCase(java.util.Locale.ROOT)
            if (!UUID.matches(lower)) {
                throw ConfkitException(
                    ConfkitStatus.INVALID_ARGUMENT,
                    "conference ID \"${text.take(64)}\" is not a UUID (8-4-4-4-12 hex digits)"
                )
            }
            return lower
        }
    }
}

/**
 * A user's external ID (the app's own user ID): 1 to 256 bytes of UTF-8, no
 * control characters; compared exactly (case matters). Anything else throws
 * [ConfkitException] with [ConfkitStatus.INVALID_ARGUMENT], as the library does.
 *
 * [toString] is the [value] itself.
 */
class ExternalId(val value: String) : Comparable<ExternalId> {
    init {
        val len = value.toByteArray(Charsets.UTF_8).size
        when {
            value.length == 0 -> invalid("external ID is empty")
            len > MAX_BYTES -> invalid("external ID is $len bytes, more than $MAX_BYTES")
            value.any { it.isISOControl() } -> invalid("external ID contains a control character")
        }
    }

    override fun equals(other: Any?): Boolean = other is ExternalId && other.value == value

    override fun hashCode(): Int = value.hashCode()

    override fun compareTo(other: ExternalId): Int = value.compareTo(other.value)

    override fun toString(): String = value

    companion object {
        /** The longest external ID, in UTF-8 bytes. */
        const val MAX_BYTES = 256

        private fun invalid(message: String): Nothing = throw ConfkitException(ConfkitStatus.INVALID_ARGUMENT, message)
    }
}
