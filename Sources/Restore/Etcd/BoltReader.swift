/// Walks the B+trees of one mapped bbolt file: resolves page ids and buckets, looks keys up and
/// iterates in key order.
///
/// Every walk is bounded whatever the file says: at most `maxDepth` levels, at most as many node
/// visits as the file has pages, and keys must come out strictly ordered, so a page referenced
/// twice (a cycle, or two subtrees sharing a page) surfaces as a `corrupt` error, never as an
/// endless or exponential walk.
struct BoltReader {
    /// Far above any real tree: a bbolt tree of 2^64 keys with two keys per page is 64 levels.
    static let maxDepth = 64

    let file: MappedFile
    let meta: BoltMeta

    /// The root bucket's node, from the selected meta page.
    func rootNode() throws -> BoltNode {
        try page(meta.rootPgid, referencedBy: "the meta page (txid \(meta.txid))")
    }

    /// The node at `pgid`, a branch or leaf page. `referencedBy` says where the id came from.
    func page(_ pgid: UInt64, referencedBy: String) throws -> BoltNode {
        guard pgid >= 2, pgid < meta.highWaterMark else {
            throw BoltNode.corrupt(
                file,
                "page id \(pgid), referenced by \(referencedBy), is beyond the database's \(meta.highWaterMark) "
                    + "pages of \(meta.pageSize) bytes (\(file.count) bytes) or names a meta page")
        }
        // pgid < highWaterMark and highWaterMark * pageSize <= file.count (checked on open): no overflow.
        let offset = Int(pgid) * meta.pageSize
        let storedId = file.uint64(at: offset)
        guard storedId == pgid else {
            throw BoltNode.corrupt(
                file, "page \(pgid) at offset \(offset), referenced by \(referencedBy), identifies itself as page \(storedId)")
        }
        let overflow = UInt64(file.uint32(at: offset + 12))
        guard pgid + 1 + overflow <= meta.highWaterMark else {
            throw BoltNode.corrupt(
                file, "page \(pgid) at offset \(offset) claims \(overflow) overflow pages, running past the database's "
                    + "\(meta.highWaterMark) pages")
        }
        let end = offset + Int(1 + overflow) * meta.pageSize
        return try BoltNode(file: file, pgid: pgid, isInline: false, bytes: offset..<end)
    }

    /// The root node of the bucket stored at `element` of `node`, an inline page or a page id.
    func bucketRoot(of element: BoltNode.LeafElement, in node: BoltNode, name: String) throws -> BoltNode {
        guard element.value.count >= BoltNode.bucketHeaderBytes else {
            throw node.corrupt(
                file, element.value.lowerBound,
                "bucket '\(name)' header is \(element.value.count) bytes, expected at least \(BoltNode.bucketHeaderBytes)")
        }
        let rootPgid = file.uint64(at: element.value.lowerBound)
        if rootPgid == 0 {
            let inline = (element.value.lowerBound + BoltNode.bucketHeaderBytes)..<element.value.upperBound
            return try BoltNode(file: file, pgid: node.pgid, isInline: true, bytes: inline)
        }
        return try page(rootPgid, referencedBy: "bucket '\(name)' in \(node.location)")
    }

    /// The root node of the bucket at `path` (empty: the root bucket).
    func bucket(at path: [String]) throws -> BoltNode {
        var node = try rootNode()
        for (depth, name) in path.enumerated() {
            let parent = depth == 0 ? "the root bucket" : "bucket '\(path[..<depth].joined(separator: "/"))'"
            guard let (holder, element) = try find(Array(name.utf8), from: node) else {
                throw BoltError(code: .missingBucket, message: "'\(file.path)': no bucket '\(name)' in \(parent)")
            }
            guard element.isBucket else {
                throw BoltError(
                    code: .missingBucket, message: "'\(file.path)': '\(name)' in \(parent) is a key, not a bucket")
            }
            node = try bucketRoot(of: element, in: holder, name: name)
        }
        return node
    }

    /// The leaf element whose key equals `key` in the tree under `root`, with the node holding it.
    func find(_ key: [UInt8], from root: BoltNode) throws -> (BoltNode, BoltNode.LeafElement)? {
        var node = root
        for _ in 0..<Self.maxDepth {
            switch node.kind {
            case .leaf:
                var low = 0
                var high = node.count
                while low < high {
                    let middle = (low + high) / 2
                    let element = try node.leafElement(middle, in: file)
                    let order = file.compare(element.key, key)
                    if order == 0 { return (node, element) }
                    if order < 0 { low = middle + 1 } else { high = middle }
                }
                return nil
            case .branch:
                // Follow the last child whose first key is <= key; smaller keys belong to the first child.
                var low = 0
                var high = node.count
                while low < high {
                    let middle = (low + high) / 2
                    if file.compare(try node.branchElement(middle, in: file).key, key) <= 0 {
                        low = middle + 1
                    } else {
                        high = middle
                    }
                }
                let element = try node.branchElement(max(low - 1, 0), in: file)
                node = try page(element.child, referencedBy: "branch element \(element.index) of \(node.location)")
            }
        }
        throw node.corrupt(file, node.bytes.lowerBound, Self.tooDeep)
    }

    /// Visits every leaf element under `root` in key order (descending when `reverse`) until
    /// `visit` returns false.
    func walk(
        from root: BoltNode, reverse: Bool,
        _ visit: (BoltNode, BoltNode.LeafElement) throws -> Bool
    ) throws {
        var state = WalkState(pagesLeft: meta.highWaterMark, previousLeafLastKey: nil)
        _ = try walk(root, depth: 1, reverse: reverse, state: &state, visit)
    }

    private struct WalkState {
        var pagesLeft: UInt64
        /// The last key of the previous leaf, copied: that leaf's pages may have been evicted.
        var previousLeafLastKey: [UInt8]?
    }

    private static let tooDeep =
        "tree deeper than \(maxDepth) levels: a page refers back to an ancestor, or the tree is damaged"

    private func walk(
        _ node: BoltNode, depth: Int, reverse: Bool, state: inout WalkState,
        _ visit: (BoltNode, BoltNode.LeafElement) throws -> Bool
    ) throws -> Bool {
        guard depth <= Self.maxDepth else {
            throw node.corrupt(file, node.bytes.lowerBound, Self.tooDeep)
        }
        guard state.pagesLeft > 0 else {
            throw node.corrupt(
                file, node.bytes.lowerBound,
                "walk visited more nodes than the database's \(meta.highWaterMark) pages: "
                    + "a page is referenced more than once (a cycle or shared subtree)")
        }
        state.pagesLeft -= 1
        switch node.kind {
        case .leaf:
            return try walkLeaf(node, reverse: reverse, state: &state, visit)
        case .branch:
            for step in 0..<node.count {
                let index = reverse ? node.count - 1 - step : step
                let element = try node.branchElement(index, in: file)
                let child = try page(element.child, referencedBy: "branch element \(index) of \(node.location)")
                guard try walk(child, depth: depth + 1, reverse: reverse, state: &state, visit) else { return false }
            }
            return true
        }
    }

    private func walkLeaf(
        _ node: BoltNode, reverse: Bool, state: inout WalkState,
        _ visit: (BoltNode, BoltNode.LeafElement) throws -> Bool
    ) throws -> Bool {
        var previous: Range<Int>?
        for step in 0..<node.count {
            let element = try node.leafElement(reverse ? node.count - 1 - step : step, in: file)
            // Keys must strictly increase (decrease in reverse) within the leaf and across leaves.
            let order =
                previous.map { file.compare(element.key, $0) }
                ?? state.previousLeafLastKey.map { file.compare(element.key, $0) }
            if let order, reverse ? order >= 0 : order <= 0 {
                throw node.corrupt(
                    file, element.key.lowerBound,
                    "leaf element \(element.index) key is out of order with the key before it: the tree is damaged "
                        + "or a page is referenced twice")
            }
            previous = element.key
            guard try visit(node, element) else { return false }
        }
        if let previous {
            state.previousLeafLastKey = file.bytes(previous)
        }
        if !node.isInline {
            file.evict(node.bytes)
        }
        return true
    }
}
