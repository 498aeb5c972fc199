import Foundation
@testable import PartitionProxy
#if canImport(Glibc)
import Glibc
#endif

/// Waiting and data helpers, namespaced so they cannot clash with a host target's own.
enum ProxyTesting {
    /// Polls `condition` until it holds or `timeoutSeconds` pass; the tests never sleep a fixed time.
    static func eventually(timeoutSeconds: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        while !condition() {
            if Date() >= deadline { return false }
            usleep(2_000)
        }
        return true
    }

    /// Bytes from a xorshift generator: unlike a short repeating pattern, any reordering,
    /// duplication or loss of a chunk changes the sequence.
    static func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }
}

/// Blocking socket operations with deadlines, for driving both ends of a proxied connection.
enum ProxyTestSocket {
    /// A connected client socket, or `nil` if nothing accepts at `port`.
    static func connect(toPort port: UInt16) -> Int32? {
        guard let descriptor = LoopbackSocket.makeStreamSocket() else { return nil }
        guard LoopbackSocket.connect(descriptor, to: .loopback(port: port), timeoutSeconds: 5) else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    static func send(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { LoopbackSocket.sendAll(descriptor, $0) }
    }

    /// Fixes the kernel send buffer (setting it disables autotuning, which could otherwise
    /// grow it to megabytes on loopback).
    static func pinSendBuffer(_ descriptor: Int32, sizeBytes: Int32) {
        var size = sizeBytes
        setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Reads until `count` bytes arrived, the peer closed, or the deadline passed.
    static func receive(_ descriptor: Int32, count: Int, timeoutSeconds: Double = 5) -> [UInt8] {
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while received.count < count {
            guard waitReadable(descriptor, until: deadline) else { break }
            let wanted = min(chunk.count, count - received.count)
            let length = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, wanted, 0) }
            guard length > 0 else { break }
            received += chunk[..<length]
        }
        return received
    }

    /// Whether anything — data or end of stream — becomes readable on any of `descriptors`
    /// within the window. Used only to show that a cut keeps bytes back.
    static func anythingArrives(on descriptors: [Int32], withinSeconds window: Double) -> Bool {
        var watched = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        return poll(&watched, nfds_t(watched.count), Int32(window * 1000)) > 0
    }

    /// Whether the peer closed (or reset) within the deadline; data still in flight is read
    /// and discarded on the way.
    static func waitForClose(_ descriptor: Int32, timeoutSeconds: Double = 5) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while waitReadable(descriptor, until: deadline) {
            let length = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if length <= 0 { return true }
        }
        return false
    }

    private static func waitReadable(_ descriptor: Int32, until deadline: Date) -> Bool {
        let remainingMs = Int32(max(0, deadline.timeIntervalSinceNow * 1000).rounded(.up))
        var watched = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&watched, 1, remainingMs) > 0
    }

    /// The number of descriptors this process has open, to catch leaks.
    static func openDescriptorCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }
}

/// A listening socket standing in for a member's real peer port; the test accepts and
/// drives each connection itself.
final class ProxyTestListener {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        (descriptor, port) = try LoopbackSocket.listenOnLoopback()
    }

    deinit { close(descriptor) }

    /// The next connection the proxy opens to this member, or `nil` after the deadline.
    func accept(timeoutSeconds: Double = 5) -> Int32? {
        var watched = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&watched, 1, Int32(timeoutSeconds * 1000)) > 0 else { return nil }
        return LoopbackSocket.accept(descriptor)?.descriptor
    }
}

/// A loopback echo server: one thread per connection sends back whatever it reads.
final class ProxyTestEchoServer: @unchecked Sendable {
    let port: UInt16
    private let listener: ProxyTestListener
    private let state = NSCondition()
    private var served: [Int32] = []
    private var liveThreads = 0
    private var stopping = false

    init() throws {
        listener = try ProxyTestListener()
        port = listener.port
        spawn { server in server.acceptLoop() }
    }

    /// Shuts every connection down, waits for the threads, then closes the descriptors.
    func stop() {
        state.lock()
        stopping = true
        for descriptor in served { shutdown(descriptor, Int32(SHUT_RDWR)) }
        let deadline = Date(timeIntervalSinceNow: 5)
        while liveThreads > 0, state.wait(until: deadline) {}
        for descriptor in served { close(descriptor) }
        served.removeAll()
        state.unlock()
    }

    private var isStopping: Bool {
        state.lock()
        defer { state.unlock() }
        return stopping
    }

    /// Polls in short slices so `stop()` is noticed without a wake-up channel.
    private func acceptLoop() {
        while !isStopping {
            guard let connection = listener.accept(timeoutSeconds: 0.05) else { continue }
            state.lock()
            if stopping {
                close(connection)
            } else {
                served.append(connection)
                spawnLocked { server in server.echo(connection) }
            }
            state.unlock()
        }
    }

    private func echo(_ connection: Int32) {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let length = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard length > 0 else { break }
            let sent = chunk.withUnsafeBytes { LoopbackSocket.sendAll(connection, UnsafeRawBufferPointer(rebasing: $0[..<length])) }
            guard sent else { break }
        }
        shutdown(connection, Int32(SHUT_RDWR))
    }

    private func spawn(_ body: @escaping @Sendable (ProxyTestEchoServer) -> Void) {
        state.lock()
        spawnLocked(body)
        state.unlock()
    }

    private func spawnLocked(_ body: @escaping @Sendable (ProxyTestEchoServer) -> Void) {
        liveThreads += 1
        Thread { [self] in
            body(self)
            state.lock()
            liveThreads -= 1
            state.broadcast()
            state.unlock()
        }.start()
    }
}

/// Work on a background thread whose completion the test can wait for with a deadline.
final class ProxyTestBackgroundWork: @unchecked Sendable {
    private let condition = NSCondition()
    private var finished = false

    init(_ body: @escaping @Sendable () -> Void) {
        Thread { [self] in
            body()
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }.start()
    }

    func wait(timeoutSeconds: Double = 5) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        condition.lock()
        defer { condition.unlock() }
        while !finished, condition.wait(until: deadline) {}
        return finished
    }
}

/// The member list a test hands to a proxy, changeable while the proxy runs.
final class ProxyTestMembers: @unchecked Sendable {
    private let lock = NSLock()
    private var members: [PartitionMember]

    init(_ members: [PartitionMember] = []) {
        self.members = members
    }

    func add(_ member: PartitionMember) {
        lock.lock()
        members.append(member)
        lock.unlock()
    }

    var current: [PartitionMember] {
        lock.lock()
        defer { lock.unlock() }
        return members
    }
}

/// A flag one thread raises and another reads.
final class ProxyTestFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    func set() {
        lock.lock()
        raised = true
        lock.unlock()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return raised
    }
}
