package io.confkit

import com.sun.jna.Pointer
import com.sun.jna.ptr.PointerByReference
import java.util.Collections
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.Executor
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.locks.ReentrantLock
import kotlin.concurrent.withLock

/**
 * A request built by a [Client], ready for the host's transport: send [bytes]
 * to the app server, which hands them to [Session.handleMessage]. The reply
 * comes back to [Client.receive] as a [Update.RequestSucceeded] or
 * [Update.RequestFailed] carrying the same [requestNumber]. Resend the same
 * bytes to retransmit (a repeated reply is an [Update.DuplicateReply]).
 *
 * [toString] shows the number and the size, never the bytes (a join request
 * carries a token).
 */
class Outgoing(
    /** The message, one line of JSON (UTF-8). */
    val bytes: ByteArray,
    /** The request's number (1, 2, ... per client); its wire id is [requestId]. */
    val requestNumber: Long
) {
    /** The id on the wire: "c" followed by [requestNumber]. */
    val requestId: String get() = "c$requestNumber"

    override fun equals(other: Any?): Boolean =
        other is Outgoing && other.requestNumber == requestNumber && other.bytes.contentEquals(bytes)

    override fun hashCode(): Int = 31 * requestNumber.hashCode() + bytes.contentHashCode()

    override fun toString(): String = "Outgoing($requestId, ${bytes.size} bytes)"
}

/** What the media layer saw, for [Client.mediaStateRequest] (`CONFKIT_MEDIA_*`). */
enum class MediaState(val code: Int) {
    /** The media connection is up (CONNECTING → ON_AIR). */
    CONNECTED(0),
    /** It failed (→ ERROR). */
    FAILURE(1),
    /** Trouble (ON_AIR → WARNING). */
    WARNING(2),
    /** The trouble is over (WARNING → ON_AIR). */
    RECOVERED(3)
}

/** A participant as a [Client]'s view (or an update) shows them. */
data class ParticipantView(
    val externalId: ExternalId,
    val name: String,
    val avatarUrl: String?,
    /** Where they stand; null for a status code this binding does not know (see [statusCode]). */
    val status: ParticipantStatus?,
    /** The raw `CONFKIT_PARTICIPANT_STATUS_*` code. */
    val statusCode: Int,
    val type: ParticipantType,
    val permissions: PermissionSet
)

/**
 * A copy of one conference as a [Client] sees it, taken when
 * [Client.conferences] or [Client.conference] was called (it does not change
 * afterwards).
 */
data class ConferenceView(
    val conferenceId: ConferenceId,
    /** The alias, or null when the client has not heard it yet. */
    val alias: String?,
    /** Whether this session is connected to the conference now. */
    val joined: Boolean,
    /** Whether the conference was destroyed. */
    val ended: Boolean,
    /**
     * The user's status; null when not known ([myStatusCode] -1) or a code
     * this binding does not know (see [myStatusCode]).
     */
    val myStatus: ParticipantStatus?,
    /** The raw code of [myStatus], -1 when not known. */
    val myStatusCode: Int,
    /** The user's permissions as the server last sent them ([Client.may] answers from the verified token). */
    val myPermissions: PermissionSet,
    /** Everyone visible (LEFT, KICKED and DECLINE included), ordered by external ID. Immutable. */
    val participants: List<ParticipantView>,
    /**
     * The newest token verified for this conference (from a join's roster, a
     * snapshot, a permission update or a refresh): the one to join with
     * again; null when none. Invitations' tokens are in [Client.inbox].
     */
    val token: String? = null
) {
    /** The participant with this external ID, or null. */
    fun participant(externalId: ExternalId): ParticipantView? = participants.firstOrNull { it.externalId == externalId }

    override fun toString() = show(
        "ConferenceView", "conferenceId" to conferenceId, "alias" to alias, "joined" to joined,
        "ended" to ended, "myStatus" to myStatus, "myStatusCode" to myStatusCode,
        "myPermissions" to myPermissions, "participants" to participants, "token" to Redact.token(token)
    )
}

/**
 * An invitation in a [Client]'s inbox (or in an [Update.InvitationReceived]).
 * [token] (protected conferences) was verified offline; join with it, e.g.
 * [Client.joinRequest] with this invitation. [toString] shows no token.
 */
data class Invitation(
    val conferenceId: ConferenceId,
    val alias: String,
    /** Who invited. */
    val inviter: ExternalId,
    val inviterName: String,
    /** The token to join with (protected conferences), or null. */
    val token: String?,
    /** What it grants (protected conferences), or null. */
    val permissions: PermissionSet?
) {
    override fun toString() = show(
        "Invitation", "conferenceId" to conferenceId, "alias" to alias, "inviter" to inviter,
        "inviterName" to inviterName, "token" to Redact.token(token), "permissions" to permissions
    )
}

/**
 * A device's replica of the user's session: it builds the user's requests as
 * bytes, reads the bytes the server sends ([receive]) into [Update]s and
 * views, and answers "may I?" ([may]) from the newest token it verified
 * offline. No network and no thread of its own: the host carries the bytes
 * both ways, from whatever thread or run loop it likes.
 *
 * Thread-safe: calls from several threads are serialized natively; [receive]
 * and the multi-part reads ([conferences], [inbox]) also exclude each other,
 * so a read never mixes two states. Like every object of the binding it is
 * [AutoCloseable]: [close] is idempotent and frees the native client (after
 * waiting for calls in flight on other threads), calls after it throw
 * `IllegalStateException("Client is closed")`, and a forgotten client is
 * freed by the binding's cleaner.
 *
 * @param externalId the user this device belongs to.
 * @param verifier the keys to verify the server's tokens with, e.g.
 *   `Verifier.fromJwks(jwksFromTheAppServer)`. Copied: it may be closed afterwards.
 * @param clock a [ManualClock] to check token times against, or null for the
 *   system clock. Shared with the client (setting it moves the client's time
 *   too); it may be closed before the client.
 */
class Client @JvmOverloads constructor(
    val externalId: ExternalId,
    verifier: Verifier,
    /** The manual clock the client checks tokens against, if any. */
    val clock: ManualClock? = null
) : NativeObject(newClient(externalId, verifier, clock), "Client", { N.confkit_client_free(it) }) {

    /** The same, with the external ID as text (validated as [ExternalId]). */
    @JvmOverloads
    constructor(externalId: String, verifier: Verifier, clock: ManualClock? = null) :
        this(ExternalId(externalId), verifier, clock)

    /** Held by receive and by reads made of several native calls. */
    private val stateLock = ReentrantLock()

    @Volatile private var delivery: UpdateDelivery? = null

    // ----- requests -----

    /** Create a conference (the reply's result has `conference`, `isNew` and, protected, `ownerToken`). */
    @JvmOverloads
    fun createRequest(alias: String, options: ConferenceOptions = ConferenceOptions()): Outgoing {
        val a = alias.utf8()
        val o = options.toNative()
        return request { p, m, r, e -> N.confkit_client_create(p, a.bytes, a.len, o, m, r, e) }
    }

    /** Look a live conference up by alias (ignoring case). */
    fun fetchRequest(alias: String): Outgoing {
        val a = alias.utf8()
        return request { p, m, r, e -> N.confkit_client_fetch(p, a.bytes, a.len, m, r, e) }
    }

    /** Join as a user; [token] is required for protected conferences. */
    @JvmOverloads
    fun joinRequest(conferenceId: ConferenceId, token: String? = null): Outgoing {
        val c = conferenceId.value.utf8()
        val t = token.utf8()
        return request { p, m, r, e -> N.confkit_client_join(p, c.bytes, c.len, t.bytes, t.len, m, r, e) }
    }

    /** Join the invitation's conference as a user, with its token. */
    fun joinRequest(invitation: Invitation): Outgoing = joinRequest(invitation.conferenceId, invitation.token)

    /** Join as a listener (receives only). */
    @JvmOverloads
    fun listenRequest(conferenceId: ConferenceId, token: String? = null): Outgoing {
        val c = conferenceId.value.utf8()
        val t = token.utf8()
        return request { p, m, r, e -> N.confkit_client_listen(p, c.bytes, c.len, t.bytes, t.len, m, r, e) }
    }

    /** Report what the media layer saw. */
    fun mediaStateRequest(conferenceId: ConferenceId, state: MediaState): Outgoing {
        val c = conferenceId.value.utf8()
        return request { p, m, r, e -> N.confkit_client_media_state(p, c.bytes, c.len, state.code, m, r, e) }
    }

    /** Leave the conference. */
    fun leaveRequest(conferenceId: ConferenceId): Outgoing {
        val c = conferenceId.value.utf8()
        return request { p, m, r, e -> N.confkit_client_leave(p, c.bytes, c.len, m, r, e) }
    }

    /** Decline the invitation to the conference. */
    fun declineRequest(conferenceId: ConferenceId): Outgoing {
        val c = conferenceId.value.utf8()
        return request { p, m, r, e -> N.confkit_client_decline(p, c.bytes, c.len, m, r, e) }
    }

    /** End the conference (its owner). */
    fun terminateRequest(conferenceId: ConferenceId): Outgoing {
        val c = conferenceId.value.utf8()
        return request { p, m, r, e -> N.confkit_client_terminate(p, c.bytes, c.len, m, r, e) }
    }

    /** Invite users (null permissions: the default set). */
    fun inviteRequest(conferenceId: ConferenceId, invitees: List<Invitee>): Outgoing {
        val c = conferenceId.value.utf8()
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
            return request { p, m, r, e -> N.confkit_client_invite(p, c.bytes, c.len, list, m, r, e) }
        } finally {
            N.confkit_invite_list_free(list)
        }
    }

    /** Invite users with the default permissions. */
    fun inviteRequest(conferenceId: ConferenceId, vararg externalIds: ExternalId): Outgoing =
        inviteRequest(conferenceId, externalIds.map { Invitee(it) })

    /** Remove a participant. */
    fun kickRequest(conferenceId: ConferenceId, externalId: ExternalId): Outgoing {
        val c = conferenceId.value.utf8()
        val x = externalId.value.utf8()
        return request { p, m, r, e -> N.confkit_client_kick(p, c.bytes, c.len, x.bytes, x.len, m, r, e) }
    }

    /** Replace a participant's permissions. */
    fun updatePermissionsRequest(conferenceId: ConferenceId, externalId: ExternalId, permissions: PermissionSet): Outgoing {
        val c = conferenceId.value.utf8()
        val x = externalId.value.utf8()
        return request { p, m, r, e ->
            N.confkit_client_update_permissions(p, c.bytes, c.len, x.bytes, x.len, permissions.bits, m, r, e)
        }
    }

    /** Nothing but "this device is still here" (send one within the platform's idle time when idle). */
    fun keepAliveRequest(): Outgoing = request { p, m, r, e -> N.confkit_client_keep_alive(p, m, r, e) }

    /**
     * Resynchronise, after an [Update.Gap] or a reconnect: the reply brings the
     * missed events or one snapshot, then an [Update.Resynced].
     */
    fun resyncRequest(): Outgoing = request { p, m, r, e -> N.confkit_client_resync(p, m, r, e) }

    private inline fun request(crossinline f: (Pointer, Pointer, LongArray, PointerByReference) -> Int): Outgoing {
        val message = BufferOut()
        val number = LongArray(1)
        native { p -> call { f(p, message.out, number, it) } }
        return Outgoing(message.take(), number[0])
    }

    // ----- receiving -----

    /**
     * Reads one message from the server (a reply or an event, as
     * [Session.handleMessage] / [Session.nextMessage] made it) and applies it.
     * Returns what changed, in order (possibly nothing), as an immutable list;
     * the same list also goes to the update listener, if one is set (see
     * [setUpdateListener]).
     *
     * A refused message (not this protocol, over `CONFKIT_MAX_MESSAGE_BYTES`,
     * a token that fails offline verification) throws [ConfkitException] and
     * changes nothing. Once the message is applied this never throws: an
     * update this binding cannot read is an [Update.Unknown].
     */
    fun receive(message: ByteArray): List<Update> {
        val updates: List<Update>
        val target: UpdateDelivery?
        stateLock.lock()
        try {
            val out = PointerByReference()
            native { p ->
                call { N.confkit_client_receive(p, message, SizeT(message.size.toLong()), out, it) }
            }
            updates = consume(out.value, { N.confkit_updates_free(it) }) { Update.listFromNative(it) }
            target = delivery
            // Queued under the lock, so batches queue in the order they were applied.
            if (updates.isNotEmpty()) target?.enqueue(updates)
        } finally {
            stateLock.unlock()
        }
        // Handed to the executor outside every lock and native call.
        if (updates.isNotEmpty()) target?.schedule()
        return updates
    }

    /**
     * Sets the listener that is handed the updates of every [receive] call
     * (replacing any earlier one). Precisely:
     *
     * - **What**: after each [receive] that returned at least one update, that
     *   same list (one batch) is passed to [listener]. [receive] still returns
     *   it: the listener is told what receive returned, as well as, not instead
     *   of, the return value. Empty results are not delivered. Nothing else
     *   produces updates: the client has no thread of its own, so updates come
     *   only when the host calls [receive].
     * - **Where**: always in a task run by [executor] (on Android,
     *   `ContextCompat.getMainExecutor(context)` for the main thread; a
     *   single-thread executor for a worker). With a direct executor
     *   (`Executor { it.run() }`) the listener runs on a thread that called
     *   [receive], after the native call and with no confkit lock held, so it
     *   may call the client back (receive, views, requests, even [close]). When
     *   another thread is already delivering (several threads call [receive],
     *   or the listener itself calls it), that delivery hands the batch over
     *   instead, so a [receive] may return before its batch was delivered.
     * - **Order**: batches are delivered one at a time, in the order the client
     *   applied them (also when several threads call [receive], and also with a
     *   multi-threaded executor): at most one delivery task of this client runs
     *   at a time, and one task may hand over several queued batches in turn.
     *   The listener is never called concurrently with itself.
     * - **Replacing, clearing, closing**: updates received after this call
     *   returns go to [listener]. Batches queued for an earlier listener and not
     *   yet handed to it are dropped (the views already reflect them; a call
     *   already running finishes). [clearUpdateListener] and [close] do the same
     *   without a new listener.
     * - **Errors**: an exception thrown by [listener] goes to
     *   [Confkit.callbackErrorHandler]; delivery goes on with the next batch. If
     *   [executor] rejects the task, the rejection goes there too, [receive]
     *   still returns normally (the message was applied), and the batch stays
     *   queued, to be delivered before the next batch when a later [receive]
     *   schedules delivery again.
     *
     * Throws `IllegalStateException("Client is closed")` after [close].
     */
    fun setUpdateListener(executor: Executor, listener: (List<Update>) -> Unit) {
        native {
            stateLock.withLock {
                delivery?.cancel()
                delivery = UpdateDelivery(executor, listener)
            }
        }
    }

    /** Removes the update listener (see [setUpdateListener]); queued batches not yet handed over are dropped. */
    fun clearUpdateListener() {
        native {
            stateLock.withLock {
                delivery?.cancel()
                delivery = null
            }
        }
    }

    /**
     * Numbers the next request [number] (its wire id "c" followed by it), and the later ones from there.
     * A new client starts at a random number, so that an app restarted on the same session never reuses
     * its predecessor's ids (the server answers a remembered id with the old reply). Set one only to
     * replay a recorded exchange, in tests, or to go on with a count the app keeps; call it before the
     * first request. A [number] below 1 throws [ConfkitException] with INVALID_ARGUMENT.
     */
    fun setNextRequestNumber(number: Long) {
        native { p -> call { N.confkit_client_set_next_request_number(p, number, it) } }
    }

    // ----- state -----

    /** The last event sequence number the client applied. */
    val lastSequence: Long get() = native { N.confkit_client_last_sequence(it) }

    /** Whether the client waits for a resync reply (after an [Update.Gap] it applies no event until then). */
    val isStalled: Boolean get() = native { N.confkit_client_is_stalled(it).toInt() != 0 }

    /**
     * Whether the user may do [permission] in the conference now: from the
     * newest token verified offline in a protected conference (while it is
     * valid), from what the server sent in an unprotected one. False for a
     * conference the client is not in.
     */
    fun may(conferenceId: ConferenceId, permission: Permission): Boolean {
        val c = conferenceId.value.utf8()
        return native { N.confkit_client_may(it, c.bytes, c.len, permission.bit).toInt() != 0 }
    }

    /** Every conference the client has heard of, ordered by ID: copies, immutable. */
    fun conferences(): List<ConferenceView> = stateLock.withLock {
        native { p ->
            val count = N.confkit_client_view_count(p).toLong()
            val views = (0 until count).map { i ->
                val out = PointerByReference()
                call { N.confkit_client_view_at(p, SizeT(i), out, it) }
                consume(out.value, { N.confkit_view_free(it) }) { readView(it) }
            }
            Collections.unmodifiableList(views)
        }
    }

    /** A copy of one conference's view, or null when the client never heard of it. */
    fun conference(conferenceId: ConferenceId): ConferenceView? {
        val c = conferenceId.value.utf8()
        val out = PointerByReference()
        try {
            native { p -> call { N.confkit_client_view(p, c.bytes, c.len, out, it) } }
        } catch (e: ConfkitException) {
            if (e.status == ConfkitStatus.CONFERENCE_NOT_FOUND) return null
            throw e
        }
        return consume(out.value, { N.confkit_view_free(it) }) { readView(it) }
    }

    /** The invitations received, oldest first (at most `CONFKIT_MAX_INBOX`, the oldest go first): copies. */
    fun inbox(): List<Invitation> = stateLock.withLock {
        native { p ->
            val count = N.confkit_client_inbox_len(p).toLong()
            val invitations = (0 until count).map { i ->
                val out = PointerByReference()
                call { N.confkit_client_inbox_at(p, SizeT(i), out, it) }
                consume(out.value, { N.confkit_invitation_free(it) }) { readInvitation(it) }
            }
            Collections.unmodifiableList(invitations)
        }
    }

    /** Frees the native client; queued update batches not yet handed to the listener are dropped. Idempotent. */
    override fun close() {
        delivery?.cancel()
        super.close()
    }

    override fun toString(): String = "Client($externalId${if (isClosed) ", closed" else ""})"

    private companion object {
        fun newClient(externalId: ExternalId, verifier: Verifier, clock: ManualClock?): Pointer {
            val x = externalId.value.utf8()
            val out = PointerByReference()
            verifier.native { v ->
                if (clock != null) {
                    clock.native { c -> call { N.confkit_client_new(x.bytes, x.len, v, c, out, it) } }
                } else {
                    call { N.confkit_client_new(x.bytes, x.len, v, null, out, it) }
                }
            }
            return out.value
        }

        fun readView(v: Pointer): ConferenceView {
            val n = N
            val count = n.confkit_view_participant_count(v).toLong()
            val people = (0 until count).map { idx ->
                val i = SizeT(idx)
                val status = n.confkit_view_participant_status(v, i)
                ParticipantView(
                    externalId = ExternalId(n.confkit_view_participant_external_id(v, i).cString() ?: ""),
                    name = n.confkit_view_participant_name(v, i).cString() ?: "",
                    avatarUrl = n.confkit_view_participant_avatar_url(v, i).cString(),
                    status = ParticipantStatus.fromCode(status),
                    statusCode = status,
                    type = ParticipantType.fromCode(n.confkit_view_participant_type(v, i)),
                    permissions = PermissionSet.fromNative(n.confkit_view_participant_permissions(v, i))
                )
            }
            val my = n.confkit_view_my_status(v)
            return ConferenceView(
                conferenceId = ConferenceId(n.confkit_view_conference_id(v).cString() ?: ""),
                alias = n.confkit_view_alias(v).cString(),
                joined = n.confkit_view_joined(v).toInt() != 0,
                ended = n.confkit_view_ended(v).toInt() != 0,
                myStatus = ParticipantStatus.fromCode(my),
                myStatusCode = my,
                myPermissions = PermissionSet.fromNative(n.confkit_view_my_permissions(v)),
                participants = Collections.unmodifiableList(people),
                token = n.confkit_view_token(v).cString()
            )
        }

        fun readInvitation(i: Pointer): Invitation {
            val n = N
            return Invitation(
                conferenceId = ConferenceId(n.confkit_invitation_conference_id(i).cString() ?: ""),
                alias = n.confkit_invitation_alias(i).cString() ?: "",
                inviter = ExternalId(n.confkit_invitation_inviter_id(i).cString() ?: ""),
                inviterName = n.confkit_invitation_inviter_name(i).cString() ?: "",
                token = n.confkit_invitation_token(i).cString(),
                permissions = if (n.confkit_invitation_has_permissions(i).toInt() != 0) {
                    PermissionSet.fromNative(n.confkit_invitation_permissions(i))
                } else {
                    null
                }
            )
        }
    }
}

/**
 * Hands a client's update batches to one listener through its executor, one
 * batch at a time and in order (a serial queue over any executor).
 */
internal class UpdateDelivery(
    private val executor: Executor,
    private val listener: (List<Update>) -> Unit
) : Runnable {
    private val queue = ConcurrentLinkedQueue<List<Update>>()
    private val scheduled = AtomicBoolean(false)
    @Volatile private var cancelled = false

    fun enqueue(batch: List<Update>) {
        if (!cancelled) queue.add(batch)
    }

    /** Makes sure a task will hand over what is queued (at most one task at a time). */
    fun schedule() {
        if (cancelled || queue.isEmpty() || !scheduled.compareAndSet(false, true)) return
        try {
            executor.execute(this)
        } catch (t: Throwable) {
            // Rejected: the batches stay queued for the next schedule.
            scheduled.set(false)
            Confkit.reportCallbackError(t)
        }
    }

    override fun run() {
        try {
            while (!cancelled) {
                val batch = queue.poll() ?: break
                try {
                    listener(batch)
                } catch (t: Throwable) {
                    Confkit.reportCallbackError(t)
                }
            }
        } finally {
            scheduled.set(false)
        }
        // A batch queued after the last poll, while this task still counted as scheduled.
        schedule()
    }

    fun cancel() {
        cancelled = true
        queue.clear()
    }
}
