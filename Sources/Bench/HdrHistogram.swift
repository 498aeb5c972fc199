/// Latencies recorded into log-linear buckets, in the manner of HdrHistogram: each power of two
/// is split into 128 sub-buckets, so any recorded value is known to within 0.8 % while the
/// histogram stays a fixed 7,424 counters whatever the range (1 ns to centuries). Percentiles
/// read back the middle of their bucket.
public struct HdrHistogram: Sendable, Equatable {
    private static let subBucketBits = 7
    private static let subBuckets = 1 << subBucketBits

    private var counts = [Int](repeating: 0, count: (64 - subBucketBits + 1) * subBuckets)
    public private(set) var count = 0
    public private(set) var minimum: UInt64 = .max
    public private(set) var maximum: UInt64 = 0
    private var sum: Double = 0

    public init() {}

    public mutating func record(nanoseconds value: UInt64) {
        counts[Self.index(of: value)] += 1
        count += 1
        minimum = min(minimum, value)
        maximum = max(maximum, value)
        sum += Double(value)
    }

    public mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        record(nanoseconds: UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000))
    }

    public mutating func merge(_ other: HdrHistogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
        count += other.count
        minimum = min(minimum, other.minimum)
        maximum = max(maximum, other.maximum)
        sum += other.sum
    }

    public var meanNanoseconds: Double { count == 0 ? 0 : sum / Double(count) }

    /// The value below which `percentile` percent of the recorded values lie (the exact
    /// maximum for 100).
    public func value(atPercentile percentile: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        if percentile >= 100 { return maximum }
        let target = max(1, Int((percentile / 100 * Double(count)).rounded(.up)))
        var seen = 0
        for (index, bucketCount) in counts.enumerated() where bucketCount > 0 {
            seen += bucketCount
            if seen >= target { return min(maximum, max(minimum, Self.middle(of: index))) }
        }
        return maximum
    }

    static func index(of value: UInt64) -> Int {
        guard value >= UInt64(subBuckets) else { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount
        let shift = exponent - subBucketBits
        let sub = Int((value >> UInt64(shift)) & UInt64(subBuckets - 1))
        return (shift + 1) * subBuckets + sub
    }

    static func middle(of index: Int) -> UInt64 {
        guard index >= subBuckets else { return UInt64(index) }
        let shift = index / subBuckets - 1
        let sub = UInt64(index % subBuckets)
        let low = (UInt64(subBuckets) + sub) << UInt64(shift)
        return low + (UInt64(1) << UInt64(shift)) / 2
    }
}
