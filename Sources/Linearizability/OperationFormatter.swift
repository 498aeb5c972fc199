/// Renders operations as one line each for violation reports, e.g.
/// `client 3  put(k1, "v7")  [t=1.204 ms .. 2.100 ms] -> ok`.
enum OperationFormatter {
    /// One line for `operation`, with times relative to `origin` (nanoseconds).
    static func line(_ operation: Linearizability.Operation, origin: UInt64) -> String {
        let end = operation.output == nil ? "?" : operation.completeNanos.map { milliseconds($0, since: origin) } ?? "?"
        return "client \(operation.client)  \(request(operation))  "
            + "[t=\(milliseconds(operation.invokeNanos, since: origin)) .. \(end)] -> \(answer(operation.output))"
    }

    private static func request(_ operation: Linearizability.Operation) -> String {
        let key = operation.key
        switch operation.input {
        case .put(let value): return "put(\(key), \(quoted(value)))"
        case .get: return "get(\(key))"
        case .delete: return "delete(\(key))"
        case .compareAndSwap(let expected, let new):
            return "cas(\(key), expected: \(quoted(expected)), new: \(quoted(new)))"
        }
    }

    private static func answer(_ output: Linearizability.Operation.Output?) -> String {
        switch output {
        case nil: return "unknown outcome"
        case .put?: return "ok"
        case .get(let value)?: return quoted(value)
        case .delete(let deleted, _)?: return "deleted \(deleted)"
        case .compareAndSwap(let succeeded, _)?: return succeeded ? "succeeded" : "failed"
        }
    }

    /// A value as a Swift string literal (escaped), or `absent` for no value.
    private static func quoted(_ value: String?) -> String {
        value.map { String(reflecting: $0) } ?? "absent"
    }

    /// `nanos - origin` in milliseconds with microsecond precision, e.g. `1.204 ms`.
    /// Written by hand to keep Foundation out of the library.
    private static func milliseconds(_ nanos: UInt64, since origin: UInt64) -> String {
        let micros = (max(nanos, origin) - origin) / 1_000
        let fraction = String(micros % 1_000)
        return "\(micros / 1_000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) ms"
    }
}
