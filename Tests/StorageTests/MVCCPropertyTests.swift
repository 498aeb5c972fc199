import Foundation
@testable import Raft
import XCTest
@testable import Storage
import TestSupport

/// Random operation sequences against ``MVCCModel``: after every step, ranges at random
/// revisions (compacted, current and future ones included) and the event history must agree.
/// A failure names its seed; `CAIRN_PROPERTY_SEED=<seed>` replays just that one.
final class MVCCPropertyTests: XCTestCase {
    private static let alphabet: [UInt8] = [0x00, 0x2F, 0x61, 0x62, 0xFF]
    private static let stepsPerSeed = 250

    func testRandomOperationsAgreeWithTheModel() async throws {
        let seeds: [UInt64]
        if let pinned = ProcessInfo.processInfo.environment["CAIRN_PROPERTY_SEED"].flatMap({ UInt64($0) }) {
            seeds = [pinned]
        } else {
            seeds = (0..<4).map { _ in UInt64.random(in: 1...UInt64.max) }
        }
        for seed in seeds {
            try await run(seed: seed)
        }
    }

    private func run(seed: UInt64) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try MVCCStore(path: directory.file("db"), options: MVCCOptions(compactionBatchKeys: 4))
        defer { store.close() }
        var generator = SplitMix64(seed: seed)
        var model = MVCCModel()
        var nextLease: Int64 = 1

        func fail(_ step: Int, _ what: String) {
            XCTFail("seed \(seed) step \(step): \(what) (rerun with CAIRN_PROPERTY_SEED=\(seed))")
        }

        for step in 0..<Self.stepsPerSeed {
            let roll = Int.random(in: 0..<100, using: &generator)
            model.begin()
            switch roll {
            case 0..<45:
                let key = randomKey(&generator)
                let value = Array("v\(step)".utf8)
                let leases = Array(model.leases.keys)
                let lease = leases.isEmpty || Bool.random(using: &generator) ? 0 : leases.randomElement(using: &generator)!
                let response = try await store.write { txn in try txn.put(PutRequest(key: key, value: value, lease: lease)) }
                model.put(key, value, lease: lease)
                if response.revision != model.revision + 1 { fail(step, "put revision \(response.revision)") }
            case 45..<60:
                let range = randomRange(&generator)
                let response = try await store.write { txn in
                    try txn.deleteRange(DeleteRangeRequest(key: range.key, rangeEnd: range.end))
                }
                let deleted = model.delete(range)
                if response.deleted != Int64(deleted) { fail(step, "deleted \(response.deleted), model \(deleted)") }
            case 60..<80:
                let compareKey = randomKey(&generator)
                let version = Int64.random(in: 0...2, using: &generator)
                let putKey = randomKey(&generator)
                let deleteRange = randomRange(&generator)
                let value = Array("t\(step)".utf8)
                let request = TxnRequest(
                    compare: [Compare(key: compareKey, result: .equal, target: .version(version))],
                    success: [.put(PutRequest(key: putKey, value: value)), .range(RangeRequest(key: putKey))],
                    failure: [.deleteRange(DeleteRangeRequest(key: deleteRange.key, rangeEnd: deleteRange.end))])
                let response = try await store.write { txn in try txn.txn(request) }
                let holds = (model.current[compareKey]?.version ?? 0) == version
                // A put without a lease detaches the key from its lease, inside a txn as outside.
                if holds { model.put(putKey, value, lease: 0) } else { _ = model.delete(deleteRange) }
                if response.succeeded != holds { fail(step, "txn took the \(response.succeeded) branch") }
            case 80..<88:
                let id = nextLease
                nextLease += 1
                try await store.write { txn in try txn.grantLease(LeaseRecord(id: id, ttlSeconds: 60)) }
                model.grant(id)
            case 88..<94:
                guard let id = model.leases.keys.randomElement(using: &generator) else { break }
                _ = try await store.write { txn in try txn.revokeLease(id: id) }
                model.revoke(id)
            default:
                guard model.revision > model.compactRevision else { break }
                let target = Int64.random(in: model.compactRevision + 1...model.revision, using: &generator)
                try await store.write { txn in try txn.compact(revision: target) }
                model.compact(target)
            }
            model.commit()
            try check(store, model, step: step, generator: &generator, fail: fail)
        }
        try await store.waitForCompaction()
        try check(store, model, step: Self.stepsPerSeed, generator: &generator, fail: fail)
        let hash = try store.hashKV()
        if hash.keyCount != Int64(model.current.count) { fail(Self.stepsPerSeed, "key count \(hash.keyCount)") }
    }

    private func check(
        _ store: MVCCStore, _ model: MVCCModel, step: Int, generator: inout SplitMix64,
        fail: (Int, String) -> Void
    ) throws {
        let status = try store.status()
        if status.revision != model.revision || status.compactRevision != model.compactRevision {
            fail(step, "store at revision \(status.revision)/\(status.compactRevision), model \(model.revision)/\(model.compactRevision)")
        }
        for _ in 0..<3 {
            let range = randomRange(&generator)
            let low = max(0, model.compactRevision - 2)
            let request = RangeRequest(
                key: range.key, rangeEnd: range.end,
                limit: Bool.random(using: &generator) ? 0 : Int64.random(in: 1...4, using: &generator),
                revision: Int64.random(in: low...model.revision + 1, using: &generator),
                sortOrder: [.none, .ascend, .descend].randomElement(using: &generator)!,
                sortTarget: [.key, .key, .version, .create, .mod, .value].randomElement(using: &generator)!,
                keysOnly: Int.random(in: 0..<4, using: &generator) == 0,
                countOnly: Int.random(in: 0..<6, using: &generator) == 0,
                minModRevision: Int.random(in: 0..<4, using: &generator) == 0 ? Int64.random(in: 0...model.revision + 1, using: &generator) : 0,
                maxCreateRevision: Int.random(in: 0..<4, using: &generator) == 0 ? Int64.random(in: 0...model.revision + 1, using: &generator) : 0)
            let expected = model.range(request)
            let actual: Result<RangeResponse, MVCCModel.ReadError>
            do {
                actual = .success(try store.range(request))
            } catch {
                guard error.code == .compacted || error.code == .futureRevision else { throw error }
                actual = .failure(error.code == .compacted ? .compacted : .future)
            }
            if actual != expected { fail(step, "range \(request)\n  store \(actual)\n  model \(expected)") }
        }
        guard model.revision > model.compactRevision else { return }
        let from = Int64.random(in: model.compactRevision + 1...model.revision, using: &generator)
        let through = Int64.random(in: from...model.revision, using: &generator)
        let expected = model.events.filter { (from...through).contains($0.kv.modRevision) }
        let actual = try store.events(from: from, through: through, includePrevKV: true)
        if actual != expected { fail(step, "events \(from)...\(through)\n  store \(actual)\n  model \(expected)") }
    }

    private func randomKey(_ generator: inout SplitMix64) -> [UInt8] {
        (0..<Int.random(in: 1...3, using: &generator)).map { _ in Self.alphabet.randomElement(using: &generator)! }
    }

    private func randomRange(_ generator: inout SplitMix64) -> (key: [UInt8], end: [UInt8]) {
        switch Int.random(in: 0..<4, using: &generator) {
        case 0: return (randomKey(&generator), [])
        case 1: return (randomKey(&generator), [0])
        case 2: return ([0], [0])
        default:
            let (a, b) = (randomKey(&generator), randomKey(&generator))
            return a.lexicographicallyPrecedes(b) ? (a, b) : (b, a)
        }
    }
}
