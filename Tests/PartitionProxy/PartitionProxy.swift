import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy in front of one member's peer port that can partition it from other members.
///
/// Member `label` listens on `targetPort` but advertises the proxy's `port`, so every other
/// member dials the proxy. For each accepted connection the proxy finds which member process
/// dialled it (through `/proc`, see `SocketOwnership`), then relays bytes both ways. While
/// `table` cuts that member from `label`, each direction holds the chunk it has read — neither
/// forwarding nor dropping it — and stops reading, so TCP back-pressure builds as if packets
/// were being dropped; on heal the held chunk goes out and relaying resumes. Long-lived HTTP/2
/// connections thus survive a short partition the way they survive a real blackhole followed
/// by retransmission, and time out the way they would if it lasts.
///
/// One thread accepts; each connection gets two threads, one per direction, which block in
/// `recv`/`send` or on the table. `stop()` shuts every socket down and waits for all of them.
public final class PartitionProxy: @unchecked Sendable {
    /// The member behind this proxy.
    public let label: String
    /// The member's real peer port on 127.0.0.1.
    public let targetPort: UInt16
    public let table: PartitionTable
    /// How long attribution keeps retrying when the dialling socket is not yet found among
    /// the members, e.g. because the harness has not yet registered a just-spawned member's pid.
    public let attributionWindowSeconds: Double
    /// How long connecting to `targetPort` may take before the client is closed.
    public let connectTimeoutSeconds: Double

    private let members: @Sendable () -> [PartitionMember]

    /// Guards everything below; its condition signals thread exits to `stop()`.
    private let state = NSCondition()
    private var phase = Phase.idle
    private var listenPort: UInt16 = 0
    /// Closing this end of a socket pair wakes the accept loop's `poll` with a hang-up.
    private var wakeWriteEnd: Int32 = -1
    private var liveThreads = 0
    private var connections: [ObjectIdentifier: ProxiedConnection] = [:]
    private var counters = PartitionProxyStats()

    private enum Phase { case idle, running, stopped }

    /// Bytes read per `recv`: the most one held chunk can keep back.
    private static let chunkSizeBytes = 64 * 1024

    /// - Parameter members: the running member processes, asked on each new connection.
    public init(
        label: String,
        targetPort: UInt16,
        table: PartitionTable,
        attributionWindowSeconds: Double = 0.2,
        connectTimeoutSeconds: Double = 2,
        members: @escaping @Sendable () -> [PartitionMember]
    ) {
        self.label = label
        self.targetPort = targetPort
        self.table = table
        self.attributionWindowSeconds = attributionWindowSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.members = members
    }

    /// The same proxy with candidate pids and their labels given separately; a pid for which
    /// `sourceLabel` returns `nil` is not a member.
    public convenience init(
        label: String,
        targetPort: UInt16,
        table: PartitionTable,
        candidates: @escaping @Sendable () -> [pid_t],
        sourceLabel: @escaping @Sendable (pid_t) -> String?
    ) {
        self.init(label: label, targetPort: targetPort, table: table) {
            candidates().compactMap { pid in sourceLabel(pid).map { PartitionMember(pid: pid, label: $0) } }
        }
    }

    /// The port the proxy listens on at 127.0.0.1; 0 before `start()`.
    public var port: UInt16 {
        state.lock()
        defer { state.unlock() }
        return listenPort
    }

    public var stats: PartitionProxyStats {
        state.lock()
        defer { state.unlock() }
        return counters
    }

    public var connectionsAccepted: Int { stats.connectionsAccepted }

    public var attributed: [String: Int] { stats.attributed }

    /// Starts listening on 127.0.0.1 (never another interface) at a kernel-chosen `port`.
    public func start() throws(PartitionProxyError) {
        state.lock()
        defer { state.unlock() }
        guard phase == .idle else {
            throw PartitionProxyError(code: .notIdle, message: "proxy for \(label) was already started or stopped")
        }
        let listener = try LoopbackSocket.listenOnLoopback()
        guard let wake = LoopbackSocket.makeWakePair() else {
            let error = PartitionProxyError.system(.listenFailed, "socketpair")
            close(listener.descriptor)
            throw error
        }
        listenPort = listener.port
        wakeWriteEnd = wake.writeEnd
        phase = .running
        spawnLocked(name: "accept") { proxy in
            proxy.acceptLoop(listener: listener.descriptor, wakeReadEnd: wake.readEnd)
        }
    }

    /// Closes the listener and every connection, and waits for every proxy thread to end.
    ///
    /// Held data is dropped. Returns `true` when all threads ended within `timeoutSeconds`
    /// (always, unless the system is wedged); once it has, nothing listens on `port` and the
    /// proxy holds no descriptor. Idempotent.
    @discardableResult
    public func stop(timeoutSeconds: Double = 5) -> Bool {
        state.lock()
        var open: [ProxiedConnection] = []
        if phase == .running {
            close(wakeWriteEnd)
            wakeWriteEnd = -1
            open = Array(connections.values)
        }
        phase = .stopped
        state.unlock()

        for connection in open { connection.shutDown() }
        table.wakeWaiters()

        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        state.lock()
        defer { state.unlock() }
        while liveThreads > 0 {
            if !state.wait(until: deadline) { break }
        }
        return liveThreads == 0
    }

    // MARK: - Threads

    /// Starts a thread counted in `liveThreads`, which `stop()` waits to reach zero. Counting
    /// under the lock before the thread starts means no thread can escape that wait.
    private func spawnLocked(name: String, _ body: @escaping @Sendable (PartitionProxy) -> Void) {
        liveThreads += 1
        let thread = Thread { [self] in
            body(self)
            state.lock()
            liveThreads -= 1
            state.broadcast()
            state.unlock()
        }
        thread.name = "proxy \(label) \(name)"
        thread.start()
    }

    private func spawn(name: String, _ body: @escaping @Sendable (PartitionProxy) -> Void) {
        state.lock()
        spawnLocked(name: name, body)
        state.unlock()
    }

    private func acceptLoop(listener: Int32, wakeReadEnd: Int32) {
        defer {
            close(listener)
            close(wakeReadEnd)
        }
        var watched = [
            pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeReadEnd, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            watched[0].revents = 0
            watched[1].revents = 0
            if poll(&watched, nfds_t(watched.count), -1) < 0 {
                if errno == EINTR { continue }
                return
            }
            if watched[1].revents != 0 { return }
            guard watched[0].revents != 0 else { continue }

            if let (client, peer) = LoopbackSocket.accept(listener) {
                admit(client, from: peer)
                continue
            }
            switch errno {
            case EINTR, EAGAIN, EWOULDBLOCK, ECONNABORTED, EPROTO:
                continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                // Out of resources: the pending connection stays readable, so back off
                // instead of spinning until descriptors are freed.
                usleep(10_000)
            default:
                return
            }
        }
    }

    private func admit(_ client: Int32, from endpoint: TCPEndpoint) {
        LoopbackSocket.disableNagle(client)
        let connection = ProxiedConnection(client: client, clientEndpoint: endpoint)
        state.lock()
        defer { state.unlock() }
        guard phase == .running else {
            close(client)
            return
        }
        connections[ObjectIdentifier(connection)] = connection
        counters.connectionsAccepted += 1
        counters.activeConnections += 1
        spawnLocked(name: "from \(endpoint.port)") { proxy in proxy.serve(connection) }
    }

    /// Attributes the connection, connects it to the target, then relays until either side
    /// ends. Runs on the connection's own thread so slow attribution never delays `accept`.
    private func serve(_ connection: ProxiedConnection) {
        let source = attribute(connection)
        state.lock()
        if let source {
            counters.attributed[source.label, default: 0] += 1
        } else {
            counters.unattributed += 1
        }
        state.unlock()

        guard let upstream = LoopbackSocket.makeStreamSocket() else {
            return abandon(connection)
        }
        guard connection.attachUpstream(upstream) else {
            close(upstream)
            return retire(connection)
        }
        guard LoopbackSocket.connect(upstream, to: .loopback(port: targetPort), timeoutSeconds: connectTimeoutSeconds),
              !connection.isClosing
        else {
            return abandon(connection)
        }
        LoopbackSocket.disableNagle(upstream)

        connection.startPumps()
        let sourceLabel = source?.label
        spawn(name: "to \(connection.clientEndpoint.port)") { proxy in
            proxy.pump(connection, from: upstream, to: connection.client, sourceLabel: sourceLabel, towardTarget: false)
        }
        pump(connection, from: connection.client, to: upstream, sourceLabel: sourceLabel, towardTarget: true)
    }

    /// Finds the member that dialled `connection`. The inode is looked up once (it cannot
    /// change); the owner is looked up until the window closes, since the member list may lag
    /// behind a freshly spawned process.
    private func attribute(_ connection: ProxiedConnection) -> PartitionMember? {
        let proxyEnd = TCPEndpoint.loopback(port: port)
        let deadline = Date(timeIntervalSinceNow: attributionWindowSeconds)
        var inode: UInt64?
        while true {
            if inode == nil {
                inode = SocketOwnership.socketInode(local: connection.clientEndpoint, remote: proxyEnd)
            }
            if let inode {
                let candidates = members()
                if let pid = SocketOwnership.owner(ofSocketInode: inode, among: candidates.map(\.pid)) {
                    return candidates.first { $0.pid == pid }
                }
            }
            if Date() >= deadline || connection.isClosing { return nil }
            usleep(5_000)
        }
    }

    /// Relays one direction until EOF or an error on either socket, holding data while the
    /// pair is cut. The end of stream is held like data: a partitioned network drops the FIN
    /// or RST too, so the far side must not learn of a close before the heal. Either side's
    /// end closes the whole connection rather than half-closing it: HTTP/2 peers never rely
    /// on half-close.
    private func pump(
        _ connection: ProxiedConnection, from source: Int32, to destination: Int32,
        sourceLabel: String?, towardTarget: Bool
    ) {
        var buffer = [UInt8](repeating: 0, count: Self.chunkSizeBytes)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard waitUntilPassable(connection, sourceLabel: sourceLabel), count > 0 else { break }
            let sent = buffer.withUnsafeBytes { LoopbackSocket.sendAll(destination, UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            guard sent else { break }
            state.lock()
            if towardTarget {
                counters.bytesToTarget += count
            } else {
                counters.bytesFromTarget += count
            }
            state.unlock()
        }
        connection.shutDown()
        table.wakeWaiters()
        if connection.pumpEnded() { retire(connection) }
    }

    /// Blocks while `sourceLabel` is cut from this member; `false` if the connection is
    /// closing (then there is nothing left to hold: the proxy itself ended it).
    private func waitUntilPassable(_ connection: ProxiedConnection, sourceLabel: String?) -> Bool {
        guard table.isCut(sourceLabel, label) else { return true }
        guard !connection.isClosing else { return false }
        state.lock()
        counters.heldChunks += 1
        state.unlock()
        return table.waitWhileCut(sourceLabel, label) { connection.isClosing }
    }

    /// Ends a connection whose pumps never started.
    private func abandon(_ connection: ProxiedConnection) {
        if !connection.isClosing {
            state.lock()
            counters.upstreamFailures += 1
            state.unlock()
        }
        connection.shutDown()
        retire(connection)
    }

    private func retire(_ connection: ProxiedConnection) {
        connection.closeDescriptors()
        state.lock()
        connections[ObjectIdentifier(connection)] = nil
        counters.activeConnections -= 1
        state.unlock()
    }
}
