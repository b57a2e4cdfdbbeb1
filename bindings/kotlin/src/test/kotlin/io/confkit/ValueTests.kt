package io.confkit

object ValueTests {
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
            assertEq(listOf(0, 1, 2, 3), Delivery.values().map { it.code }, "delivery codes")
            assertEq(listOf(2, 3, 4, 5, 6), MediaReport.values().map { it.code }, "report codes")
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
