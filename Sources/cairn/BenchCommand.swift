import ArgumentParser
import Bench
import Foundation
import Server

/// `cairn bench …`: load against any etcd v3 server (cairn or etcd), with the flags of etcd's
/// `tools/benchmark`, reporting throughput and latency percentiles.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a server (cairn or etcd) under load: puts, ranges, transactions, watches, lease keep-alives; throughput and latency percentiles.",
        subcommands: [Put.self, Range.self, TxnPut.self, WatchLatencyCommand.self, LeaseKeepAlive.self]
    )

    /// The flags every workload shares.
    struct Load: ParsableArguments {
        @Option(help: "Client URLs, comma-separated: connection i goes to URL i modulo their number.")
        var endpoints = "http://127.0.0.1:2379"

        var endpointList: [String] { endpoints.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        @Option(help: "Concurrent clients.") var clients = 1
        @Option(help: "HTTP/2 connections the clients share.") var conns = 1
        @Option(help: "Operations in all.") var total = 10_000
        @Option(help: "Operations per second across all clients (0: as fast as answered).") var rate = 0
        @Option(help: "Calls on one connection before it is replaced by a fresh one (etcd's BDP pings otherwise trip NIOHTTP2's flood protection).")
        var callsPerConnection = ConnectionPool.defaultCallsPerConnection
        @Option(name: [.customShort("w"), .long], help: "Output format: table or json.")
        var writeOut: SnapshotCommand.OutputFormat = .table
        @OptionGroup var client: ClientOptions

        func validate() throws {
            for (flag, value) in [("--clients", clients), ("--conns", conns), ("--total", total),
                ("--calls-per-connection", callsPerConnection)] where value < 1
            {
                throw ValidationError("\(flag) must be at least 1, not \(value)")
            }
            if rate < 0 { throw ValidationError("--rate must be 0 or more, not \(rate)") }
            if endpointList.isEmpty || endpointList.contains(where: \.isEmpty) {
                throw ValidationError("--endpoints must list client URLs separated by commas, not '\(endpoints)'")
            }
        }

        func run(_ workload: BenchWorkload, name: String) async throws {
            let runner = LoadRunner(clients: clients, total: total, rate: rate > 0 ? rate : nil)
            let result: LoadResult
            do {
                result = try await Bench.run(workload, endpoints: endpointList, access: client.access, connections: conns,
                    callsPerConnection: callsPerConnection, runner: runner)
            } catch {
                throw CommandFailure.exit(error)
            }
            let summary = BenchSummary(operation: name, endpoint: endpoints, clients: clients, conns: conns, result: result)
            try report(summary, table: summary.table, failed: summary.failed)
        }

        /// Prints `summary` as JSON or as `table`; a run counts only when every operation in it
        /// succeeded.
        func report(_ summary: some Encodable, table: String, failed: Int) throws {
            switch writeOut {
            case .json: try SnapshotCommand.printJSON(summary)
            case .table: print(table)
            }
            if failed > 0 { throw ExitCode.failure }
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Puts of --val-size byte values (etcd's `benchmark put`).")
        @OptionGroup var load: Load
        @Option(help: "Bytes per key.") var keySize = 8
        @Option(help: "Bytes per value.") var valSize = 8
        @Option(help: "Distinct keys written to.") var keySpaceSize = 1
        @Flag(help: "Keys in order (else at random within --key-space-size).") var sequentialKeys = false

        func validate() throws { try checkKeys(keySize: keySize, keySpaceSize: keySpaceSize, valSize: valSize) }

        func run() async throws {
            try await load.run(.put(keys: BenchKeys(size: keySize, spaceSize: keySpaceSize, sequential: sequentialKeys),
                valueSize: valSize), name: "put")
        }
    }

    struct Range: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ranges over KEY [END] (etcd's `benchmark range`).")
        @Argument(help: "The key, or the start of the range.") var key: String
        @Argument(help: "The end of the range (exclusive).") var end: String?
        @Option(help: "l (linearizable) or s (serializable).") var consistency = "l"
        @OptionGroup var load: Load

        func validate() throws {
            guard consistency == "l" || consistency == "s" else {
                throw ValidationError("--consistency must be l (linearizable) or s (serializable), not \(consistency)")
            }
        }

        func run() async throws {
            try await load.run(.range(key: key, end: end, serializable: consistency == "s"), name: "range")
        }
    }

    struct TxnPut: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "txn-put", abstract: "Transactions of --txn-ops puts each (etcd's `benchmark txn-put`).")
        @OptionGroup var load: Load
        @Option(help: "Bytes per key.") var keySize = 8
        @Option(help: "Bytes per value.") var valSize = 8
        @Option(help: "Distinct keys written to.") var keySpaceSize = 1
        @Option(help: "Puts per transaction.") var txnOps = 1

        func validate() throws {
            try checkKeys(keySize: keySize, keySpaceSize: keySpaceSize, valSize: valSize)
            guard txnOps >= 1 else { throw ValidationError("--txn-ops must be at least 1, not \(txnOps)") }
            guard txnOps <= keySpaceSize else {
                throw ValidationError("--txn-ops \(txnOps) needs --key-space-size of at least \(txnOps): a txn may not put a key twice")
            }
        }

        func run() async throws {
            try await load.run(.txnPut(keys: BenchKeys(size: keySize, spaceSize: keySpaceSize, sequential: true),
                valueSize: valSize, operations: txnOps), name: "txn-put")
        }
    }

    struct LeaseKeepAlive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lease-keepalive",
            abstract: "Lease keep-alives, each on a stream of its own, for one lease per client (etcd's `benchmark lease-keepalive`).")
        @OptionGroup var load: Load
        @Option(help: "The TTL, in seconds, of the lease each client grants before the run.") var ttl: Int64 = 100

        func validate() throws {
            guard ttl >= 1 else { throw ValidationError("--ttl must be at least 1 second, not \(ttl)") }
        }

        func run() async throws { try await load.run(.leaseKeepAlive(ttlSeconds: ttl), name: "lease-keepalive") }
    }

    struct WatchLatencyCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "watch-latency",
            abstract: "Watchers on one key and puts to it; the delay from each put's send to each watcher's event (etcd's `benchmark watch-latency`).",
            discussion: "--clients and --total are not used: the puts come from one client (--put-total, --put-rate); --conns connections carry the watch streams. The key must be the run's alone.")
        @OptionGroup var load: Load
        @Option(help: "The key the watchers watch and the puts write.") var watchedKey = "bench-watch-key"
        @Option(help: "Bytes per value.") var valSize = 32
        @Option(help: "Watch streams.") var streams = 10
        @Option(help: "Watchers on each stream.") var watchersPerStream = 10
        @Option(help: "Puts to the key.") var putTotal = 1_000
        @Option(help: "Puts per second (0: as fast as answered).") var putRate = 100
        @Flag(help: "Watchers ask for the previous key-value.") var prevkv = false

        func validate() throws {
            for (flag, value) in [("--streams", streams), ("--watchers-per-stream", watchersPerStream), ("--put-total", putTotal)]
            where value < 1 {
                throw ValidationError("\(flag) must be at least 1, not \(value)")
            }
            guard putRate >= 0 else { throw ValidationError("--put-rate must be 0 or more, not \(putRate)") }
            guard valSize >= 0 else { throw ValidationError("--val-size must be 0 or more, not \(valSize)") }
            guard !watchedKey.isEmpty else { throw ValidationError("--watched-key must not be empty") }
        }

        func run() async throws {
            let run = WatchLatency(key: watchedKey, valueSize: valSize, streams: streams, watchersPerStream: watchersPerStream,
                puts: putTotal, putRate: putRate > 0 ? putRate : nil, prevKV: prevkv)
            let result: WatchLatency.Result
            do {
                result = try await run.run(endpoints: load.endpointList, access: load.client.access, connections: load.conns)
            } catch {
                throw CommandFailure.exit(error)
            }
            let watchers = streams * watchersPerStream
            let summary = WatchLatencySummary(
                puts: BenchSummary(operation: "put", endpoint: load.endpoints, clients: 1, conns: 1, result: result.puts),
                events: BenchSummary(operation: "watch event (put sent to event received)", endpoint: load.endpoints,
                    clients: watchers, conns: load.conns, result: result.events))
            try load.report(summary, table: summary.puts.table + "\n" + summary.events.table,
                failed: summary.puts.failed + summary.events.failed)
        }
    }
}

/// A watch-latency run: the puts, and the events the watchers received (`clients` there is
/// the number of watchers).
struct WatchLatencySummary: Encodable {
    var puts: BenchSummary
    var events: BenchSummary
}

private func checkKeys(keySize: Int, keySpaceSize: Int, valSize: Int) throws {
    guard keySize >= 1 else { throw ValidationError("--key-size must be at least 1, not \(keySize)") }
    guard keySpaceSize >= 1 else { throw ValidationError("--key-space-size must be at least 1, not \(keySpaceSize)") }
    guard valSize >= 0 else { throw ValidationError("--val-size must be 0 or more, not \(valSize)") }
}

/// A run's figures, in the table etcd's benchmark prints and as JSON.
struct BenchSummary: Encodable {
    struct Percentiles: Encodable {
        var p50, p90, p99, p999, max: Double
    }

    var operation: String
    var endpoint: String
    var clients: Int
    var conns: Int
    var succeeded: Int
    var failed: Int
    var seconds: Double
    var requestsPerSecond: Double
    var latencyMs: Percentiles
    var averageMs: Double
    var fastestMs: Double
    var errors: [String: Int]

    init(operation: String, endpoint: String, clients: Int, conns: Int, result: LoadResult) {
        self.operation = operation
        self.endpoint = endpoint
        self.clients = clients
        self.conns = conns
        succeeded = result.succeeded
        failed = result.failed
        seconds = Double(result.elapsed.components.seconds) + Double(result.elapsed.components.attoseconds) / 1e18
        requestsPerSecond = result.operationsPerSecond
        let histogram = result.latencies
        func ms(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1e6 }
        latencyMs = Percentiles(p50: ms(histogram.value(atPercentile: 50)), p90: ms(histogram.value(atPercentile: 90)),
            p99: ms(histogram.value(atPercentile: 99)), p999: ms(histogram.value(atPercentile: 99.9)), max: ms(histogram.maximum))
        averageMs = histogram.meanNanoseconds / 1e6
        fastestMs = histogram.count > 0 ? ms(histogram.minimum) : 0
        errors = result.errors
    }

    var table: String {
        var lines = [
            "\(operation): \(succeeded) ok, \(failed) failed, \(clients) clients over \(conns) connections to \(endpoint)",
            String(format: "  total        %.3f s", seconds),
            String(format: "  requests/s   %.1f", requestsPerSecond),
            String(format: "  latency ms   p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f", latencyMs.p50, latencyMs.p90,
                latencyMs.p99, latencyMs.p999, latencyMs.max),
            String(format: "  average ms   %.3f (fastest %.3f)", averageMs, fastestMs),
        ]
        for (message, count) in errors.sorted(by: { $0.value > $1.value }) { lines.append("  error ×\(count): \(message)") }
        return lines.joined(separator: "\n")
    }
}
