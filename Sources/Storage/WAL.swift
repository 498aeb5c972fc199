#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Raft

/// The write-ahead log: raft entries, hard states and snapshot markers in CRC-protected
/// segment files. An append returns only once its bytes are durable; appends that arrive
/// while a sync is running share the next one (group commit).
///
/// Opening replays every segment and checks every checksum. A frame cut short by a crash at
/// the end of the last segment is truncated and reported in ``WALReplay/tornTail``; damage
/// anywhere else fails the open with a ``StorageError/Code/walCorrupt`` error naming the
/// segment and offset, because dropping it would silently lose acknowledged writes.
public final class WAL: @unchecked Sendable {
    public let directory: String
    public let options: WALOptions

    private struct SegmentInfo {
        var sequence: UInt64
        var firstIndex: UInt64
        var path: String
    }

    private struct Append: Sendable {
        var bytes: [UInt8]
        /// The highest entry or snapshot index among the records.
        var maxIndex: UInt64
        var hardState: HardState?
        var snapshot: SnapshotMetadata?
        var completion: @Sendable (Result<Void, StorageError>) -> Void
    }

    private enum Job: Sendable {
        case append(Append)
        case release(@Sendable (Result<[String], StorageError>) -> Void)
    }

    private var worker: BatchWorker<Job>?

    // Touched only on the writer thread after init (and by close once the thread is gone).
    private var segments: [SegmentInfo]
    private var fd: Int32
    private var offset: Int
    /// Where the current segment's prologue (header and state) ends.
    private var prologueEnd: Int
    private var lastIndex: UInt64
    private var hardState: HardState
    private var snapshot: SnapshotMetadata
    private var metadata: [UInt8]
    /// Set once a write or sync fails: what is on disk is then unknown, so nothing more is
    /// acknowledged.
    private var failure: StorageError?

    private init(directory: String, options: WALOptions, replay: WALReplay, segments: [SegmentInfo]) {
        self.directory = directory
        self.options = options
        self.segments = segments
        self.fd = -1
        self.offset = 0
        self.prologueEnd = 0
        self.lastIndex = replay.lastIndex
        self.hardState = replay.hardState
        self.snapshot = replay.snapshot
        self.metadata = replay.metadata
    }

    /// Opens the WAL in `directory`, creating the directory and a first segment (with
    /// `options.metadata`) if there is none, and returns what it holds.
    public static func open(directory: String, options: WALOptions = WALOptions()) throws(StorageError) -> (WAL, WALReplay) {
        try FileIO.makeDirectory(directory)
        var sequences: [UInt64] = []
        for name in try FileIO.list(directory) {
            if name.hasSuffix(".wal.tmp") {
                unlink(directory + "/" + name)
            } else if let sequence = WALSegment.sequence(fromFileName: name) {
                sequences.append(sequence)
            }
        }
        sequences.sort()
        guard !sequences.isEmpty else {
            let replay = WALReplay(metadata: options.metadata)
            let wal = WAL(directory: directory, options: options, replay: replay, segments: [])
            try wal.startSegment(sequence: 1)
            wal.startWorker()
            return (wal, replay)
        }

        var replay = WALReplay(metadata: [])
        var infos: [SegmentInfo] = []
        var lastEnd = WALSegment.End.open(offset: 0)
        var lastSize = 0
        for (position, sequence) in sequences.enumerated() {
            let path = directory + "/" + WALSegment.fileName(sequence: sequence)
            if position > 0, sequence != sequences[position - 1] + 1 {
                throw StorageError(.walCorrupt, "WAL segment \(path) follows segment \(sequences[position - 1]): the segments between are missing")
            }
            let bytes = try readFile(path)
            let (header, end) = try WALSegment.scan(bytes, path: path, isLast: position == sequences.count - 1) {
                record, offset throws(StorageError) in
                try replay.apply(record, segmentPath: path, offset: offset)
            }
            guard header.sequence == sequence else {
                throw StorageError(.walCorrupt, "WAL segment \(path) is corrupt at offset 0: its header says sequence \(header.sequence)")
            }
            if position == 0 { replay.metadata = header.metadata }
            infos.append(SegmentInfo(sequence: sequence, firstIndex: header.firstIndex, path: path))
            lastEnd = end
            lastSize = bytes.count
        }

        try replay.finish(directory: directory)
        let wal = WAL(directory: directory, options: options, replay: replay, segments: infos)
        let last = infos[infos.count - 1]
        switch lastEnd {
        case .sealed:
            // The crash came between sealing a full segment and creating the next one.
            try wal.startSegment(sequence: last.sequence + 1)
        case .open(let offset):
            try wal.resume(last, at: offset)
        case .torn(let offset):
            try repairTornTail(last.path, at: offset, segmentSizeBytes: options.segmentSizeBytes)
            replay.tornTail = WALReplay.TornTail(segmentPath: last.path, offset: offset, discardedBytes: lastSize - offset)
            try wal.resume(last, at: offset)
        }
        wal.startWorker()
        return (wal, replay)
    }

    private static func readFile(_ path: String) throws(StorageError) -> [UInt8] {
        let fd = try FileIO.open(path, flags: O_RDONLY)
        defer { FileIO.close(fd) }
        return try FileIO.read(fd, count: FileIO.size(fd, path: path), at: 0, path: path)
    }

    /// Cuts the file at `offset` and zero-fills it back to its preallocated size, durably, so
    /// the next open sees a clean end instead of the same torn frame.
    private static func repairTornTail(_ path: String, at offset: Int, segmentSizeBytes: Int) throws(StorageError) {
        let fd = try FileIO.open(path, flags: O_RDWR)
        defer { FileIO.close(fd) }
        try FileIO.truncate(fd, sizeBytes: offset, path: path)
        try FileIO.preallocate(fd, sizeBytes: max(offset, segmentSizeBytes), path: path)
        try FileIO.sync(fd, path)
    }

    private func resume(_ segment: SegmentInfo, at offset: Int) throws(StorageError) {
        fd = try FileIO.open(segment.path, flags: O_RDWR)
        self.offset = offset
        prologueEnd = offset
    }

    private func startWorker() {
        worker = BatchWorker(name: "cairn-wal-writer", maxBatchCount: options.maxBatchCount) { [self] jobs in
            process(jobs)
        }
    }

    /// Creates segment `sequence` under a temporary name, makes it durable, then renames it:
    /// a crash never leaves a half-written header under a segment name.
    private func startSegment(sequence: UInt64) throws(StorageError) {
        let path = directory + "/" + WALSegment.fileName(sequence: sequence)
        let temporaryPath = path + ".tmp"
        var bytes = WALSegment.encodeHeader(
            WALSegment.Header(sequence: sequence, firstIndex: lastIndex + 1, metadata: metadata))
        if snapshot.index > 0 {
            WALSegment.appendFrame(.snapshot(snapshot), to: &bytes)
        }
        if !hardState.isEmpty {
            WALSegment.appendFrame(.hardState(hardState), to: &bytes)
        }
        let newFD = try FileIO.open(temporaryPath, flags: O_RDWR | O_CREAT | O_TRUNC)
        do throws(StorageError) {
            try FileIO.preallocate(newFD, sizeBytes: max(options.segmentSizeBytes, bytes.count), path: temporaryPath)
            try FileIO.write(newFD, bytes, at: 0, path: temporaryPath)
            try FileIO.sync(newFD, temporaryPath)
            guard rename(temporaryPath, path) == 0 else { throw FileIO.error("rename \(temporaryPath) to", path) }
            try FileIO.syncDirectory(directory)
        } catch {
            FileIO.close(newFD)
            unlink(temporaryPath)
            throw error
        }
        if fd >= 0 { FileIO.close(fd) }
        fd = newFD
        offset = bytes.count
        prologueEnd = bytes.count
        segments.append(SegmentInfo(sequence: sequence, firstIndex: lastIndex + 1, path: path))
    }

    // MARK: appending

    /// Appends `records` and calls `completion` (on the WAL's writer thread) once they are
    /// durable. Records of one call stay together and in order; calls are written in the
    /// order they were made.
    public func append(_ records: [WALRecord], completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        var append = Append(bytes: [], maxIndex: 0, completion: completion)
        for record in records {
            WALSegment.appendFrame(record, to: &append.bytes)
            switch record {
            case .entry(let entry): append.maxIndex = max(append.maxIndex, entry.index)
            case .hardState(let state): append.hardState = state
            case .snapshot(let metadata):
                append.snapshot = metadata
                append.maxIndex = max(append.maxIndex, metadata.index)
            }
        }
        guard let worker, worker.submit(.append(append)) else {
            completion(.failure(StorageError(.closed, "the WAL in \(directory) is closed")))
            return
        }
    }

    /// Appends `records` and returns once they are durable.
    public func append(_ records: [WALRecord]) async throws(StorageError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StorageError>, Never>) in
            append(records) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// Deletes the segments that hold nothing after the latest durable snapshot marker, and
    /// returns their paths. Call only once the state machine durably covers that snapshot.
    public func releaseSegments() async throws(StorageError) -> [String] {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[String], StorageError>, Never>) in
            guard let worker, worker.submit(.release({ continuation.resume(returning: $0) })) else {
                continuation.resume(returning: .failure(StorageError(.closed, "the WAL in \(directory) is closed")))
                return
            }
        }
        return try result.get()
    }

    /// Writes what is queued, stops the writer thread and closes the current segment.
    public func close() {
        // `worker` stays set: appends racing with close find it closed and fail cleanly.
        worker?.close()
        if fd >= 0 {
            FileIO.close(fd)
            fd = -1
        }
    }

    // MARK: writer thread

    private func process(_ jobs: [Job]) {
        var appends: [Append] = []
        for job in jobs {
            switch job {
            case .append(let append):
                appends.append(append)
            case .release(let done):
                if !appends.isEmpty {
                    write(appends)
                    appends = []
                }
                done(release())
            }
        }
        if !appends.isEmpty { write(appends) }
    }

    private func write(_ appends: [Append]) {
        do throws(StorageError) {
            if let failure { throw failure }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(appends.reduce(0) { $0 + $1.bytes.count })
            for append in appends { bytes.append(contentsOf: append.bytes) }
            if offset + bytes.count > options.segmentSizeBytes, offset > prologueEnd {
                try rotate()
            }
            let path = segments[segments.count - 1].path
            try FileIO.write(fd, bytes, at: offset, path: path)
            Failpoint.crashBeforeWALFsync.crashIfArmed()
            let syncStarted = ContinuousClock.now
            try FileIO.sync(fd, path)
            StorageMetrics.walFsync.observe(ContinuousClock.now - syncStarted)
            Failpoint.crashAfterWALFsync.crashIfArmed()
            offset += bytes.count
            for append in appends {
                lastIndex = max(lastIndex, append.maxIndex)
                if let state = append.hardState { hardState = state }
                if let marker = append.snapshot { snapshot = marker }
            }
        } catch {
            failure = failure ?? error
            appends.forEach { $0.completion(.failure(error)) }
            return
        }
        appends.forEach { $0.completion(.success(())) }
    }

    /// Seals the full segment first: a crash after the seal but before the next segment exists
    /// is recognised on open (the next segment is created then).
    private func rotate() throws(StorageError) {
        let current = segments[segments.count - 1]
        let seal = WALSegment.sealFrame(nextSequence: current.sequence + 1)
        try FileIO.write(fd, seal, at: offset, path: current.path)
        try FileIO.sync(fd, current.path)
        try startSegment(sequence: current.sequence + 1)
    }

    /// A segment can go when the one after it starts at or before the entry following the
    /// snapshot: every entry it holds is then covered by the snapshot.
    private func release() -> Result<[String], StorageError> {
        var count = 0
        while count + 1 < segments.count, segments[count + 1].firstIndex <= snapshot.index + 1 {
            count += 1
        }
        guard count > 0 else { return .success([]) }
        var released: [String] = []
        for segment in segments.prefix(count) {
            guard unlink(segment.path) == 0 else {
                segments.removeFirst(released.count)
                return .failure(FileIO.error("delete released segment", segment.path))
            }
            released.append(segment.path)
        }
        segments.removeFirst(count)
        do throws(StorageError) { try FileIO.syncDirectory(directory) } catch { return .failure(error) }
        return .success(released)
    }
}
