package io.confkit

import java.io.File
import java.util.Collections
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.CyclicBarrier
import java.util.concurrent.Executor
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.RejectedExecutionException
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger

/** The device half: the recorded flow, a live flow over bytes, the listener, lifetimes, values. */
object ClientTests {
    /** tests/fixtures/wire/flows/bob.flow, shared with the Rust and C replays. */
    class Flow(val text: String) {
        val lines: List<String> = text.lines().filter { it.isNotEmpty() }
        private fun setting(key: String) = lines.first { it.startsWith("$key ") }.substring(key.length + 1)
        val me: String get() = setting("me")
        val now: Long get() = setting("now").toLong()
        val jwks: String get() = setting("jwks")
        /** The server's messages, in order. */
        val messages: List<ByteArray>
            get() = lines.filter { it.startsWith("recv ") }.map { it.substring(5).toByteArray(Charsets.UTF_8) }

        companion object {
            fun load(): Flow {
                val path = System.getProperty("confkit.flow") ?: "../../tests/fixtures/wire/flows/bob.flow"
                val file = File(path)
                assertTrue(file.isFile) { "flow not found at $path (set -Dconfkit.flow)" }
                return Flow(file.readText())
            }
        }
    }

    private fun statusName(status: ParticipantStatus?, code: Int) = status?.name ?: "UNKNOWN($code)"

    private fun hex3(bits: Int) = String.format("%03x", bits)

    /** An update as a fixture token (tests/device_flow.rs `token`): `kind[:detail]`. */
    fun token(u: Update): String {
        val detail = when (u) {
            is Update.ParticipantAdded -> "${u.participant.externalId}:${statusName(u.participant.status, u.participant.statusCode)}"
            is Update.ParticipantUpdated -> "${u.participant.externalId}:${statusName(u.participant.status, u.participant.statusCode)}"
            is Update.ParticipantRemoved -> u.externalId.value
            is Update.MyStatusChanged -> statusName(u.newStatus, u.newStatusCode)
            is Update.MyPermissionsChanged -> hex3(u.permissions.bits)
            is Update.InvitationReceived -> u.invitation.inviter.value
            is Update.RequestFailed -> Confkit.statusName(u.errorCode)
            is Update.Gap -> u.expected.toString()
            else -> return u.kindName
        }
        return "${u.kindName}:$detail"
    }

    /** A conference view as a fixture line (tests/device_flow.rs `view_line`). */
    fun viewLine(c: Client, v: ConferenceView): String {
        val may = Permission.values().filter { c.may(v.conferenceId, it) }.fold(0) { bits, p -> bits or p.mask }
        val people = v.participants.joinToString(",") {
            "${it.externalId}:${statusName(it.status, it.statusCode)}:${it.type.name}:${hex3(it.permissions.bits)}"
        }
        return "view ${v.conferenceId} alias=${v.alias ?: "-"} joined=${if (v.joined) 1 else 0} " +
            "ended=${if (v.ended) 1 else 0} my=${v.myStatus?.name ?: if (v.myStatusCode == -1) "-" else "UNKNOWN(${v.myStatusCode})"} " +
            "perms=${hex3(v.myPermissions.bits)} may=${hex3(may)} people=$people"
    }

    /** Replays the flow into a fresh client; returns the lines it produced (the file's grammar). */
    fun replay(flow: Flow): List<String> {
        val out = ArrayList<String>()
        closing { c ->
            val clock = c.add(ManualClock(flow.now))
            val client = Verifier.fromJwks(flow.jwks).use { v -> c.add(Client(ExternalId(flow.me), v, clock)) }
            client.setNextRequestNumber(1) // the recording's ids are c1, c2, ...
            for (line in flow.lines) {
                val key = line.substringBefore(' ')
                val rest = line.substringAfter(' ', "")
                when (key) {
                    "#", "me", "now", "jwks", "updates", "view" -> {}
                    "send" -> {
                        val words = rest.split(' ')
                        when {
                            words.size == 3 && words[0] == "join" -> {
                                val conf = ConferenceId(words[1])
                                val token = if (words[2] == "inbox") {
                                    client.inbox().lastOrNull { it.conferenceId == conf }?.token
                                } else {
                                    null
                                }
                                client.joinRequest(conf, token)
                            }
                            words.size == 3 && words[0] == "media" && words[2] == "CONNECTED" ->
                                client.mediaStateRequest(ConferenceId(words[1]), MediaState.CONNECTED)
                            words == listOf("resync") -> client.resyncRequest()
                            else -> fail("unknown send line \"$line\"")
                        }
                        out.add(line)
                    }
                    "recv" -> {
                        val updates = client.receive(rest.toByteArray(Charsets.UTF_8))
                        out.add(line)
                        out.add("updates " + updates.joinToString(" ") { token(it) })
                        client.conferences().forEach { out.add(viewLine(client, it)) }
                    }
                    else -> fail("unknown line \"$line\"")
                }
            }
        }
        return out
    }

    fun expected(flow: Flow): List<String> = flow.lines.filter {
        !(it.startsWith("# ") || it.startsWith("me ") || it.startsWith("now ") || it.startsWith("jwks "))
    }

    /** A request, carried to the platform and back. */
    private fun exchange(client: Client, session: Session, out: Outgoing): List<Update> =
        client.receive(session.handleMessage(out.bytes))

    /** Every event queued for the session, carried to its device. */
    private fun pump(client: Client, session: Session): List<Update> =
        session.drainMessages().flatMap { client.receive(it) }

    private inline fun <reified U : Update> List<Update>.one(): U {
        val matching = filterIsInstance<U>()
        assertEq(1, matching.size, "${U::class.java.simpleName} in ${map { token(it) }}")
        return matching[0]
    }

    private fun tokens(updates: List<Update>) = updates.map { token(it) }

    private fun namedExecutor(name: String): ExecutorService = Executors.newSingleThreadExecutor { r ->
        Thread(r, name).also { it.isDaemon = true }
    }

    /** Waits until [done] (the listener runs on another thread). */
    private fun await(what: String, done: () -> Boolean) {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (!done()) {
            assertTrue(System.nanoTime() < deadline) { "timed out waiting for $what" }
            Thread.sleep(1)
        }
    }

    /** A fresh client for the flow's user, clock and keys. */
    private fun flowClient(c: Closer, flow: Flow): Client {
        val clock = c.add(ManualClock(flow.now))
        val client = Verifier.fromJwks(flow.jwks).use { v -> c.add(Client(flow.me, v, clock)) }
        client.setNextRequestNumber(1) // the recording's ids are c1, c2, ...
        return client
    }

    /**
     * The flow's first steps, requests included: the invitation, the join and
     * its reply, an event that changes nothing, the media report and the event
     * that puts Bob on air. Returns what each receive returned.
     */
    private fun firstSteps(client: Client, flow: Flow): List<List<Update>> {
        val m = flow.messages
        val results = ArrayList<List<Update>>()
        results.add(client.receive(m[0]))
        val invitation = client.inbox().single()
        client.joinRequest(invitation)
        results.add(client.receive(m[1]))
        results.add(client.receive(m[2]))
        client.mediaStateRequest(invitation.conferenceId, MediaState.CONNECTED)
        results.add(client.receive(m[3]))
        results.add(client.receive(m[4]))
        return results
    }

    private fun makeGarbage(flow: Flow) {
        val clock = ManualClock(flow.now)
        val v = Verifier.fromJwks(flow.jwks)
        val client = Client(flow.me, v, clock)
        client.setUpdateListener(Executor { it.run() }) { client.lastSequence } // captures its client
        client.receive(flow.messages[0])
    }

    fun register() {
        test("device: the recorded flow (bob.flow) replays to the same updates and views") {
            val flow = Flow.load()
            val got = replay(flow)
            val want = expected(flow)
            for (i in 0 until minOf(got.size, want.size)) {
                assertEq(want[i], got[i], "line ${i + 1} of the flow's replayable lines")
            }
            assertEq(want.size, got.size, "replayable lines")
            // The flow shows what it promises.
            for (needle in listOf(
                "updates invitationReceived:alice", "participantAdded:bob:CONNECTING", "participantUpdated:bob:ON_AIR",
                "myPermissionsChanged:3ff", "gap:8", "resynced", "participantUpdated:bob:KICKED", "noLongerIn",
                "requestFailed:TOKEN_REVOKED"
            )) {
                assertTrue(got.any { it.contains(needle) }) { "the replay lacks $needle" }
            }
        }

        test("device: live flow over bytes, a Platform and two Clients (invite, join, media, permissions, kick)") {
            closing { c ->
                val clock = c.add(ManualClock(FlowTests.START))
                val platform = c.add(Platform(FlowTests.SEED, "demo-key-1", clock))
                val aliceSession = c.add(platform.openSession("alice", "Alice"))
                val bobSession = c.add(platform.openSession("bob", "Bob"))
                val jwks = platform.jwks()
                val alice = Verifier.fromJwks(jwks).use { v -> c.add(Client(ExternalId("alice"), v, clock)) }
                val bob = Verifier.fromJwks(jwks).use { v -> c.add(Client(ExternalId("bob"), v, clock)) }
                val bobId = ExternalId("bob")

                // Alice's phone creates a protected conference and joins with the owner token.
                assertThrows<ConfkitException> { alice.setNextRequestNumber(0) }
                alice.setNextRequestNumber(1) // a fresh client starts at a random number
                val create = alice.createRequest("standup", ConferenceOptions(isProtected = true))
                assertEq(1L, create.requestNumber, "first request")
                val created = exchange(alice, aliceSession, create).one<Update.RequestSucceeded>()
                assertEq(create.requestNumber, created.requestNumber, "reply to the create")
                assertEq("c1", created.requestId, "wire id")
                val result = jsonObj(created.resultJson)
                val conf = ConferenceId(result.obj("conference").str("id"))
                val ownerToken = result.str("ownerToken")
                pump(alice, aliceSession)
                val joined = exchange(alice, aliceSession, alice.joinRequest(conf, ownerToken))
                assertTrue(joined.last() is Update.RequestSucceeded) { "${tokens(joined)}" }
                assertEq(ParticipantStatus.CONNECTING, joined.one<Update.MyStatusChanged>().newStatus, "alice connecting")
                exchange(alice, aliceSession, alice.mediaStateRequest(conf, MediaState.CONNECTED))
                assertEq(ParticipantStatus.ON_AIR, pump(alice, aliceSession).one<Update.MyStatusChanged>().newStatus, "on air")
                assertTrue(alice.may(conf, Permission.INVITE) && alice.may(conf, Permission.KICK)) { "owner may all" }

                // Alice invites Bob: she sees him RESERVED; Bob's phone gets the invitation,
                // its token verified offline by the client, and keeps it in the inbox.
                val invited = exchange(alice, aliceSession, alice.inviteRequest(conf, bobId))
                assertTrue(invited.single() is Update.RequestSucceeded) { "${tokens(invited)}" }
                assertEq(listOf("participantAdded:bob:RESERVED"), tokens(pump(alice, aliceSession)), "alice sees bob")
                assertTrue(!bob.may(conf, Permission.JOIN)) { "not in the conference yet" }
                val invitation = pump(bob, bobSession).one<Update.InvitationReceived>().invitation
                assertEq(conf, invitation.conferenceId, "invitation conference")
                assertEq("standup", invitation.alias, "invitation alias")
                assertEq(ExternalId("alice"), invitation.inviter, "inviter")
                assertEq("Alice", invitation.inviterName, "inviter name")
                assertEq(PermissionSet.DEFAULT, invitation.permissions, "invitation permissions")
                assertTrue(invitation.token != null) { "a protected invitation carries the token" }
                assertEq(listOf(invitation), bob.inbox(), "inbox")
                assertEq(null, bob.conference(conf)?.myStatus, "not a participant yet")

                // Bob joins with it: CONNECTING, then his media connects: ON_AIR.
                val bobJoin = bob.joinRequest(invitation)
                val bobJoined = exchange(bob, bobSession, bobJoin)
                assertEq(bobJoin.requestNumber, bobJoined.one<Update.RequestSucceeded>().requestNumber, "join reply")
                assertEq(ParticipantStatus.CONNECTING, bobJoined.one<Update.MyStatusChanged>().newStatus, "bob connecting")
                val fromAlice = pump(alice, aliceSession).one<Update.ParticipantUpdated>()
                assertEq(ParticipantStatus.RESERVED, fromAlice.oldStatus, "was RESERVED")
                assertEq(ParticipantStatus.CONNECTING, fromAlice.participant.status, "now CONNECTING")
                assertEq("Bob", fromAlice.participant.name, "name from the JSON")
                assertEq(ParticipantType.USER, fromAlice.participant.type, "type from the JSON")
                exchange(bob, bobSession, bob.mediaStateRequest(conf, MediaState.CONNECTED))
                assertEq(ParticipantStatus.ON_AIR, pump(bob, bobSession).one<Update.MyStatusChanged>().newStatus, "bob on air")
                assertEq(listOf("participantUpdated:bob:ON_AIR"), tokens(pump(alice, aliceSession)), "alice sees bob on air")
                val bobView = bob.conference(conf) ?: fail("bob's view")
                assertTrue(bobView.joined && bobView.myStatus == ParticipantStatus.ON_AIR) { "$bobView" }
                assertEq(
                    listOf("alice", "bob"), bobView.participants.map { it.externalId.value }, "roster ordered by external ID"
                )
                assertTrue(bob.may(conf, Permission.JOIN) && !bob.may(conf, Permission.INVITE)) { "bob's default set" }

                // Alice lets Bob invite: his new token, verified offline, flips may(INVITE).
                val update = exchange(alice, aliceSession, alice.updatePermissionsRequest(conf, bobId, PermissionSet.DEFAULT + Permission.INVITE))
                assertTrue(update.single() is Update.RequestSucceeded) { "${tokens(update)}" }
                val mine = pump(bob, bobSession).one<Update.MyPermissionsChanged>()
                assertEq(PermissionSet.DEFAULT + Permission.INVITE, mine.permissions, "bob's new permissions")
                assertTrue(bob.may(conf, Permission.INVITE)) { "may(INVITE) flipped" }
                assertTrue(!bob.may(conf, Permission.KICK)) { "nothing more" }
                val held = bob.conference(conf)?.token ?: fail("the update's token in bob's view")
                assertTrue(held != bobView.token && bobView.token != null) { "a new token, not the join's" }
                assertTrue(!bob.conference(conf).toString().contains(held)) { "no token in the view's toString" }
                pump(alice, aliceSession)

                // Alice kicks Bob: his phone is out, and the old token no longer admits him.
                assertTrue(exchange(alice, aliceSession, alice.kickRequest(conf, bobId)).single() is Update.RequestSucceeded) { "kick" }
                assertEq(listOf("participantUpdated:bob:KICKED"), tokens(pump(alice, aliceSession)), "alice sees the kick")
                val kicked = pump(bob, bobSession)
                assertEq(ParticipantStatus.KICKED, kicked.one<Update.MyStatusChanged>().newStatus, "kicked")
                kicked.one<Update.NoLongerIn>()
                assertTrue(!bob.may(conf, Permission.JOIN) && bob.conference(conf)?.joined == false) { "out" }
                val rejoin = bob.joinRequest(invitation)
                val refused = exchange(bob, bobSession, rejoin).one<Update.RequestFailed>()
                assertEq(rejoin.requestNumber, refused.requestNumber, "reply to the rejoin")
                assertEq(ConfkitStatus.TOKEN_REVOKED, refused.status, "status")
                assertEq(7, refused.errorCode, "raw code")
                assertEq("TOKEN_REVOKED", refused.reason, "reason")
                assertTrue(refused.description.contains("revoked")) { refused.description }
                val aliceView = alice.conference(conf) ?: fail("alice's view")
                assertEq(ParticipantStatus.KICKED, aliceView.participant(bobId)?.status, "alice sees bob KICKED")
                assertEq(null, alice.conference(ConferenceId("00000000-0000-4000-8000-000000000000")), "never heard of")
                assertTrue(!alice.isStalled && !bob.isStalled) { "no gap" }
                assertTrue(bob.lastSequence > 0 && alice.lastSequence > 0) { "events applied" }
            }
        }

        test("device: every request kind round-trips (fetch, keep-alive, decline, listen, leave, terminate)") {
            closing { c ->
                val platform = c.add(Platform())
                val jwks = platform.jwks()
                val sessions = listOf("alice", "bob", "carol").map { c.add(platform.openSession(it, it.capitalize())) }
                val clients = listOf("alice", "bob", "carol").map { name ->
                    Verifier.fromJwks(jwks).use { v -> c.add(Client(name, v)) }
                }
                val (alice, bob, carol) = clients
                val (aliceS, bobS, carolS) = sessions
                fun ok(client: Client, session: Session, out: Outgoing): Update.RequestSucceeded {
                    val r = exchange(client, session, out)
                    val success = r.filterIsInstance<Update.RequestSucceeded>().singleOrNull()
                        ?: fail("${out.requestId} did not succeed: ${tokens(r)} ${r.filterIsInstance<Update.RequestFailed>()}")
                    assertEq(out.requestNumber, success.requestNumber, "reply number")
                    return success
                }
                fun pumpAll() = clients.indices.map { pump(clients[it], sessions[it]) }

                val created = ok(alice, aliceS, alice.createRequest("open-room"))
                val conf = ConferenceId(jsonObj(created.resultJson).obj("conference").str("id"))
                val fetched = ok(bob, bobS, bob.fetchRequest("OPEN-ROOM"))
                assertEq(conf.value, jsonObj(fetched.resultJson).obj("conference").str("id"), "fetch by alias")
                ok(alice, aliceS, alice.keepAliveRequest())
                ok(alice, aliceS, alice.joinRequest(conf))
                ok(alice, aliceS, alice.inviteRequest(conf, listOf(Invitee(ExternalId("bob")), Invitee(ExternalId("carol")))))
                pumpAll()
                assertTrue(bob.inbox().single().token == null) { "an unprotected invitation has no token" }

                ok(bob, bobS, bob.declineRequest(conf))
                ok(carol, carolS, carol.listenRequest(conf))
                pumpAll()
                val seen = alice.conference(conf) ?: fail("alice's view")
                assertEq(ParticipantStatus.DECLINE, seen.participant(ExternalId("bob"))?.status, "bob declined")
                assertEq(ParticipantType.LISTENER, seen.participant(ExternalId("carol"))?.type, "carol listens")

                ok(carol, carolS, carol.leaveRequest(conf))
                val carolLeft = pump(carol, carolS)
                assertTrue(carolLeft.any { it is Update.NoLongerIn }) { "carol is out: ${tokens(carolLeft)}" }
                assertEq(false, carol.conference(conf)?.joined, "carol's view")

                ok(alice, aliceS, alice.terminateRequest(conf))
                val ended = pump(alice, aliceS).filterIsInstance<Update.ConferenceEnded>().single()
                assertEq(EndReason.TERMINATED, ended.reason, "reason")
                assertEq(conf, ended.conferenceId, "which")
                assertEq(true, alice.conference(conf)?.ended, "alice's view says ended")
                pumpAll()

                // A refused request is an update, not an exception: the conference is gone.
                val refused = exchange(alice, aliceS, alice.joinRequest(conf)).single() as? Update.RequestFailed
                    ?: fail("refused")
                assertEq(ConfkitStatus.CONFERENCE_NOT_FOUND, refused.status, "status")
                assertEq("CONFERENCE_NOT_FOUND", refused.reason, "reason")
            }
        }

        test("device: the update listener runs on the executor it was given, in order") {
            val flow = Flow.load()
            val ui = namedExecutor("ui-thread")
            val pool = Executors.newFixedThreadPool(4)
            try {
                closing { c ->
                    val client = flowClient(c, flow)
                    val delivered = Collections.synchronizedList(ArrayList<List<Update>>())
                    val threads = Collections.synchronizedSet(HashSet<String>())
                    client.setUpdateListener(ui) { batch ->
                        threads.add(Thread.currentThread().name)
                        delivered.add(batch)
                    }
                    val returned = firstSteps(client, flow).filter { it.isNotEmpty() }
                    assertEq(4, returned.size, "non-empty batches of the first steps")
                    await("the listener") { delivered.size == returned.size }
                    assertEq(setOf("ui-thread"), threads.toSet(), "listener threads")
                    for (i in returned.indices) {
                        assertTrue(returned[i] === delivered[i]) { "batch $i: the list receive returned, in order" }
                    }
                    assertThrows<UnsupportedOperationException> { (returned[0] as MutableList<Update>).clear() }

                    // A multi-threaded executor: still one batch at a time, in order.
                    val client2 = flowClient(c, flow)
                    val active = AtomicInteger()
                    val overlap = AtomicBoolean(false)
                    val order = Collections.synchronizedList(ArrayList<List<Update>>())
                    client2.setUpdateListener(pool) { batch ->
                        if (active.incrementAndGet() > 1) overlap.set(true)
                        Thread.sleep(2)
                        order.add(batch)
                        active.decrementAndGet()
                    }
                    val returned2 = firstSteps(client2, flow).filter { it.isNotEmpty() }
                    // Repeats are Duplicate updates: more batches, same client.
                    val dups = (0 until 20).map { client2.receive(flow.messages[0]) }
                    await("the pool listener") { order.size == returned2.size + dups.size }
                    assertTrue(!overlap.get()) { "the listener ran concurrently with itself" }
                    val all = returned2 + dups
                    for (i in all.indices) assertTrue(all[i] === order[i]) { "pool batch $i out of order" }
                    assertTrue(dups.all { it.single() is Update.Duplicate }) { "${dups[0]}" }

                    // A direct executor: on the receiving thread, before receive returns.
                    val client3 = flowClient(c, flow)
                    val seen = ArrayList<String>()
                    client3.setUpdateListener(Executor { it.run() }) { seen.add(Thread.currentThread().name) }
                    val steps = firstSteps(client3, flow)
                    assertEq(listOf(true, true, false, true, true), steps.map { it.isNotEmpty() }, "the steps' results")
                    // One call per non-empty result (none for the empty one), on this thread.
                    assertEq(List(4) { Thread.currentThread().name }, seen, "direct executor")
                }
            } finally {
                ui.shutdownNow()
                pool.shutdownNow()
            }
        }

        test("device: replacing, clearing and closing stop the old listener; errors are reported, never thrown") {
            val flow = Flow.load()
            val reported = ConcurrentLinkedQueue<Throwable>()
            val previous = Confkit.callbackErrorHandler
            Confkit.callbackErrorHandler = { reported.add(it) }
            try {
                closing { c ->
                    // Batches queued for a replaced listener are dropped; later ones go to the new one.
                    val held = ArrayList<Runnable>()
                    val manual = Executor { synchronized(held) { held.add(it) } }
                    val client = flowClient(c, flow)
                    val first = ArrayList<List<Update>>()
                    client.setUpdateListener(manual) { first.add(it) }
                    client.receive(flow.messages[0])
                    val second = ArrayList<List<Update>>()
                    client.setUpdateListener(Executor { it.run() }) { second.add(it) }
                    synchronized(held) { held.forEach { it.run() } }
                    assertEq(0, first.size, "the replaced listener got nothing")
                    val dup = client.receive(flow.messages[0])
                    assertEq(listOf(dup), second, "the new listener")
                    client.clearUpdateListener()
                    client.receive(flow.messages[0])
                    assertEq(1, second.size, "nothing after clear")

                    // A throwing listener is reported, and delivery goes on.
                    val calls = AtomicInteger()
                    client.setUpdateListener(Executor { it.run() }) {
                        if (calls.incrementAndGet() == 1) throw IllegalStateException("listener bug")
                    }
                    client.receive(flow.messages[0])
                    client.receive(flow.messages[0])
                    assertEq(2, calls.get(), "called for both batches")
                    assertTrue(reported.any { it.message == "listener bug" }) { "reported: $reported" }

                    // A rejecting executor: receive returns normally, the batch waits for the next one.
                    val reject = AtomicBoolean(true)
                    val got = ArrayList<List<Update>>()
                    client.setUpdateListener(Executor {
                        if (reject.get()) throw RejectedExecutionException("shut down")
                        it.run()
                    }) { got.add(it) }
                    val a = client.receive(flow.messages[0])
                    assertTrue(a.single() is Update.Duplicate) { "receive returned" }
                    assertTrue(reported.any { it is RejectedExecutionException }) { "rejection reported" }
                    reject.set(false)
                    val b = client.receive(flow.messages[0])
                    assertTrue(got.size == 2 && got[0] === a && got[1] === b) { "delivered late, in order: $got" }

                    // A listener closing its own client (direct executor) is fine.
                    val closer = flowClient(c, flow)
                    closer.setUpdateListener(Executor { it.run() }) { closer.close() }
                    closer.receive(flow.messages[0])
                    assertTrue(closer.isClosed) { "closed by its listener" }
                    // Close drops what was queued.
                    val late = ArrayList<List<Update>>()
                    val heldLater = ArrayList<Runnable>()
                    val client4 = flowClient(c, flow)
                    client4.setUpdateListener(Executor { heldLater.add(it) }) { late.add(it) }
                    client4.receive(flow.messages[0])
                    client4.close()
                    heldLater.forEach { it.run() }
                    assertEq(0, late.size, "nothing handed over after close")
                    assertThrows<IllegalStateException> { client4.setUpdateListener(Executor { it.run() }) { } }
                }
            } finally {
                Confkit.callbackErrorHandler = previous
            }
        }

        test("device: close races with calls from several threads (calls succeed or throw the closed error)") {
            val flow = Flow.load()
            closing { c ->
                val clock = c.add(ManualClock(flow.now))
                val verifier = c.add(Verifier.fromJwks(flow.jwks))
                val conf = ConferenceId(flow.lines.first { it.startsWith("send join ") }.split(' ')[2])
                repeat(25) { round ->
                    val client = Client(flow.me, verifier, clock)
                    client.receive(flow.messages[0])
                    val listened = AtomicInteger()
                    client.setUpdateListener(Executor { it.run() }) { listened.incrementAndGet() }
                    val barrier = CyclicBarrier(7)
                    val failures = ConcurrentLinkedQueue<Throwable>()
                    val done = CountDownLatch(7)
                    val threads = (0 until 7).map { i ->
                        Thread({
                            try {
                                barrier.await()
                                if (i >= 5) {
                                    Thread.sleep((round % 3).toLong())
                                    client.close()
                                    assertTrue(client.isClosed) { "closed when close returns" }
                                } else {
                                    try {
                                        while (true) {
                                            when (i) {
                                                0 -> assertTrue(client.receive(flow.messages[0]).single() is Update.Duplicate) { "dup" }
                                                1 -> assertEq(1, client.conferences().size, "views")
                                                2 -> assertEq(1, client.inbox().size, "inbox")
                                                3 -> assertTrue(client.joinRequest(conf).requestNumber > 0) { "request" }
                                                else -> {
                                                    client.may(conf, Permission.JOIN)
                                                    client.lastSequence
                                                    client.isStalled
                                                    client.conference(conf)
                                                }
                                            }
                                        }
                                    } catch (e: IllegalStateException) {
                                        assertEq("Client is closed", e.message, "the closed error")
                                    }
                                }
                            } catch (t: Throwable) {
                                failures.add(t)
                            } finally {
                                done.countDown()
                            }
                        }, "client-race-$i")
                    }
                    threads.forEach { it.start() }
                    assertTrue(done.await(60, TimeUnit.SECONDS)) { "race threads stuck" }
                    assertTrue(failures.isEmpty()) { "round $round: $failures" }
                    assertThrows<IllegalStateException> { client.receive(flow.messages[0]) }
                }
            }
        }

        test("device: lifetime (idempotent close, use after close, the cleaner frees a forgotten client)") {
            val flow = Flow.load()
            val clock = ManualClock(flow.now)
            val client = Verifier.fromJwks(flow.jwks).use { Client(flow.me, it, clock) }
            assertEq(Update.INVITATION_RECEIVED, client.receive(flow.messages[0]).single().kind, "works with the verifier closed")
            val conf = client.inbox().single().conferenceId
            client.close()
            client.close()
            assertTrue(client.isClosed) { "closed" }
            val e = assertThrows<IllegalStateException> { client.receive(flow.messages[1]) }
            assertEq("Client is closed", e.message, "message")
            val uses = listOf<() -> Any?>(
                { client.joinRequest(conf) }, { client.resyncRequest() }, { client.keepAliveRequest() },
                { client.createRequest("x") }, { client.inviteRequest(conf, ExternalId("carol")) },
                { client.may(conf, Permission.JOIN) }, { client.conferences() }, { client.conference(conf) },
                { client.inbox() }, { client.lastSequence }, { client.isStalled }, { client.clearUpdateListener() }
            )
            uses.forEachIndexed { i, use ->
                val err = assertThrows<IllegalStateException> { use() }
                assertEq("Client is closed", err.message, "use $i after close")
            }
            assertEq("Client(bob, closed)", client.toString(), "toString")
            clock.close()

            val base = Confkit.liveObjects()
            makeGarbage(flow)
            assertTrue(Confkit.liveObjects() >= base + 3) { "native objects exist" }
            assertTrue(LifetimeTests.collectUntil { Confkit.liveObjects() == base }) {
                "cleaner did not free: live ${Confkit.liveObjects()} (base $base)"
            }
        }

        test("device: forward compatibility (unknown event type -> Skipped, unknown update kind -> Unknown)") {
            val flow = Flow.load()
            closing { c ->
                val client = flowClient(c, flow)
                val conf = "25649f3b-ebf1-49e9-b982-2d78d2964d37"
                val future = """{"v":1,"type":"event","sequence":1,"conferenceId":"$conf","event":{"type":"holographicMode","level":3}}"""
                val skipped = client.receive(future.toByteArray()).single() as? Update.Skipped ?: fail("Skipped")
                assertEq(1L, skipped.sequence, "sequence")
                assertEq("holographicMode", skipped.type, "type")
                assertEq(1L, client.lastSequence, "counted")
                assertEq("skipped", skipped.kindName, "kind name")
                // Then the stream goes on (the next event has sequence 2).
                val next = client.receive(flow.messages[0]) // sequence 1 again: a duplicate now
                assertTrue(next.single() is Update.Duplicate) { "${tokens(next)}" }
                // A message that is not this protocol is refused and changes nothing.
                expectError(ConfkitStatus.INVALID_ARGUMENT, "") { client.receive("""{"v":99}""".toByteArray()) }
                assertEq(1L, client.lastSequence, "unchanged")
            }
            // The mapping: a kind this binding does not know is Unknown, with the JSON; never guessed.
            val json = """{"kind":"teleported","conferenceId":"25649f3b-ebf1-49e9-b982-2d78d2964d37","to":"mars"}"""
            val u = Update.fromRaw(Update.Raw(kind = 99, json = json, conferenceId = "25649f3b-ebf1-49e9-b982-2d78d2964d37"))
            assertEq(Update.Unknown(99, json), u, "kind 99")
            assertEq("teleported", u.kindName, "kind name from the JSON")
            assertEq(null, u.conferenceId, "no conference guessed")
            val zero = Update.fromRaw(Update.Raw(kind = 0, json = ""))
            assertTrue(zero is Update.Unknown && zero.kind == 0 && zero.kindName == "unknown") { "$zero" }
            // Each known kind maps to its class.
            val kinds = (1..15).map { k ->
                Update.fromRaw(
                    Update.Raw(
                        kind = k, conferenceId = "25649f3b-ebf1-49e9-b982-2d78d2964d37", externalId = "bob",
                        oldStatus = 0, newStatus = 1, requestId = "c3", requestNumber = 3, errorCode = 7,
                        errorName = "TOKEN_REVOKED", text = "t", sequence = 5,
                        json = """{"kind":"x","participant":{"name":"Bob","type":"USER"},"reason":"EXPIRED",""" +
                            """"inviter":{"externalId":"alice","name":"Alice"},"result":{"a":[1,2]},"received":7,"snapshot":true}"""
                    )
                )
            }
            assertEq(
                listOf(
                    "ParticipantAdded", "ParticipantUpdated", "ParticipantRemoved", "MyStatusChanged", "MyPermissionsChanged",
                    "NoLongerIn", "ConferenceEnded", "InvitationReceived", "RequestSucceeded", "RequestFailed", "Duplicate",
                    "DuplicateReply", "Gap", "Skipped", "Resynced"
                ),
                kinds.map { it.javaClass.simpleName }, "classes of kinds 1..15"
            )
            assertEq((1..15).toList(), kinds.map { it.kind }, "kind codes")
            assertEq("""{"a":[1,2]}""", (kinds[8] as Update.RequestSucceeded).resultJson, "result as written")
            assertEq(7L, (kinds[12] as Update.Gap).received, "gap received")
            assertEq(EndReason.EXPIRED, (kinds[6] as Update.ConferenceEnded).reason, "end reason")
            assertTrue((kinds[14] as Update.Resynced).snapshot) { "snapshot" }
        }

        test("device: no token in any toString (updates, invitations, requests, events)") {
            val flow = Flow.load()
            val jwt = Regex("eyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+")
            val tokens = jwt.findAll(flow.text).map { it.value }.toSet()
            assertTrue(tokens.size >= 2) { "the flow has tokens" }
            fun clean(what: String, s: String) {
                assertTrue(tokens.none { s.contains(it) } && !jwt.containsMatchIn(s)) { "$what shows a token: $s" }
            }
            closing { c ->
                val client = flowClient(c, flow)
                val updates = client.receive(flow.messages[0])
                val inv = updates.single() as Update.InvitationReceived
                assertTrue(inv.invitation.token != null && inv.json.contains(inv.invitation.token)) { "it has one" }
                clean("InvitationReceived", inv.toString())
                assertTrue(inv.toString().contains("token=<redacted>") && inv.toString().contains("inviter=alice")) { "$inv" }
                clean("Invitation", client.inbox().single().toString())
                clean("the list", updates.toString())
                val join = client.joinRequest(client.inbox().single())
                assertTrue(String(join.bytes).contains(inv.invitation.token!!)) { "the request carries it" }
                clean("Outgoing", join.toString())
                val joined = client.receive(flow.messages[1])
                val ok = joined.filterIsInstance<Update.RequestSucceeded>().single()
                assertTrue(ok.resultJson.contains("\"token\"")) { "the join result has a token" }
                clean("RequestSucceeded", ok.toString())
                assertTrue(ok.toString().contains("\"token\":\"<redacted>\"")) { "$ok" }
                clean("the join's updates", joined.toString())
            }
            // Events: every kind that carries a token, in its field or its JSON.
            val t = tokens.first()
            val conf = "25649f3b-ebf1-49e9-b982-2d78d2964d37"
            val events = listOf(
                Event.InvitationReceived(1, conf, "invitationReceived", """{"token":"$t"}""", "standup",
                    ParticipantInfo("alice", "Alice", null), t, PermissionSet.DEFAULT),
                Event.PermissionsUpdated(2, conf, "permissionsUpdated", """{"token":"$t"}""", PermissionSet.DEFAULT, t),
                Event.TokenRefreshed(3, conf, "tokenRefreshed", """{"token":"$t"}""", t, PermissionSet.DEFAULT, 5),
                Event.Unknown(4, conf, "future", """{"newToken":"$t"}""", 42),
                // A token that does not look like a JWT is still redacted from its field.
                Event.TokenRefreshed(5, conf, "tokenRefreshed", """{"token":"opaque"}""", "opaque", PermissionSet.DEFAULT, 5)
            )
            for (e in events) {
                clean(e.javaClass.simpleName, e.toString())
                assertTrue(!e.toString().contains("opaque") && e.toString().contains("<redacted>")) { "$e" }
            }
            // What the data classes said before still shows: the other fields.
            assertTrue(events[0].toString().contains("conferenceAlias=standup")) { "${events[0]}" }
        }

        test("device: ConferenceId and ExternalId validate and are not interchangeable") {
            val id = ConferenceId("25649F3B-EBF1-49E9-B982-2D78D2964D37")
            assertEq("25649f3b-ebf1-49e9-b982-2d78d2964d37", id.value, "lower case")
            assertEq(ConferenceId("25649f3b-ebf1-49e9-b982-2d78d2964d37"), id, "one conference, one spelling")
            assertEq(id.value, id.toString(), "toString")
            expectError(ConfkitStatus.INVALID_ARGUMENT, "not a UUID") { ConferenceId("standup") }
            expectError(ConfkitStatus.INVALID_ARGUMENT, "not a UUID") { ConferenceId("{25649f3b-ebf1-49e9-b982-2d78d2964d37}") }
            expectError(ConfkitStatus.INVALID_ARGUMENT, "not a UUID") { ConferenceId("25649f3bebf149e9b9822d78d2964d37") }
            assertEq("bob", ExternalId("bob").value, "value")
            assertTrue(ExternalId("Bob") != ExternalId("bob")) { "case matters" }
            expectError(ConfkitStatus.INVALID_ARGUMENT, "empty") { ExternalId("") }
            expectError(ConfkitStatus.INVALID_ARGUMENT, "more than 256") { ExternalId("é".repeat(129)) }
            ExternalId("x".repeat(256))
            expectError(ConfkitStatus.INVALID_ARGUMENT, "control character") { ExternalId("bob\n") }
            val a: Any = ExternalId("25649f3b-ebf1-49e9-b982-2d78d2964d37")
            assertTrue(a != id) { "different types never compare equal" }
            // The library agrees on what it refuses.
            closing { c ->
                val platform = c.add(Platform())
                expectError(ConfkitStatus.INVALID_ARGUMENT, "") { platform.openSession("bob\n") }
            }
        }
    }
}
