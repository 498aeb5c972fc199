// Storage benchmark: WAL appends/s with 1 and 64 concurrent writers (group commit), and MVCC
// puts/s with 1 and 64 concurrent writers (batched LMDB commits), on real files.
//
// Usage: swift run -c release --scratch-path .build-storage StorageBench [--dir DIR]
//        [--wal-appends N] [--puts N] [--value-size BYTES]
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Raft
import Storage

struct Settings {
    var directory = NSTemporaryDirectory() + "/cairn-storage-bench-\(getpid())"
    var walAppends = 20_000
    var puts = 20_000
    var valueSizeBytes = 256

    init(_ arguments: ArraySlice<String>) {
        var arguments = arguments
        while let flag = arguments.popFirst() {
            guard let value = arguments.popFirst() else { Self.usage("\(flag) needs a value") }
            switch flag {
            case "--dir": directory = value
            case "--wal-appends": walAppends = Self.number(flag, value)
            case "--puts": puts = Self.number(flag, value)
            case "--value-size": valueSizeBytes = Self.number(flag, value)
            default: Self.usage("unknown flag \(flag)")
            }
        }
    }

    static func number(_ flag: String, _ value: String) -> Int {
        guard let number = Int(value), number > 0 else { usage("\(flag) needs a positive number") }
        return number
    }

    static func usage(_ problem: String) -> Never {
        FileHandle.standardError.write(Data("""
            StorageBench: \(problem)
            usage: StorageBench [--dir DIR] [--wal-appends N] [--puts N] [--value-size BYTES]

            """.utf8))
        exit(2)
    }
}

/// Runs `operations` calls of `body` spread over `writers` concurrent tasks; returns ops/s.
func measure(writers: Int, operations: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws -> Double {
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<writers {
            group.addTask {
                for operation in stride(from: writer, to: operations, by: writers) {
                    try await body(operation)
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(operations) / seconds
}

/// One raft log position per append, assigned in submission order across writers.
final class IndexCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next: UInt64 = 1

    func append(_ payload: [UInt8], to wal: WAL) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            lock.lock()
            defer { lock.unlock() }
            let entry = Entry(term: 1, index: next, data: payload)
            next += 1
            wal.append([.entry(entry)]) { continuation.resume(with: $0) }
        }
    }
}

func report(_ name: String, _ rate: Double) {
    print(name.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: "%10.0f /s", rate))
}

let settings = Settings(CommandLine.arguments.dropFirst())
try FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: settings.directory) }
let payload = [UInt8](repeating: 0x61, count: settings.valueSizeBytes)
print("storage benchmark: \(settings.valueSizeBytes)-byte values, files in \(settings.directory)")

for writers in [1, 64] {
    let walDirectory = settings.directory + "/wal-\(writers)"
    let (wal, _) = try WAL.open(directory: walDirectory)
    let counter = IndexCounter()
    // One writer waits for each sync, so it gets far fewer operations to keep the run short.
    let operations = writers == 1 ? max(1, settings.walAppends / 10) : settings.walAppends
    let rate = try await measure(writers: writers, operations: operations) { _ in
        try await counter.append(payload, to: wal)
    }
    wal.close()
    report("WAL appends, \(writers) writer\(writers == 1 ? "" : "s") (\(operations))", rate)
}

for writers in [1, 64] {
    let store = try MVCCStore(path: settings.directory + "/db-\(writers)")
    let operations = writers == 1 ? max(1, settings.puts / 10) : settings.puts
    let rate = try await measure(writers: writers, operations: operations) { operation in
        let key = Array(String(format: "key-%08d", operation).utf8)
        _ = try await store.write { txn in try txn.put(PutRequest(key: key, value: payload)) }
    }
    store.close()
    report("MVCC puts, \(writers) writer\(writers == 1 ? "" : "s") (\(operations))", rate)
}
