/// One operation as the search sees it: an encoded model step and its real-time interval.
struct RegisterCall {
    var input: RegisterModel.Input
    /// nil when the outcome is unknown.
    var output: RegisterModel.Output?
    var invoke: UInt64
    /// `UInt64.max` when the call never completed (unknown outcome): it may take effect at
    /// any time after `invoke`, including after everything else.
    var complete: UInt64
    /// Whether the call may also not take effect at all. Never true in recorded histories;
    /// the shrinker sets it on writes whose precise effect it no longer insists on.
    var isOptional = false

    /// Whether the outcome is unknown and the call never returned. Such a call is legal in
    /// every state and may take effect at any time after its invoke, including at the very
    /// end, where nothing observes it: the search exploits both (see `WingGongSearch`).
    var isUnconstrained: Bool { output == nil && complete == .max && !isOptional }

    /// Whether the state after this call, if it is legal, does not depend on the state
    /// before: a put or a delete.
    var overwritesState: Bool {
        switch input {
        case .put, .delete: return true
        case .get, .compareAndSwap: return false
        }
    }

    /// How many ways the search can linearize this call: apply it, and for an optional call
    /// also skip it.
    var alternativeCount: Int { isOptional ? 2 : 1 }

    /// The state after linearizing this call in `state` the `alternative`th way, or nil if
    /// that way is impossible. Applying comes first so the search tries the recorded history
    /// before assuming a write did not happen.
    func successor(of state: RegisterModel.State, alternative: Int) -> RegisterModel.State? {
        alternative == 0 ? RegisterModel.step(state, input, output) : state
    }

    /// Whether the recorded answer shows the call left the key as it was: a read, a failed
    /// compare-and-swap or a delete of nothing. Removing such a call from a linearization
    /// leaves every other call's step valid, which is what makes dropping it sound.
    var isEffectFree: Bool {
        switch (input, output) {
        case (.get, .read?), (.compareAndSwap, .swapped(false)?), (.delete, .deleted(0)?):
            return true
        default:
            return false
        }
    }

    /// The value this call may have set the key to, if any.
    var writtenValue: RegisterModel.State? {
        switch (input, output) {
        case (.put(let value), _), (.compareAndSwap(_, let value), nil), (.compareAndSwap(_, let value), .swapped(true)?):
            return value
        default:
            return nil
        }
    }

    /// The value this call's answer shows the key held, if it shows one.
    var observedValue: RegisterModel.State? {
        switch (input, output) {
        case (.get, .read(let value)?) where value.isValue:
            return value
        case (.compareAndSwap(let expected, _), .swapped(true)?) where expected.isValue:
            return expected
        default:
            return nil
        }
    }

    /// Encodes one key's operations, interning their values, in the same order.
    ///
    /// Values are told apart only where some call could tell them apart. A written value
    /// that no read returns and no compare-and-swap expects behaves exactly like any other
    /// such value (present, and different from everything compared against), so they all
    /// share one id. That shrinks the search space, and makes, for example, lost puts of
    /// different unread values interchangeable (see `WingGongSearch`). Values that are
    /// read or expected but never written get phantom ids.
    static func encode(_ operations: [Linearizability.Operation]) -> [RegisterCall] {
        var observed: Set<String> = []
        for operation in operations {
            if case .compareAndSwap(let expected?, _) = operation.input {
                observed.insert(expected)
            }
            if case .get(let value?)? = operation.output {
                observed.insert(value)
            }
        }
        var states: [String: RegisterModel.State] = [:]
        var valueCount: Int32 = 0
        var unobserved: RegisterModel.State?
        for operation in operations {
            switch operation.input {
            case .put(let value), .compareAndSwap(_, let value):
                guard states[value] == nil else { continue }
                if observed.contains(value) {
                    valueCount += 1
                    states[value] = .value(valueCount)
                } else {
                    if unobserved == nil {
                        valueCount += 1
                        unobserved = .value(valueCount)
                    }
                    states[value] = unobserved
                }
            case .get, .delete:
                continue
            }
        }
        var phantomCount: Int32 = 0
        func intern(_ value: String?) -> RegisterModel.State {
            guard let value else { return .absent }
            if let state = states[value] { return state }
            phantomCount += 1
            states[value] = .phantom(phantomCount)
            return .phantom(phantomCount)
        }

        var calls: [RegisterCall] = []
        calls.reserveCapacity(operations.count)
        for operation in operations {
            let input: RegisterModel.Input
            switch operation.input {
            case .put(let value): input = .put(intern(value))
            case .get: input = .get
            case .delete: input = .delete
            case .compareAndSwap(let expected, let new):
                input = .compareAndSwap(expected: intern(expected), new: intern(new))
            }

            let output: RegisterModel.Output?
            switch operation.output {
            case nil: output = nil
            case .put?: output = .written
            case .get(let value)?: output = .read(intern(value))
            case .delete(let deleted, _)?: output = .deleted(count: deleted)
            case .compareAndSwap(let succeeded, _)?: output = .swapped(succeeded)
            }

            // An unknown outcome may take effect at any time after the invoke, whatever
            // completion time was recorded. A completion before the invoke is a clock error;
            // clamping keeps the interval well formed.
            let complete = output == nil
                ? UInt64.max
                : max(operation.completeNanos ?? .max, operation.invokeNanos)
            calls.append(RegisterCall(input: input, output: output, invoke: operation.invokeNanos, complete: complete))
        }
        return calls
    }
}
