// Tests of the Swift wrapper: the SDK flow, the REST flow, offline token
// verification, error mapping, listeners and leaks.
//
// Run on macOS (see README.md):
//   CONFKIT_LIB_DIR=<dir holding libconfkit.a> swift test

import CConfkit
@testable import Confkit
import Foundation
import XCTest

/// A fixed start time for the manual clock.
private let start: UInt64 = 1_700_000_000

/// A deterministic 32-byte signing seed.
private func seed(_ first: UInt8 = 1) -> Data {
    return Data((0..<32).map { UInt8($0) &+ first })
}

/// Asserts that `expression` throws a `ConfkitError` with `status`, and returns it.
@discardableResult
private func assertThrows<T>(
    _ status: ConfkitError.Status,
    _ expression: @autoclosure () throws -> T,
    file: StaticString = #filePath,
    line: UInt = #line
) -> ConfkitError? {
    do {
        _ = try expression()
        XCTFail("expected \(status.name), got no error", file: file, line: line)
        return nil
    } catch let error as ConfkitError {
        XCTAssertEqual(error.status, status, "\(error)", file: file, line: line)
        XCTAssertEqual(error.code, status.rawValue, file: file, line: line)
        XCTAssertFalse(error.message.isEmpty, file: file, line: line)
        return error
    } catch {
        XCTFail("expected ConfkitError \(status.name), got \(error)", file: file, line: line)
        return nil
    }
}

/// A JSON object from a REST body.
private func jsonObject(_ data: Data, file: StaticString = #filePath, line: UInt = #line) -> [String: Any] {
    guard let value = try? JSONSerialization.jsonObject(with: data, options: []),
          let object = value as? [String: Any] else {
        XCTFail("not a JSON object: \(String(decoding: data, as: UTF8.self))", file: file, line: line)
        return [:]
    }
    return object
}

/// A JSON request body.
private func jsonBody(_ text: String) -> Data {
    return Data(text.utf8)
}

/// Decodes unpadded base64url (a JWK's `x`).
private func base64URLDecode(_ text: String) -> Data? {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while base64.count % 4 != 0 {
        base64 += "="
    }
    return Data(base64Encoded: base64)
}

/// Counts listener wake-ups (mutated on the thread that calls into confkit:
/// here always the test's own).
private final class WakeUps {
    var sessionIds: [UInt64] = []
}

/// Something whose lifetime shows whether confkit still holds a listener.
private final class Token {}

final class ConfkitTests: XCTestCase {
    // MARK: - ABI and versions

    func testABIVersionMatchesTheHeader() throws {
        XCTAssertNoThrow(try Confkit.checkABI())
        XCTAssertEqual(Confkit.abiVersion, Confkit.headerABIVersion)
        XCTAssertEqual(Confkit.headerABIVersion, UInt32(truncatingIfNeeded: CONFKIT_ABI_VERSION))
        XCTAssertTrue(Confkit.version.hasPrefix("confkit "), Confkit.version)
    }

    // MARK: - SDK flow

    func testSDKFlowProtectedConference() throws {
        let clock = try ManualClock(now: start)
        let platform = try Platform(seed: seed(), keyId: "k1", clock: clock)
        let alice = try platform.openSession(externalId: "alice", name: "Alice")
        let bob = try platform.openSession(externalId: "bob", name: "Bob")
        let carol = try Session(platform: platform, externalId: "carol", name: "Carol", avatarUrl: "https://example.com/carol.png")
        XCTAssertNotEqual(alice.id, bob.id)
        XCTAssertEqual(bob.externalId, "bob")

        // Create: the owner gets a token with every permission.
        let created = try alice.createConference(alias: "All-Hands", options: ConferenceOptions(isProtected: true))
        let conference = created.conference
        let id = conference.id
        XCTAssertEqual(id.count, 36)
        XCTAssertEqual(conference.alias, "All-Hands")
        XCTAssertEqual(conference.owner, "alice")
        XCTAssertTrue(conference.isNew)
        XCTAssertTrue(conference.isProtected)
        XCTAssertEqual(conference.participantCount, 1)
        XCTAssertEqual(conference.presentCount, 0)
        let ownerToken = try XCTUnwrap(created.ownerToken)

        let createdEvents = try alice.drain()
        XCTAssertEqual(createdEvents.count, 1)
        XCTAssertEqual(createdEvents.first?.kind, .conferenceCreated(alias: "All-Hands"))
        XCTAssertEqual(createdEvents.first?.sequence, 1)
        XCTAssertEqual(createdEvents.first?.conferenceId, id)
        XCTAssertEqual(createdEvents.first?.typeName, "conferenceCreated")
        XCTAssertTrue(createdEvents.first?.json.contains("\"type\":\"conferenceCreated\"") ?? false)

        // bob is woken by a listener.
        let wakeUps = WakeUps()
        try bob.setListener { sessionId in
            wakeUps.sessionIds.append(sessionId)
        }

        // Inviting needs the inviter to be in the conference.
        assertThrows(.notInConference, try alice.invite(conferenceId: id, externalIds: ["bob"]))

        XCTAssertEqual(try alice.join(conferenceId: id, token: ownerToken), PermissionSet.all)
        XCTAssertEqual(try alice.report(conferenceId: id, .connected), .onAir)
        XCTAssertEqual(try alice.drain().map { $0.kind }, [
            .participantUpdated(externalId: "alice", oldStatus: .reserved, newStatus: .connecting, permissions: .all),
            .participantUpdated(externalId: "alice", oldStatus: .connecting, newStatus: .onAir, permissions: .all),
        ])

        // Invite with and without permissions; dave has no open session.
        let carolPermissions: PermissionSet = [.join, .sendAudio]
        let results = try alice.invite(conferenceId: id, invitees: [
            Invitee("bob"),
            Invitee("carol", permissions: carolPermissions),
            Invitee("dave"),
        ])
        XCTAssertEqual(results.map { $0.externalId }, ["bob", "carol", "dave"])
        XCTAssertEqual(results.map { $0.delivery }, [.delivered(sessions: 1), .delivered(sessions: 1), .noOpenSession])
        XCTAssertEqual(results.map { $0.permissions }, [.defaultInvitee, carolPermissions, .defaultInvitee])
        XCTAssertTrue(results.allSatisfy { $0.token != nil })
        let bobToken = try XCTUnwrap(results[0].token)
        XCTAssertEqual(wakeUps.sessionIds, [bob.id])

        XCTAssertEqual(try alice.drain().map { $0.kind }, [
            .participantAdded(externalId: "bob", status: .reserved, permissions: .defaultInvitee),
            .participantAdded(externalId: "carol", status: .reserved, permissions: carolPermissions),
            .participantAdded(externalId: "dave", status: .reserved, permissions: .defaultInvitee),
        ])
        XCTAssertEqual(try bob.pendingEventCount(), 1)
        let invitation = try XCTUnwrap(bob.nextEvent())
        XCTAssertEqual(invitation.kind, .invitationReceived(alias: "All-Hands", inviter: "alice", token: bobToken, permissions: .defaultInvitee))
        XCTAssertEqual(invitation.sequence, 1)
        XCTAssertNil(try bob.nextEvent())
        XCTAssertEqual(try carol.drain().map { $0.kind }, [
            .invitationReceived(alias: "All-Hands", inviter: "alice", token: results[1].token, permissions: carolPermissions),
        ])

        // bob joins with his token and connects; everyone sees it.
        XCTAssertEqual(try bob.join(conferenceId: id, token: bobToken), PermissionSet.defaultInvitee)
        try bob.report(conferenceId: id, .connected)
        XCTAssertEqual(wakeUps.sessionIds.count, 3)
        let bobUpdates: [Event.Kind] = [
            .participantUpdated(externalId: "bob", oldStatus: .reserved, newStatus: .connecting, permissions: .defaultInvitee),
            .participantUpdated(externalId: "bob", oldStatus: .connecting, newStatus: .onAir, permissions: .defaultInvitee),
        ]
        XCTAssertEqual(try alice.drain().map { $0.kind }, bobUpdates)
        let bobEvents = try bob.drain()
        XCTAssertEqual(bobEvents.map { $0.kind }, bobUpdates)
        XCTAssertEqual(bobEvents.map { $0.sequence }, [2, 3])

        // The same alias (ignoring case) returns the live conference: no token.
        let again = try alice.createConference(alias: "all-hands", options: ConferenceOptions(isProtected: true))
        XCTAssertFalse(again.conference.isNew)
        XCTAssertEqual(again.conference.id, id)
        XCTAssertNil(again.ownerToken)
        XCTAssertEqual(try alice.drain(), [])

        // Fetch by alias and by ID.
        let fetched = try bob.fetchConference(alias: "ALL-HANDS")
        XCTAssertEqual(fetched.id, id)
        XCTAssertEqual(fetched.owner, "alice")
        XCTAssertFalse(fetched.isNew)
        XCTAssertEqual(fetched.participantCount, 4)
        XCTAssertEqual(fetched.presentCount, 2)
        XCTAssertEqual(try carol.fetchConference(id: id), fetched)

        // carol declines.
        try carol.decline(conferenceId: id)
        let carolDeclined = Event.Kind.participantUpdated(externalId: "carol", oldStatus: .reserved, newStatus: .decline, permissions: carolPermissions)
        XCTAssertEqual(try alice.drain().map { $0.kind }, [carolDeclined])
        XCTAssertEqual(try bob.drain().map { $0.kind }, [carolDeclined])

        // bob may not kick; alice replaces bob's permissions, then kicks him.
        assertThrows(.notAllowed, try bob.kick(conferenceId: id, externalId: "carol"))
        let bobPermissions: PermissionSet = [.invite, .join, .sendAudio]
        let newBobToken = try XCTUnwrap(alice.updatePermissions(conferenceId: id, externalId: "bob", permissions: bobPermissions))
        XCTAssertNotEqual(newBobToken, bobToken)
        XCTAssertEqual(try bob.drain().map { $0.kind }, [.permissionsUpdated(permissions: bobPermissions, token: newBobToken)])

        try alice.kick(conferenceId: id, externalId: "bob")
        let bobKicked = Event.Kind.participantUpdated(externalId: "bob", oldStatus: .onAir, newStatus: .kicked, permissions: bobPermissions)
        XCTAssertEqual(try alice.drain().map { $0.kind }, [bobKicked])
        XCTAssertEqual(try bob.drain().map { $0.kind }, [bobKicked])
        assertThrows(.tokenRevoked, try bob.join(conferenceId: id, token: bobToken))
        assertThrows(.tokenRevoked, try bob.join(conferenceId: id, token: newBobToken))
        assertThrows(.tokenInvalid, try carol.join(conferenceId: id))
        assertThrows(.invalidTransition, try alice.report(conferenceId: id, .recovered))

        // Only the owner terminates; everyone is told; the conference is gone.
        assertThrows(.notAllowed, try bob.terminate(conferenceId: id))
        try alice.terminate(conferenceId: id)
        for session in [alice, bob, carol] {
            XCTAssertEqual(try session.drain().map { $0.kind }, [.conferenceEnded])
        }
        assertThrows(.conferenceNotFound, try alice.fetchConference(id: id))
        assertThrows(.conferenceNotFound, try alice.join(conferenceId: id, token: ownerToken))

        // Closing: later calls fail with SESSION_NOT_FOUND.
        try bob.close()
        assertThrows(.sessionNotFound, try bob.close())
        assertThrows(.sessionNotFound, try bob.nextEvent())
        assertThrows(.sessionNotFound, try bob.setListener { _ in })
    }

    func testUnprotectedConferenceListenSwitchAndLeave() throws {
        let platform = try Platform(keyId: "k1", clock: ManualClock(now: start))
        let alice = try platform.openSession(externalId: "alice", name: "Alice")
        let bobPhone = try platform.openSession(externalId: "bob", name: "Bob")
        let bobLaptop = try platform.openSession(externalId: "bob", name: "Bob")
        let carol = try platform.openSession(externalId: "carol")

        let created = try alice.createConference(alias: "open")
        XCTAssertTrue(created.conference.isNew)
        XCTAssertFalse(created.conference.isProtected)
        XCTAssertNil(created.ownerToken)
        let id = created.conference.id
        try alice.join(conferenceId: id)
        try alice.report(conferenceId: id, .connected)

        // A listener joins without a token.
        XCTAssertEqual(try carol.listen(conferenceId: id), PermissionSet.defaultInvitee)

        // Invitations to an unprotected conference carry no token; both of
        // bob's sessions receive it.
        let results = try alice.invite(conferenceId: id, externalIds: ["bob"])
        XCTAssertEqual(results.count, 1)
        XCTAssertEqual(results.first?.delivery, .delivered(sessions: 2))
        XCTAssertNil(results.first?.token)
        let expected = Event.Kind.invitationReceived(alias: "open", inviter: "alice", token: nil, permissions: [])
        XCTAssertEqual(try bobPhone.drain().map { $0.kind }, [expected])
        XCTAssertEqual(try bobLaptop.drain().map { $0.kind }, [expected])

        // Inviting someone already in the conference issues nothing.
        try bobPhone.join(conferenceId: id)
        let twice = try alice.invite(conferenceId: id, externalIds: ["bob"])
        XCTAssertEqual(twice.first?.delivery, .alreadyInConference)
        XCTAssertNil(twice.first?.token)

        // Joining from the laptop switches the phone out.
        try bobLaptop.join(conferenceId: id)
        let phoneEvents = try bobPhone.drain().map { $0.kind }
        XCTAssertTrue(phoneEvents.contains(.switched(externalId: "bob")), "\(phoneEvents)")

        // No token for an unprotected conference's permission update.
        XCTAssertNil(try alice.updatePermissions(conferenceId: id, externalId: "bob", permissions: [.join]))

        try bobLaptop.leave(conferenceId: id)
        let fetched = try alice.fetchConference(id: id)
        XCTAssertEqual(fetched.presentCount, 2)
    }

    func testEmptyConferenceExpires() throws {
        let clock = try ManualClock(now: start)
        let platform = try Platform(keyId: "k1", clock: clock, options: Platform.Options(emptyConferenceTTLSeconds: 600))
        let alice = try platform.openSession(externalId: "alice")
        let id = try alice.createConference(alias: "brief", options: ConferenceOptions(emptyTTLSeconds: 30)).conference.id
        _ = try alice.drain()

        try clock.advance(by: 10)
        XCTAssertEqual(clock.now, start + 10)
        XCTAssertEqual(try platform.expireConferences(), 0)
        try clock.set(start + 31)
        XCTAssertEqual(try platform.expireConferences(), 1)
        XCTAssertEqual(try alice.drain().map { $0.kind }, [.conferenceEnded])
        assertThrows(.conferenceNotFound, try alice.fetchConference(id: id))
    }

    func testAtMaxCapacity() throws {
        let platform = try Platform(keyId: "k1")
        let alice = try platform.openSession(externalId: "alice")
        let bob = try platform.openSession(externalId: "bob")
        let id = try alice.createConference(alias: "tiny", options: ConferenceOptions(participantLimit: 1)).conference.id
        try alice.join(conferenceId: id)
        assertThrows(.atMaxCapacity, try bob.join(conferenceId: id))
    }

    // MARK: - Listeners

    func testListenerIsReleasedWhenReplacedClearedOrClosed() throws {
        let platform = try Platform(keyId: "k1")
        let session = try platform.openSession(externalId: "alice")

        var first: Token? = Token()
        weak var weakFirst = first
        try session.setListener { [first] _ in _ = first }
        first = nil
        XCTAssertNotNil(weakFirst, "confkit holds the listener")

        var second: Token? = Token()
        weak var weakSecond = second
        try session.setListener { [second] _ in _ = second }
        second = nil
        XCTAssertNil(weakFirst, "replacing releases the old listener")
        XCTAssertNotNil(weakSecond)

        try session.setListener(nil)
        XCTAssertNil(weakSecond, "clearing releases the listener")

        var third: Token? = Token()
        weak var weakThird = third
        try session.setListener { [third] _ in _ = third }
        third = nil
        XCTAssertNotNil(weakThird)
        try session.close()
        XCTAssertNil(weakThird, "closing releases the listener")
    }

    func testListenerMayCallBackIntoConfkit() throws {
        let platform = try Platform(keyId: "k1")
        let alice = try platform.openSession(externalId: "alice")
        let bob = try platform.openSession(externalId: "bob")
        var received: [Event] = []
        try bob.setListener { [weak bob] _ in
            // Never called while confkit holds a lock: draining here is allowed.
            if let events = try? bob?.drain() {
                received.append(contentsOf: events)
            }
        }
        let id = try alice.createConference(alias: "room").conference.id
        try alice.join(conferenceId: id)
        _ = try alice.invite(conferenceId: id, externalIds: ["bob"])
        XCTAssertEqual(received.map { $0.kind }, [
            .invitationReceived(alias: "room", inviter: "alice", token: nil, permissions: []),
        ])
        XCTAssertEqual(try bob.pendingEventCount(), 0)
        try bob.setListener(nil)
    }

    // MARK: - REST flow

    func testRESTFlow() throws {
        let platform = try Platform(seed: seed(), keyId: "k1", clock: ManualClock(now: start))
        let alice = try platform.openSession(externalId: "alice", name: "Alice")
        let bob = try platform.openSession(externalId: "bob", name: "Bob")

        let createBody = """
        {
          "ownerExternalId": "alice",
          "alias": "rest-room",
          "parameters": { "ttl": 600, "participantLimit": 10 },
          "participants": {
            "bob": { "permissions": ["JOIN", "SEND_AUDIO"], "notification": true },
            "erin": { "notification": true }
          }
        }
        """
        let created = try platform.handleRest(method: "POST", path: "/v2/conferences/create", body: jsonBody(createBody))
        XCTAssertEqual(created.status, 200, String(decoding: created.body, as: UTF8.self))
        let answer = jsonObject(created.body)
        let id = try XCTUnwrap(answer["conferenceId"] as? String)
        XCTAssertEqual(answer["conferenceAlias"] as? String, "rest-room")
        XCTAssertEqual(answer["isProtected"] as? Bool, true)
        XCTAssertEqual(answer["isNew"] as? Bool, true)
        let ownerToken = try XCTUnwrap(answer["ownerToken"] as? String)
        let usersTokens = try XCTUnwrap(answer["usersTokens"] as? [String: String])
        XCTAssertEqual(Set(usersTokens.keys), ["bob", "erin"])
        XCTAssertEqual(answer["delivery"] as? [String: String], ["bob": "DELIVERED", "erin": "NO_OPEN_SESSION"])

        // bob, who has a session, was notified with the same token.
        let bobToken = try XCTUnwrap(usersTokens["bob"])
        let bobPermissions: PermissionSet = [.join, .sendAudio]
        XCTAssertEqual(try bob.drain().map { $0.kind }, [
            .invitationReceived(alias: "rest-room", inviter: "alice", token: bobToken, permissions: bobPermissions),
        ])
        XCTAssertEqual(try bob.join(conferenceId: id, token: bobToken), bobPermissions)
        XCTAssertEqual(try alice.join(conferenceId: id, token: ownerToken), PermissionSet.all)

        // The participant list.
        let listed = try platform.handleRest(method: "GET", path: "/v2/conferences/\(id)/participants")
        XCTAssertEqual(listed.status, 200)
        let participants = try XCTUnwrap(jsonObject(listed.body)["participants"] as? [[String: Any]])
        var statuses: [String: String] = [:]
        for participant in participants {
            if let externalId = participant["externalId"] as? String, let status = participant["status"] as? String {
                statuses[externalId] = status
            }
        }
        XCTAssertEqual(statuses, ["alice": "CONNECTING", "bob": "CONNECTING", "erin": "RESERVED"])
        let bobEntry = participants.first { ($0["externalId"] as? String) == "bob" }
        XCTAssertEqual(bobEntry?["permissions"] as? [String], ["JOIN", "SEND_AUDIO"])
        XCTAssertEqual(bobEntry?["type"] as? String, "USER")

        // Permissions: a new token, and bob is told.
        _ = try bob.drain()
        let updated = try platform.handleRest(
            method: "POST",
            path: "/v2/conferences/\(id)/permissions",
            body: jsonBody(#"{"participants": {"bob": {"permissions": ["JOIN"]}}}"#)
        )
        XCTAssertEqual(updated.status, 200, String(decoding: updated.body, as: UTF8.self))
        let newTokens = try XCTUnwrap(jsonObject(updated.body)["usersTokens"] as? [String: String])
        let newBobToken = try XCTUnwrap(newTokens["bob"])
        _ = try alice.drain()
        XCTAssertEqual(try bob.drain().map { $0.kind }, [.permissionsUpdated(permissions: [.join], token: newBobToken)])

        // Kick: 204 with an empty body.
        let kicked = try platform.handleRest(
            method: "POST",
            path: "/v2/conferences/\(id)/kick",
            body: jsonBody(#"{"externalIds": ["bob"]}"#)
        )
        XCTAssertEqual(kicked.status, 204)
        XCTAssertTrue(kicked.body.isEmpty)
        assertThrows(.tokenRevoked, try bob.join(conferenceId: id, token: newBobToken))

        // HTTP errors are answers with a JSON error body, not thrown errors.
        let unknownId = "00000000-0000-4000-8000-000000000000"
        let notFound = try platform.handleRest(
            method: "POST",
            path: "/v2/conferences/\(unknownId)/invite",
            body: jsonBody(#"{"participants": {"bob": {}}}"#)
        )
        XCTAssertEqual(notFound.status, 404)
        let notFoundBody = jsonObject(notFound.body)
        XCTAssertEqual(notFoundBody["error_code"] as? Int, Int(ConfkitError.Status.conferenceNotFound.rawValue))
        XCTAssertEqual(notFoundBody["error_reason"] as? String, "CONFERENCE_NOT_FOUND")
        XCTAssertNotNil(notFoundBody["error_description"] as? String)

        let badPermission = try platform.handleRest(
            method: "POST",
            path: "/v2/conferences/\(id)/invite",
            body: jsonBody(#"{"participants": {"frank": {"permissions": ["FLY"]}}}"#)
        )
        XCTAssertEqual(badPermission.status, 400)
        XCTAssertEqual(jsonObject(badPermission.body)["error_reason"] as? String, "UNKNOWN_PERMISSION")

        let badJSON = try platform.handleRest(method: "POST", path: "/v2/conferences/create", body: jsonBody("{"))
        XCTAssertEqual(badJSON.status, 400)
        XCTAssertEqual(jsonObject(badJSON.body)["error_reason"] as? String, "INVALID_ARGUMENT")

        // The JWK set, also served by jwks().
        let jwks = try platform.handleRest(method: "GET", path: "/.well-known/jwks.json")
        XCTAssertEqual(jwks.status, 200)
        let keys = try XCTUnwrap(jsonObject(jwks.body)["keys"] as? [[String: Any]])
        XCTAssertEqual(keys.count, 1)
        XCTAssertEqual(keys.first?["kid"] as? String, "k1")
        XCTAssertEqual(keys.first?["kty"] as? String, "OKP")
        XCTAssertEqual(keys.first?["crv"] as? String, "Ed25519")
        XCTAssertEqual(jwks.body, try platform.jwks())

        // DELETE destroys the conference.
        let deleted = try platform.handleRest(method: "DELETE", path: "/v2/conferences/\(id)")
        XCTAssertEqual(deleted.status, 204)
        XCTAssertTrue(deleted.body.isEmpty)
        XCTAssertEqual(try alice.drain().last?.kind, .conferenceEnded)
        let gone = try platform.handleRest(method: "GET", path: "/v2/conferences/\(id)/participants")
        XCTAssertEqual(gone.status, 404)
    }

    // MARK: - Offline verification

    func testOfflineVerification() throws {
        let clock = try ManualClock(now: start)
        let platform = try Platform(seed: seed(), keyId: "k1", clock: clock)
        let alice = try platform.openSession(externalId: "alice")
        let created = try alice.createConference(alias: "verify", options: ConferenceOptions(isProtected: true))
        let id = created.conference.id
        let token = try XCTUnwrap(created.ownerToken)

        XCTAssertEqual(Verifier.defaultLeewaySeconds, 60)
        XCTAssertEqual(Verifier.defaultLeewaySeconds, UInt64(truncatingIfNeeded: CONFKIT_DEFAULT_LEEWAY_SECS))

        // From the JWK set, as a device would fetch it.
        let verifier = try Verifier(jwks: platform.jwks())
        let claims = try verifier.verify(token: token, conferenceId: id, now: start)
        XCTAssertEqual(claims.subject, "alice")
        XCTAssertEqual(claims.conferenceId, id)
        XCTAssertEqual(claims.issuer, "confkit")
        XCTAssertFalse(claims.tokenId.isEmpty)
        XCTAssertEqual(claims.permissions, .all)
        XCTAssertEqual(claims.issuedAt, start)
        XCTAssertEqual(claims.notBefore, start)
        XCTAssertEqual(claims.expiresAt, start + 3 * 60 * 60)
        XCTAssertEqual(try verifier.verify(token: token, now: start), claims, "nil conference: any conference")

        // Every check maps to its own status.
        let otherConference = "00000000-0000-4000-8000-000000000000"
        assertThrows(.tokenWrongConference, try verifier.verify(token: token, conferenceId: otherConference, now: start))
        assertThrows(.invalidArgument, try verifier.verify(token: token, conferenceId: "not-a-uuid", now: start))
        assertThrows(.tokenExpired, try verifier.verify(token: token, now: claims.expiresAt + Verifier.defaultLeewaySeconds + 1))
        XCTAssertNoThrow(try verifier.verify(token: token, now: claims.expiresAt + 30))
        assertThrows(.tokenExpired, try verifier.verify(token: token, now: claims.expiresAt + 30, leewaySeconds: 0))
        assertThrows(.tokenInvalid, try verifier.verify(token: "not.a.token", now: start))
        let parts = token.split(separator: ".").map(String.init)
        XCTAssertEqual(parts.count, 3)
        let forgedSignature = String(parts[2].reversed())
        assertThrows(.tokenInvalid, try verifier.verify(token: parts[0] + "." + parts[1] + "." + forgedSignature, now: start))

        // A token signed by another key under the same kid does not verify.
        let impostor = try Platform(seed: seed(100), keyId: "k1", clock: clock)
        let mallory = try impostor.openSession(externalId: "alice")
        let forged = try XCTUnwrap(mallory.createConference(alias: "verify", options: ConferenceOptions(isProtected: true)).ownerToken)
        assertThrows(.tokenInvalid, try verifier.verify(token: forged, now: start))

        // From the raw public key (the JWK's `x`).
        let set = try jsonObject(platform.jwks())
        let jwk = try XCTUnwrap((set["keys"] as? [[String: Any]])?.first)
        let x = try XCTUnwrap(jwk["x"] as? String)
        let publicKey = try XCTUnwrap(base64URLDecode(x))
        XCTAssertEqual(publicKey.count, Verifier.publicKeyLength)
        let keyVerifier = try Verifier(keyId: "k1", publicKey: publicKey)
        XCTAssertEqual(try keyVerifier.verify(token: token, conferenceId: id, now: start), claims)
        let otherKid = try Verifier(keyId: "k2", publicKey: publicKey)
        assertThrows(.tokenInvalid, try otherKid.verify(token: token, now: start))

        // Bad keys.
        assertThrows(.keyInvalid, try Verifier(keyId: "k1", publicKey: Data(count: 31)))
        assertThrows(.keyInvalid, try Verifier(jwksJSON: "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"r\"}]}"))
        assertThrows(.keyInvalid, try Platform(seed: Data(count: 5), keyId: "k1"))
        assertThrows(.keyInvalid, try Platform(keyId: ""))
    }

    // MARK: - Error mapping and names

    func testStatusesMatchTheHeader() {
        let header: [(ConfkitError.Status, Int32)] = [
            (.nullArgument, CONFKIT_STATUS_NULL_ARGUMENT),
            (.invalidUTF8, CONFKIT_STATUS_INVALID_UTF8),
            (.invalidArgument, CONFKIT_STATUS_INVALID_ARGUMENT),
            (.unknownPermission, CONFKIT_STATUS_UNKNOWN_PERMISSION),
            (.tokenInvalid, CONFKIT_STATUS_TOKEN_INVALID),
            (.tokenExpired, CONFKIT_STATUS_TOKEN_EXPIRED),
            (.tokenRevoked, CONFKIT_STATUS_TOKEN_REVOKED),
            (.tokenWrongConference, CONFKIT_STATUS_TOKEN_WRONG_CONFERENCE),
            (.notAllowed, CONFKIT_STATUS_NOT_ALLOWED),
            (.notInConference, CONFKIT_STATUS_NOT_IN_CONFERENCE),
            (.conferenceNotFound, CONFKIT_STATUS_CONFERENCE_NOT_FOUND),
            (.atMaxCapacity, CONFKIT_STATUS_AT_MAX_CAPACITY),
            (.invalidTransition, CONFKIT_STATUS_INVALID_TRANSITION),
            (.sessionNotFound, CONFKIT_STATUS_SESSION_NOT_FOUND),
            (.participantNotFound, CONFKIT_STATUS_PARTICIPANT_NOT_FOUND),
            (.keyInvalid, CONFKIT_STATUS_KEY_INVALID),
            (.tooLarge, CONFKIT_STATUS_TOO_LARGE),
            (.closed, CONFKIT_STATUS_CLOSED),
            (.panic, CONFKIT_STATUS_PANIC),
        ]
        XCTAssertEqual(header.count, ConfkitError.Status.allCases.filter { $0.rawValue > 0 }.count)
        for (status, code) in header {
            XCTAssertEqual(status.rawValue, code)
            XCTAssertEqual(ConfkitError.Status(code: code), status)
            XCTAssertEqual(status.name, String(cString: confkit_status_name(code)))
            XCTAssertNotEqual(status.name, "UNKNOWN")
        }
        XCTAssertEqual(ConfkitError.Status.conferenceNotFound.name, "CONFERENCE_NOT_FOUND")
        XCTAssertEqual(ConfkitError.Status(code: 12_345), .unknown)
        XCTAssertEqual(ConfkitError(code: 12_345, message: "x").code, 12_345)
        XCTAssertEqual(ConfkitError.Status.unknown.name, "UNKNOWN")
        XCTAssertEqual(ConfkitError.Status.abiMismatch.name, "ABI_MISMATCH")
    }

    func testErrorsCarryStatusAndMessage() throws {
        let platform = try Platform(keyId: "k1")
        let alice = try platform.openSession(externalId: "alice")

        let notFound = assertThrows(.conferenceNotFound, try alice.join(conferenceId: "00000000-0000-4000-8000-000000000000"))
        XCTAssertTrue(notFound?.message.contains("00000000-0000-4000-8000-000000000000") ?? false)
        XCTAssertTrue(notFound?.description.contains("CONFERENCE_NOT_FOUND") ?? false)
        assertThrows(.invalidArgument, try alice.join(conferenceId: "not-a-uuid"))
        assertThrows(.invalidArgument, try alice.leave(conferenceId: ""))
        assertThrows(.invalidArgument, try platform.openSession(externalId: ""))
        assertThrows(.conferenceNotFound, try alice.fetchConference(alias: "nowhere"))

        // Bits outside the 12 permissions are refused, never dropped.
        let id = try alice.createConference(alias: "bits").conference.id
        try alice.join(conferenceId: id)
        assertThrows(.unknownPermission, try alice.invite(conferenceId: id, invitees: [Invitee("bob", permissions: PermissionSet(rawValue: 1 << 12))]))
        assertThrows(.unknownPermission, try alice.updatePermissions(conferenceId: id, externalId: "alice", permissions: PermissionSet(rawValue: 1 << 20)))
        assertThrows(.participantNotFound, try alice.kick(conferenceId: id, externalId: "nobody"))

        // A panic inside confkit becomes PANIC, never a crash.
        let panic = assertThrows(.panic, try ffi { error in confkit_test_panic(error) })
        XCTAssertTrue(panic?.message.contains("confkit_test_panic") ?? false)
    }

    func testPermissionsAndStatuses() throws {
        let names = ["INVITE", "JOIN", "SEND_AUDIO", "SEND_VIDEO", "SHARE_SCREEN", "SHARE_VIDEO",
                     "SHARE_FILE", "SEND_MESSAGE", "RECORD", "STREAM", "KICK", "UPDATE_PERMISSIONS"]
        XCTAssertEqual(Permission.allCases.map { $0.name }, names)
        XCTAssertEqual(Permission.allCases.map { $0.rawValue }, (0..<12).map { UInt32($0) })
        for permission in Permission.allCases {
            XCTAssertEqual(try Permission(name: permission.name), permission)
            XCTAssertEqual(permission.asSet.rawValue, UInt32(1) << permission.rawValue)
        }
        assertThrows(.unknownPermission, try Permission(name: "FLY"))
        assertThrows(.unknownPermission, try Permission(name: "join"))
        assertThrows(.unknownPermission, try PermissionSet(names: ["JOIN", "FLY"]))

        XCTAssertEqual(PermissionSet.all.rawValue, 0xFFF)
        XCTAssertEqual(PermissionSet.all, PermissionSet(permissions: Permission.allCases))
        let defaults: PermissionSet = [.join, .sendAudio, .sendVideo, .shareScreen, .shareVideo,
                                       .shareFile, .sendMessage, .record, .stream]
        XCTAssertEqual(PermissionSet.defaultInvitee, defaults)
        XCTAssertEqual(try PermissionSet(names: ["SEND_AUDIO", "JOIN"]), [.join, .sendAudio])
        XCTAssertEqual(PermissionSet([.join, .sendAudio]).names, ["JOIN", "SEND_AUDIO"])
        XCTAssertEqual(PermissionSet([.kick]).permissions, [.kick])
        XCTAssertTrue(PermissionSet.defaultInvitee.allows(.join))
        XCTAssertFalse(PermissionSet.defaultInvitee.allows(.kick))
        XCTAssertTrue(PermissionSet.all.contains(.updatePermissions))

        XCTAssertEqual(ParticipantStatus.allCases.map { $0.name },
                       ["RESERVED", "CONNECTING", "ON_AIR", "INACTIVE", "DECLINE", "LEFT", "KICKED", "WARNING", "ERROR"])
        for status in ParticipantStatus.allCases {
            XCTAssertEqual(try ParticipantStatus(name: status.name), status)
        }
        XCTAssertEqual(try ParticipantStatus(name: "CONNECTED"), .onAir)
        assertThrows(.invalidArgument, try ParticipantStatus(name: "NOPE"))

        XCTAssertEqual(MediaReport.connected.rawValue, CONFKIT_REPORT_CONNECTED)
        XCTAssertEqual(MediaReport.mediaTrouble.rawValue, CONFKIT_REPORT_MEDIA_TROUBLE)
        XCTAssertEqual(MediaReport.recovered.rawValue, CONFKIT_REPORT_RECOVERED)
        XCTAssertEqual(MediaReport.failure.rawValue, CONFKIT_REPORT_FAILURE)
        XCTAssertEqual(MediaReport.idle.rawValue, CONFKIT_REPORT_IDLE)
    }

    // MARK: - Leaks

    func testEveryObjectIsFreed() throws {
        let before = Confkit.liveObjects
        try runWholeFlowOnce()
        XCTAssertEqual(Confkit.liveObjects, before, "every confkit object and buffer was freed")
    }

    /// Touches every kind of object, buffer and error; everything it makes is
    /// released when it returns.
    private func runWholeFlowOnce() throws {
        let clock = try ManualClock(now: start)
        let platform = try Platform(seed: seed(), keyId: "k1", clock: clock)
        let alice = try platform.openSession(externalId: "alice")
        let bob = try platform.openSession(externalId: "bob")
        try bob.setListener { _ in }
        let created = try alice.createConference(alias: "leaks", options: ConferenceOptions(isProtected: true))
        let id = created.conference.id
        let ownerToken = try XCTUnwrap(created.ownerToken)
        try alice.join(conferenceId: id, token: ownerToken)
        let results = try alice.invite(conferenceId: id, externalIds: ["bob", "carol"])
        let bobToken = try XCTUnwrap(results.first?.token)
        _ = try bob.drain()
        try bob.join(conferenceId: id, token: bobToken)
        _ = try alice.updatePermissions(conferenceId: id, externalId: "bob", permissions: [.join])
        _ = try platform.handleRest(method: "GET", path: "/v2/conferences/\(id)/participants")
        _ = try platform.handleRest(method: "GET", path: "/nowhere")
        let verifier = try Verifier(jwks: platform.jwks())
        _ = try verifier.verify(token: ownerToken, conferenceId: id, now: start)
        assertThrows(.tokenExpired, try verifier.verify(token: ownerToken, now: start + 86_400))
        _ = try alice.fetchConference(id: id)
        try alice.terminate(conferenceId: id)
        _ = try alice.drain()
        // bob is freed while still open: deinit closes him and releases his listener.
    }
}
