package io.confkit

import com.sun.jna.Pointer

/**
 * What one message received by a [Client] changed, for a UI to apply (see
 * [Client.receive]). One subclass per `CONFKIT_UPDATE_*` kind, with that
 * kind's fields; [Unknown] for a kind this binding does not know (a newer
 * library), or one it could not read: represented, never guessed.
 *
 * Typed fields come from the `confkit_updates_*` getters; the few the C ABI
 * has no getter for (a participant's name, avatar and type, an inviter's name,
 * an invitation's token, a request's result, an end reason, what a gap
 * received, whether a resync took a snapshot) are read from [json].
 *
 * `toString` never shows a token: token fields and token members of [json]
 * print as `<redacted>`. [json] itself is the library's text, tokens included.
 */
sealed class Update {
    /** The `CONFKIT_UPDATE_*` code. */
    abstract val kind: Int

    /** The kind's name, as in [json]'s `kind` ("participantAdded", ...). */
    abstract val kindName: String

    /** The whole update as the library's JSON (`{"kind":"participantAdded",...}`); may carry a token. */
    abstract val json: String

    /** The conference the update is about, or null for kinds about no single conference. */
    open val conferenceId: ConferenceId? get() = null

    /** Someone appeared in a conference view. */
    data class ParticipantAdded(
        override val conferenceId: ConferenceId,
        /** Who, as they are now. */
        val participant: ParticipantView,
        override val json: String
    ) : Update() {
        override val kind: Int get() = PARTICIPANT_ADDED
        override val kindName: String get() = "participantAdded"
        override fun toString() = show(
            "ParticipantAdded", "conferenceId" to conferenceId, "participant" to participant, "json" to json
        )
    }

    /** Someone changed: [participant] as they are now, and their status before. */
    data class ParticipantUpdated(
        override val conferenceId: ConferenceId,
        val participant: ParticipantView,
        /** The status before; null for a code this binding does not know (see [oldStatusCode]). */
        val oldStatus: ParticipantStatus?,
        /** The raw code of [oldStatus]. */
        val oldStatusCode: Int,
        override val json: String
    ) : Update() {
        override val kind: Int get() = PARTICIPANT_UPDATED
        override val kindName: String get() = "participantUpdated"
        override fun toString() = show(
            "ParticipantUpdated", "conferenceId" to conferenceId, "participant" to participant,
            "oldStatus" to statusText(oldStatus, oldStatusCode), "json" to json
        )
    }

    /** Someone is no longer visible in a conference view: drop them. */
    data class ParticipantRemoved(
        override val conferenceId: ConferenceId,
        val externalId: ExternalId,
        override val json: String
    ) : Update() {
        override val kind: Int get() = PARTICIPANT_REMOVED
        override val kindName: String get() = "participantRemoved"
        override fun toString() = show(
            "ParticipantRemoved", "conferenceId" to conferenceId, "externalId" to externalId, "json" to json
        )
    }

    /**
     * The user's own status in a conference changed. [oldStatusCode] is -1
     * when it was not known before (then [oldStatus] is null too); a status is
     * also null for a code this binding does not know.
     */
    data class MyStatusChanged(
        override val conferenceId: ConferenceId,
        val oldStatus: ParticipantStatus?,
        val oldStatusCode: Int,
        val newStatus: ParticipantStatus?,
        val newStatusCode: Int,
        override val json: String
    ) : Update() {
        override val kind: Int get() = MY_STATUS_CHANGED
        override val kindName: String get() = "myStatusChanged"
        override fun toString() = show(
            "MyStatusChanged", "conferenceId" to conferenceId,
            "oldStatus" to (if (oldStatusCode == -1) "null" else statusText(oldStatus, oldStatusCode)),
            "newStatus" to statusText(newStatus, newStatusCode), "json" to json
        )
    }

    /** The user's permissions in a conference changed (see also [Client.may]). */
    data class MyPermissionsChanged(
        override val conferenceId: ConferenceId,
        val permissions: PermissionSet,
        override val json: String
    ) : Update() {
        override val kind: Int get() = MY_PERMISSIONS_CHANGED
        override val kindName: String get() = "myPermissionsChanged"
        override fun toString() = show(
            "MyPermissionsChanged", "conferenceId" to conferenceId, "permissions" to permissions, "json" to json
        )
    }

    /** This session is no longer connected to the conference (left, kicked, switched, or it ended). */
    data class NoLongerIn(override val conferenceId: ConferenceId, override val json: String) : Update() {
        override val kind: Int get() = NO_LONGER_IN
        override val kindName: String get() = "noLongerIn"
        override fun toString() = show("NoLongerIn", "conferenceId" to conferenceId, "json" to json)
    }

    /** The conference was destroyed. */
    data class ConferenceEnded(
        override val conferenceId: ConferenceId,
        val reason: EndReason,
        override val json: String
    ) : Update() {
        override val kind: Int get() = CONFERENCE_ENDED
        override val kindName: String get() = "conferenceEnded"
        override fun toString() = show(
            "ConferenceEnded", "conferenceId" to conferenceId, "reason" to reason, "json" to json
        )
    }

    /** An invitation arrived; its token, if any, was verified offline by the client. It is in [Client.inbox] too. */
    data class InvitationReceived(val invitation: Invitation, override val json: String) : Update() {
        override val conferenceId: ConferenceId get() = invitation.conferenceId
        override val kind: Int get() = INVITATION_RECEIVED
        override val kindName: String get() = "invitationReceived"
        override fun toString() = show("InvitationReceived", "invitation" to invitation, "json" to json)
    }

    /**
     * The reply to request [requestNumber] (an [Outgoing.requestNumber];
     * [requestId] is its wire id, "c" + the number): it succeeded, with the
     * result object [resultJson] (exactly as the server wrote it; a join's
     * result carries the roster and, for a protected conference, the token).
     */
    data class RequestSucceeded(
        val requestNumber: Long,
        val requestId: String,
        val resultJson: String,
        override val json: String
    ) : Update() {
        override val kind: Int get() = REQUEST_SUCCEEDED
        override val kindName: String get() = "requestSucceeded"
        override fun toString() = show(
            "RequestSucceeded", "requestNumber" to requestNumber, "requestId" to requestId,
            "resultJson" to resultJson, "json" to json
        )
    }

    /**
     * The reply to request [requestNumber]: it failed. [requestNumber] is 0 and
     * [requestId] null when the server could not read the request's id.
     * [status] is the typed code ([errorCode] the raw one), [reason] the
     * library's stable name for the code (`TOKEN_REVOKED`, ...; "UNKNOWN" for a
     * code it does not know) and [description] the server's text.
     */
    data class RequestFailed(
        val requestNumber: Long,
        val requestId: String?,
        val status: ConfkitStatus,
        val errorCode: Int,
        val reason: String,
        val description: String,
        override val json: String
    ) : Update() {
        override val kind: Int get() = REQUEST_FAILED
        override val kindName: String get() = "requestFailed"
        override fun toString() = show(
            "RequestFailed", "requestNumber" to requestNumber, "requestId" to requestId, "status" to status,
            "errorCode" to errorCode, "reason" to reason, "description" to description, "json" to json
        )
    }

    /** An event already applied arrived again: nothing changed. */
    data class Duplicate(val sequence: Long, override val json: String) : Update() {
        override val kind: Int get() = DUPLICATE
        override val kindName: String get() = "duplicate"
        override fun toString() = show("Duplicate", "sequence" to sequence, "json" to json)
    }

    /** A reply to a request already answered arrived again: nothing changed. */
    data class DuplicateReply(val requestNumber: Long, val requestId: String, override val json: String) : Update() {
        override val kind: Int get() = DUPLICATE_REPLY
        override val kindName: String get() = "duplicateReply"
        override fun toString() = show(
            "DuplicateReply", "requestNumber" to requestNumber, "requestId" to requestId, "json" to json
        )
    }

    /**
     * Events are missing: the client needed [expected] next and got
     * [received]. It applies no event until the reply to
     * [Client.resyncRequest] arrives ([Client.isStalled]): send it.
     */
    data class Gap(val expected: Long, val received: Long, override val json: String) : Update() {
        override val kind: Int get() = GAP
        override val kindName: String get() = "gap"
        override fun toString() = show("Gap", "expected" to expected, "received" to received, "json" to json)
    }

    /** An event of a type the library does not know ([type]) was skipped; [sequence] still counts. */
    data class Skipped(val sequence: Long, val type: String, override val json: String) : Update() {
        override val kind: Int get() = SKIPPED
        override val kindName: String get() = "skipped"
        override fun toString() = show("Skipped", "sequence" to sequence, "type" to type, "json" to json)
    }

    /** A resync brought the views back in step, from a [snapshot] or from the missed events. */
    data class Resynced(val snapshot: Boolean, override val json: String) : Update() {
        override val kind: Int get() = RESYNCED
        override val kindName: String get() = "resynced"
        override fun toString() = show("Resynced", "snapshot" to snapshot, "json" to json)
    }

    /**
     * An update this binding cannot represent as its typed class: a [kind] it
     * does not know (a newer library; [unreadable] is null), or a known kind
     * whose fields it could not read ([unreadable] says why). Everything is
     * in [json]. Never dropped, never guessed.
     */
    data class Unknown(
        override val kind: Int,
        override val json: String,
        val unreadable: String? = null
    ) : Update() {
        /** The JSON's `kind`, or "unknown" when the JSON has none. */
        override val kindName: String
            get() = try {
                MiniJson.obj(json)["kind"] as? String ?: "unknown"
            } catch (e: IllegalArgumentException) {
                "unknown"
            }

        override fun toString() = show("Unknown", "kind" to kind, "unreadable" to unreadable, "json" to json)
    }

    /** What the `confkit_updates_*` getters say about one update. */
    internal data class Raw(
        val kind: Int,
        val json: String,
        val conferenceId: String? = null,
        val externalId: String? = null,
        val oldStatus: Int = -1,
        val newStatus: Int = -1,
        val permissions: Int = 0,
        val requestId: String? = null,
        val requestNumber: Long = 0,
        val errorCode: Int = 0,
        /** `confkit_status_name(errorCode)`. */
        val errorName: String? = null,
        val text: String? = null,
        val sequence: Long = 0
    ) {
        override fun toString() = "Update.Raw(kind=$kind, json=${Redact.text(json)})"
    }

    companion object {
        /** `CONFKIT_UPDATE_PARTICIPANT_ADDED` */
        const val PARTICIPANT_ADDED = 1
        /** `CONFKIT_UPDATE_PARTICIPANT_UPDATED` */
        const val PARTICIPANT_UPDATED = 2
        /** `CONFKIT_UPDATE_PARTICIPANT_REMOVED` */
        const val PARTICIPANT_REMOVED = 3
        /** `CONFKIT_UPDATE_MY_STATUS_CHANGED` */
        const val MY_STATUS_CHANGED = 4
        /** `CONFKIT_UPDATE_MY_PERMISSIONS_CHANGED` */
        const val MY_PERMISSIONS_CHANGED = 5
        /** `CONFKIT_UPDATE_NO_LONGER_IN` */
        const val NO_LONGER_IN = 6
        /** `CONFKIT_UPDATE_CONFERENCE_ENDED` */
        const val CONFERENCE_ENDED = 7
        /** `CONFKIT_UPDATE_INVITATION_RECEIVED` */
        const val INVITATION_RECEIVED = 8
        /** `CONFKIT_UPDATE_REQUEST_SUCCEEDED` */
        const val REQUEST_SUCCEEDED = 9
        /** `CONFKIT_UPDATE_REQUEST_FAILED` */
        const val REQUEST_FAILED = 10
        /** `CONFKIT_UPDATE_DUPLICATE` */
        const val DUPLICATE = 11
        /** `CONFKIT_UPDATE_DUPLICATE_REPLY` */
        const val DUPLICATE_REPLY = 12
        /** `CONFKIT_UPDATE_GAP` */
        const val GAP = 13
        /** `CONFKIT_UPDATE_SKIPPED` */
        const val SKIPPED = 14
        /** `CONFKIT_UPDATE_RESYNCED` */
        const val RESYNCED = 15

        private fun statusText(status: ParticipantStatus?, code: Int): String = status?.name ?: "UNKNOWN($code)"

        /** Copies every update of a native list (the caller frees it). Never throws for an update's content. */
        internal fun listFromNative(list: Pointer): List<Update> {
            val n = N
            val len = n.confkit_updates_len(list).toLong()
            val out = ArrayList<Update>(len.toInt())
            for (idx in 0 until len) {
                val i = SizeT(idx)
                val kind = n.confkit_updates_kind(list, i)
                val errorCode = n.confkit_updates_error_code(list, i)
                out.add(
                    fromRaw(
                        Raw(
                            kind = kind,
                            json = n.confkit_updates_json(list, i).cString() ?: "",
                            conferenceId = n.confkit_updates_conference_id(list, i).cString(),
                            externalId = n.confkit_updates_external_id(list, i).cString(),
                            oldStatus = n.confkit_updates_old_status(list, i),
                            newStatus = n.confkit_updates_new_status(list, i),
                            permissions = n.confkit_updates_permissions(list, i),
                            requestId = n.confkit_updates_request_id(list, i).cString(),
                            requestNumber = n.confkit_updates_request_number(list, i),
                            errorCode = errorCode,
                            errorName = if (kind == REQUEST_FAILED) Confkit.statusName(errorCode) else null,
                            text = n.confkit_updates_text(list, i).cString(),
                            sequence = n.confkit_updates_sequence(list, i)
                        )
                    )
                )
            }
            return java.util.Collections.unmodifiableList(out)
        }

        /**
         * The typed update for what the getters said. Makes no native call, so
         * tests can feed it any kind; never throws: a kind this binding does not
         * know, or one it cannot read, is [Unknown].
         */
        internal fun fromRaw(r: Raw): Update = try {
            typed(r)
        } catch (e: Unreadable) {
            Unknown(r.kind, r.json, e.message)
        } catch (e: RuntimeException) {
            Unknown(r.kind, r.json, "cannot read the update: $e")
        }

        private fun typed(r: Raw): Update {
            val json = r.json
            val docCache = arrayOfNulls<Map<String, Any?>>(1)
            fun doc(): Map<String, Any?> = docCache[0] ?: try {
                MiniJson.obj(json)
            } catch (ex: IllegalArgumentException) {
                throw Unreadable("its JSON cannot be read (${ex.message})")
            }.also { docCache[0] = it }

            fun conf(): ConferenceId =
                ConferenceId(r.conferenceId ?: throw Unreadable("kind ${r.kind} without a conference ID"))
            fun externalId(): ExternalId =
                ExternalId(r.externalId ?: throw Unreadable("kind ${r.kind} without an external ID"))
            fun requestId(): String = r.requestId ?: throw Unreadable("kind ${r.kind} without a request id")
            fun participant(): ParticipantView {
                val p = doc().objAt("participant")
                return ParticipantView(
                    externalId = externalId(),
                    name = p.string("name"),
                    avatarUrl = p.optString("avatarUrl"),
                    status = ParticipantStatus.fromCode(r.newStatus),
                    statusCode = r.newStatus,
                    type = ParticipantType.fromName(p.string("type")),
                    permissions = PermissionSet.fromNative(r.permissions)
                )
            }

            return when (r.kind) {
                PARTICIPANT_ADDED -> ParticipantAdded(conf(), participant(), json)
                PARTICIPANT_UPDATED -> ParticipantUpdated(
                    conf(), participant(), ParticipantStatus.fromCode(r.oldStatus), r.oldStatus, json
                )
                PARTICIPANT_REMOVED -> ParticipantRemoved(conf(), externalId(), json)
                MY_STATUS_CHANGED -> MyStatusChanged(
                    conf(), ParticipantStatus.fromCode(r.oldStatus), r.oldStatus,
                    ParticipantStatus.fromCode(r.newStatus), r.newStatus, json
                )
                MY_PERMISSIONS_CHANGED -> MyPermissionsChanged(conf(), PermissionSet.fromNative(r.permissions), json)
                NO_LONGER_IN -> NoLongerIn(conf(), json)
                CONFERENCE_ENDED -> ConferenceEnded(
                    conf(),
                    when (doc().string("reason")) {
                        "TERMINATED" -> EndReason.TERMINATED
                        "EXPIRED" -> EndReason.EXPIRED
                        else -> EndReason.UNKNOWN
                    },
                    json
                )
                INVITATION_RECEIVED -> {
                    val d = doc()
                    val inviter = d.objAt("inviter")
                    InvitationReceived(
                        Invitation(
                            conferenceId = conf(),
                            alias = r.text ?: throw Unreadable("an invitation without an alias"),
                            inviter = externalId(),
                            inviterName = inviter.string("name"),
                            token = d.optString("token"),
                            // The getter says 0 both for "none granted" and "none carried": JSON tells them apart.
                            permissions = if (d["permissions"] != null) PermissionSet.fromNative(r.permissions) else null
                        ),
                        json
                    )
                }
                REQUEST_SUCCEEDED -> RequestSucceeded(
                    r.requestNumber, requestId(),
                    MiniJson.rawMember(json, "result") ?: throw Unreadable("a success without a result"), json
                )
                REQUEST_FAILED -> RequestFailed(
                    r.requestNumber, r.requestId, ConfkitStatus.fromCode(r.errorCode), r.errorCode,
                    r.errorName ?: throw Unreadable("a failure without its status name"),
                    r.text ?: throw Unreadable("a failure without a description"), json
                )
                DUPLICATE -> Duplicate(r.sequence, json)
                DUPLICATE_REPLY -> DuplicateReply(r.requestNumber, requestId(), json)
                GAP -> Gap(r.sequence, doc().long("received"), json)
                SKIPPED -> Skipped(r.sequence, r.text ?: throw Unreadable("a skipped event without its type"), json)
                RESYNCED -> Resynced(doc().bool("snapshot"), json)
                else -> Unknown(r.kind, json)
            }
        }
    }
}
