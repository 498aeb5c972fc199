#if canImport(Glibc)
import Glibc
#endif

/// Why a proxy could not start: what failed, with the system's reason.
public struct PartitionProxyError: Error, CustomStringConvertible, Sendable {
    /// Stable codes, so a test harness can match on them rather than on the message.
    public enum Code: String, Sendable {
        /// `start()` was called on a proxy that was already started or stopped.
        case notIdle
        /// Creating, binding or listening on the loopback socket failed.
        case listenFailed
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// An error for a failed system call, with `errno`'s description appended.
    static func system(_ code: Code, _ what: String, errno number: Int32 = errno) -> PartitionProxyError {
        PartitionProxyError(code: code, message: "\(what): \(String(cString: strerror(number))) (errno \(number))")
    }

    public var description: String { "partition proxy \(code.rawValue): \(message)" }
}
