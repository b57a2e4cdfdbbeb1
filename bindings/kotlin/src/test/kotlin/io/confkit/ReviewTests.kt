package io.confkit

/**
 * The review's findings, each with the test that failed before its fix (the
 * first assertion of each test is the one that failed; the rest pin the new
 * representation down).
 */
object ReviewTests {
    private const val CONF = "6f1d2c3b-0000-4000-8000-000000000001"

    private fun raw(kind: Int, json: String, newStatus: Int = -1, oldStatus: Int = -1) =
        Event.Raw(kind, 3, CONF, "participantAdded", json, "bob", null, null, oldStatus, newStatus, 0x3FE, 0, 0)

    private fun participantJson(type: String = "participantAdded", body: String = """"name":"Bob","status":"RESERVED","type":"USER"""") =
        """{"sequence":3,"conferenceId":"$CONF","type":"$type","participant":{"externalId":"bob",$body,"permissions":[]}}"""

    fun register() {
        test("review: an event whose JSON cannot be read is represented, never read as empty names") {
            val broken = """{"sequence":3,"conferenceId":"$CONF","type":"participantAdded","participant":{"name":"Bob"""
            val e = Event.fromRaw(raw(4, broken, newStatus = 0))
            assertTrue(e is Event.Unknown) { "expected Unknown for unreadable JSON, got $e" }
            val u = e as Event.Unknown
            assertEq(4, u.kind, "the kind is kept")
            assertEq(broken, u.json, "the JSON is kept")
            assertEq(CONF, u.conferenceId, "the getters' fields are kept")
            assertTrue(u.unreadable?.contains("JSON cannot be read") == true) { "reason: ${u.unreadable}" }
            // Readable JSON without the name is no better: represented, not "".
            val nameless = Event.fromRaw(raw(4, participantJson(body = """"status":"RESERVED","type":"USER""""), newStatus = 0))
            assertTrue(nameless is Event.Unknown && nameless.unreadable!!.contains("\"name\"")) { "$nameless" }
            // The complete event still reads as its kind.
            val fine = Event.fromRaw(raw(4, participantJson(), newStatus = 0)) as? Event.ParticipantAdded ?: fail("kind 4")
            assertEq("Bob", fine.participant.name, "name")
            // The device half reads the same way.
            val update = Update.fromRaw(Update.Raw(Update.PARTICIPANT_ADDED, broken, CONF, "bob", -1, 0, 0))
            assertTrue(update is Update.Unknown && update.kind == 1 && update.unreadable != null) { "$update" }
            // And the mini JSON reader itself still refuses what is not JSON.
            assertThrows<IllegalArgumentException> { MiniJson.obj(broken) }
        }

        test("review: an unknown participant status is represented, never RESERVED") {
            val json = participantJson(body = """"name":"Bob","status":"LEVITATING","type":"USER"""")
            val e = Event.fromRaw(raw(4, json, newStatus = 42)) as? Event.ParticipantAdded ?: fail("kind 4")
            assertTrue(e.participant.status != ParticipantStatus.RESERVED) { "status 42 became ${e.participant.status}" }
            assertEq(null, e.participant.status, "unknown status")
            assertEq(42, e.participant.statusCode, "raw code kept")
            val updated = Event.fromRaw(raw(5, participantJson("participantUpdated"), newStatus = 1, oldStatus = 42))
                as? Event.ParticipantUpdated ?: fail("kind 5")
            assertEq(null, updated.oldStatus, "unknown old status")
            assertEq(42, updated.oldStatusCode, "old raw code")
            assertEq(ParticipantStatus.CONNECTING, updated.newStatus, "known new status")
            assertEq(1, updated.newStatusCode, "new raw code")
            // The device half: the same rule for its participant views and my status.
            val u = Update.fromRaw(Update.Raw(Update.PARTICIPANT_UPDATED, json, CONF, "bob", 43, 42, 0))
                as? Update.ParticipantUpdated ?: fail("update kind 2")
            assertTrue(u.participant.status == null && u.participant.statusCode == 42) { "${u.participant}" }
            assertTrue(u.oldStatus == null && u.oldStatusCode == 43) { "$u" }
            val mine = Update.fromRaw(Update.Raw(Update.MY_STATUS_CHANGED, "{}", CONF, null, -1, 42))
                as? Update.MyStatusChanged ?: fail("update kind 4")
            assertTrue(mine.oldStatus == null && mine.oldStatusCode == -1) { "not known before: $mine" }
            assertTrue(mine.newStatus == null && mine.newStatusCode == 42) { "unknown now: $mine" }
        }

        test("review: an unknown delivery code does not throw (the invitation was already sent)") {
            assertEq("UNKNOWN", Delivery.fromCode(9).name, "code 9")
            val r = Session.inviteResult("bob", 9, 1, 0x3FE)
            assertEq(Delivery.UNKNOWN, r.delivery, "delivery")
            assertEq(9, r.deliveryCode, "raw code kept")
            assertEq(PermissionSet.DEFAULT, r.permissions, "the rest of the result")
            for (d in Delivery.values().filter { it != Delivery.UNKNOWN }) {
                val known = Session.inviteResult("bob", d.code, 1, 0)
                assertTrue(known.delivery == d && known.deliveryCode == d.code) { "$known" }
            }
            // -1 is not a code the library sends: it maps to UNKNOWN like any other.
            assertEq(Delivery.UNKNOWN, Delivery.fromCode(-1), "code -1")
        }

        test("review: a failed setListener keeps the listener it had") {
            closing { c ->
                val platform = c.add(Platform())
                val s = c.add(platform.openSession("alice"))
                val base = Listeners.size
                val first: (Session) -> Unit = { }
                s.setListener(first)
                assertTrue(s.currentListener === first) { "set" }
                // Close the session natively only: the library then refuses set_listener
                // (and has released the first listener's registration).
                s.native { p -> call { NA.confkit_session_close(p, it) } }
                assertEq(base, Listeners.size, "released by the library")
                val second: (Session) -> Unit = { }
                expectError(ConfkitStatus.SESSION_NOT_FOUND, "") { s.setListener(second) }
                assertTrue(s.currentListener !== second) { "the failed listener was stored" }
                assertTrue(s.currentListener === first) { "the one set before stays" }
                assertEq(base, Listeners.size, "the failed registration is dropped")
            }
        }
    }
}
