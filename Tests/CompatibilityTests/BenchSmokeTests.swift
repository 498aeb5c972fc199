import Foundation
import TestSupport
import XCTest

/// A small run of each `cairn bench` workload against the server, so the tool cannot rot:
/// every operation succeeds and its writes are really there. Passes against etcd too.
final class BenchSmokeTests: CompatibilityTestCase {
    private struct Summary: Decodable {
        struct Percentiles: Decodable { let p50, p99, max: Double }
        let succeeded: Int
        let failed: Int
        let requestsPerSecond: Double
        let latencyMs: Percentiles
    }

    private struct WatchSummary: Decodable {
        let puts: Summary
        let events: Summary
    }

    private func bench<T: Decodable>(_ arguments: [String], as type: T.Type = Summary.self) throws -> T {
        let run = try CairnCommand.run(["bench"] + arguments + ["--endpoints", server.clientURL, "-w", "json"],
            scratchDirectory: directory.path, timeout: .seconds(120))
        XCTAssertEqual(run.status, 0, run.stderr + run.stdout)
        return try JSONDecoder().decode(T.self, from: Data(run.stdout.utf8))
    }

    private var revision: Int64 { get throws { try get("anything").header.revision } }

    func testPutRangeAndTxnPutRunAndWriteWhatTheySay() throws {
        let start = try revision
        let puts = try bench(["put", "--total", "300", "--clients", "8", "--conns", "2", "--sequential-keys",
            "--key-space-size", "300", "--val-size", "256"])
        XCTAssertEqual(puts.succeeded, 300)
        XCTAssertEqual(puts.failed, 0)
        XCTAssertGreaterThan(puts.requestsPerSecond, 0)
        XCTAssertLessThanOrEqual(puts.latencyMs.p50, puts.latencyMs.max)
        XCTAssertEqual(try revision, start + 300, "one revision per put")
        let keys = try etcdctl.json(["get", "", "--prefix", "--keys-only"], as: EtcdctlJSON.Range.self)
        XCTAssertEqual(keys.count, 300, "300 distinct keys")

        let transactions = try bench(["txn-put", "--total", "20", "--clients", "4", "--txn-ops", "5", "--key-space-size", "100"])
        XCTAssertEqual(transactions.succeeded, 20)
        XCTAssertEqual(try revision, start + 320, "one revision per transaction")

        for consistency in ["l", "s"] {
            let ranges = try bench(["range", "foo", "--total", "100", "--clients", "4", "--consistency", consistency])
            XCTAssertEqual(ranges.succeeded, 100, consistency)
        }
        let refused = try CairnCommand.run(["bench", "range", "k", "--consistency", "x", "--endpoints", server.clientURL],
            scratchDirectory: directory.path)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--consistency must be l"), refused.stderr)
    }

    func testWatchLatencyDeliversEveryPutToEveryWatcher() throws {
        let start = try revision
        let run = try bench(["watch-latency", "--streams", "3", "--watchers-per-stream", "4", "--put-total", "25",
            "--put-rate", "0", "--conns", "2", "--watched-key", "watched"], as: WatchSummary.self)
        XCTAssertEqual(run.puts.succeeded, 25)
        XCTAssertEqual(run.events.succeeded, 25 * 12, "each of 12 watchers saw each put, in order")
        XCTAssertEqual(run.events.failed, 0)
        XCTAssertEqual(try revision, start + 25)
        XCTAssertEqual(try get("watched").kvs.first?.version, 25)
    }

    func testLeaseKeepAliveRenewsOneLeasePerClient() throws {
        let run = try bench(["lease-keepalive", "--clients", "3", "--total", "60", "--ttl", "50"])
        XCTAssertEqual(run.succeeded, 60)
        let leases = try etcdctl.run(["lease", "list"])
        XCTAssertTrue(leases.stdout.hasPrefix("found 3 leases"), leases.stdout)
    }
}
