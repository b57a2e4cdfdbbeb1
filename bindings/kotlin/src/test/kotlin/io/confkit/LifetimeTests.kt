package io.confkit

object LifetimeTests {
    /** Creates native objects and forgets them, without closing. */
    private fun makeGarbage(): Int {
        val clock = ManualClock(1_000)
        val platform = Platform(null, "garbage", clock)
        val session = platform.openSession("ghost", "Ghost")
        session.setListener { s -> s.drainEvents() } // captures its session: must not keep it alive
        session.createConference("haunted").join()
        val verifier = Verifier.fromJwks(platform.jwks())
        return listOf(clock, platform, session, verifier).size
    }

    /** Runs the garbage collector and the cleaner until [done] or a timeout. */
    fun collectUntil(done: () -> Boolean): Boolean {
        repeat(200) {
            if (done()) return true
            System.gc()
            Thread.sleep(10)
            NativeCleaner.runPending()
        }
        return done()
    }

    fun register() {
        test("lifetime: close is idempotent and calls after close throw IllegalStateException") {
            val clock = ManualClock(5)
            val platform = Platform(null, "k", clock)
            val session = platform.openSession("alice")
            val verifier = Verifier.fromJwks(platform.jwks())
            val conf = session.createConference("room")
            for (o in listOf<NativeObject>(session, verifier, platform, clock)) {
                assertTrue(!o.isClosed) { "open" }
                o.close()
                o.close()
                assertTrue(o.isClosed) { "closed" }
            }
            val e = assertThrows<IllegalStateException> { session.nextEvent() }
            assertEq("Session is closed", e.message, "message")
            assertThrows<IllegalStateException> { session.drainEvents() }
            assertThrows<IllegalStateException> { session.pendingEvents }
            assertThrows<IllegalStateException> { conf.join() }
            assertThrows<IllegalStateException> { conf.invite("bob") }
            assertThrows<IllegalStateException> { session.setListener { } }
            assertThrows<IllegalStateException> { platform.openSession("bob") }
            assertThrows<IllegalStateException> { platform.handleRest("GET", "/.well-known/jwks.json") }
            assertThrows<IllegalStateException> { platform.jwks() }
            assertThrows<IllegalStateException> { verifier.verify("x", 0) }
            assertThrows<IllegalStateException> { clock.advance(1) }
            assertThrows<IllegalStateException> { clock.now }
            assertThrows<IllegalStateException> { Platform(null, "k2", clock) }
        }

        test("lifetime: sessions outlive their Platform object; the platform outlives its clock object") {
            val clock = ManualClock(100)
            val platform = Platform(null, "k", clock)
            clock.close()
            val session = platform.openSession("alice")
            platform.close()
            session.use { s ->
                val conf = s.createConference("still-here", ConferenceOptions(isProtected = true))
                assertEq(PermissionSet.ALL, conf.join(), "works after the platform object was closed")
                s.drainEvents()
            }
        }

        test("lifetime: Platform.open keeps conferences across a restart on the same file") {
            val dir = java.nio.file.Files.createTempDirectory("confkit-kotlin-restart")
            val path = dir.resolve("platform.db").toString()
            val seed = ByteArray(32) { (it * 3 + 1).toByte() }
            val clock = ManualClock(1_700_000_000)
            val (id, ownerToken) = Platform.open(path, seed, "restart-key", clock).use { p ->
                p.openSession("alice", "Alice").use { s ->
                    val conf = s.createConference("Kept", ConferenceOptions(isProtected = true))
                    conf.join()
                    s.drainEvents()
                    Pair(conf.id, conf.ownerToken)
                }
            }
            Platform.open(path, seed, "restart-key", clock).use { p ->
                p.openSession("alice", "Alice").use { s ->
                    val again = s.fetchConferenceByAlias("kept")
                    assertEq(id, again.id, "the conference survived the restart")
                    assertEq(PermissionSet.ALL, s.join(id, ownerToken), "the owner token still admits")
                    s.drainEvents()
                }
            }
            expectError(ConfkitStatus.STORE_UNAVAILABLE, "store") {
                Platform.open(dir.resolve("no/such/dir/x.db").toString(), seed, "restart-key", clock).close()
            }
            clock.close()
            dir.toFile().deleteRecursively()
        }

        test("lifetime: results are copied and freed at once (no native object per result)") {
            closing { c ->
                val platform = c.add(Platform())
                val alice = c.add(platform.openSession("alice"))
                val bob = c.add(platform.openSession("bob"))
                val base = Confkit.liveObjects()
                val conf = alice.createConference("room", ConferenceOptions(isProtected = true))
                conf.join()
                val results = conf.invite("bob", "carol")
                val events = bob.drainEvents() + alice.drainEvents()
                Verifier.fromJwks(platform.jwks()).use { it.verify(conf.ownerToken!!, System.currentTimeMillis() / 1000) }
                platform.handleRest("GET", "/v2/conferences/${conf.id}/participants")
                assertEq(base, Confkit.liveObjects(), "live objects after create/invite/events/verify/rest")
                assertTrue(results.size == 2 && events.isNotEmpty()) { "results kept" }
            }
        }

        test("lifetime: a listener closing its own session from inside a call frees it afterwards") {
            closing { c ->
                val platform = c.add(Platform())
                val base = Confkit.liveObjects()
                val alice = platform.openSession("alice")
                alice.setListener { s -> s.close() } // runs inside alice's own invite call
                val conf = alice.createConference("room")
                // create queued conferenceCreated for alice: the listener closed alice inside that call.
                assertTrue(alice.isClosed) { "closed by its listener" }
                assertThrows<IllegalStateException> { conf.join() }
                assertEq(base, Confkit.liveObjects(), "freed when the call returned")
                assertEq("room", conf.alias, "the result of the call is intact")
            }
        }

        test("lifetime: forgotten objects are freed by the cleaner") {
            val base = Confkit.liveObjects()
            val listenersBase = Listeners.size
            val made = makeGarbage()
            assertEq(4, made, "objects made")
            assertTrue(Confkit.liveObjects() >= base + 4) { "native objects exist" }
            val freed = collectUntil { Confkit.liveObjects() == base && Listeners.size == listenersBase }
            assertTrue(freed) {
                "cleaner did not free: live ${Confkit.liveObjects()} (base $base), listeners ${Listeners.size}"
            }
        }
    }

    fun registerFinal() {
        test("lifetime: no native object left alive at the end (confkit_live_objects() == 0)") {
            collectUntil { NativeCleaner.pending == 0 }
            NativeCleaner.runPending()
            assertEq(0L, Confkit.liveObjects(), "confkit_live_objects()")
            assertEq(0, Listeners.size, "listener registrations")
        }
    }
}
