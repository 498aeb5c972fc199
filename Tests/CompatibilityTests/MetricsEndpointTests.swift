import Foundation
import TestSupport
import XCTest


/// `--listen-metrics-urls`: the HTTP endpoints probes and Prometheus scrape, with etcd's paths
/// and shapes (etcd 3.4 has /health, /version and /metrics; /livez and /readyz came in 3.5.13).
class MetricsEndpointTestCase: CompatibilityTestCase {
    nonisolated(unsafe) static var metricsPort: UInt16 = 0

    override class var serverArguments: [String] {
        metricsPort = (try? FreePort.loopback(count: 1).first) ?? 0
        return ["--listen-metrics-urls", "http://127.0.0.1:\(metricsPort)"]
    }

    /// What `curl` gets, as a probe or an operator scrapes it (curl is installed by `make test`).
    func get(_ path: String) async throws -> (status: Int, body: String) {
        let run = try CairnCommand.run(executable: "/usr/bin/curl",
            ["--silent", "--show-error", "--max-time", "10", "--write-out", "\n%{http_code}", "http://127.0.0.1:\(Self.metricsPort)\(path)"],
            scratchDirectory: directory.path)
        guard run.status == 0, let newline = run.stdout.lastIndex(of: "\n"), let status = Int(run.stdout[run.stdout.index(after: newline)...])
        else { throw ServerBinaryError(message: "curl \(path) failed (exit \(run.status)): \(run.stderr)") }
        return (status, String(run.stdout[..<newline]))
    }

    /// The value of an unlabelled sample in the exposition text.
    func sample(_ name: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }
}

final class MetricsEndpointTests: MetricsEndpointTestCase {
    func testHealthVersionAndMetricsAnswerAsEtcds() async throws {
        let health = try await get("/health")
        XCTAssertEqual(health.status, 200)
        let healthJSON = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any])
        XCTAssertEqual(healthJSON["health"] as? String, "true", health.body)

        // etcd serves /version on its client URLs (HTTP/1 beside gRPC), not on the metrics ones;
        // cairn's client URLs speak gRPC only, so it serves /version here.
        if server.binary.kind == .cairn {
            let version = try await get("/version")
            XCTAssertEqual(version.status, 200)
            let versionJSON = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(version.body.utf8)) as? [String: String])
            XCTAssertEqual(versionJSON["etcdserver"], "3.5.17", version.body)
            XCTAssertNotNil(versionJSON["etcdcluster"], version.body)
        }

        let before = try await get("/metrics")
        XCTAssertEqual(before.status, 200)
        XCTAssertEqual(sample("etcd_server_has_leader", in: before.body), 1, before.body)
        let revision = try XCTUnwrap(sample("etcd_debugging_mvcc_current_revision", in: before.body))
        let fsyncs = try XCTUnwrap(sample("etcd_disk_wal_fsync_duration_seconds_count", in: before.body), before.body)
        let commits = try XCTUnwrap(sample("etcd_disk_backend_commit_duration_seconds_count", in: before.body), before.body)
        for index in 0..<3 { _ = try put("metrics/\(index)", "v") }
        let after = try await get("/metrics")
        XCTAssertEqual(sample("etcd_debugging_mvcc_current_revision", in: after.body), revision + 3)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(sample("etcd_disk_wal_fsync_duration_seconds_count", in: after.body)),
            fsyncs + 3, "every acknowledged put was fsynced in the WAL")
        XCTAssertGreaterThan(try XCTUnwrap(sample("etcd_disk_backend_commit_duration_seconds_count", in: after.body)), commits)
        XCTAssertTrue(after.body.contains("etcd_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"}"), after.body)
        XCTAssertGreaterThan(try XCTUnwrap(sample("etcd_mvcc_db_total_size_in_bytes", in: after.body)), 0)
        XCTAssertTrue(after.body.contains("# TYPE etcd_server_leader_changes_seen_total counter"), after.body)
        XCTAssertTrue(after.body.contains("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}"),
            after.body)

        if server.binary.kind == .cairn {
            // etcd shows the gRPC latency histograms only with --metrics=extensive; cairn always.
            let putLatency = "grpc_server_handling_seconds_count{grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}"
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(sample(putLatency, in: after.body), after.body), 3)
            XCTAssertTrue(after.body.contains("grpc_server_handling_seconds_bucket{grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\",le=\"+Inf\"}"),
                after.body)
        }

        let missing = try await get("/no-such-path")
        XCTAssertEqual(missing.status, 404)
    }

    func testLivezAndReadyzListTheirChecks() async throws {
        guard server.binary.kind == .cairn else { throw XCTSkip("etcd 3.4 has no /livez or /readyz (3.5.13 added them)") }
        let livez = try await get("/livez")
        XCTAssertEqual(livez.status, 200)
        XCTAssertEqual(livez.body, "ok\n")
        let readyz = try await get("/readyz?verbose")
        XCTAssertEqual(readyz.status, 200)
        XCTAssertTrue(readyz.body.contains("[+]linearizable_read ok"), readyz.body)
        XCTAssertTrue(readyz.body.hasSuffix("readyz check passed\n"), readyz.body)
    }
}

/// `/health` reports an active alarm, as etcd's does, until it is excluded or disarmed.
final class MetricsHealthAlarmTests: MetricsEndpointTestCase {
    override class var serverArguments: [String] { super.serverArguments + ["--quota-backend-bytes", "\(1 << 20)"] }

    func testHealthFailsWhileTheNoSpaceAlarmIsActive() async throws {
        let value = String(repeating: "x", count: 64 << 10)
        var refused = false
        for index in 0..<100 where !refused {
            refused = try !etcdctl.run(["put", "k\(index)", value]).succeeded
        }
        XCTAssertTrue(refused, "100 values of 64 KiB all fit under a 1 MiB quota")
        let health = try await get("/health")
        XCTAssertEqual(health.status, 503, health.body)
        XCTAssertTrue(health.body.contains("\"health\":\"false\""), health.body)
        if server.binary.kind == .cairn {
            XCTAssertTrue(health.body.contains("ALARM NOSPACE"), health.body)
            let excluded = try await get("/health?exclude=NOSPACE")
            XCTAssertEqual(excluded.status, 200, excluded.body)
        }
        _ = try etcdctl.succeed(["alarm", "disarm"])
        let disarmed = try await get("/health")
        XCTAssertEqual(disarmed.status, 200, disarmed.body)
    }
}
