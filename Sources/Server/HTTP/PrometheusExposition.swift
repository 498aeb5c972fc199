import Foundation
import Storage

/// `/metrics`: the member's state in the Prometheus text format, under etcd's metric names
/// where etcd has them, read fresh at each scrape.
struct PrometheusExposition: Sendable {
    let server: EtcdServer

    func text() async -> String {
        var out = Lines()
        let raft = await server.host.status
        let leaderChanges = await server.host.leaderChangesSeen
        let store = try? server.store.status()
        out.gauge("etcd_server_has_leader", "Whether a leader exists: 1 is existence, 0 is not.", raft.leader != 0 ? 1 : 0)
        out.gauge("etcd_server_is_leader", "Whether this member is the leader.", raft.leader == server.identity.memberID ? 1 : 0)
        out.gauge("etcd_server_is_learner", "Whether this member is a learner.", raft.isLearner ? 1 : 0)
        out.counter("etcd_server_leader_changes_seen_total", "The number of leader changes seen.", leaderChanges)
        out.gauge("etcd_server_id", "Server or member ID in hexadecimal format.", 1,
            labels: ["server_id": String(server.identity.memberID, radix: 16)])
        out.gauge("etcd_server_version", "Which version is running.", 1, labels: ["server_version": EtcdServer.reportedVersion])
        out.counter("etcd_server_proposals_committed_total", "The total number of consensus proposals committed.",
            Int(raft.commitIndex))
        out.counter("etcd_server_proposals_applied_total", "The total number of consensus proposals applied.",
            Int(raft.appliedIndex))
        out.gauge("etcd_server_proposals_pending", "The current number of pending proposals to commit.",
            Int(raft.commitIndex >= raft.appliedIndex ? raft.commitIndex - raft.appliedIndex : 0))
        out.counter("etcd_server_proposals_failed_total", "The total number of failed proposals seen.",
            server.counters.proposalsFailed)
        out.gauge("etcd_server_term", "The raft term of this member.", Int(raft.term))
        if let store {
            out.gauge("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.",
                store.sizeBytes)
            out.gauge("etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.",
                store.sizeInUseBytes)
            out.gauge("etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.", store.quotaBytes)
            out.gauge("etcd_debugging_mvcc_current_revision", "The current revision of store.", Int(store.revision))
            out.gauge("etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.",
                Int(store.compactRevision))
        }
        let alarms = (try? server.store.alarms()) ?? []
        out.gauge("cairn_server_alarms", "Active alarms by kind.", alarms.filter { $0.kind == .noSpace }.count,
            labels: ["alarm": "NOSPACE"])
        out.sample("cairn_server_alarms", alarms.filter { $0.kind == .corrupt }.count, labels: ["alarm": "CORRUPT"])

        let started = server.counters.startedCalls
        out.header("grpc_server_started_total", "Total number of RPCs started on the server.", type: "counter")
        for (call, count) in started.sorted(by: { ($0.key.service, $0.key.method) < ($1.key.service, $1.key.method) }) {
            out.sample("grpc_server_started_total", count, labels: Self.labels(call))
        }
        out.header("grpc_server_handled_total", "Total number of RPCs completed on the server, regardless of success or failure.",
            type: "counter")
        for (call, codes) in server.counters.handledCalls.sorted(by: { ($0.key.service, $0.key.method) < ($1.key.service, $1.key.method) }) {
            for (code, count) in codes.sorted(by: { $0.key < $1.key }) {
                out.sample("grpc_server_handled_total", count, labels: Self.labels(call).merging(["grpc_code": code]) { $1 })
            }
        }
        let handlingTimes = server.counters.handlingTimes
        out.header("grpc_server_handling_seconds",
            "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
            type: "histogram")
        for (call, histogram) in handlingTimes.sorted(by: { ($0.key.service, $0.key.method) < ($1.key.service, $1.key.method) }) {
            out.histogramSamples("grpc_server_handling_seconds", histogram, labels: Self.labels(call))
        }
        out.histogram("etcd_disk_wal_fsync_duration_seconds", "The latency distributions of fsync called by WAL.",
            StorageMetrics.walFsync)
        out.histogram("etcd_disk_backend_commit_duration_seconds", "The latency distributions of commit called by backend.",
            StorageMetrics.backendCommit)
        Self.processMetrics(into: &out)
        return out.text
    }

    private static func labels(_ call: ServerCounters.Call) -> [String: String] {
        ["grpc_type": call.type, "grpc_service": call.service, "grpc_method": call.method]
    }

    /// The standard process collector's resident memory and open descriptors, from /proc.
    private static func processMetrics(into out: inout Lines) {
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        {
            out.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", pages * Int(sysconf(Int32(_SC_PAGESIZE))))
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            out.gauge("process_open_fds", "Number of open file descriptors.", descriptors.count)
        }
    }

    /// The exposition lines: HELP and TYPE once per metric, then its samples.
    struct Lines {
        private(set) var text = ""

        mutating func header(_ name: String, _ help: String, type: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }

        mutating func sample(_ name: String, _ value: Int, labels: [String: String] = [:]) {
            text += "\(name)\(Self.render(labels)) \(value)\n"
        }

        /// `{a="1",b="2"}`, sorted by name; empty without labels.
        private static func render(_ labels: [String: String]) -> String {
            labels.isEmpty ? "" : "{" + labels.sorted { $0.key < $1.key }
                .map { "\($0.key)=\"\(escape($0.value))\"" }.joined(separator: ",") + "}"
        }

        mutating func gauge(_ name: String, _ help: String, _ value: Int, labels: [String: String] = [:]) {
            header(name, help, type: "gauge")
            sample(name, value, labels: labels)
        }

        mutating func histogram(_ name: String, _ help: String, _ histogram: LatencyHistogram) {
            header(name, help, type: "histogram")
            histogramSamples(name, histogram)
        }

        /// One histogram's buckets, sum and count, each with `labels`.
        mutating func histogramSamples(_ name: String, _ histogram: LatencyHistogram, labels: [String: String] = [:]) {
            let snapshot = histogram.snapshot
            func rendered(_ extra: [String: String]) -> String { Self.render(labels.merging(extra) { $1 }) }
            for (bound, count) in zip(histogram.boundsSeconds, snapshot.cumulativeCounts) {
                text += "\(name)_bucket\(rendered(["le": "\(bound)"])) \(count)\n"
            }
            text += "\(name)_bucket\(rendered(["le": "+Inf"])) \(snapshot.count)\n"
            text += "\(name)_sum\(rendered([:])) \(snapshot.sumSeconds)\n\(name)_count\(rendered([:])) \(snapshot.count)\n"
        }

        mutating func counter(_ name: String, _ help: String, _ value: Int) {
            header(name, help, type: "counter")
            sample(name, value)
        }

        private static func escape(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
        }
    }
}
