/// One of a bbolt file's two meta pages (page 0 and page 1), decoded and validated.
///
/// Layout after the 16-byte page header (bbolt `internal/common/meta.go`, all host-endian):
/// magic u32, version u32, pageSize u32, flags u32, root bucket {root pgid u64, sequence u64},
/// freelist pgid u64, high-water-mark pgid u64, txid u64, checksum u64. The checksum is FNV-1a 64
/// over the 56 bytes before it. A commit rewrites the meta page `txid % 2`, so the newer valid
/// one wins and the other is the fallback if a crash tore the newer write.
struct BoltMeta: Sendable, Equatable {
    static let magic: UInt32 = 0xED0C_DAED
    static let version: UInt32 = 2
    /// bbolt probes page sizes from 1 KiB to 16 MiB when page 0 is unreadable; so do we.
    static let pageSizeRange = 1024...(16 << 20)
    static let checksumOffset = 56
    static let bytes = 64

    let pageSize: Int
    let rootPgid: UInt64
    let highWaterMark: UInt64
    let txid: UInt64

    /// Why a meta page was rejected.
    enum Problem: Error, Equatable {
        case beyondEnd(offset: Int)
        case badMagic(UInt32)
        case byteSwapped
        case badVersion(UInt32)
        case badChecksum(stored: UInt64, computed: UInt64)
        case badPageSize(UInt32)

        /// Whether the bytes look like any bbolt meta page at all.
        var hasMagic: Bool {
            switch self {
            case .beyondEnd, .badMagic: false
            case .byteSwapped, .badVersion, .badChecksum, .badPageSize: true
            }
        }

        var description: String {
            switch self {
            case .beyondEnd(let offset):
                "the file is too short to hold a meta page at offset \(offset)"
            case .badMagic(let magic):
                "magic is 0x\(String(magic, radix: 16)), not 0xed0cdaed"
            case .byteSwapped:
                "magic is byte-swapped: a big-endian (s390x) database, which this reader does not support"
            case .badVersion(let version):
                "format version \(version), only version 2 is supported"
            case .badChecksum(let stored, let computed):
                "checksum 0x\(String(stored, radix: 16)) does not match contents (0x\(String(computed, radix: 16)))"
            case .badPageSize(let size):
                "page size \(size) is outside \(BoltMeta.pageSizeRange)"
            }
        }
    }

    /// Decodes the meta page whose page header starts at `pageOffset`.
    static func read(from file: MappedFile, pageOffset: Int) -> Result<BoltMeta, Problem> {
        let start = pageOffset + BoltNode.headerBytes
        guard file.contains(pageOffset..<(start + bytes)) else { return .failure(.beyondEnd(offset: pageOffset)) }
        let magic = file.uint32(at: start)
        guard magic == Self.magic else {
            return .failure(magic == Self.magic.byteSwapped ? .byteSwapped : .badMagic(magic))
        }
        let version = file.uint32(at: start + 4)
        guard version == Self.version else { return .failure(.badVersion(version)) }
        let stored = file.uint64(at: start + checksumOffset)
        let computed = file.fnv1a64(start..<(start + checksumOffset))
        guard stored == computed else { return .failure(.badChecksum(stored: stored, computed: computed)) }
        let pageSize = file.uint32(at: start + 8)
        guard pageSizeRange.contains(Int(pageSize)) else { return .failure(.badPageSize(pageSize)) }
        return .success(
            BoltMeta(
                pageSize: Int(pageSize),
                rootPgid: file.uint64(at: start + 16),
                highWaterMark: file.uint64(at: start + 40),
                txid: file.uint64(at: start + 48)))
    }

    /// Picks the meta page to read the file by: of the valid ones, the one with the higher txid.
    static func select(in file: MappedFile) throws -> BoltMeta {
        let meta0 = read(from: file, pageOffset: 0)
        // Page 0 tells where page 1 is; if page 0 is damaged, find page 1 the way bbolt does.
        let pageSize: Int? =
            switch meta0 {
            case .success(let meta): meta.pageSize
            case .failure: probeSecondMeta(in: file)
            }
        guard let pageSize else {
            throw noValidMeta(in: file, meta0: meta0)
        }
        let meta1 = read(from: file, pageOffset: pageSize)
        let chosen: BoltMeta
        switch (meta0, meta1) {
        case (.success(let a), .success(let b)): chosen = a.txid >= b.txid ? a : b
        case (.success(let a), .failure): chosen = a
        case (.failure, .success(let b)): chosen = b
        case (.failure(let a), .failure(let b)):
            throw BoltError(
                code: .corrupt,
                message: "'\(file.path)': no valid meta page: page 0 at offset 0: \(a.description); "
                    + "page 1 at offset \(pageSize): \(b.description). Restore from another snapshot")
        }
        try chosen.checkFits(file)
        return chosen
    }

    private static func probeSecondMeta(in file: MappedFile) -> Int? {
        for shift in 0...14 {
            let offset = 1024 << shift
            guard offset + BoltNode.headerBytes + bytes <= file.count else { return nil }
            if case .success(let meta) = read(from: file, pageOffset: offset), meta.pageSize == offset {
                return offset
            }
        }
        return nil
    }

    private static func noValidMeta(in file: MappedFile, meta0: Result<BoltMeta, Problem>) -> BoltError {
        guard case .failure(let problem) = meta0 else {
            preconditionFailure("a valid page 0 always yields a page size")
        }
        if problem.hasMagic {
            return BoltError(
                code: .corrupt,
                message: "'\(file.path)': no valid meta page: page 0 at offset 0: \(problem.description); "
                    + "no valid page 1 at any page size from 1 KiB to 16 MiB. Restore from another snapshot")
        }
        return BoltError(
            code: .notBolt,
            message: "'\(file.path)' (\(file.count) bytes) is not a bbolt database: page 0 at offset 0: "
                + "\(problem.description), and no page 1 meta page was found. Expected the output of "
                + "`etcdctl snapshot save` or an etcd member's member/snap/db")
    }

    /// A meta page can be valid yet describe more file than there is: the file was truncated.
    private func checkFits(_ file: MappedFile) throws {
        let (needed, overflow) = highWaterMark.multipliedReportingOverflow(by: UInt64(pageSize))
        guard !overflow, needed <= UInt64(file.count) else {
            throw BoltError(
                code: .corrupt,
                message: "'\(file.path)' is truncated: meta page (txid \(txid)) says the database has "
                    + "\(highWaterMark) pages of \(pageSize) bytes, but only \(file.count) bytes are present. "
                    + "Copy the file again or take a new snapshot")
        }
        guard rootPgid >= 2, rootPgid < highWaterMark else {
            throw BoltError(
                code: .corrupt,
                message: "'\(file.path)': meta page (txid \(txid)) has root page id \(rootPgid), "
                    + "outside the data pages 2..<\(highWaterMark). Restore from another snapshot")
        }
    }
}
