import API
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Raft
import Server

/// What `cairn bench` sends, with the parameters of etcd's `tools/benchmark`.
public enum BenchWorkload: Sendable {
    /// Puts of `valueSize`-byte values to `keySize`-byte keys, numbered in order or at random
    /// within `keySpaceSize` keys.
    case put(keys: BenchKeys, valueSize: Int)
    /// Ranges over `key` (to `end`, when given), linearizable or serializable.
    case range(key: String, end: String?, serializable: Bool)
    /// Transactions of `operations` puts each.
    case txnPut(keys: BenchKeys, valueSize: Int, operations: Int)
    /// One keep-alive per operation, each on a stream of its own (as etcd's benchmark), for a
    /// lease each client granted with `ttlSeconds` before the run.
    case leaseKeepAlive(ttlSeconds: Int64)
}

/// etcd's benchmark keys: `size` bytes holding the key number as a varint, then zeros.
public struct BenchKeys: Sendable {
    public var size: Int
    public var spaceSize: Int
    public var sequential: Bool

    public init(size: Int, spaceSize: Int, sequential: Bool) {
        self.size = size
        self.spaceSize = spaceSize
        self.sequential = sequential
    }

    /// The key of operation `number`; random keys come from a fixed mix of the number, so a
    /// run is repeatable.
    func key(_ number: Int) -> Data {
        let index = sequential ? number % spaceSize : Int(Self.mix(UInt64(number)) % UInt64(spaceSize))
        var bytes = [UInt8](repeating: 0, count: max(size, 1))
        var value = UInt64(index) << 1  // Go's PutVarint: zig-zag, then 7 bits at a time
        var position = 0
        while position < bytes.count {
            bytes[position] = UInt8(value & 0x7F) | (value >= 0x80 ? 0x80 : 0)
            position += 1
            value >>= 7
            if value == 0 { break }
        }
        return Data(bytes)
    }

    /// Raft's SplitMix64, one step from `value`: a fixed, well-spread mix.
    static func mix(_ value: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: value)
        return generator.next()
    }
}

public enum Bench {
    /// Runs `workload` against `endpoints` over `connections` HTTP/2 connections shared by the
    /// runner's clients (client `i` uses connection `i % connections`, which goes to endpoint
    /// `i % endpoints.count`, as etcd's benchmark spreads them), each replaced by a fresh one
    /// after `callsPerConnection` calls (see ``ConnectionPool``).
    public static func run(_ workload: BenchWorkload, endpoints: [String], access: ClientAccess, connections: Int,
        callsPerConnection: Int = ConnectionPool.defaultCallsPerConnection, runner: LoadRunner) async throws -> LoadResult
    {
        let pool = try ConnectionPool(endpoints: endpoints, access: access, connections: max(1, connections),
            callsPerConnection: callsPerConnection)
        do {
            let metadata = try await pool.withClient(for: 0) { try await access.login($0) }
            let send = try await operation(workload, metadata: metadata, clients: runner.clients, pool: pool)
            let result = await runner.run { client, number in
                try await pool.withClient(for: client) { try await send($0, client, number) }
            }
            await pool.close()
            return result
        } catch {
            await pool.close()
            throw error
        }
    }

    /// Sends operation `number` as client `client` over a connection.
    private typealias Send = @Sendable (GRPCClient<HTTP2ClientTransport.Posix>, _ client: Int, _ number: Int) async throws -> Void

    /// The value every write workload sends: `size` fixed pseudo-random bytes.
    static func value(size: Int) -> Data {
        Data((0..<size).map { UInt8(truncatingIfNeeded: BenchKeys.mix(UInt64($0))) })
    }

    private static func operation(_ workload: BenchWorkload, metadata: Metadata, clients: Int, pool: ConnectionPool)
        async throws -> Send
    {
        switch workload {
        case .put(let keys, let valueSize):
            let value = value(size: valueSize)
            return { connection, _, number in
                var request = Etcdserverpb_PutRequest()
                request.key = keys.key(number)
                request.value = value
                _ = try await Etcdserverpb_KV.Client(wrapping: connection).put(request, metadata: metadata)
            }
        case .range(let key, let end, let serializable):
            var request = Etcdserverpb_RangeRequest()
            request.key = Data(key.utf8)
            if let end { request.rangeEnd = Data(end.utf8) }
            request.serializable = serializable
            return { [request] connection, _, _ in
                _ = try await Etcdserverpb_KV.Client(wrapping: connection).range(request, metadata: metadata)
            }
        case .leaseKeepAlive(let ttlSeconds):
            var grant = Etcdserverpb_LeaseGrantRequest()
            grant.ttl = ttlSeconds
            var leases: [Int64] = []
            for client in 0..<clients {
                leases.append(try await pool.withClient(for: client) {
                    try await Etcdserverpb_Lease.Client(wrapping: $0).leaseGrant(grant, metadata: metadata).id
                })
            }
            return { [leases] connection, client, _ in
                let id = leases[client]
                var request = Etcdserverpb_LeaseKeepAliveRequest()
                request.id = id
                let ttl = try await Etcdserverpb_Lease.Client(wrapping: connection).leaseKeepAlive(
                    metadata: metadata, requestProducer: { [request] in try await $0.write(request) },
                    onResponse: { response in
                        for try await message in response.messages { return message.ttl }
                        throw RPCError(code: .unavailable, message: "the keep-alive stream ended without an answer")
                    })
                guard ttl > 0 else { throw RPCError(code: .notFound, message: "lease \(id) has expired") }
            }
        case .txnPut(let keys, let valueSize, let operations):
            let value = value(size: valueSize)
            return { connection, _, number in
                var request = Etcdserverpb_TxnRequest()
                request.success = (0..<operations).map { offset in
                    var put = Etcdserverpb_PutRequest()
                    put.key = keys.key(number * operations + offset)
                    put.value = value
                    var operation = Etcdserverpb_RequestOp()
                    operation.requestPut = put
                    return operation
                }
                _ = try await Etcdserverpb_KV.Client(wrapping: connection).txn(request, metadata: metadata)
            }
        }
    }
}

/// The benchmark's HTTP/2 connections. Each is replaced by a fresh one after
/// `callsPerConnection` calls (the old one finishes its calls and closes): grpc-go servers
/// (etcd) send a BDP ping for about every call, and NIOHTTP2, under grpc-swift, drops a
/// connection that receives more than 200 control frames in 30 s as a denial of service. Both
/// servers are measured through the same rotation.
public final class ConnectionPool: @unchecked Sendable {
    public static let defaultCallsPerConnection = 100

    private final class Connection {
        let client: GRPCClient<HTTP2ClientTransport.Posix>
        var calls = 0
        var inFlight = 0
        var retired = false

        init(client: GRPCClient<HTTP2ClientTransport.Posix>) { self.client = client }
    }

    private let endpoints: [String]
    private let access: ClientAccess
    private let callsPerConnection: Int
    private let lock = NSLock()
    private var slots: [Connection] = []
    private var running: [Task<Void, Never>] = []

    /// Connection `i` goes to endpoint `i % endpoints.count`, and so does each replacing it.
    init(endpoints: [String], access: ClientAccess, connections: Int, callsPerConnection: Int) throws {
        precondition(!endpoints.isEmpty, "a pool needs an endpoint")
        self.endpoints = endpoints
        self.access = access
        self.callsPerConnection = max(1, callsPerConnection)
        for slot in 0..<connections { slots.append(try start(slot: slot)) }
    }

    /// Runs `body` with the connection of `user`; a connection past its calls is replaced, and
    /// closes once its last call has finished.
    func withClient<T>(for user: Int, _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T) async throws -> T {
        let connection = try lock.withLock { () throws -> Connection in
            let slot = user % slots.count
            if slots[slot].calls >= callsPerConnection {
                slots[slot].retired = true
                if slots[slot].inFlight == 0 { slots[slot].client.beginGracefulShutdown() }
                slots[slot] = try start(slot: slot)
            }
            slots[slot].calls += 1
            slots[slot].inFlight += 1
            return slots[slot]
        }
        defer {
            lock.withLock {
                connection.inFlight -= 1
                if connection.retired && connection.inFlight == 0 { connection.client.beginGracefulShutdown() }
            }
        }
        return try await body(connection.client)
    }

    func close() async {
        let tasks = lock.withLock {
            for slot in slots { slot.client.beginGracefulShutdown() }
            return running
        }
        for task in tasks { await task.value }
    }

    /// Called with the lock held (or before the pool is shared).
    private func start(slot: Int) throws -> Connection {
        let client = GRPCClient(transport: try access.transport(for: endpoints[slot % endpoints.count]))
        running.append(Task { try? await client.runConnections() })
        return Connection(client: client)
    }
}
