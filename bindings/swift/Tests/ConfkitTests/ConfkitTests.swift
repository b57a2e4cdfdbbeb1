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

/// Asserts that no event of `events` carries `token` (typed or in its JSON):
/// a token reaches its holder only.
private func assertNoToken(_ events: [Event], _ token: String, file: StaticString = #filePath, line: UInt = #line) {
    for event in events {
        XCTAssertFalse(event.json.contains(token), "\(event)", file: file, line: line)
        switch event.kind {
        case let .invitationReceived(_, _, carried, _):
            XCTAssertNotEqual(carried, token, file: file, line: line)
        case let .permissionsUpdated(_, carried):
            XCTAssertNotEqual(carried, token, file: file, line: line)
        case let .tokenRefreshed(carried, _, _):
            XCTAssertNotEqual(carried, token, file: file, line: line)
        default:
            break
        }
    }
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
        XCTAssertEqual(Confkit.bindingABIVersion, 2)
        XCTAssertEqual(Confkit.headerABIVersion, Confkit.bindingABIVersion)
        XCTAssertEqual(confkit_abi_version(), 3)
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
        XCTAssertEqual(wakeUps.sessionIds, [bob.id])

        // The results carry no token: each invitee's reaches the invitee only.
        let aliceAfterInvite = try alice.drain()
        XCTAssertEqual(aliceAfterInvite.map { $0.kind }, [
            .participantAdded(externalId: "bob", status: .reserved, permissions: .defaultInvitee),
            .participantAdded(externalId: "carol", status: .reserved, permissions: carolPermissions),
            .participantAdded(externalId: "dave", status: .reserved, permissions: .defaultInvitee),
        ])
        XCTAssertEqual(try bob.pendingEventCount(), 1)
        let invitation = try XCTUnwrap(bob.nextEvent())
        guard case let .invitationReceived(alias, inviter, invitedToken, invitedPermissions) = invitation.kind else {
            return XCTFail("expected an invitation, got \(invitation.kind)")
        }
        XCTAssertEqual(alias, "All-Hands")
        XCTAssertEqual(inviter, "alice")
        XCTAssertEqual(invitedPermissions, .defaultInvitee)
        let bobToken = try XCTUnwrap(invitedToken)
        XCTAssertTrue(invitation.json.contains(bobToken))
        XCTAssertEqual(invitation.sequence, 1)
        XCTAssertNil(try bob.nextEvent())
        let carolEvents = try carol.drain()
        XCTAssertEqual(carolEvents.count, 1)
        guard case let .invitationReceived(_, _, carolInvitedToken, carolInvitedPermissions)? = carolEvents.first?.kind else {
            return XCTFail("expected carol's invitation, got \(carolEvents)")
        }
        XCTAssertEqual(carolInvitedPermissions, carolPermissions)
        let carolToken = try XCTUnwrap(carolInvitedToken)
        XCTAssertNotEqual(carolToken, bobToken)
        assertNoToken(aliceAfterInvite, bobToken)
        assertNoToken(aliceAfterInvite, carolToken)

        // bob joins with his token and connects; everyone sees it.
        XCTAssertEqual(try bob.join(conferenceId: id, token: bobToken), PermissionSet.defaultInvitee)
        try bob.report(conferenceId: id, .connected)
        XCTAssertEqual(wakeUps.sessionIds.count, 3)
        let bobUpdates: [Event.Kind] = [
            .participantUpdated(externalId: "bob", oldStatus: .reserved, newStatus: .connecting, permissions: .defaultInvitee),
            .participantUpdated(externalId: "bob", oldStatus: .connecting, newStatus: .onAir, permissions: .defaultInvitee),
        ]
        let aliceSawBob = try alice.drain()
        XCTAssertEqual(aliceSawBob.map { $0.kind }, bobUpdates)
        assertNoToken(aliceSawBob, bobToken)
        let bobEvents = try bob.drain()
        XCTAssertEqual(bobEvents.map { $0.kind }, bobUpdates)
        XCTAssertEqual(bobEvents.map { $0.sequence }, [2, 3])

        // The same alias (ignoring case) returns the live conference. Its owner
        // gets a fresh owner token (connected, she also gets it as an event);
        // anyone else gets none.
        let again = try alice.createConference(alias: "all-hands", options: ConferenceOptions(isProtected: true))
        XCTAssertFalse(again.conference.isNew)
        XCTAssertEqual(again.conference.id, id)
        let freshOwnerToken = try XCTUnwrap(again.ownerToken)
        XCTAssertNotEqual(freshOwnerToken, ownerToken)
        XCTAssertEqual(try alice.drain().map { $0.kind }, [
            .tokenRefreshed(token: freshOwnerToken, permissions: .all, expiresAt: start + 3 * 60 * 60),
        ])
        let notOwner = try bob.createConference(alias: "ALL-HANDS", options: ConferenceOptions(isProtected: true))
        XCTAssertFalse(notOwner.conference.isNew)
        XCTAssertEqual(notOwner.conference.id, id)
        XCTAssertNil(notOwner.ownerToken)

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
        // The new token reaches bob only, in his event; alice never sees it.
        let bobPermissions: PermissionSet = [.invite, .join, .sendAudio]
        try alice.updatePermissions(conferenceId: id, externalId: "bob", permissions: bobPermissions)
        // bob gets his token in permissions updated, and (like everyone who
        // sees him) his new set in participant updated.
        let bobUpdated = try bob.drain().filter {
            if case .permissionsUpdated = $0.kind { return true } else { return false }
        }
        XCTAssertEqual(bobUpdated.count, 1)
        guard case let .permissionsUpdated(pushedPermissions, pushedToken)? = bobUpdated.first?.kind else {
            return XCTFail("expected permissions updated, got \(bobUpdated)")
        }
        XCTAssertEqual(pushedPermissions, bobPermissions)
        let newBobToken = try XCTUnwrap(pushedToken)
        XCTAssertNotEqual(newBobToken, bobToken)
        let aliceAfterUpdate = try alice.drain()
        assertNoToken(aliceAfterUpdate, newBobToken)
        // Nobody updates their own permissions (the owner's are fixed).
        assertThrows(.notAllowed, try alice.updatePermissions(conferenceId: id, externalId: "alice", permissions: .defaultInvitee))

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
        let expected = Event.Kind.invitationReceived(alias: "open", inviter: "alice", token: nil, permissions: [])
        XCTAssertEqual(try bobPhone.drain().map { $0.kind }, [expected])
        XCTAssertEqual(try bobLaptop.drain().map { $0.kind }, [expected])

        // Inviting someone already in the conference issues nothing.
        try bobPhone.join(conferenceId: id)
        let twice = try alice.invite(conferenceId: id, externalIds: ["bob"])
        XCTAssertEqual(twice.first?.delivery, .alreadyInConference)

        // Joining from the laptop switches the phone out.
        try bobLaptop.join(conferenceId: id)
        let phoneEvents = try bobPhone.drain().map { $0.kind }
        XCTAssertTrue(phoneEvents.contains(.switched(externalId: "bob")), "\(phoneEvents)")

        // No token for an unprotected conference's permission update.
        _ = try bobLaptop.drain()
        try alice.updatePermissions(conferenceId: id, externalId: "bob", permissions: [.join])
        XCTAssertTrue(try bobLaptop.drain().map { $0.kind }.contains(.permissionsUpdated(permissions: [.join], token: nil)))

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
        let bobKinds = try bob.drain().map { $0.kind }
        XCTAssertEqual(bobKinds.first, .permissionsUpdated(permissions: [.join], token: newBobToken))

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

    // MARK: - ABI 2: new events, listeners, fresh tokens

    func testEventKindsMapToCases() throws {
        // The ABI 2 getters with NULL, and with an event of another kind.
        XCTAssertEqual(confkit_event_token_expires_at(nil), 0)
        XCTAssertEqual(confkit_event_first_available_sequence(nil), 0)
        XCTAssertNil(confkit_event_conference_id(nil))
        XCTAssertEqual(confkit_event_kind(nil), 0)
        let platform = try Platform(keyId: "k1")
        let alice = try platform.openSession(externalId: "alice")
        _ = try alice.createConference(alias: "kinds")
        var handle: OpaquePointer? = nil
        try ffi { error in confkit_session_next_event(alice.handle, &handle, error) }
        let created = try XCTUnwrap(handle)
        XCTAssertEqual(confkit_event_kind(created), CONFKIT_EVENT_CONFERENCE_CREATED)
        XCTAssertEqual(confkit_event_token_expires_at(created), 0)
        XCTAssertEqual(confkit_event_first_available_sequence(created), 0)
        XCTAssertNotNil(confkit_event_conference_id(created))
        confkit_event_free(created)

        // What the getters say maps to the cases; unknown kinds stay readable.
        let conference = "6f1d2c3b-0000-4000-8000-000000000001"
        var removed = Event.Raw(kind: CONFKIT_EVENT_PARTICIPANT_REMOVED, sequence: 7, conferenceId: conference,
                                typeName: "participantRemoved", json: "{}")
        removed.externalId = "bob"
        XCTAssertEqual(Event(raw: removed).kind, .participantRemoved(externalId: "bob"))
        XCTAssertEqual(Event(raw: removed).conferenceId, conference)
        var refreshed = Event.Raw(kind: CONFKIT_EVENT_TOKEN_REFRESHED, sequence: 7, conferenceId: conference,
                                  typeName: "tokenRefreshed", json: "{}")
        refreshed.token = "t.o.k"
        refreshed.permissions = PermissionSet.all.rawValue
        refreshed.tokenExpiresAt = 1_700_010_000
        XCTAssertEqual(Event(raw: refreshed).kind, .tokenRefreshed(token: "t.o.k", permissions: .all, expiresAt: 1_700_010_000))
        refreshed.token = nil
        XCTAssertEqual(Event(raw: refreshed).kind, .unknown(code: CONFKIT_EVENT_TOKEN_REFRESHED))
        var missed = Event.Raw(kind: CONFKIT_EVENT_EVENTS_MISSED, sequence: 7, conferenceId: nil, typeName: "eventsMissed",
                               json: #"{"sequence":7,"type":"eventsMissed","firstMissedSequence":3,"firstAvailableSequence":8}"#)
        missed.firstAvailableSequence = 8
        let missedEvent = Event(raw: missed)
        XCTAssertEqual(missedEvent.kind, .eventsMissed(firstMissedSequence: 3, firstAvailableSequence: 8))
        XCTAssertNil(missedEvent.conferenceId)
        let future = Event(raw: Event.Raw(kind: 11, sequence: 7, conferenceId: nil, typeName: "somethingNew", json: "{}"))
        XCTAssertEqual(future.kind, .unknown(code: 11))
        XCTAssertNil(future.conferenceId)
        XCTAssertEqual(future.typeName, "somethingNew")
    }

    func testTokenRefreshedBeforeExpiry() throws {
        let clock = try ManualClock(now: start)
        let platform = try Platform(seed: seed(), keyId: "k1", clock: clock)
        let alice = try platform.openSession(externalId: "alice")
        let bob = try platform.openSession(externalId: "bob")
        let created = try alice.createConference(alias: "refresh", options: ConferenceOptions(isProtected: true))
        let id = created.conference.id
        try alice.join(conferenceId: id, token: created.ownerToken)
        let bobPermissions: PermissionSet = [.join, .sendAudio]
        _ = try alice.invite(conferenceId: id, invitees: [Invitee("bob", permissions: bobPermissions)])
        guard case let .invitationReceived(_, _, invitedToken, _)? = try bob.drain().first?.kind else {
            return XCTFail("bob's invitation")
        }
        let bobToken = try XCTUnwrap(invitedToken)
        try bob.join(conferenceId: id, token: bobToken)
        _ = try alice.drain()
        _ = try bob.drain()

        // Due 5 minutes before the 3-hour token expires; any call runs it.
        try clock.set(start + 3 * 60 * 60 - 300 - 1)
        _ = try platform.expireConferences()
        XCTAssertEqual(try bob.pendingEventCount(), 0)
        try clock.advance(by: 1)
        _ = try platform.expireConferences()
        let events = try bob.drain()
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(events.first?.typeName, "tokenRefreshed")
        XCTAssertEqual(events.first?.conferenceId, id)
        guard case let .tokenRefreshed(token, permissions, expiresAt)? = events.first?.kind else {
            return XCTFail("expected token refreshed, got \(events)")
        }
        XCTAssertNotEqual(token, bobToken)
        XCTAssertEqual(permissions, bobPermissions)
        XCTAssertEqual(expiresAt, start + 3 * 60 * 60 - 300 + 3 * 60 * 60)
        let claims = try Verifier(jwks: platform.jwks()).verify(token: token, conferenceId: id, now: clock.now)
        XCTAssertEqual(claims.subject, "bob")
        XCTAssertEqual(claims.expiresAt, expiresAt)
        // alice gets her own, never bob's.
        let aliceEvents = try alice.drain()
        XCTAssertEqual(aliceEvents.count, 1)
        guard case let .tokenRefreshed(aliceToken, alicePermissions, _)? = aliceEvents.first?.kind else {
            return XCTFail("expected alice's token refreshed, got \(aliceEvents)")
        }
        XCTAssertEqual(alicePermissions, .all)
        XCTAssertNotEqual(aliceToken, token)
    }

    func testOverflowingQueueStartsWithEventsMissed() throws {
        let platform = try Platform(keyId: "k1")
        let host = try platform.openSession(externalId: "host")
        let lurker = try platform.openSession(externalId: "lurker")
        let id = try host.createConference(alias: "busy").conference.id
        try host.join(conferenceId: id)
        try host.report(conferenceId: id, .connected)
        try lurker.join(conferenceId: id)
        let lastTaken = try XCTUnwrap(lurker.drain().last?.sequence)
        for _ in 0..<700 {
            try host.report(conferenceId: id, .mediaTrouble)
            try host.report(conferenceId: id, .recovered)
        }
        XCTAssertEqual(try lurker.pendingEventCount(), 1024)
        let events = try lurker.drain()
        XCTAssertEqual(events.count, 1024)
        let marker = try XCTUnwrap(events.first)
        XCTAssertNil(marker.conferenceId)
        XCTAssertEqual(marker.typeName, "eventsMissed")
        XCTAssertFalse(marker.json.contains("conferenceId"))
        XCTAssertEqual(marker.kind, .eventsMissed(firstMissedSequence: lastTaken + 1, firstAvailableSequence: marker.sequence + 1))
        XCTAssertEqual(marker.sequence, lastTaken + 1400 - 1023)
        XCTAssertEqual(events[1].sequence, marker.sequence + 1)
        XCTAssertTrue(events.dropFirst().allSatisfy { $0.conferenceId == id })
    }

    func testListenersActOnNobodyAndLeaveOtherListenersViews() throws {
        let platform = try Platform(keyId: "k1")
        let alice = try platform.openSession(externalId: "alice")
        let bob = try platform.openSession(externalId: "bob")
        let erin = try platform.openSession(externalId: "erin")
        let id = try alice.createConference(alias: "lobby").conference.id
        try alice.join(conferenceId: id)
        try bob.join(conferenceId: id)
        try erin.listen(conferenceId: id)
        _ = try erin.drain()
        _ = try alice.drain()

        // A listener acts on nobody.
        let refused = assertThrows(.notAllowed, try erin.invite(conferenceId: id, externalIds: ["frank"]))
        XCTAssertTrue(refused?.message.contains("listening") ?? false)
        assertThrows(.notAllowed, try erin.kick(conferenceId: id, externalId: "bob"))
        assertThrows(.notAllowed, try erin.updatePermissions(conferenceId: id, externalId: "bob", permissions: .defaultInvitee))

        // Nobody updates their own permissions, not even with UPDATE_PERMISSIONS.
        try alice.updatePermissions(conferenceId: id, externalId: "bob", permissions: PermissionSet.defaultInvitee.union([.updatePermissions]))
        _ = try erin.drain() // bob's new set, as everyone who sees him is told
        _ = try alice.drain()
        let own = assertThrows(.notAllowed, try bob.updatePermissions(conferenceId: id, externalId: "bob", permissions: [.join]))
        XCTAssertTrue(own?.message.contains("own permissions") ?? false)

        // A user turned listener leaves the other listeners' view.
        try bob.listen(conferenceId: id)
        let erinEvents = try erin.drain()
        XCTAssertEqual(erinEvents.map { $0.kind }, [.participantRemoved(externalId: "bob")])
        XCTAssertEqual(erinEvents.first?.conferenceId, id)
        XCTAssertEqual(erinEvents.first?.typeName, "participantRemoved")
        let aliceEvents = try alice.drain().map { $0.kind }
        XCTAssertFalse(aliceEvents.contains(.participantRemoved(externalId: "bob")))
        let bobChanged = aliceEvents.contains(where: { kind in
            if case let .participantUpdated(who, _, _, _) = kind {
                return who == "bob"
            }
            return false
        })
        XCTAssertTrue(bobChanged, "\(aliceEvents)")
    }

    func testRESTAliasTakenAndFreshTokens() throws {
        let platform = try Platform(seed: seed(), keyId: "k1", clock: ManualClock(now: start))
        let alice = try platform.openSession(externalId: "alice")
        let created = try platform.handleRest(
            method: "POST",
            path: "/v2/conferences/create",
            body: jsonBody(#"{"ownerExternalId":"alice","alias":"board","participants":{"bob":{},"carol":{}}}"#)
        )
        XCTAssertEqual(created.status, 200)
        let answer = jsonObject(created.body)
        let id = try XCTUnwrap(answer["conferenceId"] as? String)
        let ownerToken = try XCTUnwrap(answer["ownerToken"] as? String)

        // Someone else's create with that alias: 409 ALIAS_TAKEN.
        let taken = try platform.handleRest(
            method: "POST", path: "/v2/conferences/create", body: jsonBody(#"{"ownerExternalId":"mallory","alias":"BOARD"}"#)
        )
        XCTAssertEqual(taken.status, 409)
        let takenBody = jsonObject(taken.body)
        XCTAssertEqual(takenBody["error_code"] as? Int, Int(ConfkitError.Status.aliasTaken.rawValue))
        XCTAssertEqual(takenBody["error_reason"] as? String, "ALIAS_TAKEN")
        // The owner asking again: the same conference, a fresh owner token.
        let againResponse = try platform.handleRest(
            method: "POST", path: "/v2/conferences/create", body: jsonBody(#"{"ownerExternalId":"alice","alias":"board"}"#)
        )
        let again = jsonObject(againResponse.body)
        XCTAssertEqual(again["isNew"] as? Bool, false)
        XCTAssertEqual(again["conferenceId"] as? String, id)
        XCTAssertNotEqual(again["ownerToken"] as? String, ownerToken)

        // Fresh tokens for participants; a connected one also gets the event.
        try alice.join(conferenceId: id, token: ownerToken)
        _ = try alice.drain()
        let fresh = try platform.handleRest(
            method: "POST", path: "/v2/conferences/\(id)/tokens", body: jsonBody(#"{"externalIds":["alice","bob"]}"#)
        )
        XCTAssertEqual(fresh.status, 200, String(decoding: fresh.body, as: UTF8.self))
        let tokens = try XCTUnwrap(jsonObject(fresh.body)["usersTokens"] as? [String: String])
        let bobFresh = try XCTUnwrap(tokens["bob"])
        let aliceFresh = try XCTUnwrap(tokens["alice"])
        let verifier = try Verifier(jwks: platform.jwks())
        XCTAssertEqual(try verifier.verify(token: bobFresh, conferenceId: id, now: start).subject, "bob")
        XCTAssertEqual(try verifier.verify(token: aliceFresh, conferenceId: id, now: start).permissions, .all)
        XCTAssertEqual(try alice.drain().map { $0.kind }, [
            .tokenRefreshed(token: aliceFresh, permissions: .all, expiresAt: start + 3 * 60 * 60),
        ])
        let unknown = try platform.handleRest(
            method: "POST", path: "/v2/conferences/\(id)/tokens", body: jsonBody(#"{"externalIds":["zed"]}"#)
        )
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(jsonObject(unknown.body)["error_reason"] as? String, "PARTICIPANT_NOT_FOUND")
        let kick = try platform.handleRest(
            method: "POST", path: "/v2/conferences/\(id)/kick", body: jsonBody(#"{"externalIds":["carol"]}"#)
        )
        XCTAssertEqual(kick.status, 204)
        let kicked = try platform.handleRest(
            method: "POST", path: "/v2/conferences/\(id)/tokens", body: jsonBody(#"{"externalIds":["carol"]}"#)
        )
        XCTAssertEqual(kicked.status, 403)
        XCTAssertEqual(jsonObject(kicked.body)["error_reason"] as? String, "NOT_ALLOWED")
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

    func testVerifierCache() throws {
        let clock = try ManualClock(now: start)
        let platform = try Platform(seed: seed(), keyId: "k1", clock: clock)
        let alice = try platform.openSession(externalId: "alice")
        let created = try alice.createConference(alias: "cache", options: ConferenceOptions(isProtected: true))
        let id = created.conference.id
        let token = try XCTUnwrap(created.ownerToken)
        XCTAssertEqual(Verifier.maxCacheTokens, Int(CONFKIT_MAX_VERIFIER_CACHE_TOKENS))

        let verifier = try Verifier(jwks: platform.jwks())
        assertThrows(.invalidArgument, try verifier.enableCache(capacity: 0))
        assertThrows(.tooLarge, try verifier.enableCache(capacity: Verifier.maxCacheTokens + 1))
        try verifier.enableCache(capacity: 16)
        assertThrows(.invalidArgument, try verifier.enableCache(capacity: 16))

        // A cached token answers the same claims, and its time and
        // conference are still checked on every call.
        let first = try verifier.verify(token: token, conferenceId: id, now: start)
        XCTAssertEqual(try verifier.verify(token: token, conferenceId: id, now: start), first)
        XCTAssertEqual(first.subject, "alice")
        assertThrows(.tokenWrongConference, try verifier.verify(token: token, conferenceId: "00000000-0000-4000-8000-000000000000", now: start))
        assertThrows(.tokenExpired, try verifier.verify(token: token, now: first.expiresAt + Verifier.defaultLeewaySeconds + 1))
        let parts = token.split(separator: ".").map(String.init)
        assertThrows(.tokenInvalid, try verifier.verify(token: parts[0] + "." + parts[1] + "." + String(parts[2].reversed()), now: start))
    }

    func testVerifyBatch() throws {
        let clock = try ManualClock(now: start)
        let platform = try Platform(seed: seed(), keyId: "k1", clock: clock)
        let alice = try platform.openSession(externalId: "alice")
        let first = try alice.createConference(alias: "batch-a", options: ConferenceOptions(isProtected: true))
        let second = try alice.createConference(alias: "batch-b", options: ConferenceOptions(isProtected: true))
        let a = try XCTUnwrap(first.ownerToken)
        let b = try XCTUnwrap(second.ownerToken)
        let parts = a.split(separator: ".").map(String.init)
        let forged = parts[0] + "." + parts[1] + "." + String(parts[2].reversed())
        XCTAssertEqual(Verifier.maxBatchTokens, Int(CONFKIT_MAX_BATCH_TOKENS))

        let verifier = try Verifier(jwks: platform.jwks())
        // Each result is what verify gives or throws for that token.
        let results = try verifier.verifyBatch(tokens: [a, forged, b, ""], now: start)
        XCTAssertEqual(results.count, 4)
        XCTAssertEqual(try results[0].get(), try verifier.verify(token: a, now: start))
        XCTAssertEqual(try results[0].get().conferenceId, first.conference.id)
        XCTAssertEqual(try results[2].get(), try verifier.verify(token: b, now: start))
        assertThrows(.tokenInvalid, try results[1].get())
        assertThrows(.tokenInvalid, try results[3].get())

        let forFirst = try verifier.verifyBatch(tokens: [a, b], conferenceId: first.conference.id, now: start)
        XCTAssertEqual(try forFirst[0].get().subject, "alice")
        assertThrows(.tokenWrongConference, try forFirst[1].get())
        let late = try verifier.verifyBatch(tokens: [a], now: try results[0].get().expiresAt + Verifier.defaultLeewaySeconds + 1)
        assertThrows(.tokenExpired, try late[0].get())

        XCTAssertTrue(try verifier.verifyBatch(tokens: [], now: start).isEmpty)
        assertThrows(.invalidArgument, try verifier.verifyBatch(tokens: [a], conferenceId: "not-a-uuid", now: start))
        assertThrows(.tooLarge, try verifier.verifyBatch(tokens: Array(repeating: a, count: Verifier.maxBatchTokens + 1), now: start))
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
            (.aliasTaken, CONFKIT_STATUS_ALIAS_TAKEN),
            (.storeUnavailable, CONFKIT_STATUS_STORE_UNAVAILABLE),
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
        XCTAssertEqual(ConfkitError.Status.aliasTaken.rawValue, 19)
        XCTAssertEqual(ConfkitError.Status.aliasTaken.name, "ALIAS_TAKEN")
        XCTAssertEqual(ConfkitError.Status(code: 20), .unknown)
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
        _ = try alice.invite(conferenceId: id, externalIds: ["bob", "carol"])
        guard case let .invitationReceived(_, _, invitedToken, _)? = try bob.drain().first?.kind else {
            return XCTFail("bob's invitation")
        }
        let bobToken = try XCTUnwrap(invitedToken)
        try bob.join(conferenceId: id, token: bobToken)
        try alice.updatePermissions(conferenceId: id, externalId: "bob", permissions: [.join])
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
