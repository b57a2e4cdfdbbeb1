package io.confkit

/**
 * A permission of a participant of a protected conference. [bit] and the
 * constant's [name] are stable (they are the C ABI bits and the names used in
 * JSON and tokens).
 */
enum class Permission(val bit: Int) {
    INVITE(0),
    JOIN(1),
    SEND_AUDIO(2),
    SEND_VIDEO(3),
    SHARE_SCREEN(4),
    SHARE_VIDEO(5),
    SHARE_FILE(6),
    SEND_MESSAGE(7),
    RECORD(8),
    STREAM(9),
    KICK(10),
    UPDATE_PERMISSIONS(11);

    /** The single-bit mask. */
    val mask: Int get() = 1 shl bit

    companion object {
        private val byBit = values()

        /** The permission with this bit index, or null. */
        @JvmStatic
        fun fromBit(bit: Int): Permission? = if (bit in byBit.indices) byBit[bit] else null

        /**
         * The permission with this stable name (case-sensitive), resolved by the
         * library. Unknown names throw [ConfkitException] with
         * [ConfkitStatus.UNKNOWN_PERMISSION].
         */
        @JvmStatic
        fun fromName(name: String): Permission {
            val arg = name.utf8()
            val out = IntArray(1)
            call { N.confkit_permission_from_name(arg.bytes, arg.len, out, it) }
            return fromBit(out[0]) ?: throw ConfkitException(
                ConfkitStatus.UNKNOWN_PERMISSION, "bit ${out[0]} of \"$name\" is not known to this binding"
            )
        }
    }
}

/**
 * An immutable set of permissions, stored as the ABI's bit mask. It is a
 * `Set<Permission>`, so the usual collection operations work; [plus] and
 * [minus] with permissions keep the type.
 */
class PermissionSet private constructor(val bits: Int) : AbstractSet<Permission>() {
    override val size: Int get() = Integer.bitCount(bits)

    override fun contains(element: Permission): Boolean = bits and element.mask != 0

    override fun isEmpty(): Boolean = bits == 0

    override fun iterator(): Iterator<Permission> = Permission.values().filter { contains(it) }.iterator()

    operator fun plus(permission: Permission): PermissionSet = PermissionSet(bits or permission.mask)

    operator fun plus(other: PermissionSet): PermissionSet = PermissionSet(bits or other.bits)

    operator fun minus(permission: Permission): PermissionSet = PermissionSet(bits and permission.mask.inv())

    operator fun minus(other: PermissionSet): PermissionSet = PermissionSet(bits and other.bits.inv())

    /** Whether every permission of [other] is in this set. */
    fun includes(other: PermissionSet): Boolean = other.bits and bits.inv() == 0

    /** The stable names, in bit order. */
    val names: List<String> get() = map { it.name }

    override fun equals(other: Any?): Boolean =
        if (other is PermissionSet) other.bits == bits else super.equals(other)

    override fun hashCode(): Int = super.hashCode()

    override fun toString(): String = names.joinToString(prefix = "[", postfix = "]")

    companion object {
        private const val ALL_BITS = 0xFFF

        /** No permission. */
        @JvmField val EMPTY = PermissionSet(0)

        /** What an invitee gets when the invitation names no permission (`CONFKIT_PERMISSIONS_DEFAULT`). */
        @JvmField val DEFAULT = PermissionSet(0x3FE)

        /** Every permission: the owner's set (`CONFKIT_PERMISSIONS_ALL`). */
        @JvmField val ALL = PermissionSet(ALL_BITS)

        @JvmStatic
        fun of(vararg permissions: Permission): PermissionSet = of(permissions.asList())

        @JvmStatic
        fun of(permissions: Iterable<Permission>): PermissionSet =
            PermissionSet(permissions.fold(0) { acc, p -> acc or p.mask })

        /** A set from ABI bits; bits above bit 11 throw [ConfkitStatus.UNKNOWN_PERMISSION]. */
        @JvmStatic
        fun fromBits(bits: Int): PermissionSet {
            if (bits and ALL_BITS.inv() != 0) {
                throw ConfkitException(
                    ConfkitStatus.UNKNOWN_PERMISSION,
                    "bits 0x${Integer.toHexString(bits and ALL_BITS.inv())} name no permission"
                )
            }
            return PermissionSet(bits)
        }

        /** A set from stable names; an unknown name throws [ConfkitStatus.UNKNOWN_PERMISSION]. */
        @JvmStatic
        fun fromNames(names: Iterable<String>): PermissionSet = of(names.map { Permission.fromName(it) })

        /** Bits the library handed out (never out of range; masked defensively). */
        internal fun fromNative(bits: Int): PermissionSet = PermissionSet(bits and ALL_BITS)
    }
}
