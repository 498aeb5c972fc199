import Storage

/// Reads the store's history for a watcher in bounded batches. A batch holds whole revisions
/// only, as etcd never splits one revision's events (a transaction's) across responses.
struct WatchHistoryReader: Sendable {
    struct Batch: Equatable {
        var events: [Storage.Event]
        /// Where the next batch starts: everything before it has been read.
        var nextRevision: Int64
    }

    let store: MVCCStore
    /// Bounds a batch's memory; a single revision with more events is still read whole.
    let eventsPerBatchMax: Int

    init(store: MVCCStore, eventsPerBatchMax: Int = 1000) {
        precondition(eventsPerBatchMax >= 2, "a batch must hold more than one revision's first event")
        self.store = store
        self.eventsPerBatchMax = eventsPerBatchMax
    }

    /// The events of revisions `[start, end]`, up to the batch bound. Throws "compacted" when
    /// `start` is below the compact revision.
    func batch(from start: Int64, through end: Int64, prevKV: Bool) throws(StorageError) -> Batch {
        let events = try store.events(from: start, through: end, limit: eventsPerBatchMax, includePrevKV: prevKV)
        guard events.count >= eventsPerBatchMax, let first = events.first?.kv.modRevision,
            let last = events.last?.kv.modRevision
        else {
            return Batch(events: events, nextRevision: end + 1)
        }
        if first == last {
            // One revision fills the batch: read all of it.
            let whole = try store.events(from: last, through: last, includePrevKV: prevKV)
            return Batch(events: whole, nextRevision: last + 1)
        }
        // The limit may have cut the last revision short: leave it to the next batch.
        return Batch(events: events.filter { $0.kv.modRevision < last }, nextRevision: last)
    }
}
