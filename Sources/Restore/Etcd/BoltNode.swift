/// One B+tree node of a bbolt file: a branch or leaf page (with its overflow pages), or the leaf
/// page embedded in an inline bucket's value.
///
/// Page header (bbolt `internal/common/page.go`): id u64, flags u16, count u16, overflow u32.
/// `count` fixed-size elements follow; each element's `pos` is relative to that element's own
/// address, and keys and values sit after the element table, inside the node's bytes. A node
/// with `overflow` n spans n + 1 contiguous pages, which is how bbolt stores large values.
///
/// Construction validates the header and that the element table fits; element accessors validate
/// each element's key and value ranges. Nothing outside `bytes` is ever read.
struct BoltNode {
    static let headerBytes = 16
    static let elementBytes = 16
    static let branchFlag: UInt16 = 0x01
    static let leafFlag: UInt16 = 0x02
    /// Leaf element flag marking the value as a nested bucket header, not a user value.
    static let bucketLeafFlag: UInt32 = 0x01
    /// Bucket header inside a bucket entry's value: root pgid u64, sequence u64.
    static let bucketHeaderBytes = 16

    enum Kind { case branch, leaf }

    let kind: Kind
    /// The page, or for an inline bucket the page holding the bucket's entry.
    let pgid: UInt64
    let isInline: Bool
    /// File offsets of the node's bytes, page header first.
    let bytes: Range<Int>
    let count: Int

    /// A leaf element: a key and either a value or (when `isBucket`) a nested bucket header.
    struct LeafElement {
        let index: Int
        let isBucket: Bool
        let key: Range<Int>
        let value: Range<Int>
    }

    /// A branch element: the first key of a child subtree and the child's page id.
    struct BranchElement {
        let index: Int
        let key: Range<Int>
        let child: UInt64
    }

    /// Where this node is, for error messages.
    var location: String {
        isInline
            ? "inline bucket page in page \(pgid) at offset \(bytes.lowerBound)"
            : "page \(pgid) at offset \(bytes.lowerBound)"
    }

    /// Decodes the node whose header starts at `bytes.lowerBound`. `bytes` must lie in the file.
    init(file: MappedFile, pgid: UInt64, isInline: Bool, bytes: Range<Int>) throws {
        precondition(file.contains(bytes), "node range outside the mapping")
        self.pgid = pgid
        self.isInline = isInline
        self.bytes = bytes
        let place = isInline ? "inline bucket page in page \(pgid)" : "page \(pgid)"
        guard bytes.count >= Self.headerBytes else {
            throw Self.corrupt(file, "\(place) at offset \(bytes.lowerBound): \(bytes.count) bytes, too short for a page header")
        }
        let flags = file.uint16(at: bytes.lowerBound + 8)
        switch flags {
        case Self.branchFlag where !isInline: kind = .branch
        case Self.leafFlag: kind = .leaf
        default:
            let expected = isInline ? "leaf (0x02)" : "branch (0x01) or leaf (0x02)"
            throw Self.corrupt(
                file, "\(place) at offset \(bytes.lowerBound): page flags 0x\(String(flags, radix: 16)), expected \(expected)")
        }
        count = Int(file.uint16(at: bytes.lowerBound + 10))
        // bbolt merges or removes a branch that loses its children; an empty one has no child to follow.
        guard kind == .leaf || count > 0 else {
            throw Self.corrupt(file, "\(place) at offset \(bytes.lowerBound): branch page with no elements")
        }
        let tableEnd = bytes.lowerBound + Self.headerBytes + count * Self.elementBytes
        guard tableEnd <= bytes.upperBound else {
            throw Self.corrupt(
                file, "\(place) at offset \(bytes.lowerBound): \(count) elements do not fit in its \(bytes.count) bytes")
        }
    }

    func leafElement(_ index: Int, in file: MappedFile) throws -> LeafElement {
        precondition(kind == .leaf && index >= 0 && index < count, "leaf element index out of range")
        let element = elementOffset(index)
        let flags = file.uint32(at: element)
        let keyStart = element + Int(file.uint32(at: element + 4))
        let keyEnd = keyStart + Int(file.uint32(at: element + 8))
        let valueEnd = keyEnd + Int(file.uint32(at: element + 12))
        guard valueEnd <= bytes.upperBound else {
            throw corrupt(
                file, element,
                "leaf element \(index) has key/value bytes \(keyStart)..<\(valueEnd) past the node end \(bytes.upperBound)")
        }
        return LeafElement(
            index: index, isBucket: flags & Self.bucketLeafFlag != 0, key: keyStart..<keyEnd, value: keyEnd..<valueEnd)
    }

    func branchElement(_ index: Int, in file: MappedFile) throws -> BranchElement {
        precondition(kind == .branch && index >= 0 && index < count, "branch element index out of range")
        let element = elementOffset(index)
        let keyStart = element + Int(file.uint32(at: element))
        let keyEnd = keyStart + Int(file.uint32(at: element + 4))
        guard keyEnd <= bytes.upperBound else {
            throw corrupt(
                file, element,
                "branch element \(index) has key bytes \(keyStart)..<\(keyEnd) past the node end \(bytes.upperBound)")
        }
        return BranchElement(index: index, key: keyStart..<keyEnd, child: file.uint64(at: element + 8))
    }

    private func elementOffset(_ index: Int) -> Int {
        bytes.lowerBound + Self.headerBytes + index * Self.elementBytes
    }

    /// A corruption error located in this node at byte `offset`.
    func corrupt(_ file: MappedFile, _ offset: Int, _ what: String) -> BoltError {
        let at = offset == bytes.lowerBound ? location : "\(location), byte offset \(offset)"
        return Self.corrupt(file, "\(at): \(what)")
    }

    static func corrupt(_ file: MappedFile, _ what: String) -> BoltError {
        BoltError(
            code: .corrupt,
            message: "'\(file.path)' is damaged: \(what). Restore from another snapshot or a healthy member's copy")
    }
}
