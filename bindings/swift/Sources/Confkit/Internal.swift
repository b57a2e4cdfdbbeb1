// Internal plumbing between Swift values and the C ABI's conventions
// (src/ffi/mod.rs): strings in as pointer + length, status + confkit_error out,
// confkit_buffer and borrowed `const char *` out.

import CConfkit
import Foundation

/// Bytes handed to a C function as pointer + length, valid only inside the
/// closure that received them.
struct ByteArg {
    /// NULL only for an absent optional argument.
    let pointer: UnsafePointer<UInt8>?
    /// The byte count (a trailing NUL added for C's comfort is not counted).
    let count: Int
}

/// Calls `body` with `bytes` as pointer + length. The pointer is never NULL,
/// even for no bytes: confkit reads a NULL optional argument as "absent", and
/// an empty string must stay an empty string.
func withBytesArg<R>(_ bytes: [UInt8], _ body: (ByteArg) throws -> R) rethrows -> R {
    var storage = bytes
    let count = storage.count
    storage.append(0)
    return try storage.withUnsafeBufferPointer { buffer in
        try body(ByteArg(pointer: buffer.baseAddress, count: count))
    }
}

/// A string as UTF-8 pointer + length (confkit's "strings in" convention).
func withUTF8Arg<R>(_ string: String, _ body: (ByteArg) throws -> R) rethrows -> R {
    return try withBytesArg(Array(string.utf8), body)
}

/// An optional string: `nil` becomes a NULL pointer with length 0.
func withOptionalUTF8Arg<R>(_ string: String?, _ body: (ByteArg) throws -> R) rethrows -> R {
    guard let string = string else {
        return try body(ByteArg(pointer: nil, count: 0))
    }
    return try withBytesArg(Array(string.utf8), body)
}

/// Optional bytes: `nil` becomes a NULL pointer with length 0.
func withOptionalDataArg<R>(_ data: Data?, _ body: (ByteArg) throws -> R) rethrows -> R {
    guard let data = data else {
        return try body(ByteArg(pointer: nil, count: 0))
    }
    return try withBytesArg([UInt8](data), body)
}

/// A pointer to a copy of `value`, or NULL for `nil`.
func withOptionalPointer<T, R>(to value: T?, _ body: (UnsafePointer<T>?) throws -> R) rethrows -> R {
    guard var copy = value else {
        return try body(nil)
    }
    return try withUnsafePointer(to: &copy) { pointer in
        try body(pointer)
    }
}

/// Runs one fallible C call. `body` receives the `confkit_error **` slot; a
/// non-OK status becomes a thrown `ConfkitError`, and the error object is
/// always freed.
func ffi(_ body: (UnsafeMutablePointer<OpaquePointer?>) throws -> confkit_status) throws {
    var error: OpaquePointer? = nil
    let status = try withUnsafeMutablePointer(to: &error) { slot in
        try body(slot)
    }
    try ConfkitError.check(status: status, error: error)
}

/// A Swift string from a borrowed C string (copied), or `nil` for NULL.
func swiftString(_ pointer: UnsafePointer<CChar>?) -> String? {
    guard let pointer = pointer else {
        return nil
    }
    return String(cString: pointer)
}

/// Copies a buffer that confkit allocated, then frees it.
func takeBuffer(_ buffer: confkit_buffer) -> Data {
    defer { confkit_buffer_free(buffer) }
    guard let bytes = buffer.data, buffer.len > 0 else {
        return Data()
    }
    return Data(bytes: bytes, count: buffer.len)
}

/// A buffer holding a token (UTF-8 text), or `nil` when it is empty.
func takeTokenBuffer(_ buffer: confkit_buffer) -> String? {
    let data = takeBuffer(buffer)
    if data.isEmpty {
        return nil
    }
    return String(decoding: data, as: UTF8.self)
}

/// Seconds since the Unix epoch, now.
func unixNow() -> UInt64 {
    let seconds = Date().timeIntervalSince1970
    return seconds > 0 ? UInt64(seconds) : 0
}
