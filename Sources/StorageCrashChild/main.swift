// A test-only writer for StorageTests' crash tests: it recovers the store from the WAL, then
// appends entries from concurrent writers (group commit) and applies them to the MVCC store,
// reporting `ack <index>` once an entry is durable and `applied <index>` once it is in the
// store, until the test kills it with SIGKILL.
//
// Usage: StorageCrashChild <directory> <writers>
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Raft
import Storage

/// The WAL's segment size here is small so that kills also land around segment rotation.
let segmentSizeBytes = 64 << 10
/// Keys are reused so that puts overwrite each other and versions grow.
let keySpace: UInt64 = 97
/// A child whose parent died must not run forever.
let lifetimeLimit = Duration.seconds(120)

func emit(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in _ = write(STDOUT_FILENO, bytes.baseAddress, bytes.count) }
}

func key(for index: UInt64) -> [UInt8] { Array("k\(index % keySpace)".utf8) }

func apply(_ entry: Entry, to store: MVCCStore) async throws {
    let key = key(for: entry.index)
    let value = entry.data
    _ = try await store.apply(index: entry.index, term: entry.term) { txn in
        try txn.put(PutRequest(key: key, value: value))
    }
}

/// Hands out indices and enqueues their appends under one lock, so the WAL receives entries
/// in index order however many writers race.
final class Sequencer: @unchecked Sendable {
    private let lock = NSLock()
    private var next: UInt64

    init(next: UInt64) { self.next = next }

    func appendNext(to wal: WAL, delivered: AsyncStream<UInt64>.Continuation) async throws -> UInt64 {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UInt64, any Error>) in
            lock.lock()
            defer { lock.unlock() }
            let index = next
            next += 1
            let entry = Entry(term: 1, index: index, data: Array("v\(index)".utf8))
            wal.append([.entry(entry), .hardState(HardState(term: 1, vote: 1, commit: index))]) { result in
                switch result {
                case .success:
                    delivered.yield(index)
                    continuation.resume(returning: index)
                case .failure(let error):
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let writers = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: StorageCrashChild <directory> <writers>\n".utf8))
    exit(2)
}
let directory = arguments[1]
do {
    let store = try MVCCStore(path: directory + "/db")
    let (wal, replay) = try WAL.open(directory: directory + "/wal", options: WALOptions(segmentSizeBytes: segmentSizeBytes))
    for entry in replay.entries {
        try await apply(entry, to: store)
    }
    emit("ready \(replay.lastIndex)")

    let started = ContinuousClock.now
    let sequencer = Sequencer(next: replay.lastIndex + 1)
    let (durable, delivered) = AsyncStream<UInt64>.makeStream()
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            for await index in durable {
                try await apply(Entry(term: 1, index: index, data: Array("v\(index)".utf8)), to: store)
                emit("applied \(index)")
            }
        }
        for _ in 0..<writers {
            group.addTask {
                while ContinuousClock.now - started < lifetimeLimit {
                    let index = try await sequencer.appendNext(to: wal, delivered: delivered)
                    emit("ack \(index)")
                }
            }
        }
        try await group.next()
        exit(3)
    }
} catch {
    FileHandle.standardError.write(Data("StorageCrashChild: \(error)\n".utf8))
    exit(1)
}
