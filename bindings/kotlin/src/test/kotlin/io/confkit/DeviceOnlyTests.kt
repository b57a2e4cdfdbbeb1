package io.confkit

/**
 * Run against a device library, built without the authority (`cargo build
 * --no-default-features`): `run-tests.sh --device-only`. What a phone app
 * uses works; the authority's classes fail with a clear load error.
 */
object DeviceOnlyTests {
    fun register() {
        test("device-only: the recorded flow (bob.flow) replays, with no authority in the library") {
            val flow = ClientTests.Flow.load()
            val got = ClientTests.replay(flow)
            val want = ClientTests.expected(flow)
            assertEq(want, got, "the replay's lines")
            assertTrue(got.any { it.contains("participantUpdated:bob:KICKED") }) { "the replay is too short: $got" }
        }

        test("device-only: Platform needs the authority, and says so (every time)") {
            for (attempt in 1..2) {
                val e = assertThrows<ConfkitLoadError> { Platform().close() }
                val m = e.message ?: ""
                assertTrue(m.contains("has no authority") && m.contains("`authority`")) { "attempt $attempt: $m" }
            }
            // The device half still works after the refusal.
            ManualClock(1_700_000_000).use { assertEq(1_700_000_000L, it.now, "clock") }
        }
    }
}
