import API
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Linearizability
import Raft
import Synchronization

/// Clients issuing puts, linearizable gets, compare-and-swap transactions and deletes on a few
/// keys, spread over the members, each operation recorded with its invoke and complete times.
/// A write whose call fails or times out is recorded with an unknown outcome (it may have
/// happened); a read that fails is dropped, as it tells nothing.
final class RobustnessWorkload: Sendable {
    let keys: [String]
    private let endpoints: [String]
    private let callTimeout: Duration
    private let recorded = Mutex<[Linearizability.Operation]>([])
    private let epoch = ContinuousClock.now

    init(endpoints: [String], keys: [String], callTimeout: Duration = .seconds(2)) {
        self.endpoints = endpoints
        self.keys = keys
        self.callTimeout = callTimeout
    }

    var history: [Linearizability.Operation] { recorded.withLock { $0 } }

    private var nanos: UInt64 {
        let elapsed = ContinuousClock.now - epoch
        return UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
    }

    /// Runs `body` with a KV client for each member, over connections that end with it.
    func withMembers<T: Sendable>(_ body: @Sendable ([Etcdserverpb_KV.Client<HTTP2ClientTransport.Posix>]) async throws -> T)
        async throws -> T
    {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var connections: [GRPCClient<HTTP2ClientTransport.Posix>] = []
            for endpoint in endpoints {
                let client = GRPCClient(transport: try loopbackTransport(endpoint))
                connections.append(client)
                group.addTask { try await client.runConnections() }
            }
            defer { for connection in connections { connection.beginGracefulShutdown() } }
            return try await body(connections.map { Etcdserverpb_KV.Client(wrapping: $0) })
        }
    }

    /// Runs `clients` clients until `deadline`; client `i` starts on member `i % members` and
    /// moves to the next member when a call fails. `seed` fixes every client's choices.
    func run(clients: Int, seed: UInt64, until deadline: ContinuousClock.Instant) async throws {
        try await withMembers { [self] kvs in
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<clients {
                    group.addTask { [self] in
                        var random = SplitMix64(seed: seed &+ UInt64(client) &* 0x9E37_79B9_7F4A_7C15)
                        var member = client % kvs.count
                        var number = 0
                        while ContinuousClock.now < deadline {
                            number += 1
                            let input = randomInput(client: client, number: number, random: &random)
                            let key = keys.randomElement(using: &random)!
                            if !(await perform(input.forKey(key, lastRead: lastRead), key: key, client: client, on: kvs[member])) {
                                member = (member + 1) % kvs.count
                            }
                        }
                    }
                }
            }
        }
    }

    /// A random operation's kind: 30 % puts, 40 % gets, 10 % deletes, 20 % compare-and-swaps.
    private func randomInput(client: Int, number: Int, random: inout SplitMix64) -> PendingInput {
        let value = "c\(client)-\(number)"
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<3: return .ready(.put(value: value))
        case 3..<7: return .ready(.get)
        case 7: return .ready(.delete)
        default:
            // Against absence, or against the value the history last read of the key: either
            // may fail, which tells as much as a success.
            return Int.random(in: 0..<3, using: &random) == 0 ? .ready(.compareAndSwap(expected: nil, new: value)) : .swapLastRead(new: value)
        }
    }

    /// Sends `input` for `key` to a member and records it; false when the call failed.
    @discardableResult
    func perform(_ input: Linearizability.Operation.Input, key: String, client: Int,
        on kv: Etcdserverpb_KV.Client<HTTP2ClientTransport.Posix>) async -> Bool
    {
        var options = CallOptions.defaults
        options.timeout = callTimeout
        let invoked = nanos
        do {
            let output = try await send(input, key: key, to: kv, options: options)
            record(.init(client: client, key: key, input: input, output: output, invokeNanos: invoked, completeNanos: nanos))
            return true
        } catch {
            if case .get = input { return false }
            record(.init(client: client, key: key, input: input, output: nil, invokeNanos: invoked, completeNanos: nil))
            return false
        }
    }

    private func send(_ input: Linearizability.Operation.Input, key: String,
        to kv: Etcdserverpb_KV.Client<HTTP2ClientTransport.Posix>, options: CallOptions) async throws
        -> Linearizability.Operation.Output
    {
        let keyBytes = Data(key.utf8)
        switch input {
        case .put(let value):
            var request = Etcdserverpb_PutRequest()
            request.key = keyBytes
            request.value = Data(value.utf8)
            return .put(revision: try await kv.put(request, options: options).header.revision)
        case .get:
            var request = Etcdserverpb_RangeRequest()
            request.key = keyBytes
            let response = try await kv.range(request, options: options)
            return .get(value: response.kvs.first.map { String(decoding: $0.value, as: UTF8.self) })
        case .delete:
            var request = Etcdserverpb_DeleteRangeRequest()
            request.key = keyBytes
            let response = try await kv.deleteRange(request, options: options)
            return .delete(deleted: response.deleted, revision: response.header.revision)
        case .compareAndSwap(let expected, let new):
            var compare = Etcdserverpb_Compare()
            compare.key = keyBytes
            compare.result = .equal
            if let expected {
                compare.target = .value
                compare.value = Data(expected.utf8)
            } else {
                compare.target = .create
                compare.createRevision = 0
            }
            var put = Etcdserverpb_PutRequest()
            put.key = keyBytes
            put.value = Data(new.utf8)
            var operation = Etcdserverpb_RequestOp()
            operation.requestPut = put
            var request = Etcdserverpb_TxnRequest()
            request.compare = [compare]
            request.success = [operation]
            let response = try await kv.txn(request, options: options)
            return .compareAndSwap(succeeded: response.succeeded, revision: response.header.revision)
        }
    }

    private func record(_ operation: Linearizability.Operation) { recorded.withLock { $0.append(operation) } }

    private func lastRead(of key: String) -> String? {
        recorded.withLock { history in
            for operation in history.reversed() where operation.key == key {
                if case .get(let value)? = operation.output { return value }
            }
            return nil
        }
    }
}

/// An operation whose input may depend on the key it lands on.
private enum PendingInput {
    case ready(Linearizability.Operation.Input)
    case swapLastRead(new: String)

    func forKey(_ key: String, lastRead: (String) -> String?) -> Linearizability.Operation.Input {
        switch self {
        case .ready(let input): return input
        case .swapLastRead(let new): return .compareAndSwap(expected: lastRead(key), new: new)
        }
    }
}

/// A plaintext transport to a loopback client URL such as `http://127.0.0.1:2379`.
func loopbackTransport(_ endpoint: String) throws -> HTTP2ClientTransport.Posix {
    guard let url = URL(string: endpoint), let host = url.host, let port = url.port else {
        throw RobustnessError(message: "not a client URL: \(endpoint)")
    }
    return try HTTP2ClientTransport.Posix(target: .ipv4(address: host, port: port), transportSecurity: .plaintext)
}

struct RobustnessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
