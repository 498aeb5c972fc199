import Foundation

/// A Prometheus-style histogram of durations: counts per upper bound, sum and count. Storage
/// records its own disk latencies in the process-wide ones below; the server exports them as
/// etcd's `etcd_disk_*_duration_seconds` (the metrics etcd operators alert on).
public final class LatencyHistogram: @unchecked Sendable {
    /// etcd's buckets for both disk histograms: 1 ms doubling to 8.192 s.
    public static let etcdDiskBucketsSeconds: [Double] = (0..<14).map { 0.001 * pow(2, Double($0)) }

    public struct Snapshot: Sendable, Equatable {
        /// Cumulative counts, one per bound in ``LatencyHistogram/boundsSeconds``.
        public var cumulativeCounts: [Int]
        public var count: Int
        public var sumSeconds: Double
    }

    public let boundsSeconds: [Double]
    private let lock = NSLock()
    private var counts: [Int]
    private var count = 0
    private var sumSeconds = 0.0

    public init(boundsSeconds: [Double]) {
        self.boundsSeconds = boundsSeconds
        counts = Array(repeating: 0, count: boundsSeconds.count)
    }

    public func observe(_ duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        lock.withLock {
            if let bucket = boundsSeconds.firstIndex(where: { seconds <= $0 }) { counts[bucket] += 1 }
            count += 1
            sumSeconds += seconds
        }
    }

    public var snapshot: Snapshot {
        lock.withLock {
            var running = 0
            let cumulative = counts.map { value in
                running += value
                return running
            }
            return Snapshot(cumulativeCounts: cumulative, count: count, sumSeconds: sumSeconds)
        }
    }
}

/// The process's storage latencies (one process serves one member).
public enum StorageMetrics {
    /// Each WAL fdatasync: `etcd_disk_wal_fsync_duration_seconds`.
    public static let walFsync = LatencyHistogram(boundsSeconds: LatencyHistogram.etcdDiskBucketsSeconds)
    /// Each backend write-batch commit: `etcd_disk_backend_commit_duration_seconds`.
    public static let backendCommit = LatencyHistogram(boundsSeconds: LatencyHistogram.etcdDiskBucketsSeconds)
}
