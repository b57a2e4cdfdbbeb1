package io.confkit

/** Each failure comes back as a ConfkitException with its status and the library's message. */
object ErrorTests {
    private data class TwoRooms(val clock: ManualClock, val platform: Platform, val conf: Conference, val other: Conference)

    /** A platform on a manual clock (600 s tokens) and two protected conferences Alice owns. */
    private fun twoRooms(c: Closer): TwoRooms {
        val clock = c.add(ManualClock(FlowTests.START))
        val platform = c.add(Platform(FlowTests.SEED, "k1", clock, PlatformOptions(tokenTtlSecs = 600)))
        val alice = c.add(platform.openSession("alice", "Alice"))
        val conf = alice.createConference("room", ConferenceOptions(isProtected = true))
        val other = alice.createConference("other", ConferenceOptions(isProtected = true))
        return TwoRooms(clock, platform, conf, other)
    }

    const val NO_SUCH_CONFERENCE = "00000000-0000-4000-8000-000000000000"

    fun register() {
        test("errors: NOT_IN_CONFERENCE when inviting before joining") {
            closing { c ->
                val platform = c.add(Platform())
                val alice = c.add(platform.openSession("alice", "Alice"))
                val conf = alice.createConference("room", ConferenceOptions(isProtected = true))
                expectError(ConfkitStatus.NOT_IN_CONFERENCE, "alice is not in the conference: join it first") {
                    conf.invite("bob")
                }
                expectError(ConfkitStatus.NOT_IN_CONFERENCE, "join it first") { conf.kick("bob") }
            }
        }

        test("errors: NOT_ALLOWED for a missing permission, an escalation, a non-owner terminate") {
            closing { c ->
                val platform = c.add(Platform())
                val alice = c.add(platform.openSession("alice", "Alice"))
                val bob = c.add(platform.openSession("bob", "Bob"))
                val conf = alice.createConference("room", ConferenceOptions(isProtected = true))
                conf.join()
                val bobPerms = PermissionSet.of(Permission.JOIN, Permission.INVITE)
                conf.invite(listOf(Invitee("bob", bobPerms)))
                val token = bob.drainEvents().only<Event.InvitationReceived>().token!!
                bob.join(conf.id, token)
                expectError(ConfkitStatus.NOT_ALLOWED, "cannot grant [SEND_VIDEO]") {
                    bob.invite(conf.id, listOf(Invitee("carol", PermissionSet.of(Permission.JOIN, Permission.SEND_VIDEO))))
                }
                // The default set is more than bob holds too.
                expectError(ConfkitStatus.NOT_ALLOWED, "cannot grant") { bob.invite(conf.id, "carol") }
                expectError(ConfkitStatus.NOT_ALLOWED, "lacks the KICK permission") { bob.kick(conf.id, "alice") }
                expectError(ConfkitStatus.NOT_ALLOWED, "only the conference owner") { bob.terminate(conf.id) }
                // Within his own set he may invite.
                val ok = bob.invite(conf.id, listOf(Invitee("carol", PermissionSet.of(Permission.JOIN))))
                assertEq(Delivery.NO_OPEN_SESSION, ok[0].delivery, "carol has no session")
            }
        }

        test("errors: TOKEN_REVOKED after a kick, TOKEN_INVALID without a token or for another user") {
            closing { c ->
                val platform = c.add(Platform())
                val alice = c.add(platform.openSession("alice", "Alice"))
                val bob = c.add(platform.openSession("bob", "Bob"))
                val carol = c.add(platform.openSession("carol", "Carol"))
                val conf = alice.createConference("room", ConferenceOptions(isProtected = true))
                conf.join()
                conf.invite("bob")
                val token = bob.drainEvents().only<Event.InvitationReceived>().token!!
                expectError(ConfkitStatus.TOKEN_INVALID, "token is required") { bob.join(conf.id) }
                expectError(ConfkitStatus.TOKEN_INVALID, "not to \"carol\"") { carol.join(conf.id, token) }
                expectError(ConfkitStatus.TOKEN_INVALID, "compact JWS") { bob.join(conf.id, "garbage") }
                bob.join(conf.id, token)
                conf.kick("bob")
                expectError(ConfkitStatus.TOKEN_REVOKED, "revoked") { bob.join(conf.id, token) }
                expectError(ConfkitStatus.PARTICIPANT_NOT_FOUND, "zed is not a participant") { conf.kick("zed") }
            }
        }

        test("errors: NOT_ALLOWED to update one's own permissions, or for a listener to act on others") {
            closing { c ->
                val platform = c.add(Platform())
                val alice = c.add(platform.openSession("alice", "Alice"))
                val bob = c.add(platform.openSession("bob", "Bob"))
                val carol = c.add(platform.openSession("carol", "Carol"))
                val conf = alice.createConference("room", ConferenceOptions(isProtected = true))
                conf.join()
                val moderator = PermissionSet.ALL
                conf.invite(listOf(Invitee("bob", moderator), Invitee("carol")))
                val bobToken = bob.drainEvents().only<Event.InvitationReceived>().token!!
                val carolToken = carol.drainEvents().only<Event.InvitationReceived>().token!!
                bob.join(conf.id, bobToken)
                expectError(ConfkitStatus.NOT_ALLOWED, "bob cannot change their own permissions") {
                    bob.updatePermissions(conf.id, "bob", PermissionSet.DEFAULT)
                }
                carol.join(conf.id, carolToken)
                // Bob (every permission) switched to listening acts on nobody.
                bob.listen(conf.id, bobToken)
                carol.drainEvents()
                expectError(ConfkitStatus.NOT_ALLOWED, "listening") { bob.invite(conf.id, "dave") }
                expectError(ConfkitStatus.NOT_ALLOWED, "listening") { bob.kick(conf.id, "carol") }
                expectError(ConfkitStatus.NOT_ALLOWED, "listening") {
                    bob.updatePermissions(conf.id, "carol", PermissionSet.of(Permission.JOIN))
                }
                assertEq(0L, carol.pendingEvents, "the refusals changed nothing")
            }
        }

        test("errors: CONFERENCE_NOT_FOUND for unknown and destroyed conferences") {
            closing { c ->
                val platform = c.add(Platform())
                val alice = c.add(platform.openSession("alice", "Alice"))
                expectError(ConfkitStatus.CONFERENCE_NOT_FOUND, "conference $NO_SUCH_CONFERENCE not found") {
                    alice.fetchConference(NO_SUCH_CONFERENCE)
                }
                expectError(ConfkitStatus.CONFERENCE_NOT_FOUND, "not found") { alice.fetchConferenceByAlias("nowhere") }
                expectError(ConfkitStatus.CONFERENCE_NOT_FOUND, "not found") { alice.join(NO_SUCH_CONFERENCE) }
                val conf = alice.createConference("room")
                conf.join()
                conf.terminate()
                expectError(ConfkitStatus.CONFERENCE_NOT_FOUND, "it was destroyed") { alice.join(conf.id) }
            }
        }

        test("errors: INVALID_ARGUMENT for bad IDs, external IDs and aliases") {
            closing { c ->
                val platform = c.add(Platform())
                val alice = c.add(platform.openSession("alice", "Alice"))
                expectError(ConfkitStatus.INVALID_ARGUMENT, "not a UUID") { alice.join("not-a-uuid") }
                expectError(ConfkitStatus.INVALID_ARGUMENT, "") { platform.openSession("") }
                expectError(ConfkitStatus.INVALID_ARGUMENT, "") { alice.createConference("") }
                expectError(ConfkitStatus.INVALID_ARGUMENT, "") { alice.invite(NO_SUCH_CONFERENCE, "") }
            }
        }

        test("errors: AT_MAX_CAPACITY and INVALID_TRANSITION") {
            closing { c ->
                val platform = c.add(Platform())
                val alice = c.add(platform.openSession("alice", "Alice"))
                val bob = c.add(platform.openSession("bob", "Bob"))
                val conf = alice.createConference("tiny", ConferenceOptions(participantLimit = 1))
                conf.join()
                expectError(ConfkitStatus.AT_MAX_CAPACITY, "max capacity (1 participants)") { bob.join(conf.id) }
                conf.reportConnected()
                expectError(ConfkitStatus.INVALID_TRANSITION, "ON_AIR") { conf.reportRecovered() }
                expectError(ConfkitStatus.INVALID_TRANSITION, "") { conf.decline() }
            }
        }

        test("verifyBatch: every token gets what verify gives it alone") {
            closing { c ->
                val (clock, platform, conf, other) = twoRooms(c)
                val verifier = c.add(Verifier.fromJwks(platform.jwks()))
                val good = conf.ownerToken!!
                val tampered = good.dropLast(2) + (if (good[good.length - 2] == 'A') "B" else "A") + good.last()
                val tokens = List(66) { i ->
                    when (i % 11) {
                        3 -> tampered
                        5 -> "a.b.c"
                        7 -> other.ownerToken!!
                        9 -> ""
                        else -> good
                    }
                }
                val live = Confkit.liveObjects()
                val results = verifier.verifyBatch(tokens, clock.now, conf.id)
                assertEq(live, Confkit.liveObjects(), "every claims object of the batch was freed")
                assertEq(tokens.size, results.size, "one result per token")
                for ((i, r) in results.withIndex()) {
                    val alone = try {
                        BatchResult(verifier.verify(tokens[i], clock.now, conf.id), ConfkitStatus.OK)
                    } catch (e: ConfkitException) {
                        BatchResult(null, e.status)
                    }
                    assertEq(alone, r, "token $i")
                }
                assertEq(ConfkitStatus.TOKEN_WRONG_CONFERENCE, results[7].status, "another conference's token")
                assertEq(ConfkitStatus.TOKEN_INVALID, results[3].status, "a tampered token")
                assertEq("alice", results[0].claims!!.subject, "claims")
                assertEq(emptyList<BatchResult>(), verifier.verifyBatch(emptyList(), clock.now), "no tokens")
                expectError(ConfkitStatus.TOO_LARGE, "4096") {
                    verifier.verifyBatch(List(Verifier.MAX_BATCH_TOKENS + 1) { "x" }, clock.now)
                }
                expectError(ConfkitStatus.INVALID_ARGUMENT, "not a UUID") { verifier.verifyBatch(tokens, clock.now, "x") }
            }
        }

        test("enableCache: a cached verifier gives every verdict an uncached one gives") {
            closing { c ->
                val (clock, platform, conf, other) = twoRooms(c)
                val plain = c.add(Verifier.fromJwks(platform.jwks()))
                val cached = c.add(Verifier.fromJwks(platform.jwks()))
                expectError(ConfkitStatus.INVALID_ARGUMENT, "capacity of 0") { cached.enableCache(0) }
                expectError(ConfkitStatus.TOO_LARGE, "1048576") { cached.enableCache(Verifier.MAX_CACHE_TOKENS + 1) }
                cached.enableCache(2)
                expectError(ConfkitStatus.INVALID_ARGUMENT, "already on (2 tokens)") { cached.enableCache(8) }
                val good = conf.ownerToken!!
                val tampered = good.dropLast(2) + (if (good[good.length - 2] == 'A') "B" else "A") + good.last()
                val expires = plain.verify(good, clock.now).expiresAt
                val cases = listOf(
                    Triple(good, clock.now, conf.id), Triple(good, clock.now, null), Triple(good, clock.now, other.id),
                    Triple(good, expires + 60, conf.id), Triple(good, expires + 61, conf.id),
                    Triple(other.ownerToken!!, clock.now, other.id), Triple(tampered, clock.now, conf.id)
                )
                fun outcome(v: Verifier, t: String, now: Long, id: String?): BatchResult = try {
                    BatchResult(v.verify(t, now, id), ConfkitStatus.OK)
                } catch (e: ConfkitException) {
                    BatchResult(null, e.status)
                }
                for (round in 0 until 2) {
                    for ((i, case) in cases.withIndex()) {
                        val (t, now, id) = case
                        assertEq(outcome(plain, t, now, id), outcome(cached, t, now, id), "round $round case $i")
                    }
                }
                assertEq(ConfkitStatus.TOKEN_EXPIRED, outcome(cached, good, expires + 61, conf.id).status, "expired from the cache")
                val batch = cached.verifyBatch(listOf(good, tampered, good), clock.now, conf.id)
                assertEq(listOf(ConfkitStatus.OK, ConfkitStatus.TOKEN_INVALID, ConfkitStatus.OK), batch.map { it.status }, "batch")
            }
        }

        test("errors: token verification failures (expired, wrong conference, bad keys, too large)") {
            closing { c ->
                val (clock, platform, conf, other) = twoRooms(c)
                val token = conf.ownerToken!!
                val verifier = c.add(Verifier.fromJwks(platform.jwks()))
                assertEq(FlowTests.START + 600, verifier.verify(token, clock.now).expiresAt, "platform token TTL")
                verifier.verify(token, FlowTests.START + 600 + 60) // inside the leeway
                expectError(ConfkitStatus.TOKEN_EXPIRED, "expired") { verifier.verify(token, FlowTests.START + 600 + 61) }
                expectError(ConfkitStatus.TOKEN_EXPIRED, "expired") {
                    verifier.verify(token, FlowTests.START + 601, leewaySecs = 0)
                }
                expectError(ConfkitStatus.TOKEN_WRONG_CONFERENCE, "not ${other.id}") {
                    verifier.verify(token, clock.now, other.id)
                }
                expectError(ConfkitStatus.INVALID_ARGUMENT, "not a UUID") { verifier.verify(token, clock.now, "x") }
                Platform(ByteArray(32) { 7 }, "k1").use { stranger ->
                    Verifier.fromJwks(stranger.jwks()).use { v ->
                        expectError(ConfkitStatus.TOKEN_INVALID, "signature") { v.verify(token, clock.now) }
                    }
                }
                expectError(ConfkitStatus.KEY_INVALID, "") { Verifier.fromJwks("""{"keys":[{"kty":"RSA"}]}""").close() }
                expectError(ConfkitStatus.KEY_INVALID, "32 bytes, got 5") { Verifier.fromPublicKey("k", ByteArray(5)).close() }
                expectError(ConfkitStatus.KEY_INVALID, "32 bytes, got 31") { Platform(ByteArray(31)).close() }
                expectError(ConfkitStatus.KEY_INVALID, "key id") { Platform(null, "").close() }
                val huge = "{\"keys\":[" + " ".repeat(1_100_000) + "]}"
                expectError(ConfkitStatus.TOO_LARGE, "1 MiB") { Verifier.fromJwks(huge).close() }
            }
        }

        test("errors: the exception carries status, raw code and message; error objects are freed") {
            closing { c ->
                val platform = c.add(Platform())
                val alice = c.add(platform.openSession("alice", "Alice"))
                val before = Confkit.liveObjects()
                repeat(200) {
                    val e = expectError(ConfkitStatus.CONFERENCE_NOT_FOUND, "not found") {
                        alice.fetchConference(NO_SUCH_CONFERENCE)
                    }
                    assertEq(11, e.code, "raw code")
                    assertTrue(e.toString().startsWith("ConfkitException(CONFERENCE_NOT_FOUND)")) { e.toString() }
                }
                assertEq(before, Confkit.liveObjects(), "no error object leaked")
            }
        }
    }
}
