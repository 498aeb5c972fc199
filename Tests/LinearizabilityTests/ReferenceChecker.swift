import Linearizability

/// A deliberately naive linearizability checker for tiny single-key histories, sharing no
/// code with the library: it tries every order of the operations that respects real time,
/// on a register of `String?`. The differential tests hold the real checker to it.
enum ReferenceChecker {
    /// Whether `history` (one key) can be linearized starting from `initial`.
    static func isLinearizable(_ history: [Operation], from initial: String? = nil) -> Bool {
        search(remaining: history, state: initial)
    }

    private static func search(remaining: [Operation], state: String?) -> Bool {
        // Operations with unknown outcomes may never take effect, so they can be left out.
        if remaining.allSatisfy({ $0.output == nil }) { return true }
        for (index, candidate) in remaining.enumerated() {
            // Next only if nothing left had to come before it: no other operation completed
            // before it was invoked (touching intervals overlap).
            let mustWait = remaining.contains { other in
                other.completeNanos.map { $0 < candidate.invokeNanos && other.output != nil } ?? false
            }
            guard !mustWait, let next = apply(candidate, to: state) else { continue }
            var rest = remaining
            rest.remove(at: index)
            if search(remaining: rest, state: next) { return true }
        }
        return false
    }

    /// The state after `operation`, or nil if its answer is impossible in `state`.
    /// (The state itself is a `String?`, hence the double optional.)
    private static func apply(_ operation: Operation, to state: String?) -> String?? {
        switch (operation.input, operation.output) {
        case (.put(let value), nil), (.put(let value), .put?):
            return .some(value)
        case (.get, nil):
            return .some(state)
        case (.get, .get(let seen)?):
            return seen == state ? .some(state) : nil
        case (.delete, nil):
            return .some(nil)
        case (.delete, .delete(let deleted, _)?):
            return deleted == (state == nil ? 0 : 1) ? .some(nil) : nil
        case (.compareAndSwap(let expected, let new), nil):
            return .some(state == expected ? new : state)
        case (.compareAndSwap(let expected, let new), .compareAndSwap(let succeeded, _)?):
            guard succeeded == (state == expected) else { return nil }
            return .some(succeeded ? new : state)
        default:
            return nil
        }
    }
}
