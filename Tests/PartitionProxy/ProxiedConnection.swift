import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The two sockets of one relayed connection and who may still use them.
///
/// Descriptors are shut down by whoever ends the connection (a pump seeing EOF, or `stop()`),
/// which wakes any thread blocked on them, but closed only by `closeDescriptors()` once no
/// pump can touch them: closing earlier would let the kernel reuse the number for an
/// unrelated socket while a pump still reads from it.
final class ProxiedConnection: @unchecked Sendable {
    let client: Int32
    /// The dialling member's end as seen by the proxy, used for attribution.
    let clientEndpoint: TCPEndpoint
    private let lock = NSLock()
    private var upstream: Int32 = -1
    private var closing = false
    private var closed = false
    /// Pumps that have not ended yet; set to 2 when both are about to start.
    private var runningPumps = 0

    init(client: Int32, clientEndpoint: TCPEndpoint) {
        self.client = client
        self.clientEndpoint = clientEndpoint
    }

    /// Whether the connection is being torn down; pumps holding data give up when it is.
    var isClosing: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closing
    }

    /// Hands the upstream socket to the connection, which from then on owns it. Returns
    /// `false` (and takes nothing) if the connection is already closing.
    func attachUpstream(_ descriptor: Int32) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !closing else { return false }
        upstream = descriptor
        return true
    }

    /// Records that both pumps are about to run.
    func startPumps() {
        lock.lock()
        runningPumps = 2
        lock.unlock()
    }

    /// Marks the connection closing and shuts both sockets down, waking any pump blocked in
    /// `recv` or `send`. Safe to call repeatedly and after `closeDescriptors()`.
    func shutDown() {
        lock.lock()
        defer { lock.unlock() }
        closing = true
        guard !closed else { return }
        shutdown(client, Int32(SHUT_RDWR))
        if upstream >= 0 { shutdown(upstream, Int32(SHUT_RDWR)) }
    }

    /// Records that one pump has ended; `true` for the last one, which must then retire the
    /// connection.
    func pumpEnded() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        precondition(runningPumps > 0, "more pumps ended than started")
        runningPumps -= 1
        return runningPumps == 0
    }

    /// Closes both sockets. Call once, when no pump is running.
    func closeDescriptors() {
        lock.lock()
        defer { lock.unlock() }
        precondition(!closed && runningPumps == 0, "connection closed twice or while pumping")
        closing = true
        closed = true
        close(client)
        if upstream >= 0 { close(upstream) }
    }
}
