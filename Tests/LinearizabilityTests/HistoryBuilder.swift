import Linearizability

/// Terse constructors for hand-written histories. Times are in microseconds, so reports
/// read as round milliseconds; nil as the completion time means the call never returned.
enum HistoryBuilder {
    static func put(
        _ value: String, key: String = "k", client: Int = 0, _ invoke: UInt64, _ complete: UInt64?, revision: Int64 = 0
    ) -> Operation {
        operation(client, key, .put(value: value), complete.map { _ in .put(revision: revision) }, invoke, complete)
    }

    static func get(
        _ value: String?, key: String = "k", client: Int = 0, _ invoke: UInt64, _ complete: UInt64?
    ) -> Operation {
        operation(client, key, .get, complete.map { _ in .get(value: value) }, invoke, complete)
    }

    static func delete(
        deleted: Int64, key: String = "k", client: Int = 0, _ invoke: UInt64, _ complete: UInt64?, revision: Int64 = 0
    ) -> Operation {
        operation(client, key, .delete, complete.map { _ in .delete(deleted: deleted, revision: revision) }, invoke, complete)
    }

    static func cas(
        expected: String?, new: String, succeeded: Bool, key: String = "k", client: Int = 0,
        _ invoke: UInt64, _ complete: UInt64?, revision: Int64 = 0
    ) -> Operation {
        operation(
            client, key, .compareAndSwap(expected: expected, new: new),
            complete.map { _ in .compareAndSwap(succeeded: succeeded, revision: revision) }, invoke, complete
        )
    }

    private static func operation(
        _ client: Int, _ key: String, _ input: Operation.Input, _ output: Operation.Output?,
        _ invoke: UInt64, _ complete: UInt64?
    ) -> Operation {
        Operation(
            client: client, key: key, input: input, output: output,
            invokeNanos: invoke * 1_000, completeNanos: complete.map { $0 * 1_000 }
        )
    }
}
