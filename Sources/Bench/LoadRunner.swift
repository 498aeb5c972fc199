import Synchronization

/// Runs `total` operations from `clients` concurrent tasks, each taking the next operation
/// number as it finishes the last (so faster clients do more), optionally paced to `rate`
/// operations per second overall. Each operation is timed from its send to its answer; time
/// spent waiting for its turn under `rate` is not counted (closed-loop, as etcd's benchmark).
public struct LoadRunner: Sendable {
    public var clients: Int
    public var total: Int
    /// Operations per second across all clients; nil runs as fast as the server answers.
    public var rate: Int?

    public init(clients: Int, total: Int, rate: Int? = nil) {
        self.clients = clients
        self.total = total
        self.rate = rate
    }

    /// `operation(client, number)` does operation `number` (0 ..< total) as client `client`.
    public func run(_ operation: @escaping @Sendable (_ client: Int, _ number: Int) async throws -> Void) async -> LoadResult {
        let next = Counter()
        let start = ContinuousClock.now
        let interval = rate.map { Duration.seconds(1) / $0 }
        let parts = await withTaskGroup(of: LoadResult.self) { group in
            for client in 0..<clients {
                group.addTask {
                    var part = LoadResult()
                    while true {
                        let number = next.take()
                        guard number < total else { break }
                        if let interval { try? await Task.sleep(until: start + interval * number, clock: .continuous) }
                        let sent = ContinuousClock.now
                        do {
                            try await operation(client, number)
                            part.latencies.record(ContinuousClock.now - sent)
                        } catch {
                            part.errors["\(error)", default: 0] += 1
                        }
                    }
                    return part
                }
            }
            var merged = LoadResult()
            for await part in group { merged.merge(part) }
            return merged
        }
        var result = parts
        result.elapsed = ContinuousClock.now - start
        return result
    }
}

/// Hands out operation numbers to the clients, each exactly once.
private final class Counter: Sendable {
    private let next = Atomic<Int>(0)
    func take() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// What a load run measured: the latency of every successful operation, the failures by
/// message, and the wall time of the whole run.
public struct LoadResult: Sendable {
    public var latencies = HdrHistogram()
    public var errors: [String: Int] = [:]
    public var elapsed = Duration.zero

    public var succeeded: Int { latencies.count }
    public var failed: Int { errors.values.reduce(0, +) }

    public var operationsPerSecond: Double {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(succeeded) / seconds : 0
    }

    mutating func merge(_ other: LoadResult) {
        latencies.merge(other.latencies)
        errors.merge(other.errors, uniquingKeysWith: +)
    }
}
