package io.confkit

import java.util.concurrent.atomic.AtomicInteger

/** The seed's walkthrough (examples/walkthrough.rs), SDK part and REST part, from Kotlin. */
object FlowTests {
    const val START = 1_700_000_000L
    val SEED = ByteArray(32) { 42 }
    const val ALICE_AVATAR = "https://example.com/alice.png"

    fun register() {
        test("flow: SDK path (protected conference, invitations, joins, escalation, kick)") {
            closing { c ->
                val clock = c.add(ManualClock(START))
                val platform = c.add(Platform(SEED, "demo-key-1", clock))
                val alice = c.add(platform.openSession("alice", "Alice", ALICE_AVATAR))

                // Alice creates the protected conference "team-sync".
                val conf = alice.createConference("team-sync", ConferenceOptions(isProtected = true))
                assertTrue(conf.isNew && conf.isProtected) { "$conf" }
                assertEq("team-sync", conf.alias, "alias")
                assertEq("alice", conf.owner, "owner")
                assertTrue(conf.ownerToken != null) { "a protected conference gives its owner a token" }
                val created = alice.drainEvents().only<Event.ConferenceCreated>()
                assertEq(conf.id, created.conferenceId, "created id")
                assertEq("team-sync", created.conferenceAlias, "created alias")
                assertTrue(created.isProtected) { "created.isProtected" }
                assertEq(1L, created.sequence, "first sequence")

                // Creating "Team-Sync" again returns the same conference, not new, no token.
                val again = alice.createConference("Team-Sync", ConferenceOptions(isProtected = true))
                assertTrue(!again.isNew && again.ownerToken == null && again.id == conf.id) { "$again" }
                assertEq(0L, alice.pendingEvents, "no notification for an existing alias")

                // Alice joins with her owner token; the media connects.
                assertEq(PermissionSet.ALL, conf.join(), "owner permissions")
                assertEq(ParticipantStatus.ON_AIR, conf.reportConnected(), "connected")
                val aliceEvents = alice.drainEvents()
                val onAir = aliceEvents.last() as? Event.ParticipantUpdated ?: fail("$aliceEvents")
                assertEq(ParticipantStatus.CONNECTING, onAir.oldStatus, "old status")
                assertEq(ParticipantStatus.ON_AIR, onAir.newStatus, "new status")
                assertEq("alice", onAir.participant.externalId, "who")
                assertEq("Alice", onAir.participant.name, "name from JSON")
                assertEq(ALICE_AVATAR, onAir.participant.avatarUrl, "avatar from JSON")
                assertEq(ParticipantType.USER, onAir.participant.type, "type")

                // Bob and Carol open sessions; Alice invites Bob (default) and Carol (JOIN, SEND_AUDIO).
                val bob = c.add(platform.openSession("bob", "Bob"))
                val carol = c.add(platform.openSession("carol", "Carol"))
                val carolPerms = PermissionSet.of(Permission.JOIN, Permission.SEND_AUDIO)
                val results = conf.invite(listOf(Invitee("bob"), Invitee("carol", carolPerms)))
                assertEq(listOf("bob", "carol"), results.map { it.externalId }, "result order")
                results.forEach {
                    assertEq(Delivery.DELIVERED, it.delivery, "delivery of ${it.externalId}")
                    assertEq(1L, it.sessions, "sessions of ${it.externalId}")
                    assertTrue(it.token != null) { "token for ${it.externalId}" }
                }
                assertEq(PermissionSet.DEFAULT, results[0].permissions, "bob's permissions")
                assertEq(carolPerms, results[1].permissions, "carol's permissions")
                val added = alice.drainEvents().map { it as? Event.ParticipantAdded ?: fail("$it") }
                assertEq(listOf("bob", "carol"), added.map { it.participant.externalId }, "added")
                assertTrue(added.all { it.participant.status == ParticipantStatus.RESERVED }) { "RESERVED" }
                assertEq("Carol", added[1].participant.name, "carol's name")
                val bobInvite = bob.drainEvents().only<Event.InvitationReceived>()
                assertEq(conf.id, bobInvite.conferenceId, "invitation conference")
                assertEq("team-sync", bobInvite.conferenceAlias, "invitation alias")
                assertEq(ParticipantInfo("alice", "Alice", ALICE_AVATAR), bobInvite.inviter, "inviter")
                assertEq(PermissionSet.DEFAULT, bobInvite.permissions, "invitation permissions")
                assertEq(results[0].token, bobInvite.token, "invitation token = result token")
                val bobToken = bobInvite.token!!
                // The JSON wire format carries the same data.
                val wire = jsonObj(bobInvite.json)
                assertEq("invitationReceived", wire.str("type"), "JSON type")
                assertEq("invitationReceived", bobInvite.type, "type getter")
                assertEq(conf.id, wire.str("conferenceId"), "JSON conferenceId")
                assertEq(bobToken, wire.str("token"), "JSON token")
                assertEq(bobInvite.sequence, wire["sequence"], "JSON sequence")
                val carolInvite = carol.drainEvents().only<Event.InvitationReceived>()
                assertEq(carolPerms, carolInvite.permissions, "carol's invitation permissions")

                // Bob joins with the token from his invitation.
                assertEq(PermissionSet.DEFAULT, bob.join(conf.id, bobToken), "bob's join")
                assertEq(ParticipantStatus.ON_AIR, bob.report(conf.id, MediaReport.CONNECTED), "bob connected")
                alice.drainEvents()
                bob.drainEvents()

                // Carol declines.
                carol.decline(conf.id)
                val declined = alice.drainEvents().only<Event.ParticipantUpdated>()
                assertEq("carol", declined.participant.externalId, "decliner")
                assertEq(ParticipantStatus.RESERVED, declined.oldStatus, "before decline")
                assertEq(ParticipantStatus.DECLINE, declined.newStatus, "after decline")
                bob.drainEvents()
                carol.drainEvents()

                // Alice invites Dave (no open session) and Bob (already on air).
                val second = conf.invite("dave", "bob")
                assertEq(Delivery.NO_OPEN_SESSION, second[0].delivery, "dave")
                assertTrue(second[0].token != null) { "dave still gets a token to be handed over" }
                assertEq(Delivery.ALREADY_IN_CONFERENCE, second[1].delivery, "bob")
                assertEq(null, second[1].token, "no new token for bob")
                alice.drainEvents()
                bob.drainEvents()

                // Bob (no INVITE permission) tries to invite Frank.
                expectError(ConfkitStatus.NOT_ALLOWED, "lacks the INVITE permission") { bob.invite(conf.id, "frank") }

                // Alice gives Bob INVITE on top of the default set; Bob is told, with the new token.
                val bobPerms = PermissionSet.DEFAULT + Permission.INVITE
                val newToken = conf.updatePermissions("bob", bobPerms) ?: fail("protected: a new token")
                val pushed = bob.drainEvents().filterIsInstance<Event.PermissionsUpdated>().single()
                assertEq(newToken, pushed.token, "pushed token")
                assertEq(bobPerms, pushed.permissions, "pushed permissions")
                alice.drainEvents()

                // Bob tries to invite Frank with KICK, which he does not hold (escalation): nothing happens.
                expectError(ConfkitStatus.NOT_ALLOWED, "cannot grant") {
                    bob.invite(conf.id, listOf(Invitee("frank", PermissionSet.of(Permission.JOIN, Permission.KICK))))
                }
                assertEq(0L, alice.pendingEvents, "a refusal sends nothing")

                // Alice kicks Bob; both old tokens stop admitting him.
                clock.advance(30)
                assertEq(START + 30, clock.now, "clock")
                conf.kick("bob")
                val kicked = bob.drainEvents().filterIsInstance<Event.ParticipantUpdated>().last()
                assertEq(ParticipantStatus.KICKED, kicked.newStatus, "kicked")
                alice.drainEvents()
                expectError(ConfkitStatus.TOKEN_REVOKED, "revoked") { bob.join(conf.id, newToken) }
                expectError(ConfkitStatus.TOKEN_REVOKED, "revoked") { bob.join(conf.id, bobToken) }

                val info = conf.refresh()
                assertEq(4L, info.participantCount, "participants (alice, bob, carol, dave)")
                assertEq(1L, info.presentCount, "present (alice)")
                val byAlias = bob.fetchConferenceByAlias("TEAM-SYNC")
                assertEq(conf.id, byAlias.id, "fetch by alias ignores case")
                assertTrue(!byAlias.isNew && byAlias.ownerToken == null) { "fetched info" }
            }
        }

        test("flow: REST path (create with participants, tokens, JWKS, offline verification, TTL)") {
            closing { c ->
                val clock = c.add(ManualClock(START))
                val platform = c.add(Platform(SEED, "demo-key-1", clock))
                val alice = c.add(platform.openSession("alice", "Alice", ALICE_AVATAR))
                val bob = c.add(platform.openSession("bob", "Bob"))
                val carol = c.add(platform.openSession("carol", "Carol"))
                val teamSync = alice.createConference("team-sync", ConferenceOptions(isProtected = true))
                teamSync.join()
                alice.drainEvents()

                val body = """
                    {"ownerExternalId": "alice", "alias": "all-hands",
                     "parameters": {"ttl": 600, "audioOnly": false, "participantLimit": 100},
                     "participants": {
                       "bob":   {"notification": true},
                       "carol": {"permissions": ["JOIN", "SEND_AUDIO"], "notification": false},
                       "erin":  {"permissions": ["JOIN", "SEND_AUDIO", "SEND_VIDEO"], "notification": true}}}
                """.trimIndent()
                val created = platform.handleRest("POST", "/v2/conferences/create", body)
                assertEq(200, created.status, "create status (${created.body})")
                assertTrue(created.isSuccess) { "isSuccess" }
                val answer = jsonObj(created.body)
                val confId = answer.str("conferenceId")
                assertEq("all-hands", answer.str("conferenceAlias"), "alias")
                assertEq(true, answer["isProtected"], "isProtected")
                assertTrue(answer.str("ownerToken").isNotBlank()) { "ownerToken" }
                val tokens = answer.obj("usersTokens")
                val erinToken = tokens.str("erin")
                assertTrue(tokens["bob"] is String && tokens["carol"] is String) { "tokens: $tokens" }
                val delivery = answer.obj("delivery")
                assertEq("DELIVERED", delivery["bob"], "bob delivery")
                assertEq("NOT_REQUESTED", delivery["carol"], "carol delivery")
                assertEq("NO_OPEN_SESSION", delivery["erin"], "erin delivery")
                val bobInvite = bob.drainEvents().only<Event.InvitationReceived>()
                assertEq(confId, bobInvite.conferenceId, "bob's invitation")
                assertEq(tokens["bob"], bobInvite.token, "bob's token")
                assertEq(0L, carol.pendingEvents, "carol asked for no notification")

                // An unknown permission is refused, nothing changes.
                val bad = platform.handleRest(
                    "POST", "/v2/conferences/$confId/invite",
                    """{"participants": {"frank": {"permissions": ["TELEPORT"]}}}"""
                )
                assertEq(400, bad.status, "unknown permission status")
                val err = jsonObj(bad.body)
                assertEq("UNKNOWN_PERMISSION", err["error_reason"], "error_reason")
                assertEq(4L, err["error_code"], "error_code")
                assertTrue(err.str("error_description").contains("TELEPORT")) { bad.body }

                // Later, Erin opens a session and joins with her token from usersTokens.
                val erin = c.add(platform.openSession("erin", "Erin"))
                val erinPerms = erin.join(confId, erinToken)
                assertEq(PermissionSet.of(Permission.JOIN, Permission.SEND_AUDIO, Permission.SEND_VIDEO), erinPerms, "erin")
                assertEq(ParticipantStatus.ON_AIR, erin.report(confId, MediaReport.CONNECTED), "erin connected")

                // GET the participants.
                val list = platform.handleRest("GET", "/v2/conferences/$confId/participants")
                assertEq(200, list.status, "participants status")
                @Suppress("UNCHECKED_CAST")
                val participants = jsonObj(list.body)["participants"] as List<Map<String, Any?>>
                assertEq(setOf("alice", "bob", "carol", "erin"), participants.map { it.str("externalId") }.toSet(), "ids")
                val erinRow = participants.first { it["externalId"] == "erin" }
                assertEq("ON_AIR", erinRow["status"], "erin's status")
                assertEq("USER", erinRow["type"], "erin's type")
                assertEq(listOf("JOIN", "SEND_AUDIO", "SEND_VIDEO"), erinRow["permissions"], "erin's permissions")

                // The JWK set, from REST and from the platform directly.
                val jwks = platform.handleRest("GET", "/.well-known/jwks.json")
                assertEq(200, jwks.status, "jwks status")
                assertEq(jsonObj(platform.jwks()), jsonObj(jwks.body), "jwks() equals the REST answer")
                @Suppress("UNCHECKED_CAST")
                val key = (jsonObj(jwks.body)["keys"] as List<Map<String, Any?>>).single()
                assertEq("OKP", key["kty"], "kty")
                assertEq("Ed25519", key["crv"], "crv")
                assertEq("demo-key-1", key["kid"], "kid")

                // On Erin's phone: verify her token offline with the JWK set.
                c.add(Verifier.fromJwks(jwks.body)).let { verifier ->
                    val claims = verifier.verify(erinToken, clock.now, confId)
                    assertEq("erin", claims.subject, "sub")
                    assertEq(confId, claims.conferenceId, "conf")
                    assertEq(erinPerms, claims.permissions, "perms")
                    assertTrue(claims.allows(Permission.SEND_VIDEO) && !claims.allows(Permission.SHARE_SCREEN)) { "allows" }
                    assertEq(START, claims.issuedAt, "iat")
                    assertTrue(claims.notBefore <= claims.issuedAt) { "nbf" }
                    assertEq(START + 3 * 3600, claims.expiresAt, "exp: 3 hours by default")
                    assertTrue(claims.issuer.isNotEmpty() && claims.tokenId.isNotEmpty()) { "iss, jti" }
                    expectError(ConfkitStatus.TOKEN_INVALID, "token") {
                        verifier.verify(tamper(erinToken), clock.now, confId)
                    }
                    expectError(ConfkitStatus.TOKEN_WRONG_CONFERENCE, teamSync.id) {
                        verifier.verify(erinToken, clock.now, teamSync.id)
                    }
                }

                // Erin leaves; "all-hands" is empty; it lives 600 s.
                erin.leave(confId)
                clock.advance(599)
                assertEq(0L, platform.expireConferences(), "still alive at 599 s")
                clock.advance(2)
                assertEq(1L, platform.expireConferences(), "expired at 601 s")
                val ended = bob.drainEvents().filterIsInstance<Event.ConferenceEnded>().single()
                assertEq(EndReason.EXPIRED, ended.reason, "end reason")
                assertEq(confId, ended.conferenceId, "ended conference")
                expectError(ConfkitStatus.CONFERENCE_NOT_FOUND, "destroyed") { erin.join(confId, erinToken) }
                assertEq(404, platform.handleRest("GET", "/v2/conferences/$confId/participants").status, "404")
                assertEq(1L, alice.fetchConferenceByAlias("team-sync").info.presentCount, "team-sync lives on")
            }
        }

        test("flow: REST permissions, kick and DELETE") {
            closing { c ->
                val clock = c.add(ManualClock(START))
                val platform = c.add(Platform(SEED, "demo-key-1", clock))
                val bob = c.add(platform.openSession("bob", "Bob"))
                val created = jsonObj(
                    platform.handleRest(
                        "POST", "/v2/conferences/create",
                        """{"ownerExternalId":"alice","alias":"ops","participants":{"bob":{"notification":true}}}"""
                    ).body
                )
                val confId = created.str("conferenceId")
                val bobToken = bob.drainEvents().only<Event.InvitationReceived>().token!!
                bob.join(confId, bobToken)
                val perms = platform.handleRest(
                    "POST", "/v2/conferences/$confId/permissions",
                    """{"participants":{"bob":{"permissions":["JOIN","SEND_AUDIO"]}}}"""
                )
                assertEq(200, perms.status, "permissions status (${perms.body})")
                val newToken = jsonObj(perms.body).obj("usersTokens").str("bob")
                val pushed = bob.drainEvents().filterIsInstance<Event.PermissionsUpdated>().single()
                assertEq(newToken, pushed.token, "pushed token")
                val kick = platform.handleRest("POST", "/v2/conferences/$confId/kick", """{"externalIds":["bob"]}""")
                assertEq(204, kick.status, "kick status")
                assertEq("", kick.body, "204 has an empty body")
                expectError(ConfkitStatus.TOKEN_REVOKED, "revoked") { bob.join(confId, newToken) }
                assertEq(204, platform.handleRest("DELETE", "/v2/conferences/$confId").status, "DELETE")
                val gone = platform.handleRest("GET", "/v2/conferences/$confId/participants")
                assertEq(404, gone.status, "after DELETE")
                assertEq("CONFERENCE_NOT_FOUND", jsonObj(gone.body)["error_reason"], "404 reason")
            }
        }

        test("flow: unprotected conference, listeners (LISTENER type), media reports") {
            closing { c ->
                val platform = c.add(Platform())
                val alice = c.add(platform.openSession("alice", "Alice"))
                val bob = c.add(platform.openSession("bob", "Bob"))
                val erin = c.add(platform.openSession("erin", "Erin"))
                val conf = alice.createConference("open-room")
                assertTrue(conf.isNew && !conf.isProtected && conf.ownerToken == null) { "$conf" }
                conf.join()
                conf.reportConnected()
                val results = conf.invite("bob")
                assertEq(null, results[0].token, "no token in an unprotected conference")
                val inv = bob.drainEvents().only<Event.InvitationReceived>()
                assertEq(null, inv.token, "no token")
                assertEq(null, inv.permissions, "no permissions carried")
                bob.join(conf.id)
                assertEq(ParticipantStatus.ON_AIR, bob.report(conf.id, MediaReport.CONNECTED), "connected")
                assertEq(ParticipantStatus.WARNING, bob.report(conf.id, MediaReport.MEDIA_TROUBLE), "trouble")
                assertEq(ParticipantStatus.ON_AIR, bob.report(conf.id, MediaReport.RECOVERED), "recovered")
                assertEq(ParticipantStatus.INACTIVE, bob.report(conf.id, MediaReport.IDLE), "idle")
                alice.drainEvents()
                erin.listen(conf.id)
                val erinAdded = alice.drainEvents().filterIsInstance<Event.ParticipantAdded>().single()
                assertEq("erin", erinAdded.participant.externalId, "listener added")
                assertEq(ParticipantType.LISTENER, erinAdded.participant.type, "listener type")
                assertEq(null, conf.updatePermissions("bob", PermissionSet.of(Permission.JOIN)), "no token")
                conf.terminate()
                val ended = erin.drainEvents().filterIsInstance<Event.ConferenceEnded>().single()
                assertEq(EndReason.TERMINATED, ended.reason, "terminated")
                expectError(ConfkitStatus.CONFERENCE_NOT_FOUND, "not found") { bob.fetchConference(conf.id) }
            }
        }

        test("flow: a second device of the same user switches the first") {
            closing { c ->
                val platform = c.add(Platform())
                val phone = c.add(platform.openSession("alice", "Alice"))
                val laptop = c.add(platform.openSession("alice", "Alice"))
                val conf = phone.createConference("room")
                conf.join()
                phone.drainEvents()
                laptop.drainEvents()
                laptop.join(conf.id)
                val switched = phone.drainEvents().filterIsInstance<Event.Switched>().single()
                assertEq("alice", switched.externalId, "switched user")
                assertEq(conf.id, switched.conferenceId, "switched conference")
            }
        }

        test("flow: session listener is called with the session and may drain it") {
            closing { c ->
                val platform = c.add(Platform())
                val alice = c.add(platform.openSession("alice", "Alice"))
                val bob = c.add(platform.openSession("bob", "Bob"))
                val baseline = Listeners.size
                val calls = AtomicInteger()
                val seen = ArrayList<Event>()
                bob.setListener { s ->
                    calls.incrementAndGet()
                    assertTrue(s === bob) { "listener gets its session" }
                    synchronized(seen) { seen.addAll(s.drainEvents()) }
                }
                assertEq(baseline + 1, Listeners.size, "registered")
                val conf = alice.createConference("room")
                conf.join()
                conf.invite("bob")
                // The listener ran synchronously inside invite, on this thread.
                assertTrue(calls.get() >= 1) { "listener called" }
                assertTrue(seen.single() is Event.InvitationReceived) { "$seen" }
                assertEq(0L, bob.pendingEvents, "drained by the listener")

                // Replacing releases the old registration; a throwing listener is reported, not propagated.
                val reported = ArrayList<Throwable>()
                val previous = Confkit.callbackErrorHandler
                Confkit.callbackErrorHandler = { synchronized(reported) { reported.add(it) } }
                try {
                    bob.setListener { throw IllegalStateException("listener bug") }
                    assertEq(baseline + 1, Listeners.size, "old one released")
                    bob.join(conf.id)
                    conf.reportConnected() // events for bob: the listener throws
                    assertTrue(reported.any { it.message == "listener bug" }) { "reported: $reported" }
                } finally {
                    Confkit.callbackErrorHandler = previous
                }
                bob.setListener(null)
                assertEq(baseline, Listeners.size, "cleared")
                bob.drainEvents()
                conf.leave()
                assertTrue(bob.pendingEvents > 0) { "queued without a listener" }

                // Closing a session releases its listener.
                val carol = platform.openSession("carol")
                carol.setListener { }
                assertEq(baseline + 1, Listeners.size, "carol registered")
                carol.close()
                assertEq(baseline, Listeners.size, "released on close")
            }
        }
    }

    /** Flips one character of the signature. */
    fun tamper(token: String): String {
        val i = token.length - 5
        val ch = if (token[i] == 'A') 'B' else 'A'
        return token.substring(0, i) + ch + token.substring(i + 1)
    }
}
