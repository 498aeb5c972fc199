import API
import Foundation
import Storage

/// One watcher of a stream: what it watches and how far it has been sent. Its position is a
/// revision, so catching up means reading the store's history from there.
struct Watcher: Sendable {
    /// The keys a create request names, in etcd's `(key, range_end)` convention: an empty
    /// `range_end` is the single key, `"\0"` every key from `key` on, anything else `[key, range_end)`.
    enum Keys: Sendable, Equatable {
        case single([UInt8])
        case from([UInt8])
        case range([UInt8], end: [UInt8])

        /// nil when the range is empty (`key >= range_end`), which etcd refuses.
        init?(key: [UInt8], rangeEnd: [UInt8]) {
            // etcd watches "\0", the smallest key, when the key is empty.
            let start = key.isEmpty ? [0] : key
            if rangeEnd.isEmpty {
                self = .single(start)
            } else if rangeEnd == [0] {
                self = .from(start)
            } else if start.lexicographicallyPrecedes(rangeEnd) {
                self = .range(start, end: rangeEnd)
            } else {
                return nil
            }
        }

        func contains(_ key: [UInt8]) -> Bool {
            switch self {
            case .single(let only): key == only
            case .from(let start): !key.lexicographicallyPrecedes(start)
            case .range(let start, let end): !key.lexicographicallyPrecedes(start) && key.lexicographicallyPrecedes(end)
            }
        }
    }

    let id: Int64
    let keys: Keys
    let prevKV: Bool
    let progressNotify: Bool
    let fragment: Bool
    let skipsPuts: Bool
    let skipsDeletes: Bool
    /// The first revision not yet sent: everything before it has been delivered (or filtered).
    var nextRevision: Int64
    /// Whether events went out since the last progress tick; etcd skips the next progress
    /// notification then, since the events already told the client how far the stream is.
    var sentSinceProgressTick = false

    init(id: Int64, keys: Keys, request: Etcdserverpb_WatchCreateRequest, nextRevision: Int64) {
        self.id = id
        self.keys = keys
        prevKV = request.prevKv
        progressNotify = request.progressNotify
        fragment = request.fragment
        skipsPuts = request.filters.contains(.noput)
        skipsDeletes = request.filters.contains(.nodelete)
        self.nextRevision = nextRevision
    }

    /// Whether the watcher has been sent everything up to `revision`.
    func isSynced(at revision: Int64) -> Bool { nextRevision > revision }

    func wants(_ event: Storage.Event) -> Bool {
        switch event.kind {
        case .put where skipsPuts: return false
        case .delete where skipsDeletes: return false
        default: return keys.contains(event.kv.key)
        }
    }
}

extension Mvccpb_Event {
    init(_ event: Storage.Event) {
        self.init()
        type = event.kind == .put ? .put : .delete
        kv = Mvccpb_KeyValue(event.kv)
        if let previous = event.prevKV { prevKv = Mvccpb_KeyValue(previous) }
    }
}
