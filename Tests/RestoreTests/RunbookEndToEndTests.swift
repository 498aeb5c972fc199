import Foundation
import TestSupport
import XCTest

@testable import Restore

/// `cairn runbook restore` end to end, as an operator runs it: a real cairn server started and
/// stopped by shell scripts, an API server stood in for by scripts that record being stopped and
/// started, a real snapshot, the real CLI killed mid-run and resumed.
final class RunbookEndToEndTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var clientURL = ""
    private var peerURL = ""

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "cairn-runbook")
        let ports = try FreePort.loopback(count: 2)
        clientURL = "http://127.0.0.1:\(ports[0])"
        peerURL = "http://127.0.0.1:\(ports[1])"
        try writeScripts()
    }

    override func tearDown() async throws {
        if let directory {
            _ = try? await shell(directory.file("server-stop.sh"))
            // Releases an API-server stop script a killed run left waiting.
            _ = FileManager.default.createFile(atPath: directory.file("gate"), contents: nil)
            directory.remove()
        }
        directory = nil
    }

    private var dataDir: String { directory.file("data") }
    private var planPath: String { directory.file("restore.yaml") }

    /// The stand-ins: the server runs detached with its pid in a file; stop is idempotent and waits
    /// (bounded) for the process to exit. The API server's stop waits for a gate file, so the test
    /// can kill the runbook while that step runs.
    private func writeScripts() throws {
        let cairn = BuildProducts.executable("cairn")
        let scripts = [
            "server-start.sh": """
                #!/bin/sh
                dir=\(directory.path)
                if [ -f "$dir/server.pid" ] && kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then exit 0; fi
                nohup \(cairn) server --name m1 --data-dir "$dir/data" --listen-client-urls \(clientURL) \\
                  --advertise-client-urls \(clientURL) --listen-peer-urls \(peerURL) \\
                  --initial-advertise-peer-urls \(peerURL) --initial-cluster m1=\(peerURL) \\
                  --initial-cluster-token before >>"$dir/server.log" 2>&1 </dev/null &
                echo $! >"$dir/server.pid"
                """,
            "server-stop.sh": """
                #!/bin/sh
                dir=\(directory.path)
                [ -f "$dir/server.pid" ] || exit 0
                pid=$(cat "$dir/server.pid")
                kill "$pid" 2>/dev/null
                i=0
                while kill -0 "$pid" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
                kill -0 "$pid" 2>/dev/null && exit 1
                rm -f "$dir/server.pid"
                """,
            "api-stop.sh": """
                #!/bin/sh
                dir=\(directory.path)
                echo stop >>"$dir/api.log"
                i=0
                while [ ! -f "$dir/gate" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
                [ -f "$dir/gate" ]
                """,
            "api-start.sh": """
                #!/bin/sh
                echo start >>"\(directory.path)/api.log"
                """,
        ]
        for (name, text) in scripts {
            let path = directory.file(name)
            try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let plan = """
            dataDir: \(dataDir)
            endpoint: \(clientURL)
            member:
              name: m1
              initialCluster: m1=\(peerURL)
              initialClusterToken: after-restore
              initialAdvertisePeerURLs: \(peerURL)
              bumpRevision: auto
              markCompacted: true
            apiServer:
              stop: {command: "\(directory.file("api-stop.sh"))"}
              start: {command: "\(directory.file("api-start.sh"))"}
            server:
              stop: {command: "\(directory.file("server-stop.sh"))"}
              start: {command: "\(directory.file("server-start.sh"))"}
              stopTimeout: 30s
              startTimeout: 60s
            repoint: {symlink: {}}
            """
        try Data(plan.utf8).write(to: URL(fileURLWithPath: planPath))
    }

    /// Runs a stand-in script as the runbook does: the server it starts keeps running detached.
    @discardableResult
    private func shell(_ script: String) async throws -> Int32 {
        try await ProcessCommandRunner().run(.exec(["/bin/sh", script]), timeout: .seconds(30)).status
    }

    private func cairn(_ arguments: [String]) throws -> CairnCommand.Run {
        try CairnCommand.run(arguments, scratchDirectory: directory.path, timeout: .seconds(180))
    }

    private struct Journal: Decodable {
        struct Step: Decodable {
            let step: String
            let status: String
        }
        let newDataDir: String
        let expectedRevision: Int64?
        let steps: [Step]
        let snapshot: Facts

        struct Facts: Decodable {
            let revision: Int64
        }
    }

    private func journal() throws -> Journal? {
        guard let data = FileManager.default.contents(atPath: planPath + ".state.json") else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(Journal.self, from: data)
    }

    private func apiLog() -> [String] {
        String(decoding: FileManager.default.contents(atPath: directory.file("api.log")) ?? Data(), as: UTF8.self)
            .split(separator: "\n").map(String.init)
    }

    private func listing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix("cairn-") }.sorted()
    }

    /// A server with keys, a snapshot of it, and writes after the snapshot that the restore loses.
    private func prepareServer() async throws -> (etcdctl: Etcdctl, snapshot: String, clusterID: UInt64) {
        let started = try await shell(directory.file("server-start.sh"))
        XCTAssertEqual(started, 0)
        let etcdctl = try Etcdctl(endpoints: [clientURL], scratchDirectory: directory.path)
        let deadline = ContinuousClock.now + .seconds(30)
        while try !etcdctl.run(["endpoint", "health", "--command-timeout=1s"]).succeeded {
            guard ContinuousClock.now < deadline else { throw ServerBinaryError(message: "the server did not start") }
            try await Task.sleep(for: .milliseconds(100))
        }
        for index in 0..<20 {
            _ = try etcdctl.succeed(["put", "/registry/configmaps/k\(index)", "v\(index)"])
        }
        let snapshot = directory.file("snap.cairn")
        let saved = try cairn(["snapshot", "save", snapshot, "--endpoints", clientURL])
        XCTAssertEqual(saved.status, 0, saved.stderr)
        _ = try etcdctl.succeed(["put", "/registry/configmaps/after-snapshot", "lost-by-the-restore"])
        let status = try XCTUnwrap(etcdctl.json(["endpoint", "status"], as: [EtcdctlJSON.EndpointStatus].self).first)
        return (etcdctl, snapshot, status.status.header.clusterID)
    }

    func testCorruptSnapshotStopsAtPreflightWithNothingChanged() async throws {
        let (etcdctl, snapshot, _) = try await prepareServer()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: snapshot))
        bytes[bytes.count / 2] ^= 0xFF
        let damaged = directory.file("damaged.cairn")
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let before = try listing()

        let run = try cairn(["runbook", "restore", "--snapshot", damaged, "--plan", planPath])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("preflight"), run.stderr)
        XCTAssertTrue(run.stderr.contains("does not verify"), run.stderr)
        XCTAssertEqual(try listing(), before, "no journal, no new data-dir, nothing moved")
        XCTAssertEqual(apiLog(), [], "the API server was not touched")
        XCTAssertEqual(try etcdctl.succeed(["get", "/registry/configmaps/after-snapshot", "--print-value-only"]),
            "lost-by-the-restore\n", "the server still serves its data")
    }

    func testRunKilledMidwayResumesToARestoredServerAndRollsBack() async throws {
        let (etcdctl, snapshot, oldClusterID) = try await prepareServer()

        // The first run is killed while the API server's stop script runs.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuildProducts.executable("cairn"))
        process.arguments = ["runbook", "restore", "--snapshot", snapshot, "--plan", planPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let exited = try ProcessExit.run(process)
        let deadline = ContinuousClock.now + .seconds(60)
        while !(apiLog() == ["stop"] && (try? journal())??.steps.first { $0.step == "stop-api-server" }?.status == "running") {
            guard ContinuousClock.now < deadline, process.isRunning else {
                throw ServerBinaryError(message: "the run did not reach stop-api-server: \(String(describing: try? journal()))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGKILL)
        XCTAssertTrue(exited.wait(upTo: .seconds(10)))
        XCTAssertTrue(FileManager.default.createFile(atPath: directory.file("gate"), contents: nil))

        let again = try cairn(["runbook", "restore", "--snapshot", snapshot, "--plan", planPath])
        XCTAssertNotEqual(again.status, 0, "an unfinished run is not started over")
        XCTAssertTrue(again.stderr.contains("--resume"), again.stderr)

        let resumed = try cairn(["runbook", "restore", "--snapshot", snapshot, "--plan", planPath, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stdout + resumed.stderr)
        let record = try XCTUnwrap(try journal())
        XCTAssertEqual(record.steps.map(\.step),
            ["preflight", "stop-api-server", "stop-server", "restore", "repoint", "start-server", "start-api-server"])
        XCTAssertEqual(Set(record.steps.map(\.status)), ["done"], "\(record.steps)")
        XCTAssertEqual(apiLog(), ["stop", "stop", "start"], "the interrupted stop ran again, then the start once")
        XCTAssertEqual(record.expectedRevision, record.snapshot.revision + 1_000_000_000)

        // The data-dir path now leads to the restored data; the old data-dir is kept aside.
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: dataDir), record.newDataDir)
        let aside = try XCTUnwrap(try listing().first { $0.hasPrefix("data.pre-restore-") })
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.file(aside) + "/member/snap/db"))

        let range = try etcdctl.json(["get", "/registry/configmaps/", "--prefix"], as: EtcdctlJSON.Range.self)
        XCTAssertEqual(range.kvs.count, 20)
        XCTAssertEqual(range.header.revision, record.expectedRevision)
        XCTAssertNotEqual(range.header.clusterID, oldClusterID)

        let repeated = try cairn(["runbook", "restore", "--snapshot", snapshot, "--plan", planPath, "--resume"])
        XCTAssertNotEqual(repeated.status, 0)
        XCTAssertTrue(repeated.stderr.contains("complete"), repeated.stderr)

        // Rollback puts the old data-dir back and restarts the server on it.
        let rolledBack = try cairn(["runbook", "rollback", "--plan", planPath])
        XCTAssertEqual(rolledBack.status, 0, rolledBack.stdout + rolledBack.stderr)
        var isDirectory: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: dataDir, isDirectory: &isDirectory) && isDirectory.boolValue)
        XCTAssertNil(try? FileManager.default.destinationOfSymbolicLink(atPath: dataDir))
        XCTAssertTrue(FileManager.default.fileExists(atPath: record.newDataDir), "the restored data-dir is kept")
        XCTAssertEqual(try etcdctl.succeed(["get", "/registry/configmaps/after-snapshot", "--print-value-only"]),
            "lost-by-the-restore\n")
        XCTAssertEqual(apiLog().last, "start")
    }
}
