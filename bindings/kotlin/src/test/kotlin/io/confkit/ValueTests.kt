package io.confkit

object ValueTests {
    private const val CONF = "6f1d2c3b-0000-4000-8000-000000000001"

    fun register() {
        test("values: permission bits and names are the library's") {
            for (p in Permission.values()) {
                assertEq(p.name, N.confkit_permission_name(p.bit).cString(), "name of bit ${p.bit}")
                assertEq(p, Permission.fromName(p.name), "fromName(${p.name})")
                assertEq(p, Permission.fromBit(p.bit), "fromBit(${p.bit})")
            }
            assertEq(null, N.confkit_permission_name(12).cString(), "bit 12")
            assertEq(12, Permission.values().size, "permission count")
        }

        test("values: PermissionSet is a Set<Permission> with DEFAULT and ALL") {
            assertEq(1022, PermissionSet.DEFAULT.bits, "DEFAULT bits")
            assertEq(4095, PermissionSet.ALL.bits, "ALL bits")
            val expectedDefault = setOf(
                Permission.JOIN, Permission.SEND_AUDIO, Permission.SEND_VIDEO, Permission.SHARE_SCREEN,
                Permission.SHARE_VIDEO, Permission.SHARE_FILE, Permission.SEND_MESSAGE, Permission.RECORD,
                Permission.STREAM
            )
            assertEq<Set<Permission>>(expectedDefault, PermissionSet.DEFAULT, "DEFAULT")
            assertTrue(PermissionSet.DEFAULT == expectedDefault && expectedDefault == PermissionSet.DEFAULT) {
                "Set equality both ways"
            }
            assertEq(expectedDefault.hashCode(), PermissionSet.DEFAULT.hashCode(), "hashCode")
            assertEq(Permission.values().toSet(), PermissionSet.ALL.toSet(), "ALL")
            val withInvite: PermissionSet = PermissionSet.DEFAULT + Permission.INVITE
            assertTrue(Permission.INVITE in withInvite && withInvite.size == 10) { "$withInvite" }
            assertEq(PermissionSet.DEFAULT, withInvite - Permission.INVITE, "minus")
            assertEq(PermissionSet.of(Permission.JOIN, Permission.KICK), PermissionSet.fromBits(0x402), "fromBits")
            assertEq(listOf("JOIN", "KICK"), PermissionSet.fromBits(0x402).names, "names in bit order")
            assertEq(PermissionSet.of(Permission.JOIN), PermissionSet.fromNames(listOf("JOIN")), "fromNames")
            assertTrue(PermissionSet.ALL.includes(PermissionSet.DEFAULT) && !PermissionSet.DEFAULT.includes(PermissionSet.ALL)) {
                "includes"
            }
            assertTrue(PermissionSet.EMPTY.isEmpty() && PermissionSet.EMPTY.size == 0) { "EMPTY" }
            assertEq("[JOIN, SEND_AUDIO]", PermissionSet.of(Permission.SEND_AUDIO, Permission.JOIN).toString(), "toString")
            expectError(ConfkitStatus.UNKNOWN_PERMISSION, "name no permission") { PermissionSet.fromBits(1 shl 12) }
            expectError(ConfkitStatus.UNKNOWN_PERMISSION, "TELEPORT") { Permission.fromName("TELEPORT") }
            expectError(ConfkitStatus.UNKNOWN_PERMISSION, "join") { Permission.fromName("join") }
        }

        test("values: participant status codes and names are the library's") {
            for (s in ParticipantStatus.values()) {
                assertEq(s.name, N.confkit_participant_status_name(s.code).cString(), "name of ${s.code}")
                assertEq(s, ParticipantStatus.fromName(s.name), "fromName(${s.name})")
            }
            assertEq(ParticipantStatus.ON_AIR, ParticipantStatus.fromName("CONNECTED"), "CONNECTED alias")
            assertEq(null, ParticipantStatus.fromCode(-1), "code -1")
            expectError(ConfkitStatus.INVALID_ARGUMENT, "BOGUS") { ParticipantStatus.fromName("BOGUS") }
        }

        test("values: delivery and report codes match the header") {
            assertEq(listOf(0, 1, 2, 3), Delivery.values().filter { it != Delivery.UNKNOWN }.map { it.code }, "delivery codes")
            assertEq(-1, Delivery.UNKNOWN.code, "UNKNOWN stands for codes this binding does not know")
            assertEq(listOf(2, 3, 4, 5, 6), MediaReport.values().map { it.code }, "report codes")
        }

        test("values: event kinds map to the sealed classes, new and unknown ones included") {
            fun raw(kind: Int, json: String, conf: String? = CONF, token: String? = null, perms: Int = 0,
                    ext: String? = null, exp: Long = 0, firstAvailable: Long = 0) =
                Event.Raw(kind, 7, conf, MiniJson.obj(json)["type"] as String, json, ext, null, token, -1, -1, perms,
                    exp, firstAvailable)

            val removed = Event.fromRaw(raw(8, """{"sequence":7,"conferenceId":"$CONF","type":"participantRemoved","externalId":"bob"}""", ext = "bob"))
            assertEq(Event.ParticipantRemoved(7, CONF, "participantRemoved", removed.json, "bob"), removed, "kind 8")

            val refreshedJson = """{"sequence":7,"conferenceId":"$CONF","type":"tokenRefreshed","token":"t.o.k","permissions":["JOIN"],"expiresAt":1700010000}"""
            val refreshed = Event.fromRaw(raw(9, refreshedJson, token = "t.o.k", perms = 2, exp = 1_700_010_000))
                as? Event.TokenRefreshed ?: fail("kind 9")
            assertEq("t.o.k", refreshed.token, "token")
            assertEq(PermissionSet.of(Permission.JOIN), refreshed.permissions, "permissions")
            assertEq(1_700_010_000L, refreshed.expiresAt, "expiresAt")
            assertEq(CONF, refreshed.conferenceId, "conference")

            val missedJson = """{"sequence":7,"type":"eventsMissed","firstMissedSequence":3,"firstAvailableSequence":8}"""
            val missed = Event.fromRaw(raw(10, missedJson, conf = null, firstAvailable = 8))
            assertEq(Event.EventsMissed(7, null, "eventsMissed", missedJson, 3, 8), missed, "kind 10")
            val generic: Event = missed
            assertEq(null, generic.conferenceId, "no conference for events missed")

            // A kind from a newer library: Unknown, with whatever the getters said.
            val futureJson = """{"sequence":7,"type":"somethingNew"}"""
            val future = Event.fromRaw(raw(11, futureJson, conf = null))
            assertEq(Event.Unknown(7, null, "somethingNew", futureJson, 11), future, "kind 11")
            val zero = Event.fromRaw(raw(0, """{"type":"UNKNOWN"}"""))
            assertTrue(zero is Event.Unknown && zero.kind == 0 && zero.conferenceId == CONF) { "$zero" }
            // The old kinds still narrow conferenceId to a String.
            val switched = Event.fromRaw(raw(7, """{"type":"switched","conferenceId":"$CONF"}""", ext = "bob"))
            val narrowed: String = (switched as Event.Switched).conferenceId
            assertEq(CONF, narrowed, "switched conference")
        }

        test("values: mini JSON reader") {
            val v = jsonObj("""{"a":[1,2.5,true,false,null],"b":{"c":"x\"\u00e9\n"},"d":-3}""")
            assertEq(listOf<Any?>(1L, 2.5, true, false, null), v["a"], "array")
            assertEq("x\"\u00e9\n", v.obj("b").str("c"), "string escapes")
            assertEq(-3L, v["d"], "negative")
            assertThrows<IllegalArgumentException> { MiniJson.parse("{\"a\":}") }
        }
    }
}
