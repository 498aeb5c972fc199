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

    private func bench(_ arguments: [String]) throws -> Summary {
        let run = try CairnCommand.run(["bench"] + arguments + ["--endpoints", server.clientURL, "-w", "json"],
            scratchDirectory: directory.path, timeout: .seconds(120))
        XCTAssertEqual(run.status, 0, run.stderr + run.stdout)
        return try JSONDecoder().decode(Summary.self, from: Data(run.stdout.utf8))
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
}
