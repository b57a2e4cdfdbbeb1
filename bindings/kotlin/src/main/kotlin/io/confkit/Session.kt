package io.confkit

import com.sun.jna.Pointer
import com.sun.jna.ptr.PointerByReference
import java.lang.ref.WeakReference
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicLong

/**
 * A user's session on a [Platform]: the conference operations on the user's
 * behalf, and the queue of events addressed to them.
 *
 * Thread-safe. [close] leaves every conference the session is connected to and
 * frees it; calls afterwards throw [IllegalStateException].
 */
class Session internal constructor(ptr: Pointer, val externalId: String) :
    NativeObject(ptr, "Session", { NA.confkit_session_free(it) }) {

    /** The numeric id the library gave the session. */
    val id: Long = native { NA.confkit_session_id(it) }

    /** The listener the library holds now (set only once the library accepted it). */
    @Volatile private var listener: ((Session) -> Unit)? = null

    /**
     * The listener of each registration key the library holds: a call from the
     * library runs the listener registered under its own key, never one whose
     * registration failed or is not finished yet.
     */
    private val registrations = ConcurrentHashMap<Long, (Session) -> Unit>()
    private val listenerLock = Any()

    internal val currentListener: ((Session) -> Unit)? get() = listener

    // ----- events -----

    /** Takes the next event from the queue, or null when it is empty. */
    fun nextEvent(): Event? {
        val out = PointerByReference()
        native { p -> call { NA.confkit_session_next_event(p, out, it) } }
        val e = out.value ?: return null
        return consume(e, { NA.confkit_event_free(it) }) { Event.fromNative(it) }
    }

    /** Takes every queued event, oldest first. */
    fun drainEvents(): List<Event> {
        val events = ArrayList<Event>()
        while (true) events.add(nextEvent() ?: return events)
    }

    /** How many events wait in the queue. */
    val pendingEvents: Long
        get() {
            val count = SizeTByReference()
            native { p -> call { NA.confkit_session_pending_events(p, count, it) } }
            return count.value
        }

    /**
     * Sets (or, with null, clears) the listener called when events were queued
     * for this session. It runs synchronously on the thread whose confkit call
     * produced the events (never under a confkit lock), so it may call back
     * into confkit, e.g. [drainEvents]; hand work to your own executor if it is
     * slow. Exceptions it throws go to [Confkit.callbackErrorHandler].
     */
    fun setListener(listener: ((Session) -> Unit)?) {
        native { p ->
            synchronized(listenerLock) {
                if (listener == null) {
                    // The library releases the old registration (Listeners.RELEASE drops its key).
                    call { NA.confkit_session_set_listener(p, null, null, null, it) }
                    this.listener = null
                } else {
                    val key = Listeners.add(this)
                    registrations[key] = listener
                    try {
                        call {
                            NA.confkit_session_set_listener(p, Listeners.CALLBACK, Pointer(key), Listeners.RELEASE, it)
                        }
                    } catch (e: Throwable) {
                        // On failure the library does not call release: the registration is still
                        // ours to drop, and the listener set before stays the one in force.
                        Listeners.remove(key)
                        registrations.remove(key)
                        throw e
                    }
                    this.listener = listener
                }
            }
        }
    }

    internal fun dispatchListener(key: Long) {
        val l = registrations[key] ?: return
        try {
            l(this)
        } catch (t: Throwable) {
            Confkit.reportCallbackError(t)
        }
    }

    internal fun released(key: Long) {
        registrations.remove(key)
    }

    // ----- the wire (a device's Client on the other end) -----

    /**
     * Answers one request message from this session's device (a [Client]'s
     * [Outgoing.bytes]) and returns the reply's bytes for the device's
     * [Client.receive]. Every problem with the request is an error reply, not
     * an exception: this throws only for unusable input (over
     * `CONFKIT_MAX_MESSAGE_BYTES`, [ConfkitStatus.TOO_LARGE]).
     */
    fun handleMessage(message: ByteArray): ByteArray {
        val reply = BufferOut()
        native { p ->
            call { NA.confkit_session_handle_message(p, message, SizeT(message.size.toLong()), reply.out, it) }
        }
        return reply.take()
    }

    /**
     * Takes the session's next event as a wire message for its device, or null
     * when the queue is empty. It is the same queue [nextEvent] reads: a
     * session serves either a device over the wire or in-process polling, not
     * both. Messages handed out stay available to the device's resync for the
     * platform's retention window.
     */
    fun nextMessage(): ByteArray? {
        val out = BufferOut()
        native { p -> call { NA.confkit_session_next_message(p, out.out, it) } }
        val bytes = out.take()
        return if (bytes.isEmpty()) null else bytes
    }

    /** Takes every queued event as wire messages, oldest first (see [nextMessage]). */
    fun drainMessages(): List<ByteArray> {
        val messages = ArrayList<ByteArray>()
        while (true) messages.add(nextMessage() ?: return messages)
    }

    // ----- conferences -----

    /**
     * Creates a conference owned by this user. An alias that already names a
     * live conference (ignoring case) returns that one with
     * [Conference.isNew] false and no notification; its owner then gets a
     * fresh [Conference.ownerToken], anyone else none.
     */
    @JvmOverloads
    fun createConference(alias: String, options: ConferenceOptions = ConferenceOptions()): Conference {
        val a = alias.utf8()
        val o = options.toNative()
        val out = PointerByReference()
        val token = BufferOut()
        native { p -> call { NA.confkit_conference_create(p, a.bytes, a.len, o, out, token.out, it) } }
        val tokenText = token.takeString()
        val info = consume(out.value, { NA.confkit_conference_info_free(it) }) { readInfo(it) }
        return Conference(this, info, tokenText.ifEmpty { null })
    }

    /** Fetches a live conference by ID; unknown or destroyed ones throw [ConfkitStatus.CONFERENCE_NOT_FOUND]. */
    fun fetchConference(conferenceId: String): Conference = fetch(conferenceId, null)

    /** Fetches a live conference by alias (ignoring case). */
    fun fetchConferenceByAlias(alias: String): Conference = fetch(null, alias)

    private fun fetch(conferenceId: String?, alias: String?): Conference {
        val c = conferenceId.utf8()
        val a = alias.utf8()
        val out = PointerByReference()
        native { p -> call { NA.confkit_conference_fetch(p, c.bytes, c.len, a.bytes, a.len, out, it) } }
        val info = consume(out.value, { NA.confkit_conference_info_free(it) }) { readInfo(it) }
        return Conference(this, info, null)
    }

    /**
     * Joins as a USER (CONNECTING until [report] says [MediaReport.CONNECTED]).
     * [token] is required for protected conferences. Returns the granted permissions.
     */
    @JvmOverloads
    fun join(conferenceId: String, token: String? = null): PermissionSet = enter(conferenceId, token, false)

    /** Joins as a LISTENER (receives only). */
    @JvmOverloads
    fun listen(conferenceId: String, token: String? = null): PermissionSet = enter(conferenceId, token, true)

    private fun enter(conferenceId: String, token: String?, listen: Boolean): PermissionSet {
        val c = conferenceId.utf8()
        val t = token.utf8()
        val perms = IntArray(1)
        native { p ->
            call {
                if (listen) NA.confkit_conference_listen(p, c.bytes, c.len, t.bytes, t.len, perms, it)
                else NA.confkit_conference_join(p, c.bytes, c.len, t.bytes, t.len, perms, it)
            }
        }
        return PermissionSet.fromNative(perms[0])
    }

    /**
     * Reports what the media layer saw; returns the participant's new status,
     * or null for a status code this binding does not know (a newer library:
     * the report was applied all the same, so this never throws for it).
     */
    fun report(conferenceId: String, report: MediaReport): ParticipantStatus? {
        val c = conferenceId.utf8()
        val status = IntArray(1)
        native { p -> call { NA.confkit_conference_report(p, c.bytes, c.len, report.code, status, it) } }
        return ParticipantStatus.fromCode(status[0])
    }

    /** Leaves the conference (→ LEFT). */
    fun leave(conferenceId: String) = simple(conferenceId) { p, c, e -> NA.confkit_conference_leave(p, c.bytes, c.len, e) }

    /** Declines this user's invitation (RESERVED → DECLINE). */
    fun decline(conferenceId: String) = simple(conferenceId) { p, c, e -> NA.confkit_conference_decline(p, c.bytes, c.len, e) }

    /** Ends the conference (owner only): everyone is told, it is destroyed. */
    fun terminate(conferenceId: String) =
        simple(conferenceId) { p, c, e -> NA.confkit_conference_terminate(p, c.bytes, c.len, e) }

    /** Removes a participant (owner or KICK holder, in the conference as a user); their earlier tokens stop admitting them. */
    fun kick(conferenceId: String, externalId: String) {
        val x = externalId.utf8()
        simple(conferenceId) { p, c, e -> NA.confkit_conference_kick(p, c.bytes, c.len, x.bytes, x.len, e) }
    }

    private inline fun simple(conferenceId: String, crossinline f: (Pointer, Utf8, PointerByReference) -> Int) {
        val c = conferenceId.utf8()
        native { p -> call { f(p, c, it) } }
    }

    /**
     * Replaces another participant's permissions (owner or UPDATE_PERMISSIONS
     * holder, in the conference as a user; nobody changes their own). The
     * target's new token reaches the target only, in their
     * [Event.PermissionsUpdated]; this caller never sees it. The old one is revoked.
     */
    fun updatePermissions(conferenceId: String, externalId: String, permissions: PermissionSet) {
        val c = conferenceId.utf8()
        val x = externalId.utf8()
        native { p ->
            call { NA.confkit_conference_update_permissions(p, c.bytes, c.len, x.bytes, x.len, permissions.bits, it) }
        }
    }

    /**
     * Invites users on behalf of this user, who must be in the conference as a
     * user (listeners invite nobody). All or nothing. The results say, per
     * invitee, whether the invitation reached an open session (otherwise
     * invite again later) and the permissions granted; each invitee's token
     * reaches the invitee only, in their [Event.InvitationReceived].
     */
    fun invite(conferenceId: String, invitees: List<Invitee>): List<InviteResult> {
        val c = conferenceId.utf8()
        val listOut = PointerByReference()
        call { N.confkit_invite_list_new(listOut, it) }
        val list = listOut.value
        try {
            for (inv in invitees) {
                val x = inv.externalId.utf8()
                val has: Byte = if (inv.permissions != null) 1 else 0
                val bits = inv.permissions?.bits ?: 0
                call { N.confkit_invite_list_add(list, x.bytes, x.len, has, bits, it) }
            }
            val resultsOut = PointerByReference()
            native { p -> call { NA.confkit_conference_invite(p, c.bytes, c.len, list, resultsOut, it) } }
            return consume(resultsOut.value, { NA.confkit_invite_results_free(it) }) { readResults(it) }
        } finally {
            N.confkit_invite_list_free(list)
        }
    }

    /** Invites users with the default permissions. */
    fun invite(conferenceId: String, vararg externalIds: String): List<InviteResult> =
        invite(conferenceId, externalIds.map { Invitee(it) })

    override fun toString(): String = "Session(#$id, $externalId${if (isClosed) ", closed" else ""})"

    internal companion object {
        fun readInfo(i: Pointer): ConferenceInfo {
            val n = NA
            return ConferenceInfo(
                id = n.confkit_conference_info_id(i).cString() ?: "",
                alias = n.confkit_conference_info_alias(i).cString() ?: "",
                owner = n.confkit_conference_info_owner(i).cString() ?: "",
                isNew = n.confkit_conference_info_is_new(i).toInt() != 0,
                isProtected = n.confkit_conference_info_is_protected(i).toInt() != 0,
                participantCount = n.confkit_conference_info_participant_count(i).toLong(),
                presentCount = n.confkit_conference_info_present_count(i).toLong()
            )
        }

        fun readResults(r: Pointer): List<InviteResult> {
            val n = NA
            val len = n.confkit_invite_results_len(r).toLong()
            return (0 until len).map { idx ->
                val i = SizeT(idx)
                inviteResult(
                    n.confkit_invite_results_external_id(r, i).cString() ?: "",
                    n.confkit_invite_results_delivery(r, i),
                    n.confkit_invite_results_sessions(r, i).toLong(),
                    n.confkit_invite_results_permissions(r, i)
                )
            }
        }

        /**
         * One invite result from what the getters said. Never throws: the
         * invitations were already sent when it runs (an unknown delivery code
         * is [Delivery.UNKNOWN] with the raw code kept).
         */
        fun inviteResult(externalId: String, deliveryCode: Int, sessions: Long, permissionBits: Int): InviteResult =
            InviteResult(
                externalId = externalId,
                delivery = Delivery.fromCode(deliveryCode),
                sessions = sessions,
                permissions = PermissionSet.fromNative(permissionBits),
                deliveryCode = deliveryCode
            )
    }
}

/**
 * A conference seen through one [Session]: a snapshot [info], the owner token
 * when this session just created it, and the session's operations on it.
 * Holds no native object of its own.
 */
class Conference internal constructor(
    val session: Session,
    val info: ConferenceInfo,
    /** The owner's token (every permission) when this call created a protected conference. */
    val ownerToken: String?
) {
    val id: String get() = info.id
    val alias: String get() = info.alias
    val owner: String get() = info.owner
    val isNew: Boolean get() = info.isNew
    val isProtected: Boolean get() = info.isProtected

    /** Joins as a USER, with [ownerToken] unless another token is given. */
    @JvmOverloads
    fun join(token: String? = ownerToken): PermissionSet = session.join(id, token)

    @JvmOverloads
    fun listen(token: String? = ownerToken): PermissionSet = session.listen(id, token)

    fun report(report: MediaReport): ParticipantStatus? = session.report(id, report)
    fun reportConnected(): ParticipantStatus? = report(MediaReport.CONNECTED)
    fun reportMediaTrouble(): ParticipantStatus? = report(MediaReport.MEDIA_TROUBLE)
    fun reportRecovered(): ParticipantStatus? = report(MediaReport.RECOVERED)
    fun reportFailure(): ParticipantStatus? = report(MediaReport.FAILURE)
    fun reportIdle(): ParticipantStatus? = report(MediaReport.IDLE)

    fun leave() = session.leave(id)
    fun decline() = session.decline(id)
    fun terminate() = session.terminate(id)
    fun kick(externalId: String) = session.kick(id, externalId)
    fun updatePermissions(externalId: String, permissions: PermissionSet) =
        session.updatePermissions(id, externalId, permissions)

    fun invite(invitees: List<Invitee>): List<InviteResult> = session.invite(id, invitees)
    fun invite(vararg externalIds: String): List<InviteResult> = session.invite(id, *externalIds)

    /** A fresh snapshot of the conference. */
    fun refresh(): ConferenceInfo = session.fetchConference(id).info

    override fun toString(): String = "Conference($id, \"$alias\", protected=$isProtected)"
}

/**
 * Routes the library's listener calls to sessions. One pair of JNA callbacks
 * serves every session (JNA callbacks must stay strongly reachable while the
 * library holds them, and each costs a native trampoline); `user_data` is a
 * registration key, never a pointer. The map holds sessions weakly, so a
 * listener never keeps a forgotten session alive; the library's release
 * callback removes the key.
 */
internal object Listeners {
    private val nextKey = AtomicLong(1)
    private val sessions = ConcurrentHashMap<Long, WeakReference<Session>>()

    /** Registrations the library still holds (for tests). */
    val size: Int get() = sessions.size

    fun add(session: Session): Long {
        val key = nextKey.getAndIncrement()
        sessions[key] = WeakReference(session)
        return key
    }

    fun remove(key: Long) {
        sessions.remove(key)
    }

    @JvmField
    val CALLBACK: ListenerCallback = object : ListenerCallback {
        override fun invoke(userData: Pointer?, sessionId: Long) {
            try {
                val key = Pointer.nativeValue(userData)
                sessions[key]?.get()?.dispatchListener(key)
            } catch (t: Throwable) {
                Confkit.reportCallbackError(t)
            }
        }
    }

    @JvmField
    val RELEASE: ReleaseCallback = object : ReleaseCallback {
        override fun invoke(userData: Pointer?) {
            try {
                val key = Pointer.nativeValue(userData)
                sessions.remove(key)?.get()?.released(key)
            } catch (t: Throwable) {
                Confkit.reportCallbackError(t)
            }
        }
    }
}
