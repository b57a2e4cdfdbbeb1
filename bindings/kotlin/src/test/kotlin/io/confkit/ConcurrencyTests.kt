package io.confkit

import java.util.Collections
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.CyclicBarrier
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger

object ConcurrencyTests {
    /** Starts [n] threads running [body] at once; returns their failures. */
    private fun runThreads(n: Int, name: String, body: (Int) -> Unit): List<Throwable> {
        val failures = ConcurrentLinkedQueue<Throwable>()
        val gate = CountDownLatch(1)
        val threads = (0 until n).map { i ->
            Thread({
                try {
                    gate.await()
                    body(i)
                } catch (t: Throwable) {
                    failures.add(t)
                }
            }, "$name-$i")
        }
        threads.forEach { it.start() }
        gate.countDown()
        threads.forEach { it.join(120_000) }
        assertTrue(threads.none { it.isAlive }) { "$name threads still running" }
        return failures.toList()
    }

    fun register() {
        test("threads: several threads invite, join, report and poll at once") {
            closing { c ->
                val platform = c.add(Platform())
                val owner = c.add(platform.openSession("owner", "Owner"))
                val conf = owner.createConference("busy", ConferenceOptions(isProtected = true))
                conf.join()
                conf.reportConnected()
                val users = (0 until 12).map { c.add(platform.openSession("user$it", "User $it")) }
                // Half the users are driven by listeners (which drain their session inside someone else's call).
                val listened = Collections.synchronizedList(ArrayList<Event>())
                val listenerCalls = AtomicInteger()
                users.filterIndexed { i, _ -> i % 2 == 0 }.forEach { u ->
                    u.setListener { s ->
                        listenerCalls.incrementAndGet()
                        listened.addAll(s.drainEvents().filterIsInstance<Event.InvitationReceived>())
                    }
                }
                val ownerEvents = AtomicInteger()
                val workers = CountDownLatch(16)
                // 4 inviter threads (each a slice of users), 12 user threads, 2 owner pollers.
                val failures = runThreads(18, "busy") { i ->
                    if (i < 16) {
                        try {
                            busyWorker(i, conf, users, listened)
                        } finally {
                            workers.countDown()
                        }
                    } else {
                        while (workers.count > 0) {
                            ownerEvents.addAndGet(owner.drainEvents().size)
                            owner.pendingEvents
                        }
                    }
                }
                assertTrue(failures.isEmpty()) { "failures: $failures" }
                val info = conf.refresh()
                assertEq(13L, info.presentCount, "everyone present")
                @Suppress("UNCHECKED_CAST")
                val rows = jsonObj(platform.handleRest("GET", "/v2/conferences/${conf.id}/participants").body)["participants"]
                    as List<Map<String, Any?>>
                assertEq(13, rows.count { it["status"] == "ON_AIR" }, "ON_AIR rows")
                assertTrue(listenerCalls.get() > 0) { "listeners ran" }
                assertTrue(ownerEvents.get() > 0) { "owner polled events" }
                users.forEach { it.setListener(null) }
            }
        }

        test("threads: close races with calls; calls after close fail cleanly") {
            closing { c ->
                val clock = c.add(ManualClock(FlowTests.START))
                val platform = c.add(Platform(null, "race", clock))
                val owner = c.add(platform.openSession("owner", "Owner"))
                val conf = owner.createConference("race", ConferenceOptions(isProtected = true))
                conf.join()
                val token = conf.ownerToken!!
                val expected = setOf("Session is closed", "Verifier is closed")
                repeat(30) { round ->
                    val s = platform.openSession("racer$round", "Racer")
                    // The listener runs inside the owner's invite calls, on the inviting thread.
                    s.setListener {
                        try {
                            it.pendingEvents
                        } catch (e: IllegalStateException) {
                        }
                    }
                    val v = Verifier.fromJwks(platform.jwks())
                    val barrier = CyclicBarrier(6)
                    val stop = AtomicBoolean(false)
                    val closers = AtomicInteger()
                    val failures = runThreads(6, "race") { i ->
                        barrier.await()
                        when (i) {
                            0, 1, 2 -> try {
                                while (true) {
                                    when (i) {
                                        0 -> {
                                            s.nextEvent()
                                            s.pendingEvents
                                        }
                                        1 -> assertEq(conf.id, s.fetchConference(conf.id).id, "fetch")
                                        else -> assertEq("owner", v.verify(token, clock.now, conf.id).subject, "verify")
                                    }
                                }
                            } catch (e: IllegalStateException) {
                                assertTrue(e.message in expected) { "unexpected: $e" }
                            }
                            3 -> while (!stop.get()) conf.invite(s.externalId)
                            else -> {
                                // Two threads close both objects at once, after a varying delay.
                                Thread.sleep((round % 4).toLong())
                                if ((round + i) % 2 == 0) {
                                    v.close()
                                    s.close()
                                } else {
                                    s.close()
                                    v.close()
                                }
                                assertTrue(s.isClosed && v.isClosed) { "closed when close returns" }
                                closers.incrementAndGet()
                                stop.set(true)
                            }
                        }
                    }
                    assertTrue(failures.isEmpty()) { "round $round failures: $failures" }
                    assertEq(2, closers.get(), "both closers returned")
                    assertThrows<IllegalStateException> { s.nextEvent() }
                    assertThrows<IllegalStateException> { v.verify(token, clock.now) }
                    owner.drainEvents()
                }
            }
        }

        test("threads: many threads share one platform, verifier and session list") {
            closing { c ->
                val platform = c.add(Platform())
                val verifier = c.add(Verifier.fromJwks(platform.jwks()))
                val failures = runThreads(8, "share") { i ->
                    platform.openSession("t$i").use { s ->
                        repeat(6) { r ->
                            val conf = s.createConference("t$i-$r", ConferenceOptions(isProtected = true))
                            val claims = verifier.verify(conf.ownerToken!!, System.currentTimeMillis() / 1000, conf.id)
                            assertEq("t$i", claims.subject, "subject")
                            conf.join()
                            conf.reportConnected()
                            conf.terminate()
                            s.drainEvents()
                            assertEq(200, platform.handleRest("GET", "/.well-known/jwks.json").status, "jwks")
                        }
                    }
                }
                assertTrue(failures.isEmpty()) { "failures: $failures" }
            }
        }
    }

    private fun busyWorker(i: Int, conf: Conference, users: List<Session>, listened: MutableList<Event>) {
        if (i < 4) {
            val slice = users.filterIndexed { idx, _ -> idx % 4 == i }.map { Invitee(it.externalId) }
            val results = conf.invite(slice)
            assertTrue(results.all { it.delivery == Delivery.DELIVERED }) { "$results" }
            return
        }
        val u = users[i - 4]
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
        var token: String? = null
        while (token == null) {
            assertTrue(System.nanoTime() < deadline) { "${u.externalId} never got an invitation" }
            val polled = u.drainEvents().filterIsInstance<Event.InvitationReceived>()
            val heard = synchronized(listened) {
                listened.filterIsInstance<Event.InvitationReceived>().filter { tokenFor(it, u) }
            }
            token = (polled + heard).firstOrNull()?.token
            if (token == null) Thread.sleep(1)
        }
        assertEq(PermissionSet.DEFAULT, u.join(conf.id, token), "join")
        assertEq(ParticipantStatus.ON_AIR, u.report(conf.id, MediaReport.CONNECTED), "connected")
        u.fetchConference(conf.id)
        u.drainEvents()
    }

    /** Whether an invitation collected by a listener is addressed to [u] (it carries u's token). */
    private fun tokenFor(e: Event.InvitationReceived, u: Session): Boolean {
        val payload = e.token!!.split('.')[1]
        val json = String(java.util.Base64.getUrlDecoder().decode(payload), Charsets.UTF_8)
        return jsonObj(json)["sub"] == u.externalId
    }
}
