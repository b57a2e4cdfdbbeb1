// The raw C ABI of confkit (include/confkit.h), bound with JNA direct mapping.
//
// Nothing in this file is public API: the idiomatic types (Platform, Session,
// Verifier, ...) are the only users. Type choices, each checked by the tests:
//
// - size_t                 -> SizeT (an IntegerType of Native.SIZE_T_SIZE bytes), so
//                             the same code is right on 32-bit Android ABIs too.
// - C bool (param/return)  -> Byte: JNA maps Kotlin Boolean to a 4-byte int, while
//                             C bool is one byte (only the low byte of a returned
//                             bool is defined).
// - uint32_t / int32_t     -> Int, uint64_t / int64_t -> Long, uint16_t -> Short.
// - const uint8_t *, len   -> ByteArray? + SizeT (null array = NULL pointer).
// - const char * (out)     -> Pointer?, decoded as UTF-8 by the caller.
// - T ** out-params        -> PointerByReference.
// - uint32_t * / int32_t * -> IntArray(1); uint16_t * -> ShortArray(1);
//   uint64_t *             -> LongArray(1); size_t * -> SizeTByReference.
// - C arrays of pointers, sizes, statuses (confkit_verifier_verify_batch)
//                          -> Pointer to a JNA Memory the caller fills or reads.
// - confkit_buffer *       -> Pointer to a BufferStruct.ByValue's memory; the
//                             same struct is then passed BY VALUE to
//                             confkit_buffer_free (JNA direct mapping supports
//                             Structure.ByValue arguments through libffi).
package io.confkit

import com.sun.jna.Callback
import com.sun.jna.IntegerType
import com.sun.jna.Native
import com.sun.jna.NativeLibrary
import com.sun.jna.Pointer
import com.sun.jna.Structure
import com.sun.jna.ptr.ByReference
import com.sun.jna.ptr.PointerByReference

/** C `size_t`. Public only because JNA instantiates it reflectively; not API. */
class SizeT @JvmOverloads constructor(value: Long = 0) : IntegerType(Native.SIZE_T_SIZE, value, true) {
    override fun toByte(): Byte = toLong().toByte()
    override fun toChar(): Char = toLong().toChar()
    override fun toShort(): Short = toLong().toShort()

    companion object {
        private const val serialVersionUID = 1L
    }
}

/** A `size_t *` out-parameter. */
class SizeTByReference : ByReference(Native.SIZE_T_SIZE) {
    val value: Long
        get() = if (Native.SIZE_T_SIZE == 8) pointer.getLong(0) else pointer.getInt(0).toLong() and 0xFFFFFFFFL
}

/** `struct confkit_buffer { uint8_t *data; size_t len; }`. */
@Structure.FieldOrder("data", "len")
open class BufferStruct : Structure() {
    @JvmField var data: Pointer? = null
    @JvmField var len: SizeT = SizeT()

    /** The by-value flavour, for `confkit_buffer_free(confkit_buffer)`. */
    class ByValue : BufferStruct(), Structure.ByValue
}

/** `struct confkit_conference_options`, passed by pointer. */
@Structure.FieldOrder("is_protected", "audio_only", "participant_limit", "empty_ttl_secs", "token_ttl_secs")
class ConferenceOptionsStruct : Structure() {
    @JvmField var is_protected: Byte = 0
    @JvmField var audio_only: Byte = 0
    @JvmField var participant_limit: Int = 0
    @JvmField var empty_ttl_secs: Long = 0
    @JvmField var token_ttl_secs: Long = 0
}

/** `struct confkit_platform_options`, passed by pointer. */
@Structure.FieldOrder(
    "token_ttl_secs", "leeway_secs", "empty_ttl_secs", "max_queued_events", "token_refresh_lead_secs"
)
class PlatformOptionsStruct : Structure() {
    @JvmField var token_ttl_secs: Long = 0
    @JvmField var leeway_secs: Long = 0
    @JvmField var empty_ttl_secs: Long = 0
    @JvmField var max_queued_events: Long = 0
    @JvmField var token_refresh_lead_secs: Long = 0
}

/** `confkit_listener_fn`: `void (*)(void *user_data, uint64_t session_id)`. */
interface ListenerCallback : Callback {
    fun invoke(userData: Pointer?, sessionId: Long)
}

/** `confkit_release_fn`: `void (*)(void *user_data)`. */
interface ReleaseCallback : Callback {
    fun invoke(userData: Pointer?)
}

/**
 * The functions of include/confkit.h that every build of the library has
 * (the device half: client, verifier, clocks, invitee lists, errors, names),
 * registered by [Loader] with `Native.register`. Never touch this object
 * directly: go through [N], which loads the library and checks its ABI
 * version first. The authority's functions are in [ConfkitAuthorityNative].
 */
@Suppress("FunctionName", "LongParameterList")
object ConfkitNative {
    // ----- library -----
    external fun confkit_version(): Pointer?
    external fun confkit_abi_version(): Int
    external fun confkit_status_name(status: Int): Pointer?
    external fun confkit_error_code(error: Pointer?): Int
    external fun confkit_error_message(error: Pointer?): Pointer?
    external fun confkit_error_free(error: Pointer?)
    external fun confkit_buffer_free(buffer: BufferStruct.ByValue)
    external fun confkit_live_objects(): Long
    external fun confkit_test_panic(errorOut: PointerByReference?): Int

    // ----- conferences -----
    external fun confkit_invite_list_new(listOut: PointerByReference, errorOut: PointerByReference?): Int
    external fun confkit_invite_list_add(
        list: Pointer, externalId: ByteArray?, externalIdLen: SizeT, hasPermissions: Byte, permissions: Int,
        errorOut: PointerByReference?
    ): Int
    external fun confkit_invite_list_free(list: Pointer?)

    // ----- names -----
    external fun confkit_permission_name(bit: Int): Pointer?
    external fun confkit_permission_from_name(
        name: ByteArray?, nameLen: SizeT, bitOut: IntArray, errorOut: PointerByReference?
    ): Int
    external fun confkit_participant_status_name(status: Int): Pointer?
    external fun confkit_participant_status_from_name(
        name: ByteArray?, nameLen: SizeT, statusOut: IntArray, errorOut: PointerByReference?
    ): Int

    // ----- clock and platform -----
    external fun confkit_clock_new(now: Long, clockOut: PointerByReference, errorOut: PointerByReference?): Int
    external fun confkit_clock_set(clock: Pointer, now: Long, errorOut: PointerByReference?): Int
    external fun confkit_clock_advance(clock: Pointer, secs: Long, errorOut: PointerByReference?): Int
    external fun confkit_clock_now(clock: Pointer?): Long
    external fun confkit_clock_free(clock: Pointer?)

    // ----- tokens -----
    external fun confkit_verifier_from_jwks(
        jwksJson: ByteArray?, jwksJsonLen: SizeT, verifierOut: PointerByReference, errorOut: PointerByReference?
    ): Int
    external fun confkit_verifier_from_public_key(
        keyId: ByteArray?, keyIdLen: SizeT, publicKey: ByteArray?, verifierOut: PointerByReference,
        errorOut: PointerByReference?
    ): Int
    external fun confkit_verifier_verify(
        verifier: Pointer, token: ByteArray?, tokenLen: SizeT, now: Long, conferenceId: ByteArray?,
        conferenceIdLen: SizeT, leewaySecs: Long, claimsOut: PointerByReference, errorOut: PointerByReference?
    ): Int
    // ABI 4: `tokens` and `tokenLens` are native arrays (Memory) of pointers and size_t.
    external fun confkit_verifier_verify_batch(
        verifier: Pointer, tokens: Pointer?, tokenLens: Pointer?, count: SizeT, now: Long,
        conferenceId: ByteArray?, conferenceIdLen: SizeT, leewaySecs: Long, statusesOut: Pointer?,
        claimsOut: Pointer?, errorOut: PointerByReference?
    ): Int
    external fun confkit_verifier_enable_cache(verifier: Pointer, capacity: SizeT, errorOut: PointerByReference?): Int
    external fun confkit_verifier_free(verifier: Pointer?)
    external fun confkit_claims_subject(claims: Pointer?): Pointer?
    external fun confkit_claims_conference_id(claims: Pointer?): Pointer?
    external fun confkit_claims_issuer(claims: Pointer?): Pointer?
    external fun confkit_claims_token_id(claims: Pointer?): Pointer?
    external fun confkit_claims_permissions(claims: Pointer?): Int
    external fun confkit_claims_issued_at(claims: Pointer?): Long
    external fun confkit_claims_not_before(claims: Pointer?): Long
    external fun confkit_claims_expires_at(claims: Pointer?): Long
    external fun confkit_claims_free(claims: Pointer?)

    // ----- the device half (ABI 3) -----
    external fun confkit_client_new(
        externalId: ByteArray?, externalIdLen: SizeT, verifier: Pointer?, clock: Pointer?,
        clientOut: PointerByReference, errorOut: PointerByReference?
    ): Int
    external fun confkit_client_free(client: Pointer?)
    external fun confkit_client_create(
        client: Pointer, alias: ByteArray?, aliasLen: SizeT, options: ConferenceOptionsStruct?,
        messageOut: Pointer, requestOut: LongArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_client_fetch(
        client: Pointer, alias: ByteArray?, aliasLen: SizeT, messageOut: Pointer, requestOut: LongArray?,
        errorOut: PointerByReference?
    ): Int
    external fun confkit_client_join(
        client: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, token: ByteArray?, tokenLen: SizeT,
        messageOut: Pointer, requestOut: LongArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_client_listen(
        client: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, token: ByteArray?, tokenLen: SizeT,
        messageOut: Pointer, requestOut: LongArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_client_media_state(
        client: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, state: Int,
        messageOut: Pointer, requestOut: LongArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_client_leave(
        client: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, messageOut: Pointer,
        requestOut: LongArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_client_decline(
        client: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, messageOut: Pointer,
        requestOut: LongArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_client_terminate(
        client: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, messageOut: Pointer,
        requestOut: LongArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_client_invite(
        client: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, invitees: Pointer,
        messageOut: Pointer, requestOut: LongArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_client_kick(
        client: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, externalId: ByteArray?,
        externalIdLen: SizeT, messageOut: Pointer, requestOut: LongArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_client_update_permissions(
        client: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, externalId: ByteArray?,
        externalIdLen: SizeT, permissions: Int, messageOut: Pointer, requestOut: LongArray?,
        errorOut: PointerByReference?
    ): Int
    external fun confkit_client_keep_alive(
        client: Pointer, messageOut: Pointer, requestOut: LongArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_client_resync(
        client: Pointer, messageOut: Pointer, requestOut: LongArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_client_receive(
        client: Pointer, message: ByteArray?, messageLen: SizeT, updatesOut: PointerByReference,
        errorOut: PointerByReference?
    ): Int
    external fun confkit_client_set_next_request_number(client: Pointer, number: Long, errorOut: PointerByReference?): Int
    external fun confkit_client_last_sequence(client: Pointer?): Long
    external fun confkit_client_is_stalled(client: Pointer?): Byte
    external fun confkit_client_may(client: Pointer?, conferenceId: ByteArray?, conferenceIdLen: SizeT, bit: Int): Byte
    external fun confkit_client_view_count(client: Pointer?): SizeT
    external fun confkit_client_view_at(
        client: Pointer, index: SizeT, viewOut: PointerByReference, errorOut: PointerByReference?
    ): Int
    external fun confkit_client_view(
        client: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, viewOut: PointerByReference,
        errorOut: PointerByReference?
    ): Int
    external fun confkit_client_inbox_len(client: Pointer?): SizeT
    external fun confkit_client_inbox_at(
        client: Pointer, index: SizeT, invitationOut: PointerByReference, errorOut: PointerByReference?
    ): Int
    external fun confkit_updates_len(updates: Pointer?): SizeT
    external fun confkit_updates_kind(updates: Pointer?, index: SizeT): Int
    external fun confkit_updates_conference_id(updates: Pointer?, index: SizeT): Pointer?
    external fun confkit_updates_external_id(updates: Pointer?, index: SizeT): Pointer?
    external fun confkit_updates_old_status(updates: Pointer?, index: SizeT): Int
    external fun confkit_updates_new_status(updates: Pointer?, index: SizeT): Int
    external fun confkit_updates_permissions(updates: Pointer?, index: SizeT): Int
    external fun confkit_updates_request_id(updates: Pointer?, index: SizeT): Pointer?
    external fun confkit_updates_request_number(updates: Pointer?, index: SizeT): Long
    external fun confkit_updates_error_code(updates: Pointer?, index: SizeT): Int
    external fun confkit_updates_text(updates: Pointer?, index: SizeT): Pointer?
    external fun confkit_updates_sequence(updates: Pointer?, index: SizeT): Long
    external fun confkit_updates_json(updates: Pointer?, index: SizeT): Pointer?
    external fun confkit_updates_free(updates: Pointer?)
    external fun confkit_view_conference_id(v: Pointer?): Pointer?
    external fun confkit_view_alias(v: Pointer?): Pointer?
    external fun confkit_view_joined(v: Pointer?): Byte
    external fun confkit_view_ended(v: Pointer?): Byte
    external fun confkit_view_my_status(v: Pointer?): Int
    external fun confkit_view_my_permissions(v: Pointer?): Int
    external fun confkit_view_token(v: Pointer?): Pointer?
    external fun confkit_view_participant_count(v: Pointer?): SizeT
    external fun confkit_view_participant_external_id(v: Pointer?, index: SizeT): Pointer?
    external fun confkit_view_participant_name(v: Pointer?, index: SizeT): Pointer?
    external fun confkit_view_participant_avatar_url(v: Pointer?, index: SizeT): Pointer?
    external fun confkit_view_participant_status(v: Pointer?, index: SizeT): Int
    external fun confkit_view_participant_type(v: Pointer?, index: SizeT): Int
    external fun confkit_view_participant_permissions(v: Pointer?, index: SizeT): Int
    external fun confkit_view_free(v: Pointer?)
    external fun confkit_invitation_conference_id(i: Pointer?): Pointer?
    external fun confkit_invitation_alias(i: Pointer?): Pointer?
    external fun confkit_invitation_inviter_id(i: Pointer?): Pointer?
    external fun confkit_invitation_inviter_name(i: Pointer?): Pointer?
    external fun confkit_invitation_token(i: Pointer?): Pointer?
    external fun confkit_invitation_has_permissions(i: Pointer?): Byte
    external fun confkit_invitation_permissions(i: Pointer?): Int
    external fun confkit_invitation_free(i: Pointer?)

}

/**
 * The authority's functions (the platform, its sessions and conferences),
 * registered apart from [ConfkitNative] and only on first use, by [Loader]:
 * a device library built without the authority (cargo feature `authority`
 * off) lacks them, and JNA's direct mapping refuses to register a class one
 * of whose functions the library does not export. Go through [NA].
 */
@Suppress("FunctionName", "LongParameterList")
object ConfkitAuthorityNative {
    // ----- conferences -----
    external fun confkit_conference_create(
        session: Pointer, alias: ByteArray?, aliasLen: SizeT, options: ConferenceOptionsStruct?,
        infoOut: PointerByReference, ownerTokenOut: Pointer?, errorOut: PointerByReference?
    ): Int
    external fun confkit_conference_fetch(
        session: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, alias: ByteArray?, aliasLen: SizeT,
        infoOut: PointerByReference, errorOut: PointerByReference?
    ): Int
    external fun confkit_conference_info_id(info: Pointer?): Pointer?
    external fun confkit_conference_info_alias(info: Pointer?): Pointer?
    external fun confkit_conference_info_owner(info: Pointer?): Pointer?
    external fun confkit_conference_info_is_new(info: Pointer?): Byte
    external fun confkit_conference_info_is_protected(info: Pointer?): Byte
    external fun confkit_conference_info_participant_count(info: Pointer?): SizeT
    external fun confkit_conference_info_present_count(info: Pointer?): SizeT
    external fun confkit_conference_info_free(info: Pointer?)
    external fun confkit_conference_join(
        session: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, token: ByteArray?, tokenLen: SizeT,
        permissionsOut: IntArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_conference_listen(
        session: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, token: ByteArray?, tokenLen: SizeT,
        permissionsOut: IntArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_conference_report(
        session: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, report: Int,
        statusOut: IntArray?, errorOut: PointerByReference?
    ): Int
    external fun confkit_conference_leave(
        session: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, errorOut: PointerByReference?
    ): Int
    external fun confkit_conference_decline(
        session: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, errorOut: PointerByReference?
    ): Int
    external fun confkit_conference_terminate(
        session: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, errorOut: PointerByReference?
    ): Int
    external fun confkit_conference_kick(
        session: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, externalId: ByteArray?,
        externalIdLen: SizeT, errorOut: PointerByReference?
    ): Int
    external fun confkit_conference_update_permissions(
        session: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, externalId: ByteArray?,
        externalIdLen: SizeT, permissions: Int, errorOut: PointerByReference?
    ): Int
    external fun confkit_conference_invite(
        session: Pointer, conferenceId: ByteArray?, conferenceIdLen: SizeT, list: Pointer,
        resultsOut: PointerByReference, errorOut: PointerByReference?
    ): Int
    external fun confkit_invite_results_len(results: Pointer?): SizeT
    external fun confkit_invite_results_external_id(results: Pointer?, index: SizeT): Pointer?
    external fun confkit_invite_results_delivery(results: Pointer?, index: SizeT): Int
    external fun confkit_invite_results_sessions(results: Pointer?, index: SizeT): SizeT
    external fun confkit_invite_results_permissions(results: Pointer?, index: SizeT): Int
    external fun confkit_invite_results_free(results: Pointer?)
    // ----- clock and platform -----
    external fun confkit_platform_new(
        signingSeed: ByteArray?, keyId: ByteArray?, keyIdLen: SizeT, platformOut: PointerByReference,
        errorOut: PointerByReference?
    ): Int
    external fun confkit_platform_new_with(
        signingSeed: ByteArray?, keyId: ByteArray?, keyIdLen: SizeT, clock: Pointer?,
        options: PlatformOptionsStruct?, platformOut: PointerByReference, errorOut: PointerByReference?
    ): Int
    external fun confkit_platform_open(
        path: ByteArray?, pathLen: SizeT, signingSeed: ByteArray?, keyId: ByteArray?, keyIdLen: SizeT,
        clock: Pointer?, options: PlatformOptionsStruct?, platformOut: PointerByReference, errorOut: PointerByReference?
    ): Int
    external fun confkit_platform_free(platform: Pointer?)
    external fun confkit_platform_handle_rest(
        platform: Pointer, method: ByteArray?, methodLen: SizeT, path: ByteArray?, pathLen: SizeT,
        body: ByteArray?, bodyLen: SizeT, httpStatusOut: ShortArray, responseOut: Pointer,
        errorOut: PointerByReference?
    ): Int
    external fun confkit_platform_jwks(platform: Pointer, jwksOut: Pointer, errorOut: PointerByReference?): Int
    external fun confkit_platform_expire_conferences(
        platform: Pointer, countOut: SizeTByReference?, errorOut: PointerByReference?
    ): Int
    // ----- sessions and events -----
    external fun confkit_session_open(
        platform: Pointer, externalId: ByteArray?, externalIdLen: SizeT, name: ByteArray?, nameLen: SizeT,
        avatarUrl: ByteArray?, avatarUrlLen: SizeT, sessionOut: PointerByReference, errorOut: PointerByReference?
    ): Int
    external fun confkit_session_id(session: Pointer?): Long
    external fun confkit_session_close(session: Pointer, errorOut: PointerByReference?): Int
    external fun confkit_session_free(session: Pointer?)
    external fun confkit_session_next_event(
        session: Pointer, eventOut: PointerByReference, errorOut: PointerByReference?
    ): Int
    external fun confkit_session_pending_events(
        session: Pointer, countOut: SizeTByReference, errorOut: PointerByReference?
    ): Int
    external fun confkit_session_set_listener(
        session: Pointer, callback: ListenerCallback?, userData: Pointer?, release: ReleaseCallback?,
        errorOut: PointerByReference?
    ): Int
    external fun confkit_event_kind(event: Pointer?): Int
    external fun confkit_event_type(event: Pointer?): Pointer?
    external fun confkit_event_sequence(event: Pointer?): Long
    external fun confkit_event_conference_id(event: Pointer?): Pointer?
    external fun confkit_event_json(event: Pointer?): Pointer?
    external fun confkit_event_external_id(event: Pointer?): Pointer?
    external fun confkit_event_conference_alias(event: Pointer?): Pointer?
    external fun confkit_event_token(event: Pointer?): Pointer?
    external fun confkit_event_old_status(event: Pointer?): Int
    external fun confkit_event_new_status(event: Pointer?): Int
    external fun confkit_event_permissions(event: Pointer?): Int
    external fun confkit_event_token_expires_at(event: Pointer?): Long
    external fun confkit_event_first_available_sequence(event: Pointer?): Long
    external fun confkit_event_free(event: Pointer?)
    // ----- the device half (ABI 3) -----
    external fun confkit_session_handle_message(
        session: Pointer, message: ByteArray?, messageLen: SizeT, replyOut: Pointer, errorOut: PointerByReference?
    ): Int
    external fun confkit_session_next_message(
        session: Pointer, messageOut: Pointer, errorOut: PointerByReference?
    ): Int
}

/** Thrown when the native library cannot be used (not found, or a different ABI). */
class ConfkitLoadError(message: String, cause: Throwable? = null) : LinkageError(message, cause)

/**
 * Loads the library once, registers [ConfkitNative] and checks the ABI version.
 * A failure is remembered and rethrown (as a fresh [ConfkitLoadError] with the
 * same message) on every later use.
 */
internal object Loader {
    /** The ABI this binding was written for (`CONFKIT_ABI_VERSION` in confkit.h). */
    const val ABI_VERSION = 4

    /** System property naming the library to load (default "confkit"). */
    const val LIBRARY_PROPERTY = "confkit.library.name"

    @Volatile private var ready = false
    @Volatile private var failure: ConfkitLoadError? = null
    @Volatile private var authorityReady = false
    @Volatile private var authorityFailure: ConfkitLoadError? = null

    private val libraryName: String get() = System.getProperty(LIBRARY_PROPERTY) ?: "confkit"

    fun ensure() {
        if (!ready) load()
    }

    /** Loads the library, then registers the authority's functions once. */
    fun ensureAuthority() {
        ensure()
        if (!authorityReady) loadAuthority()
    }

    /** Registers [type]'s functions; the error to remember and throw, or null. */
    private fun register(type: Class<*>, explain: (name: String, cause: Throwable) -> String): ConfkitLoadError? {
        val name = libraryName
        return try {
            Native.register(type, NativeLibrary.getInstance(name))
            null
        } catch (e: Throwable) {
            ConfkitLoadError(explain(name, e), e)
        }
    }

    @Synchronized private fun load() {
        if (ready) return
        failure?.let { throw ConfkitLoadError(it.message ?: "confkit failed to load", it) }
        val err = register(ConfkitNative::class.java) { name, e ->
            "cannot load the confkit native library \"$name\" (${e.message}); on the JVM set " +
                "-Djna.library.path=<dir of lib$name.so>, on Android ship it in jniLibs/<abi>/"
        } ?: try {
            checkAbi(ConfkitNative.confkit_abi_version())
            null
        } catch (e: ConfkitLoadError) {
            e
        }
        if (err != null) {
            failure = err
            throw err
        }
        ready = true
    }

    @Synchronized private fun loadAuthority() {
        if (authorityReady) return
        authorityFailure?.let { throw ConfkitLoadError(it.message ?: "confkit's authority failed to load", it) }
        val err = register(ConfkitAuthorityNative::class.java) { name, e ->
            "the confkit native library \"$name\" has no authority (${e.message}): it was built " +
                "without the cargo feature `authority`, as a device library is; Platform and Session " +
                "need a library built with default features, Client and Verifier work with either"
        }
        if (err != null) {
            authorityFailure = err
            throw err
        }
        authorityReady = true
    }

    /** Throws a clear error when the loaded library speaks another ABI. */
    fun checkAbi(actual: Int) {
        if (actual != ABI_VERSION) {
            throw ConfkitLoadError(
                "confkit ABI mismatch: the loaded native library has ABI version $actual, but this " +
                    "Kotlin binding was written for ABI version $ABI_VERSION; rebuild the binding and the " +
                    "library from the same confkit release"
            )
        }
    }
}

/** The native functions, after loading and checking the library. */
internal val N: ConfkitNative
    get() {
        Loader.ensure()
        return ConfkitNative
    }

/** The authority's native functions, after loading the library and registering them. */
internal val NA: ConfkitAuthorityNative
    get() {
        Loader.ensureAuthority()
        return ConfkitAuthorityNative
    }
