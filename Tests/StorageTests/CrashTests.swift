import Foundation
@testable import Raft
import XCTest
@testable import Storage
import TestSupport

/// Real processes, real files, real SIGKILLs: a child appends through the WAL's group commit
/// and applies to the MVCC store; it is killed at a random point, and every write it
/// acknowledged must then be in the WAL, and the store must be consistent with the WAL.
final class CrashTests: XCTestCase {
    private static let kills = 55
    private static let keySpace: UInt64 = 97
    private static let segmentSizeBytes = 64 << 10

    private var childPath: String { BuildProducts.executable("StorageCrashChild") }

    func testAcknowledgedWritesSurviveSIGKILL() throws {
        let seed = ProcessInfo.processInfo.environment["CAIRN_CRASH_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 1...UInt64.max)
        var generator = SplitMix64(seed: seed)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: childPath), "build StorageCrashChild first: \(childPath)")

        var acknowledged: Set<UInt64> = []
        var highestApplied: UInt64 = 0
        var tornTails = 0
        for run in 0..<Self.kills {
            let context = "seed \(seed) run \(run) (rerun with CAIRN_CRASH_SEED=\(seed))"
            let child = try ChildProcess(executable: childPath, arguments: [directory.path, "8"])
            let deadline = ContinuousClock.now + .seconds(30)
            let target = Int.random(in: 1...80, using: &generator)
            var acksThisRun = 0
            var ready = false
            do {
                while acksThisRun < target, let line = try child.readLine(before: deadline) {
                    let fields = line.split(separator: " ")
                    guard fields.count == 2, let value = UInt64(fields[1]) else { continue }
                    switch fields[0] {
                    case "ready": ready = true
                    case "ack":
                        acknowledged.insert(value)
                        acksThisRun += 1
                    case "applied": highestApplied = max(highestApplied, value)
                    default: break
                    }
                }
            } catch {
                child.kill()
                return XCTFail("\(context): the child did not acknowledge \(target) writes in time: \(error)")
            }
            child.kill()
            XCTAssertTrue(ready, "\(context): the child never became ready")
            XCTAssertEqual(child.terminationReason, .uncaughtSignal, "\(context): the child exited on its own")
            // Lines already in the pipe were written before the kill: they count too.
            while let line = try child.readLine(before: ContinuousClock.now + .seconds(5)) {
                let fields = line.split(separator: " ")
                guard fields.count == 2, let value = UInt64(fields[1]) else { continue }
                if fields[0] == "ack" { acknowledged.insert(value) }
                if fields[0] == "applied" { highestApplied = max(highestApplied, value) }
            }
            if try verify(directory, acknowledged: acknowledged, highestApplied: highestApplied, context: context) {
                tornTails += 1
            }
        }
        XCTAssertGreaterThan(acknowledged.count, Self.kills)
        print("CrashTests: \(Self.kills) SIGKILLs, \(acknowledged.count) acknowledged writes, \(tornTails) torn tails repaired")
    }

    /// Returns whether opening the WAL repaired a torn tail.
    private func verify(_ directory: TemporaryDirectory, acknowledged: Set<UInt64>, highestApplied: UInt64, context: String) throws -> Bool {
        let (wal, replay) = try WAL.open(
            directory: directory.file("wal"), options: WALOptions(segmentSizeBytes: Self.segmentSizeBytes))
        wal.close()
        XCTAssertEqual(replay.snapshot.index, 0, context)
        XCTAssertEqual(replay.entries.first?.index ?? 1, 1, context)
        for index in acknowledged {
            guard index <= UInt64(replay.entries.count) else {
                XCTFail("\(context): acknowledged entry \(index) is missing; the WAL ends at \(replay.lastIndex)")
                continue
            }
            XCTAssertEqual(replay.entries[Int(index - 1)].data, Array("v\(index)".utf8), "\(context): entry \(index)")
        }

        let store = try MVCCStore(path: directory.file("db"))
        defer { store.close() }
        let status = try store.status()
        XCTAssertGreaterThanOrEqual(status.consistentIndex, highestApplied, "\(context): an applied entry was lost")
        XCTAssertLessThanOrEqual(status.consistentIndex, replay.lastIndex, "\(context): the store is ahead of the WAL")
        XCTAssertEqual(
            status.revision, Int64(status.consistentIndex) + 1,
            "\(context): one revision per applied entry after etcd's initial revision 1")
        // The store must hold exactly the effect of entries 1...consistentIndex.
        var expected: [String: String] = [:]
        for entry in replay.entries.prefix(Int(status.consistentIndex)) {
            expected["k\(entry.index % Self.keySpace)"] = String(decoding: entry.data, as: UTF8.self)
        }
        let all = try store.range(RangeRequest(key: [0], rangeEnd: [0]))
        var actual: [String: String] = [:]
        for kv in all.kvs { actual[String(decoding: kv.key, as: UTF8.self)] = String(decoding: kv.value, as: UTF8.self) }
        XCTAssertEqual(actual, expected, context)
        _ = try store.hashKV()
        return replay.tornTail != nil
    }
}
