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

                // Creating "Team-Sync" again returns the same conference, not new, and
                // (the owner asking) a fresh owner token.
                val again = alice.createConference("Team-Sync", ConferenceOptions(isProtected = true))
                assertTrue(!again.isNew && again.id == conf.id) { "$again" }
                assertTrue(again.ownerToken != null && again.ownerToken != conf.ownerToken) { "fresh owner token" }
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
                }
                assertEq(PermissionSet.DEFAULT, results[0].permissions, "bob's permissions")
                assertEq(carolPerms, results[1].permissions, "carol's permissions")
                // The results carry no token (ABI 2): it reaches the invitee only.
                assertTrue(results.none { it.toString().contains("eyJ") }) { "no token in $results" }
                val aliceSaw = alice.drainEvents()
                val added = aliceSaw.map { it as? Event.ParticipantAdded ?: fail("$it") }
                assertEq(listOf("bob", "carol"), added.map { it.participant.externalId }, "added")
                assertTrue(added.all { it.participant.status == ParticipantStatus.RESERVED }) { "RESERVED" }
                assertEq("Carol", added[1].participant.name, "carol's name")
                val bobInvite = bob.drainEvents().only<Event.InvitationReceived>()
                assertEq(conf.id, bobInvite.conferenceId, "invitation conference")
                assertEq("team-sync", bobInvite.conferenceAlias, "invitation alias")
                assertEq(ParticipantInfo("alice", "Alice", ALICE_AVATAR), bobInvite.inviter, "inviter")
                assertEq(PermissionSet.DEFAULT, bobInvite.permissions, "invitation permissions")
                val bobToken = bobInvite.token ?: fail("a protected invitation carries the invitee's token")
                // The JSON wire format carries the same data.
                val wire = jsonObj(bobInvite.json)
                assertEq("invitationReceived", wire.str("type"), "JSON type")
                assertEq("invitationReceived", bobInvite.type, "type getter")
                assertEq(conf.id, wire.str("conferenceId"), "JSON conferenceId")
                assertEq(bobToken, wire.str("token"), "JSON token")
                assertEq(bobInvite.sequence, wire["sequence"], "JSON sequence")
                val carolInvite = carol.drainEvents().only<Event.InvitationReceived>()
                assertEq(carolPerms, carolInvite.permissions, "carol's invitation permissions")
                val carolToken = carolInvite.token ?: fail("carol's token")
                assertTrue(carolToken != bobToken) { "one token each" }
                // The inviter never received either token (typed fields or JSON).
                assertNoToken(aliceSaw, bobToken, "alice (inviter)")
                assertNoToken(aliceSaw, carolToken, "alice (inviter)")

                // Bob joins with the token from his invitation.
                assertEq(PermissionSet.DEFAULT, bob.join(conf.id, bobToken), "bob's join")
                assertEq(ParticipantStatus.ON_AIR, bob.report(conf.id, MediaReport.CONNECTED), "bob connected")
                assertNoToken(alice.drainEvents(), bobToken, "alice")
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
                // Dave's token goes nowhere over the SDK (the app server gets one over REST).
                val second = conf.invite("dave", "bob")
                assertEq(Delivery.NO_OPEN_SESSION, second[0].delivery, "dave")
                assertEq(PermissionSet.DEFAULT, second[0].permissions, "dave's permissions")
                assertEq(Delivery.ALREADY_IN_CONFERENCE, second[1].delivery, "bob")
                alice.drainEvents().forEach { assertTrue(!it.json.contains("\"token\"")) { "alice got a token: $it" } }
                // Bob, already in, is sent no invitation; he only hears Dave was added.
                val bobHeard = bob.drainEvents().only<Event.ParticipantAdded>()
                assertEq("dave", bobHeard.participant.externalId, "bob hears of dave")
                assertTrue(!bobHeard.json.contains("\"token\"")) { bobHeard.json }

                // Bob (no INVITE permission) tries to invite Frank.
                expectError(ConfkitStatus.NOT_ALLOWED, "lacks the INVITE permission") { bob.invite(conf.id, "frank") }

                // Alice gives Bob INVITE on top of the default set; Bob is told, with the new
                // token, which Alice (the updater) never sees.
                val bobPerms = PermissionSet.DEFAULT + Permission.INVITE
                val updated: Unit = conf.updatePermissions("bob", bobPerms)
                assertEq(Unit, updated, "updatePermissions returns nothing")
                val pushed = bob.drainEvents().filterIsInstance<Event.PermissionsUpdated>().single()
                val newToken = pushed.token ?: fail("protected: a new token, pushed to bob")
                assertTrue(newToken != bobToken) { "a new token" }
                assertEq(bobPerms, pushed.permissions, "pushed permissions")
                val aliceAfterUpdate = alice.drainEvents()
                assertNoToken(aliceAfterUpdate, newToken, "alice (updater)")
                assertTrue(aliceAfterUpdate.none { it is Event.PermissionsUpdated }) { "$aliceAfterUpdate" }
                // Nobody updates their own permissions, the owner neither (hers are fixed).
                expectError(ConfkitStatus.NOT_ALLOWED, "") { conf.updatePermissions("alice", PermissionSet.DEFAULT) }

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
                assertEq(Delivery.DELIVERED, results[0].delivery, "delivered")
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
                bob.drainEvents()
                conf.updatePermissions("bob", PermissionSet.of(Permission.JOIN))
                val noToken = bob.drainEvents().filterIsInstance<Event.PermissionsUpdated>().single()
                assertEq(null, noToken.token, "no token in an unprotected conference")
                // A listener acts on nobody: no invite (any user of an unprotected
                // conference may invite), no kick, no permission update.
                expectError(ConfkitStatus.NOT_ALLOWED, "listening") { erin.invite(conf.id, "frank") }
                expectError(ConfkitStatus.NOT_ALLOWED, "") { erin.kick(conf.id, "bob") }
                expectError(ConfkitStatus.NOT_ALLOWED, "") { erin.updatePermissions(conf.id, "bob", PermissionSet.DEFAULT) }
                conf.terminate()
                val ended = erin.drainEvents().filterIsInstance<Event.ConferenceEnded>().single()
                assertEq(EndReason.TERMINATED, ended.reason, "terminated")
                expectError(ConfkitStatus.CONFERENCE_NOT_FOUND, "not found") { bob.fetchConference(conf.id) }
            }
        }

        test("flow: the invitee (only) gets its token through the invitation, and joins with it") {
            closing { c ->
                val platform = c.add(Platform(SEED, "demo-key-1", c.add(ManualClock(START))))
                val alice = c.add(platform.openSession("alice", "Alice"))
                val bob = c.add(platform.openSession("bob", "Bob"))
                val conf = alice.createConference("handover", ConferenceOptions(isProtected = true))
                conf.join()
                alice.drainEvents()
                val result = conf.invite(listOf(Invitee("bob", PermissionSet.of(Permission.JOIN)))).single()
                assertEq(InviteResult("bob", Delivery.DELIVERED, 1, PermissionSet.of(Permission.JOIN)), result, "result")
                val invitation = bob.drainEvents().only<Event.InvitationReceived>()
                val token = invitation.token ?: fail("the invitee's token")
                assertEq(token, jsonObj(invitation.json).str("token"), "JSON token")
                val claims = c.add(Verifier.fromJwks(platform.jwks())).verify(token, START, conf.id)
                assertEq("bob", claims.subject, "issued to bob")
                assertEq(PermissionSet.of(Permission.JOIN), claims.permissions, "with the invited set")
                assertNoToken(alice.drainEvents(), token, "alice (inviter)")
                assertEq(PermissionSet.of(Permission.JOIN), bob.join(conf.id, token), "bob joins with it")
                assertNoToken(alice.drainEvents(), token, "alice (inviter)")
            }
        }

        test("flow: token refreshed before expiry (token, permissions, expiresAt)") {
            closing { c ->
                val clock = c.add(ManualClock(START))
                val platform = c.add(Platform(SEED, "demo-key-1", clock, PlatformOptions(tokenTtlSecs = 3600)))
                val alice = c.add(platform.openSession("alice", "Alice"))
                val bob = c.add(platform.openSession("bob", "Bob"))
                val conf = alice.createConference("refresh", ConferenceOptions(isProtected = true))
                conf.join()
                val bobPerms = PermissionSet.of(Permission.JOIN, Permission.SEND_AUDIO)
                conf.invite(listOf(Invitee("bob", bobPerms)))
                val bobToken = bob.drainEvents().only<Event.InvitationReceived>().token!!
                bob.join(conf.id, bobToken)
                alice.drainEvents()
                bob.drainEvents()
                // Due 5 minutes before the hour is up; any call runs the refresh.
                clock.set(START + 3600 - 300 - 1)
                platform.expireConferences()
                assertEq(0L, bob.pendingEvents, "not due yet")
                clock.advance(1)
                platform.expireConferences()
                val refreshed = bob.drainEvents().only<Event.TokenRefreshed>()
                assertEq("tokenRefreshed", refreshed.type, "type")
                assertEq(conf.id, refreshed.conferenceId, "conference")
                assertEq(bobPerms, refreshed.permissions, "same permissions")
                assertEq(START + 3600 - 300 + 3600, refreshed.expiresAt, "expiresAt")
                assertTrue(refreshed.token != bobToken) { "a new token" }
                val wire = jsonObj(refreshed.json)
                assertEq(refreshed.token, wire.str("token"), "JSON token")
                assertEq(refreshed.expiresAt, wire["expiresAt"], "JSON expiresAt")
                val claims = c.add(Verifier.fromJwks(platform.jwks())).verify(refreshed.token, clock.now, conf.id)
                assertEq("bob", claims.subject, "sub")
                assertEq(refreshed.expiresAt, claims.expiresAt, "exp")
                // Alice gets her own, never Bob's.
                val aliceRefresh = alice.drainEvents().filterIsInstance<Event.TokenRefreshed>().single()
                assertEq(PermissionSet.ALL, aliceRefresh.permissions, "owner's set")
                assertTrue(aliceRefresh.token != refreshed.token) { "one token each" }
            }
        }

        test("flow: a user who becomes a listener is removed from the other listeners' view") {
            closing { c ->
                val platform = c.add(Platform())
                val alice = c.add(platform.openSession("alice", "Alice"))
                val bob = c.add(platform.openSession("bob", "Bob"))
                val erin = c.add(platform.openSession("erin", "Erin"))
                val conf = alice.createConference("lobby")
                conf.join()
                bob.join(conf.id)
                erin.listen(conf.id)
                erin.drainEvents()
                alice.drainEvents()
                bob.listen(conf.id)
                val removed = erin.drainEvents().only<Event.ParticipantRemoved>()
                assertEq("bob", removed.externalId, "who")
                assertEq(conf.id, removed.conferenceId, "conference")
                assertEq("participantRemoved", removed.type, "type")
                assertEq("bob", jsonObj(removed.json).str("externalId"), "JSON externalId")
                // Users see a participant update, not a removal.
                val seen = alice.drainEvents()
                assertTrue(seen.none { it is Event.ParticipantRemoved }) { "$seen" }
                assertTrue(seen.any { it is Event.ParticipantUpdated && it.participant.externalId == "bob" }) { "$seen" }
            }
        }

        test("flow: an overflowing queue starts with EventsMissed (no conference id)") {
            closing { c ->
                val platform = c.add(Platform())
                val host = c.add(platform.openSession("host", "Host"))
                val lurker = c.add(platform.openSession("lurker", "Lurker"))
                val conf = host.createConference("busy")
                conf.join()
                conf.reportConnected()
                lurker.join(conf.id)
                val lastTaken = lurker.drainEvents().last().sequence
                repeat(700) {
                    conf.reportMediaTrouble()
                    conf.reportRecovered()
                }
                assertEq(1024L, lurker.pendingEvents, "capped queue")
                val events = lurker.drainEvents()
                val missed = events.first() as? Event.EventsMissed ?: fail("first: ${events.first()}")
                assertEq(null, missed.conferenceId, "no conference id")
                assertEq("eventsMissed", missed.type, "type")
                assertEq(lastTaken + 1, missed.firstMissedSequence, "first missed")
                assertEq(missed.sequence + 1, missed.firstAvailableSequence, "first available")
                assertEq(lastTaken + 1400 - 1023, missed.sequence, "marker sequence")
                assertTrue(!missed.json.contains("conferenceId")) { missed.json }
                assertEq(missed.firstAvailableSequence, events[1].sequence, "next event")
                assertEq(1023, events.drop(1).count { it is Event.ParticipantUpdated && it.conferenceId == conf.id }, "kept")
                host.drainEvents()
            }
        }

        test("flow: REST ALIAS_TAKEN (409) and fresh tokens (POST /v2/conferences/{id}/tokens)") {
            closing { c ->
                val clock = c.add(ManualClock(START))
                val platform = c.add(Platform(SEED, "demo-key-1", clock))
                val alice = c.add(platform.openSession("alice", "Alice"))
                val created = jsonObj(
                    platform.handleRest(
                        "POST", "/v2/conferences/create",
                        """{"ownerExternalId":"alice","alias":"board","participants":{"bob":{},"carol":{}}}"""
                    ).body
                )
                val confId = created.str("conferenceId")
                val ownerToken = created.str("ownerToken")
                // Someone else's create with that alias is a conflict.
                val taken = platform.handleRest(
                    "POST", "/v2/conferences/create", """{"ownerExternalId":"mallory","alias":"BOARD"}"""
                )
                assertEq(409, taken.status, "alias taken status")
                val err = jsonObj(taken.body)
                assertEq("ALIAS_TAKEN", err["error_reason"], "error_reason")
                assertEq(19L, err["error_code"], "error_code")
                assertEq(ConfkitStatus.ALIAS_TAKEN, ConfkitStatus.fromCode((err["error_code"] as Long).toInt()), "typed")
                // The owner asking again gets the same conference and a fresh owner token.
                val again = jsonObj(
                    platform.handleRest("POST", "/v2/conferences/create", """{"ownerExternalId":"alice","alias":"board"}""").body
                )
                assertEq(confId, again.str("conferenceId"), "same conference")
                assertEq(false, again["isNew"], "not new")
                assertTrue(again.str("ownerToken") != ownerToken) { "fresh owner token" }

                alice.join(confId, ownerToken)
                alice.drainEvents()
                val fresh = platform.handleRest(
                    "POST", "/v2/conferences/$confId/tokens", """{"externalIds":["alice","bob"]}"""
                )
                assertEq(200, fresh.status, "tokens status (${fresh.body})")
                val tokens = jsonObj(fresh.body).obj("usersTokens")
                val verifier = c.add(Verifier.fromJwks(platform.jwks()))
                assertEq("bob", verifier.verify(tokens.str("bob"), clock.now, confId).subject, "bob's fresh token")
                assertEq(PermissionSet.ALL, verifier.verify(tokens.str("alice"), clock.now, confId).permissions, "alice's")
                // Alice is connected: she also gets hers as TokenRefreshed.
                val pushed = alice.drainEvents().only<Event.TokenRefreshed>()
                assertEq(tokens.str("alice"), pushed.token, "pushed = REST token")
                val unknown = platform.handleRest("POST", "/v2/conferences/$confId/tokens", """{"externalIds":["zed"]}""")
                assertEq(404, unknown.status, "unknown participant")
                platform.handleRest("POST", "/v2/conferences/$confId/kick", """{"externalIds":["carol"]}""")
                val kicked = platform.handleRest("POST", "/v2/conferences/$confId/tokens", """{"externalIds":["carol"]}""")
                assertEq(403, kicked.status, "kicked participant (${kicked.body})")
                assertEq("NOT_ALLOWED", jsonObj(kicked.body)["error_reason"], "kicked reason")
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

    /** No event of [events] carries [token], in a typed field or in its JSON. */
    fun assertNoToken(events: List<Event>, token: String, who: String) {
        for (e in events) {
            val typed = when (e) {
                is Event.InvitationReceived -> e.token
                is Event.PermissionsUpdated -> e.token
                is Event.TokenRefreshed -> e.token
                else -> null
            }
            assertTrue(typed != token && !e.json.contains(token)) { "$who received a token not meant for it in $e" }
        }
    }

    /** Flips one character of the signature. */
    fun tamper(token: String): String {
        val i = token.length - 5
        val ch = if (token[i] == 'A') 'B' else 'A'
        return token.substring(0, i) + ch + token.substring(i + 1)
    }
}
