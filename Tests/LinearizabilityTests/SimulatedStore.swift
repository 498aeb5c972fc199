import Linearizability
import Raft

/// Generates histories of a correct (linearizable) store: every operation takes effect
/// atomically at a random instant inside its interval, and its answer is computed from the
/// store's state at that instant.
enum SimulatedStore {
    /// - Parameters:
    ///   - timeoutPercent: share of calls whose answer is lost; a lost write still takes
    ///     effect half of the time.
    /// Values are unique ("v<n>"), as a robustness test's are, so a read names its write.
    static func history(
        seed: UInt64, clients: Int, keys: Int, operations: Int, timeoutPercent: Int = 2
    ) -> [Operation] {
        var random = SplitMix64(seed: seed)
        var clock = (0..<clients).map { _ in UInt64(random.below(1_000)) }
        var recentValues: [String: [String]] = [:]
        var history: [Operation] = []
        var instants: [UInt64] = []
        var takesEffect: [Bool] = []

        for n in 0..<operations {
            let client = random.below(clients)
            let key = "k\(random.below(keys))"
            let invoke = clock[client] + UInt64(random.below(2_000))
            let duration = UInt64(200 + random.below(20_000))
            let input: Operation.Input
            switch random.below(100) {
            case 0..<40:
                input = .put(value: "v\(n)")
                recentValues[key, default: []].append("v\(n)")
            case 40..<75:
                input = .get
            case 75..<85:
                input = .delete
            default:
                // Mostly the newest value generated for the key, so that some swaps succeed.
                let recent = recentValues[key, default: []].suffix(3)
                let expected = random.below(4) == 0 || recent.isEmpty ? nil : recent[recent.startIndex + random.below(recent.count)]
                input = .compareAndSwap(expected: expected, new: "v\(n)")
                recentValues[key, default: []].append("v\(n)")
            }
            let timedOut = random.below(100) < timeoutPercent
            history.append(Operation(
                client: client, key: key, input: input, output: nil,
                invokeNanos: invoke, completeNanos: timedOut ? nil : invoke + duration
            ))
            instants.append(invoke + UInt64(random.below(Int(duration) + 1)))
            takesEffect.append(!timedOut || random.below(2) == 0)
            clock[client] = invoke + duration + UInt64(random.below(1_000))
        }

        var values: [String: String] = [:]
        var revision: Int64 = 1
        for index in history.indices.sorted(by: { (instants[$0], $0) < (instants[$1], $1) }) where takesEffect[index] {
            let key = history[index].key
            let output: Operation.Output
            switch history[index].input {
            case .put(let value):
                revision += 1
                values[key] = value
                output = .put(revision: revision)
            case .get:
                output = .get(value: values[key])
            case .delete:
                if values.removeValue(forKey: key) != nil {
                    revision += 1
                    output = .delete(deleted: 1, revision: revision)
                } else {
                    output = .delete(deleted: 0, revision: revision)
                }
            case .compareAndSwap(let expected, let new):
                if values[key] == expected {
                    revision += 1
                    values[key] = new
                    output = .compareAndSwap(succeeded: true, revision: revision)
                } else {
                    output = .compareAndSwap(succeeded: false, revision: revision)
                }
            }
            if history[index].completeNanos != nil {
                history[index].output = output
            }
        }
        return history
    }
}
