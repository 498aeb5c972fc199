import Foundation

/// A dedicated OS thread that takes submitted items in batches: the WAL's group commit (one
/// `fdatasync` per batch) and the backend's writer (one LMDB commit per batch, and LMDB write
/// transactions never leave this thread).
final class BatchWorker<Item: Sendable>: @unchecked Sendable {
    private enum State {
        case running, closing, finished
    }

    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var pending: [Item] = []
    private var state = State.running
    private let maxBatchCount: Int

    /// `process` runs on the worker thread with 1…`maxBatchCount` items, oldest first.
    init(name: String, maxBatchCount: Int, process: @escaping @Sendable ([Item]) -> Void) {
        precondition(maxBatchCount > 0)
        self.maxBatchCount = maxBatchCount
        let thread = Thread { [self] in run(process) }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Queues `item`; false once ``close()`` has begun, and the item will never be processed.
    @discardableResult
    func submit(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard state == .running else { return false }
        pending.append(item)
        condition.signal()
        return true
    }

    /// Processes what is queued, then stops the thread and waits for it. Must not be called
    /// from the worker thread.
    func close() {
        condition.lock()
        if state == .running {
            state = .closing
            condition.broadcast()
        }
        while state != .finished {
            condition.wait()
        }
        condition.unlock()
    }

    private func run(_ process: ([Item]) -> Void) {
        while true {
            condition.lock()
            while pending.isEmpty && state == .running {
                condition.wait()
            }
            if pending.isEmpty {
                state = .finished
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch: [Item]
            if pending.count <= maxBatchCount {
                batch = pending
                pending.removeAll(keepingCapacity: true)
            } else {
                batch = Array(pending.prefix(maxBatchCount))
                pending.removeFirst(maxBatchCount)
            }
            condition.unlock()
            process(batch)
        }
    }
}
