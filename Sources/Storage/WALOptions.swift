/// How a ``WAL`` is created and written.
public struct WALOptions: Sendable, Hashable {
    /// Segments are preallocated to this size and a new one starts when it is full.
    public var segmentSizeBytes: Int
    /// Opaque bytes stored in every segment header of a new WAL (e.g. member and cluster id).
    public var metadata: [UInt8]
    /// At most this many appends share one `fdatasync`.
    public var maxBatchCount: Int

    public init(segmentSizeBytes: Int = 64 << 20, metadata: [UInt8] = [], maxBatchCount: Int = 1024) {
        self.segmentSizeBytes = segmentSizeBytes
        self.metadata = metadata
        self.maxBatchCount = maxBatchCount
    }
}
