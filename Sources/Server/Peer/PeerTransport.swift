import Backup
import API
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Raft
import Storage
import Synchronization

/// Carries this member's raft messages to the other members over their peer URLs: one
/// long-lived gRPC stream per peer, fed from a bounded ``PeerQueue``, reconnecting with
/// backoff. Snapshots travel on their own stream with the backend's bytes. Nothing here
/// waits on a peer: a full queue or a failed connection is reported to raft as unreachable.
final class PeerTransport: Sendable {
    struct Callbacks: Sendable {
        var unreachable: @Sendable (NodeID) async -> Void
        var snapshotSent: @Sendable (NodeID, _ succeeded: Bool) async -> Void
    }

    /// Messages per envelope; raft already bounds the size of each append.
    static let batchLimit = 64
    static let snapshotChunkBytes = 1 << 20
    static let maxMessageBytes = 256 << 20
    static let minBackoff = Duration.milliseconds(50)
    static let maxBackoff = Duration.seconds(1)

    private struct Peer {
        var urls: [String]
        let queue: PeerQueue
        let task: Task<Void, Never>
        var sendingSnapshot = false
    }

    private let memberID: UInt64
    private let clusterID: UInt64
    private let store: MVCCStore
    private let callbacks: Callbacks
    private let logger: Logger
    private let security: PeerSecurity
    private let peers = Mutex<[NodeID: Peer]>([:])

    init(memberID: UInt64, clusterID: UInt64, store: MVCCStore, security: PeerSecurity, callbacks: Callbacks,
        logger: Logger)
    {
        self.security = security
        self.memberID = memberID
        self.clusterID = clusterID
        self.store = store
        self.callbacks = callbacks
        self.logger = logger
    }

    /// Follows the membership: starts streams to new members, stops those to removed ones,
    /// and reconnects to members whose peer URLs changed.
    func update(members: [MemberRecord]) {
        let wanted = Dictionary(uniqueKeysWithValues: members.filter { $0.id != memberID }.map { ($0.id, $0.peerURLs) })
        let stopped: [Peer] = peers.withLock { peers in
            var stopped: [Peer] = []
            for (id, peer) in peers where wanted[id] != peer.urls {
                stopped.append(peer)
                peers[id] = nil
            }
            for (id, urls) in wanted where peers[id] == nil {
                let queue = PeerQueue()
                let task = Task { [self] in await stream(to: id, urls: urls, queue: queue) }
                peers[id] = Peer(urls: urls, queue: queue, task: task)
            }
            return stopped
        }
        for peer in stopped {
            peer.queue.close()
            peer.task.cancel()
        }
    }

    func stop() {
        let all = peers.withLock { peers in
            defer { peers = [:] }
            return Array(peers.values)
        }
        for peer in all {
            peer.queue.close()
            peer.task.cancel()
        }
    }

    /// Hands raft's outgoing messages to their peers' queues; never waits.
    func send(_ messages: [Message]) {
        for message in messages {
            if message.type == .snapshot {
                sendSnapshot(message)
                continue
            }
            let queue = peers.withLock { $0[message.to]?.queue }
            if queue?.put(message) != true {
                let to = message.to
                Task { await callbacks.unreachable(to) }
            }
        }
    }

    // MARK: - Message streams

    private func stream(to id: NodeID, urls: [String], queue: PeerQueue) async {
        var backoff = Self.minBackoff
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            let url = urls[(attempt - 1) % urls.count]
            let started = ContinuousClock.now
            do {
                try await Self.withClient(of: url, security: security) { client in
                    var options = CallOptions.defaults
                    options.waitForReady = false
                    _ = try await Cairnpb_Peer.Client(wrapping: client).messages(options: options) { [self] writer in
                        while true {
                            let batch = await queue.take(limit: Self.batchLimit)
                            if batch.isEmpty { return }
                            var envelope = Cairnpb_PeerEnvelope()
                            envelope.clusterID = clusterID
                            envelope.from = memberID
                            envelope.to = id
                            envelope.messages = batch.map(Cairnpb_RaftMessage.init)
                            try await writer.write(envelope)
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                let dropped = queue.drop()
                if attempt == 1 || attempt % 50 == 0 || isClusterMismatch(error) {
                    logger.warning("cannot stream raft messages to peer", metadata: [
                        "peer": "\(String(id, radix: 16))", "url": "\(url)", "error": "\(describe(error))",
                        "dropped-messages": "\(dropped)",
                    ])
                }
                await callbacks.unreachable(id)
            }
            // A connection that worked for a while retries at once; one that keeps failing backs off.
            backoff = ContinuousClock.now - started > .seconds(1) ? Self.minBackoff : min(backoff * 2, Self.maxBackoff)
            try? await Task.sleep(for: backoff)
        }
    }

    /// Runs `body` with a client of the member at peer URL `url`.
    static func withClient<Result: Sendable>(
        of url: String, security: PeerSecurity, _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        let spec = try URLSpec(parsing: url, setting: "peer URL")
        guard spec.scheme == "http" || spec.scheme == "https" else {
            throw ConfigurationError("peer URL \(url): members speak http or https")
        }
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.connection.maxIdleTime = nil
        config.backoff.initial = .milliseconds(50)
        config.backoff.max = .seconds(1)
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: spec.host, port: spec.port), transportSecurity: security.client(for: spec), config: config)
        return try await withGRPCClient(transport: transport, handleClient: body)
    }

    private func isClusterMismatch(_ error: any Error) -> Bool {
        (error as? RPCError)?.message.contains(PeerService.clusterMismatch) == true
    }

    private func describe(_ error: any Error) -> String {
        if let rpc = error as? RPCError { return "\(rpc.code): \(rpc.message)" }
        return "\(error)"
    }

    // MARK: - Snapshots

    /// Streams a raft snapshot and a consistent copy of the backend to its peer, one at a
    /// time per peer (raft sends no other snapshot to it until this one is reported).
    private func sendSnapshot(_ message: Message) {
        let target: [String]? = peers.withLock { peers in
            guard var peer = peers[message.to], !peer.sendingSnapshot else { return nil }
            peer.sendingSnapshot = true
            peers[message.to] = peer
            return peer.urls
        }
        guard let urls = target else {
            let to = message.to
            Task { await callbacks.snapshotSent(to, false) }
            return
        }
        Task { [self] in
            let started = ContinuousClock.now
            var sent = 0
            var succeeded = false
            do {
                sent = try await streamSnapshot(message, to: urls[0])
                succeeded = true
                logger.info("sent raft snapshot", metadata: [
                    "peer": "\(String(message.to, radix: 16))", "index": "\(message.snapshot?.metadata.index ?? 0)",
                    "bytes": "\(sent)", "took": "\(ContinuousClock.now - started)",
                ])
            } catch {
                logger.warning("cannot send raft snapshot", metadata: [
                    "peer": "\(String(message.to, radix: 16))", "error": "\(describe(error))",
                ])
            }
            peers.withLock { peers in peers[message.to]?.sendingSnapshot = false }
            await callbacks.snapshotSent(message.to, succeeded)
        }
    }

    private func streamSnapshot(_ message: Message, to url: String) async throws -> Int {
        let copy = try BackendCopyStream(store: store)
        let clusterID = clusterID
        return try await Self.withClient(of: url, security: security) { client in
            var options = CallOptions.defaults
            options.waitForReady = false
            let sent = Mutex(0)
            _ = try await Cairnpb_Peer.Client(wrapping: client).snapshot(options: options) { writer in
                var first = Cairnpb_SnapshotChunk()
                first.clusterID = clusterID
                first.message = Cairnpb_RaftMessage(message)
                try await writer.write(first)
                while true {
                    let bytes = try await copy.next(upTo: Self.snapshotChunkBytes)
                    if bytes.isEmpty { return }
                    var chunk = Cairnpb_SnapshotChunk()
                    chunk.data = Data(bytes)
                    try await writer.write(chunk)
                    sent.withLock { $0 += bytes.count }
                    Failpoint.crashDuringSnapshotSend.crashIfArmed()
                }
            }
            return sent.withLock { $0 }
        }
    }
}
