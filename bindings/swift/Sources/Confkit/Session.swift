// A user's session: its event queue and its listener.

import CConfkit

/// Boxes a Swift listener for the C ABI's `user_data`: retained when handed to
/// confkit, released by confkit's `release` callback (listener replaced or
/// cleared, session closed or freed).
private final class ListenerBox {
    let callback: (UInt64) -> Void

    init(_ callback: @escaping (UInt64) -> Void) {
        self.callback = callback
    }
}

/// The C listener: finds the box behind `user_data` and calls its closure.
/// Captures nothing, so it converts to a C function pointer.
private let listenerTrampoline: confkit_listener_fn = { userData, sessionId in
    guard let userData = userData else {
        return
    }
    let box = Unmanaged<ListenerBox>.fromOpaque(userData).takeUnretainedValue()
    box.callback(sessionId)
}

/// The C release callback: balances `Unmanaged.passRetained` in `setListener`.
private let listenerRelease: confkit_release_fn = { userData in
    guard let userData = userData else {
        return
    }
    Unmanaged<ListenerBox>.fromOpaque(userData).release()
}

/// A user's session on a platform. Only a user with an open session receives
/// notifications (invitations included); a user may have several sessions,
/// and each receives every notification addressed to the user.
///
/// Events are queued per session: take them with `nextEvent()` or `drain()`,
/// optionally woken by a listener (`setListener(_:)`). The conference
/// operations (create, join, invite...) are in Conference.swift.
///
/// Thread-safe: share one instance between threads freely. `deinit` closes the
/// session if it is still open (leaving its conferences) and frees it.
public final class Session: @unchecked Sendable {
    let handle: OpaquePointer

    /// The session's numeric id (what a listener receives).
    public let id: UInt64
    /// The user's external ID.
    public let externalId: String

    /// Opens a session for a user.
    ///
    /// - Parameters:
    ///   - platform: the platform.
    ///   - externalId: the application's user id (non-empty UTF-8).
    ///   - name: the display name (may be empty).
    ///   - avatarUrl: the avatar URL, or `nil` for none.
    public init(platform: Platform, externalId: String, name: String = "", avatarUrl: String? = nil) throws {
        let platformHandle = platform.handle
        var out: OpaquePointer? = nil
        try withUTF8Arg(externalId) { externalIdArg in
            try withUTF8Arg(name) { nameArg in
                try withOptionalUTF8Arg(avatarUrl) { avatarArg in
                    try ffi { error in
                        confkit_session_open(
                            platformHandle,
                            externalIdArg.pointer,
                            externalIdArg.count,
                            nameArg.pointer,
                            nameArg.count,
                            avatarArg.pointer,
                            avatarArg.count,
                            &out,
                            error
                        )
                    }
                }
            }
        }
        guard let handle = out else {
            throw ConfkitError.missingOutput("confkit_session_open")
        }
        self.handle = handle
        self.id = confkit_session_id(handle)
        self.externalId = externalId
    }

    deinit {
        // Closes the session if it is still open (which releases a listener), then frees it.
        confkit_session_free(handle)
    }

    /// Closes the session: it leaves every conference it is connected to, its
    /// queue is dropped and its listener released. Afterwards every call fails
    /// with `.sessionNotFound` (closing twice included).
    public func close() throws {
        try ffi { error in
            confkit_session_close(handle, error)
        }
    }

    /// Takes the next event from the queue, or `nil` when it is empty.
    public func nextEvent() throws -> Event? {
        var out: OpaquePointer? = nil
        try ffi { error in
            confkit_session_next_event(handle, &out, error)
        }
        guard let event = out else {
            return nil
        }
        defer { confkit_event_free(event) }
        return Event(handle: event)
    }

    /// Takes every queued event, oldest first.
    public func drain() throws -> [Event] {
        var events: [Event] = []
        while let event = try nextEvent() {
            events.append(event)
        }
        return events
    }

    /// How many events wait in the queue.
    public func pendingEventCount() throws -> Int {
        var count: Int = 0
        try ffi { error in
            confkit_session_pending_events(handle, &count, error)
        }
        return count
    }

    /// Sets the listener, replacing any earlier one; `nil` clears it.
    ///
    /// The listener is called with this session's `id` after an operation
    /// queued events for the session, on the thread that called into the
    /// platform (any thread), never while confkit holds a lock: it may call
    /// back into confkit, e.g. `drain()`. It typically hops to the host's own
    /// queue and drains there.
    ///
    /// confkit keeps the closure until the listener is replaced or cleared or
    /// the session is closed or freed. A closure that captures this session
    /// strongly keeps it alive until then: capture it weakly, or call
    /// `close()` / `setListener(nil)` when done.
    public func setListener(_ listener: ((UInt64) -> Void)?) throws {
        guard let listener = listener else {
            try ffi { error in
                confkit_session_set_listener(handle, nil, nil, nil, error)
            }
            return
        }
        let userData = Unmanaged.passRetained(ListenerBox(listener)).toOpaque()
        do {
            try ffi { error in
                confkit_session_set_listener(handle, listenerTrampoline, userData, listenerRelease, error)
            }
        } catch {
            // On failure confkit does not call `release`: the box is still ours.
            Unmanaged<ListenerBox>.fromOpaque(userData).release()
            throw error
        }
    }
}
