/// A key whose history is not linearizable, with a small sub-history that proves it.
public struct Violation: Sendable, CustomStringConvertible {
    public var key: String
    /// A few of the key's operations that cannot be linearized even on their own, sorted by
    /// invoke time. They were found by shrinking only in ways that could not turn a
    /// linearizable history into a failing one, so they always include a real culprit.
    public var operations: [Linearizability.Operation]
    /// How many operations the key's whole history had.
    public var operationCountOnKey: Int
    /// False when shrinking ran out of time; `operations` is then still a valid witness,
    /// just possibly larger than necessary.
    public var isMinimal: Bool
    /// Whether `operations` fail whatever value the key held before them, rather than only
    /// from an absent key.
    public var failsFromAnyStartingValue: Bool

    /// A report an engineer can read: a header, then one line per operation with times
    /// relative to the first one.
    public var description: String {
        var header = "key \(String(reflecting: key)) is not linearizable: no order of these "
            + "\(operations.count) of its \(operationCountOnKey) operations agrees with both real time and the key's semantics"
        if failsFromAnyStartingValue {
            header += ", whatever value the key held before them"
        }
        header += isMinimal ? ":" : " (shrinking ran out of time; some may be irrelevant):"
        let origin = operations.map(\.invokeNanos).min() ?? 0
        return ([header] + operations.map { "  " + OperationFormatter.line($0, origin: origin) })
            .joined(separator: "\n")
    }
}
