import Foundation
import Raft
import Storage
import TestSupport
import XCTest

@testable import Backup

/// Snapshot archives: a loaded store round-trips with its facts, and every corruption of an
/// archive is reported by the integrity checks, never crashing them.
final class SnapshotArchiveTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "cairn-backup")
    }

    override func tearDown() {
        directory?.remove()
        directory = nil
    }

    /// A stopped member's data-dir with `keys` keys written over several revisions each,
    /// some deleted, some attached to leases, and an early compaction.
    private func makeDataDirectory(keys: Int) async throws -> (path: String, hash: KVHash) {
        let dataDirectory = directory.file("member.data")
        try FileManager.default.createDirectory(atPath: dataDirectory + "/member/snap", withIntermediateDirectories: true)
        let store = try MVCCStore(path: OfflineSnapshot.backendPath(dataDirectory: dataDirectory))
        defer { store.close() }
        try await store.write { txn in
            try txn.grantLease(LeaseRecord(id: 7, ttlSeconds: 60))
            try txn.putMember(MemberRecord(id: 0xABC, name: "m1", peerURLs: ["http://127.0.0.1:2380"]))
            try txn.setClusterID(0xC1)
        }
        let perTransaction = 500
        for round in 0..<2 {
            for start in stride(from: 0, to: keys, by: perTransaction) {
                try await store.write { txn in
                    for index in start..<min(start + perTransaction, keys) {
                        let key = Array("key/\(index)".utf8)
                        _ = try txn.put(PutRequest(key: key, value: Array("value-\(round)-\(index)".utf8),
                            lease: index % 97 == 0 ? 7 : 0))
                    }
                }
            }
            if round == 0 {
                try await store.write { txn in try txn.compact(revision: txn.revision) }
            }
        }
        try await store.write { txn in
            _ = try txn.deleteRange(DeleteRangeRequest(key: Array("key/1".utf8), rangeEnd: Array("key/2".utf8)))
        }
        try await store.waitForCompaction()
        return (dataDirectory, try store.hashKV())
    }

    func testALoadedStoreRoundTripsWithItsFacts() async throws {
        let (dataDirectory, hash) = try await makeDataDirectory(keys: 50_000)
        let file = directory.file("snap.cairn")
        let saved = try await OfflineSnapshot.save(dataDirectory: dataDirectory, to: file, force: false, level: 3, toolVersion: "test")
        XCTAssertEqual(saved.manifest.kvHash, hash.hash)
        XCTAssertEqual(saved.manifest.keyCount, hash.keyCount)
        XCTAssertEqual(saved.manifest.revision, hash.revision)
        XCTAssertEqual(saved.manifest.memberName, "m1")
        XCTAssertEqual(saved.manifest.clusterID, "c1")
        XCTAssertFalse(FileManager.default.fileExists(atPath: file + ".part"))
        let sidecar = try String(contentsOfFile: file + ".sha256", encoding: .utf8)
        XCTAssertEqual(sidecar, "\(saved.sha256)  snap.cairn\n")

        XCTAssertEqual(try SnapshotArchiveReader.quickManifest(path: file), saved.manifest,
            "status reads the manifest from the file's tail")

        let scratch = directory.file("verify")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let report = try SnapshotArchiveReader.read(path: file, databaseDirectory: scratch, deep: true)
        XCTAssertEqual(report.manifest, saved.manifest)
        XCTAssertEqual(report.sha256, saved.sha256)
        XCTAssertEqual(report.checks.map(\.name),
            ["outer sha256", "zstd stream", "tar structure", "member sha256", "database records", "deep"])
        XCTAssertTrue(report.checks.allSatisfy { $0.result.hasPrefix("ok") }, "\(report.checks)")

        do {
            _ = try await OfflineSnapshot.save(dataDirectory: dataDirectory, to: file, force: false, level: 3, toolVersion: "test")
            XCTFail("an existing snapshot was overwritten without --force")
        } catch let error as BackupError {
            XCTAssertTrue(error.message.contains("pass --force"), "\(error)")
        }
    }

    /// With a key the whole archive is sealed: read back with the key it verifies deep; without
    /// it, or with another key, it is refused naming the key; any flipped byte fails a check.
    func testAnEncryptedArchiveOpensOnlyWithItsKey() async throws {
        let (dataDirectory, hash) = try await makeDataDirectory(keys: 2_000)
        let key = try EncryptionKey(bytes: (0..<32).map { UInt8($0 * 7 & 0xFF) })
        let file = directory.file("sealed.cairn")
        let saved = try await OfflineSnapshot.save(dataDirectory: dataDirectory, to: file, force: false, level: 3,
            toolVersion: "test", encryptionKey: key)
        XCTAssertTrue(Envelope.isEncrypted(path: file))
        XCTAssertNil(try SnapshotArchiveReader.quickManifest(path: file), "the manifest is inside the encryption")
        let scratch = directory.file("scratch")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let report = try SnapshotArchiveReader.read(path: file, databaseDirectory: scratch, deep: true, encryptionKey: key)
        XCTAssertEqual(report.manifest, saved.manifest)
        XCTAssertEqual(report.manifest.kvHash, hash.hash)
        XCTAssertEqual(report.sha256, saved.sha256, "the sidecar covers the encrypted file")
        XCTAssertEqual(report.keyFingerprint, key.fingerprint)
        XCTAssertTrue(report.checks.contains { $0.name == "encryption" })

        XCTAssertThrowsError(try SnapshotArchiveReader.read(path: file)) { error in
            XCTAssertTrue("\(error)".contains("encrypted (key \(key.fingerprint))"), "\(error)")
        }
        let other = try EncryptionKey(bytes: [UInt8](repeating: 1, count: 32))
        XCTAssertThrowsError(try SnapshotArchiveReader.read(path: file, encryptionKey: other)) { error in
            XCTAssertTrue("\(error)".contains(key.fingerprint) && "\(error)".contains(other.fingerprint), "\(error)")
        }
        // A flipped byte anywhere past the header: the sidecar check catches it first, and
        // without the sidecar the frame authentication does.
        let original = try Data(contentsOf: URL(fileURLWithPath: file))
        try FileManager.default.removeItem(atPath: file + ".sha256")
        for offset in [60, original.count / 2, original.count - 20] {
            var damaged = original
            damaged[offset] ^= 0x10
            try damaged.write(to: URL(fileURLWithPath: file))
            XCTAssertThrowsError(try SnapshotArchiveReader.read(path: file, encryptionKey: key), "byte \(offset)") { error in
                XCTAssertTrue("\(error)".contains("encryption"), "\(error)")
            }
        }
    }

    func testAnAbandonedSaveLeavesNoFile() throws {
        let file = directory.file("abandoned.cairn")
        let writer = try SnapshotArchiveWriter(path: file, force: false)
        try [UInt8](repeating: 1, count: 100_000).withUnsafeBytes { try writer.appendDatabase($0) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: file + ".part"))
        writer.abandon()
        XCTAssertFalse(FileManager.default.fileExists(atPath: file))
        XCTAssertFalse(FileManager.default.fileExists(atPath: file + ".part"))
    }

    /// 320 corrupted copies of one archive — bits flipped, bytes zeroed, the file truncated,
    /// members reordered — each checked beside its `.sha256` sidecar (as `save` leaves it):
    /// every one fails with a named check. Then each again without the sidecar: it fails, or
    /// (a flipped bit zstd never reads) every member still matches the manifest's SHA-256.
    func testEveryCorruptionIsReported() async throws {
        let (dataDirectory, _) = try await makeDataDirectory(keys: 2000)
        let file = directory.file("good.cairn")
        _ = try await OfflineSnapshot.save(dataDirectory: dataDirectory, to: file, force: false, level: 3, toolVersion: "test")
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        let sidecar = try String(contentsOfFile: file + ".sha256", encoding: .utf8)
        let seed = UInt64(ProcessInfo.processInfo.environment["CAIRN_CORRUPTION_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64.max)
        var random = SplitMix64(seed: seed)
        var checksThatCaught: [String: Int] = [:]
        let reordered = try reorderedArchive(from: file)

        for trial in 0..<320 {
            var bytes = original
            let kind = trial % 4
            switch kind {
            case 0:
                let bit = Int.random(in: 0..<(bytes.count * 8), using: &random)
                bytes[bit / 8] ^= UInt8(1 << (bit % 8))
            case 1:
                let start = Int.random(in: 0..<bytes.count, using: &random)
                let end = min(bytes.count, start + Int.random(in: 1...64, using: &random))
                if bytes[start..<end].allSatisfy({ $0 == 0 }) { bytes[start] = 0xFF } else {
                    for index in start..<end { bytes[index] = 0 }
                }
            case 2:
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
            default:
                bytes = reordered
            }
            let corrupt = directory.file("corrupt-\(trial).cairn")
            try Data(bytes).write(to: URL(fileURLWithPath: corrupt))
            let scratch = directory.file("scratch-\(trial)")
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer {
                try? FileManager.default.removeItem(atPath: scratch)
                unlink(corrupt)
                unlink(corrupt + ".sha256")
            }
            try sidecar.replacingOccurrences(of: "good.cairn", with: "corrupt-\(trial).cairn")
                .write(toFile: corrupt + ".sha256", atomically: true, encoding: .utf8)
            do {
                _ = try SnapshotArchiveReader.read(path: corrupt, databaseDirectory: scratch, deep: true)
                XCTFail("trial \(trial) (kind \(kind), seed \(seed)): the corruption went unnoticed")
            } catch let error as BackupError {
                XCTAssertEqual(error.check, "outer sha256", "trial \(trial): the sidecar check comes first")
            } catch {
                XCTFail("trial \(trial) (seed \(seed)): not a BackupError naming its check: \(error)")
            }
            unlink(corrupt + ".sha256")
            do {
                let report = try SnapshotArchiveReader.read(path: corrupt, databaseDirectory: scratch, deep: true)
                XCTAssertEqual(kind, 0, "trial \(trial) (seed \(seed)): only a flipped bit can leave every member intact")
                XCTAssertTrue(report.checks.allSatisfy { $0.result.hasPrefix("ok") || $0.result.hasPrefix("skipped") })
                checksThatCaught["none: the members were intact", default: 0] += 1
            } catch let error as BackupError {
                checksThatCaught[error.check, default: 0] += 1
            } catch {
                XCTFail("trial \(trial) (seed \(seed)): not a BackupError naming its check: \(error)")
            }
        }
        print("SnapshotArchiveTests: without the sidecar, 320 corruptions were caught by \(checksThatCaught.sorted { $0.key < $1.key }) (seed \(seed))")
        XCTAssertGreaterThan(checksThatCaught["zstd stream", default: 0], 200)
        XCTAssertGreaterThan(checksThatCaught["tar structure", default: 0], 0)
    }

    /// The same members with the manifest first: a valid zstd stream and tar, in the wrong order.
    private func reorderedArchive(from file: String) throws -> [UInt8] {
        var members: [(String, [UInt8])] = []
        let handle = try XCTUnwrap(FileHandle(forReadingAtPath: file))
        defer { try? handle.close() }
        let zstd = try ZstdReader { [UInt8](try handle.read(upToCount: $0) ?? Data()) }
        let tar = try TarReader { try zstd.read(into: $0) }
        while let member = try tar.next() {
            var bytes: [UInt8] = []
            try tar.readMember({ bytes.append(contentsOf: $0) }, name: member.name)
            members.append((member.name, bytes))
        }
        var output: [UInt8] = []
        let compressor = try ZstdCompressor(level: 3, workers: 0) { output.append(contentsOf: $0) }
        let writer = try TarWriter { try compressor.compress($0) }
        for (name, bytes) in members.reversed() { try bytes.withUnsafeBytes { try writer.add(name: name, bytes: $0) } }
        try writer.finish()
        try compressor.finish()
        return output
    }
}

/// `kill -9` of `cairn snapshot save` in the middle of writing: no FILE appears, the FILE.part
/// it leaves is rejected by `verify`, and a new save replaces the leftover.
final class InterruptedSaveTests: XCTestCase {
    func testASaveKilledMidwayLeavesOnlyARejectedPartFile() async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-killed-save")
        defer { directory.remove() }
        let dataDirectory = directory.file("member.data")
        try FileManager.default.createDirectory(atPath: dataDirectory + "/member/snap", withIntermediateDirectories: true)
        let store = try MVCCStore(path: OfflineSnapshot.backendPath(dataDirectory: dataDirectory))
        // 96 MiB of random values: incompressible, so the save takes long enough to interrupt.
        var random = SplitMix64(seed: 42)
        for batch in 0..<12 {
            let values = (0..<8).map { _ in
                var value = [UInt8](repeating: 0, count: 1 << 20)
                value.withUnsafeMutableBytes { bytes in
                    for word in 0..<(bytes.count / 8) { bytes.storeBytes(of: random.next(), toByteOffset: word * 8, as: UInt64.self) }
                }
                return value
            }
            try await store.write { txn in
                for (index, value) in values.enumerated() {
                    _ = try txn.put(PutRequest(key: Array("big/\(batch)/\(index)".utf8), value: value))
                }
            }
        }
        store.close()

        let file = directory.file("killed.cairn")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuildProducts.executable("cairn"))
        process.arguments = ["snapshot", "save", file, "--data-dir", dataDirectory, "--level", "19"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let exited = try ProcessExit.run(process)
        let deadline = ContinuousClock.now + .seconds(30)
        var partBytes = 0
        while ContinuousClock.now < deadline, partBytes < 1 << 20, process.isRunning {
            partBytes = (try? FileManager.default.attributesOfItem(atPath: file + ".part")[.size] as? Int) ?? 0
            try await Task.sleep(for: .milliseconds(2))
        }
        XCTAssertTrue(process.isRunning, "the save finished before it could be interrupted (\(partBytes) bytes seen)")
        kill(process.processIdentifier, SIGKILL)
        XCTAssertTrue(exited.wait(upTo: .seconds(10)))

        XCTAssertFalse(FileManager.default.fileExists(atPath: file), "a killed save left a FILE that looks complete")
        XCTAssertFalse(FileManager.default.fileExists(atPath: file + ".sha256"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: file + ".part"))
        XCTAssertThrowsError(try SnapshotArchiveReader.read(path: file + ".part")) { error in
            XCTAssertEqual((error as? BackupError)?.check, "zstd stream", "\(error)")
        }

        let saved = try await OfflineSnapshot.save(dataDirectory: dataDirectory, to: file, force: false, level: 1, toolVersion: "test")
        XCTAssertEqual(saved.manifest.keyCount, 96)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file + ".part"), "the new save replaced the leftover")
        _ = try SnapshotArchiveReader.read(path: file)
    }
}
