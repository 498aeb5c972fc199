import Foundation
@testable import Restore
import XCTest
import Yams

/// A member's machine in a temporary directory: a data-dir, a snapshot, a plan, a stand-in
/// `systemctl` first in PATH, and scripts that append what they were asked to `calls.log` and flip
/// `server.state`, which the fake probe reads.
final class Sandbox: @unchecked Sendable {
    let root: String
    let environment: FakeEnvironment
    private let lines = Lines()

    init() throws {
        root = NSTemporaryDirectory() + "runbook-test-" + UUID().uuidString
        for directory in ["bin", "var/lib", "plans", "data/old", "etc/systemd/system"] {
            try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        environment = FakeEnvironment(searchPath: root + "/bin:/usr/bin:/bin")
        try write("snapshot", at: snapshot)
        try write("100", at: root + "/data/old/revision")
        try FileManager.default.createSymbolicLink(atPath: dataDir, withDestinationPath: root + "/data/old")
        try write("up", at: stateFile)
        try script("bin/systemctl", """
            echo "systemctl $*" >> \(root)/calls.log
            if [ "$2" = cairn.service ]; then
              case "$1" in
                stop) echo down > \(stateFile) ;;
                start) [ -e \(root)/fail-start ] && { echo "unit failed" >&2; exit 1; }; echo up > \(stateFile) ;;
              esac
            fi
            """)
        environment.answer(with: member(serving: { [dataDir] in dataDir }))
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    var dataDir: String { root + "/var/lib/cairn" }
    var oldData: String { root + "/data/old" }
    var snapshot: String { root + "/snap.db" }
    var planPath: String { root + "/plans/plan.yaml" }
    var journalPath: String { planPath + ".state.json" }
    var stateFile: String { root + "/server.state" }
    var output: [String] { lines.all }

    /// The member's answer: down while `server.state` says so, else healthy at the revision in the
    /// data-dir it serves. Each change shows only after two more probes, so waits really poll.
    func member(serving servedDirectory: @escaping @Sendable () -> String?) -> @Sendable () -> ProbeResult {
        let lag = Lag()
        let stateFile = stateFile
        return {
            let state = (try? String(contentsOfFile: stateFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            var answer = ProbeResult.down
            if state == "up", let directory = servedDirectory(),
               let text = try? String(contentsOfFile: directory + "/revision", encoding: .utf8), let revision = Int64(text) {
                answer = .up(revision: revision, healthy: true)
            }
            return lag.delayed(answer)
        }
    }

    static func planText(
        dataDir: String, repoint: String = "{symlink: {}}", server: String? = nil, apiServer: String?, extra: String = ""
    ) -> String {
        """
        dataDir: \(dataDir)
        endpoint: http://127.0.0.1:2379
        \(extra)
        member:
          name: node1
          initialCluster: node1=http://127.0.0.1:2380
          initialClusterToken: restored-2026-11-25
          initialAdvertisePeerURLs: http://127.0.0.1:2380
          bumpRevision: auto
          markCompacted: true
        \(apiServer ?? "")
        server:
        \(server ?? "  stop: {systemd: cairn.service}\n  start: {systemd: cairn.service}")
          stopTimeout: 5s
          startTimeout: 5s
        repoint: \(repoint)
        """
    }

    var apiServerCommands: String {
        """
        apiServer:
          stop: {command: "echo api-stop >> \(root)/calls.log"}
          start: {command: "echo api-start >> \(root)/calls.log"}
        """
    }

    @discardableResult
    func writePlan(repoint: String = "{symlink: {}}", server: String? = nil, apiServer: String?? = .none, extra: String = "") throws -> String {
        let text = Self.planText(
            dataDir: dataDir, repoint: repoint, server: server, apiServer: apiServer ?? apiServerCommands, extra: extra)
        try write(text, at: planPath)
        return text
    }

    func runbook() throws -> RestoreRunbook {
        try RestoreRunbook.load(planPath: planPath, environment: environment, probeInterval: .milliseconds(5)) { [lines] in
            lines.append($0)
        }
    }

    func restore(dryRun: Bool = false, resume: Bool = false) async throws -> RunbookJournal {
        try await runbook().restore(snapshot: snapshot, dryRun: dryRun, resume: resume)
    }

    func rollback() async throws -> RunbookJournal {
        try await runbook().rollback()
    }

    /// What the scripts were asked, in order.
    var calls: [String] {
        ((try? String(contentsOfFile: root + "/calls.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func journal() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: journalPath))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func stepStatuses() throws -> [String] {
        try XCTUnwrap(journal()["steps"] as? [[String: Any]]).map { "\($0["step"] ?? "?")=\($0["status"] ?? "?")" }
    }

    func newDataDir() throws -> String {
        try XCTUnwrap(journal()["newDataDir"] as? String)
    }

    func write(_ text: String, at path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    func script(_ relativePath: String, _ body: String) throws {
        let path = root + "/" + relativePath
        try write("#!/bin/sh\n" + body + "\n", at: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    func symlinkTarget(_ path: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: path)
    }

    /// Every entry below the root with its kind and content (or symlink target), for before/after.
    func listing() throws -> [String] {
        let files = FileManager.default
        var entries: [String] = []
        var pending = [root]
        while let directory = pending.popLast() {
            for name in try files.contentsOfDirectory(atPath: directory).sorted() {
                let path = directory + "/" + name
                let type = try files.attributesOfItem(atPath: path)[.type] as? FileAttributeType
                switch type {
                case .typeDirectory?:
                    entries.append("dir \(path)")
                    pending.append(path)
                case .typeSymbolicLink?:
                    entries.append("link \(path) -> \(symlinkTarget(path) ?? "?")")
                default:
                    entries.append("file \(path): \((try? String(contentsOfFile: path, encoding: .utf8)) ?? "<binary>")")
                }
            }
        }
        return entries.sorted()
    }
}

/// Output lines collected from the runbook's sink.
final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

/// Shows a changed answer only after two more probes.
private final class Lag: @unchecked Sendable {
    private let lock = NSLock()
    private var shown = ProbeResult.down
    private var latest: ProbeResult?
    private var probesLeft = 0

    func delayed(_ answer: ProbeResult) -> ProbeResult {
        lock.withLock {
            guard latest != nil else {
                latest = answer
                shown = answer
                return answer
            }
            if answer != latest {
                latest = answer
                probesLeft = 2
            }
            guard probesLeft == 0 else {
                probesLeft -= 1
                return shown
            }
            shown = answer
            return answer
        }
    }
}

/// Reads a static-pod manifest's data volume like kubelet would mount it.
enum Manifest {
    static func hostPaths(_ path: String) throws -> [String: String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let volumes = try XCTUnwrap(try Yams.load(yaml: text) as? [String: Any])["spec"] as? [String: Any]
        var paths: [String: String] = [:]
        for volume in volumes?["volumes"] as? [[String: Any]] ?? [] {
            if let name = volume["name"] as? String, let path = (volume["hostPath"] as? [String: Any])?["path"] as? String {
                paths[name] = path
            }
        }
        return paths
    }
}
