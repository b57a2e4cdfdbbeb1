package io.confkit

import java.util.Collections
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

/** The device-side example of bindings/kotlin/README.md, verbatim between the markers, with println captured. */
object ReadmeTests {
    fun register() {
        test("readme: the server-side example (Platform.open) runs as written") {
            val dir = java.nio.file.Files.createTempDirectory("confkit-readme")
            val path = dir.resolve("platform.db").toString()
            val printed = ArrayList<String>()
            fun println(line: Any?) {
                printed.add(line.toString())
            }
            // --- README server example begins ---
            // The app server keeps its state in a file; a real one loads its seed from its secret store.
            val seed = ByteArray(32) { 7 }
            Platform.open(path, seed, "server-key-1").use { platform ->
                val created = platform.handleRest(
                    "POST", "/v2/conferences/create",
                    """{"ownerExternalId":"alice","alias":"team-sync","participants":{"bob":{}}}"""
                )
                println("${created.status} ${created.body}")
            }
            // After a restart, the platform finds the conference (and Bob's invitation) on the file.
            Platform.open(path, seed, "server-key-1").use { platform ->
                val again = platform.handleRest("POST", "/v2/conferences/create", """{"ownerExternalId":"alice","alias":"team-sync"}""")
                println(again.body.contains("\"isNew\":false")) // true
            }
            // --- README server example ends ---
            assertTrue(printed[0].startsWith("200 ")) { printed[0] }
            assertEq("true", printed[1], "the restarted platform found the conference")
            dir.toFile().deleteRecursively()
        }
        test("readme: the device-side example runs as written") {
            val printed = Collections.synchronizedList(ArrayList<String>())
            fun println(line: Any?) {
                printed.add(line.toString())
            }
            // --- README device example begins ---
            Platform(signingSeed = ByteArray(32) { 42 }, keyId = "demo-key-1").use { platform ->
                // The app server: the authority, and one session per signed-in phone.
                val aliceSession = platform.openSession("alice", "Alice")
                val bobSession = platform.openSession("bob", "Bob")
                val jwks = platform.jwks() // served to the phones, e.g. as /.well-known/jwks.json

                // Bob's phone: a Client that trusts those keys (the Verifier is copied: close it at once).
                val bob = Verifier.fromJwks(jwks).use { Client(ExternalId("bob"), it) }

                // The transport is the app's own (WebSocket, HTTP, push); here, a call each way.
                fun send(out: Outgoing): List<Update> = bob.receive(bobSession.handleMessage(out.bytes))
                fun deliver(): List<Update> = bobSession.drainMessages().flatMap { bob.receive(it) }

                // The UI hears of every update on its own thread
                // (on Android: ContextCompat.getMainExecutor(context)).
                val ui = Executors.newSingleThreadExecutor()
                bob.setUpdateListener(ui) { updates ->
                    for (u in updates) {
                        when (u) {
                            is Update.InvitationReceived -> println("invited to ${u.invitation.alias} by ${u.invitation.inviterName}")
                            is Update.MyStatusChanged -> println("me: ${u.newStatus}")
                            is Update.RequestFailed -> println("request ${u.requestNumber} failed: ${u.reason}")
                            is Update.Gap -> send(bob.resyncRequest()) // missed events: ask for them
                            else -> {}
                        }
                    }
                }

                // Alice (through the app server's SDK) creates a protected conference and invites Bob.
                val conf = aliceSession.createConference("standup", ConferenceOptions(isProtected = true))
                conf.join()
                conf.reportConnected()
                conf.invite("bob")

                // Bob's invitation arrives; the client verified its token offline.
                deliver()
                val invitation = bob.inbox().last()
                val join = bob.joinRequest(invitation) // Outgoing(bytes, requestNumber)
                val reply = send(join)
                check(reply.any { it is Update.RequestSucceeded && it.requestNumber == join.requestNumber })
                send(bob.mediaStateRequest(invitation.conferenceId, MediaState.CONNECTED))
                deliver() // ... MyStatusChanged: ON_AIR

                val view = bob.conference(invitation.conferenceId)!!
                println("${view.alias}: ${view.participants.joinToString { "${it.externalId} ${it.status}" }}")
                println("may invite: ${bob.may(view.conferenceId, Permission.INVITE)}") // false: the default set

                ui.shutdown()
                ui.awaitTermination(5, TimeUnit.SECONDS)
                bob.close()
                bobSession.close()
                aliceSession.close()
            }
            // --- README device example ends ---
            // The listener's lines and the main thread's interleave as the threads run.
            val (heard, said) = printed.toList().partition { it.startsWith("invited") || it.startsWith("me:") }
            assertEq(listOf("invited to standup by Alice", "me: CONNECTING", "me: ON_AIR"), heard, "the listener, in order")
            assertEq(listOf("standup: alice ON_AIR, bob ON_AIR", "may invite: false"), said, "the main thread")
        }
    }
}
