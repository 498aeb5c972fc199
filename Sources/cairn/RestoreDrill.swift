import API
import Backup
import Foundation
import GRPCCore
import Restore
import Scheduler
import Server
import Storage

/// A restore drill (`cairn snapshot audit --drill`): restores a snapshot into a temporary
/// data-dir exactly as `cairn snapshot restore` does, starts a throw-away `cairn server` on
/// loopback ports from it, and checks that the server serves, that its HashKV at the
/// snapshot's revision is the manifest's, and that a sample of keys reads back as the restored
/// backend holds them. Everything it created — process, ports, directory — is gone afterwards,
/// whether it passed or not.
struct RestoreDrill {
    let snapshot: String
    let encryptionKey: EncryptionKey?
    /// Keys read back through the server.
    var sampleSize = 100
    /// How long the throw-away server may take to serve.
    var startTimeout = Duration.seconds(60)

    private struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs the drill; a failure is in the record (`ok` false, `detail` saying which check).
    func run() async -> DrillRecord {
        let started = ContinuousClock.now
        let at = Date()
        let file = (snapshot as NSString).lastPathComponent
        let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-drill-\(UUID().uuidString)").path
        var record = DrillRecord(at: at, file: file, ok: false, revision: 0, durationSeconds: 0, databaseBytes: 0,
            restoreBytesPerSecond: 0, keysSampled: 0, detail: "")
        var server: Process?
        do {
            try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: false,
                attributes: [.posixPermissions: 0o700])
            let manifest = try manifestOf(snapshot)
            record.revision = manifest.revision
            let ports = try Self.freeLoopbackPorts(2)
            let clientURL = "http://127.0.0.1:\(ports[0])", peerURL = "http://127.0.0.1:\(ports[1])"
            let dataDir = workspace + "/data"

            let restoreStarted = ContinuousClock.now
            let summary: RestoreSummary
            do {
                summary = try await SnapshotRestore.restore(snapshot: snapshot, into: dataDir, options: RestoreOptions(
                    initialCluster: [.init(name: "drill", peerURLs: [peerURL])], name: "drill",
                    initialClusterToken: "cairn-drill-\(UUID().uuidString)", encryptionKey: encryptionKey))
            } catch {
                throw Failure(description: "restore: \(error)")
            }
            let restoreSeconds = (ContinuousClock.now - restoreStarted).seconds
            record.databaseBytes = summary.databaseBytes
            record.restoreBytesPerSecond = Double(summary.databaseBytes) / max(restoreSeconds, 0.001)
            let sample = try sampleKeys(backend: OfflineSnapshot.backendPath(dataDirectory: dataDir), at: manifest.revision)

            server = try startServer(dataDir: dataDir, clientURL: clientURL, peerURL: peerURL, log: workspace + "/server.log")
            try await waitUntilServing(clientURL, process: server!, log: workspace + "/server.log")
            try await ClientAccess().withClient(endpoint: clientURL) { client, metadata in
                var request = Etcdserverpb_HashKVRequest()
                request.revision = manifest.revision
                let hash = try await Etcdserverpb_Maintenance.Client(wrapping: client).hashKV(request, metadata: metadata)
                guard hash.hash == manifest.kvHash else {
                    throw Failure(description:
                        "hash check: the restored server's HashKV at revision \(manifest.revision) is \(hash.hash), the manifest says \(manifest.kvHash)")
                }
                let kv = Etcdserverpb_KV.Client(wrapping: client)
                for expected in sample {
                    var range = Etcdserverpb_RangeRequest()
                    range.key = Data(expected.key)
                    range.revision = manifest.revision
                    let got = try await kv.range(range, metadata: metadata).kvs.first
                    guard let got, Array(got.value) == expected.value, got.modRevision == expected.modRevision else {
                        throw Failure(description:
                            "sample read: key \(String(decoding: expected.key, as: UTF8.self).debugDescription) at revision \(manifest.revision) reads back \(got.map { "mod revision \($0.modRevision), \($0.value.count) bytes" } ?? "missing"), the backend holds mod revision \(expected.modRevision), \(expected.value.count) bytes")
                    }
                }
            }
            record.keysSampled = sample.count
            record.ok = true
            record.detail = "restored \(summary.databaseBytes) bytes in \(String(format: "%.2f", restoreSeconds)) s; the server served; HashKV at revision \(manifest.revision) = \(manifest.kvHash) as in the manifest; \(sample.count) sampled keys read back"
        } catch {
            record.detail = "\(error)"
        }
        if let server { Self.stop(server) }
        try? FileManager.default.removeItem(atPath: workspace)
        record.durationSeconds = (ContinuousClock.now - started).seconds
        return record
    }

    private func manifestOf(_ path: String) throws -> SnapshotManifest {
        if let manifest = try SnapshotArchiveReader.quickManifest(path: path) { return manifest }
        // An encrypted archive's manifest is inside the encryption.
        return try SnapshotArchiveReader.read(path: path, encryptionKey: encryptionKey).manifest
    }

    /// A uniform sample of up to `sampleSize` keys (reservoir sampling over the key space, read
    /// keys-only in pages), with what the restored backend holds for each.
    private func sampleKeys(backend: String, at revision: Int64) throws -> [Storage.KeyValue] {
        let store = try MVCCStore(path: backend, options: MVCCOptions(readOnly: true))
        defer { store.close() }
        var reservoir: [[UInt8]] = []
        var seen = 0
        var next: [UInt8] = [0]
        while true {
            let page = try store.range(Storage.RangeRequest(key: next, rangeEnd: [0], limit: 10_000, revision: revision, keysOnly: true))
            for kv in page.kvs {
                seen += 1
                if reservoir.count < sampleSize {
                    reservoir.append(kv.key)
                } else if case let slot = Int.random(in: 0..<seen), slot < sampleSize {
                    reservoir[slot] = kv.key
                }
            }
            guard page.more, let last = page.kvs.last else { break }
            next = last.key + [0]
        }
        return try reservoir.sorted { $0.lexicographicallyPrecedes($1) }.compactMap { key in
            try store.range(Storage.RangeRequest(key: key, revision: revision)).kvs.first
        }
    }

    private func startServer(dataDir: String, clientURL: String, peerURL: String, log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = [
            "server", "--name", "drill", "--data-dir", dataDir, "--listen-client-urls", clientURL,
            "--advertise-client-urls", clientURL, "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", "drill=\(peerURL)", "--log-level", "warn",
        ]
        // The operator's ETCD_* settings are for their real members, not this one.
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ETCD_") && !$0.key.hasPrefix("CAIRN_") }
        guard FileManager.default.createFile(atPath: log, contents: nil), let output = FileHandle(forWritingAtPath: log) else {
            throw Failure(description: "start: cannot create the server's log \(log)")
        }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Failure(description: "start: cannot run \(process.executableURL?.path ?? "cairn") server: \(error)")
        }
        return process
    }

    private func waitUntilServing(_ endpoint: String, process: Process, log: String) async throws {
        let deadline = ContinuousClock.now + startTimeout
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw Failure(description: "start: the restored server exited (status \(process.terminationStatus)): \(Self.tail(log))")
            }
            if case .up(_, true, _) = try await EndpointProbe.ask(endpoint: endpoint, timeout: .seconds(1)) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "start: the restored server did not serve within \(startTimeout): \(Self.tail(log))")
    }

    /// SIGTERM, then SIGKILL after 10 s; returns once the process is gone.
    private static func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    private static func tail(_ log: String) -> String {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(5).joined(separator: " | ")
    }

    /// Ports the kernel had free on 127.0.0.1 a moment ago.
    static func freeLoopbackPorts(_ count: Int) throws -> [UInt16] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        return try (0..<count).map { _ in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "ports: socket: \(String(cString: strerror(errno)))") }
            sockets.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
                }
            }
            guard named else { throw Failure(description: "ports: bind: \(String(cString: strerror(errno)))") }
            return UInt16(bigEndian: address.sin_port)
        }
    }
}
