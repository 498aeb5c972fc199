/// The sequential specification of one etcd key: the model the checker linearizes against.
///
/// Values are interned to small integers (see `RegisterCall.encode`) so that the search
/// compares and hashes integers rather than strings: the (linearized set, state) cache is
/// consulted on every search step.
enum RegisterModel {
    /// What the key holds.
    struct State: Hashable {
        let raw: Int32

        /// The key does not exist. Every key starts like this.
        static let absent = State(raw: 0)
        /// Whatever the key may hold: absent or any value some call of its history writes.
        /// A shrunk history that starts in the middle of the real one starts here, standing
        /// for whatever the dropped prefix left behind. Steps from it accept whatever they
        /// observe, as long as something could have written it, so it over-approximates: a
        /// history that fails from `unknown` fails from every state the prefix could leave.
        static let unknown = State(raw: -1)

        /// The `id`th distinct value that some call of the key's history writes; ids start at 1.
        static func value(_ id: Int32) -> State {
            precondition(id > 0, "value ids start at 1")
            return State(raw: id)
        }

        /// The `id`th distinct value that is read or compared against but never written:
        /// the key can never hold it, not even from `unknown`. Ids start at 1.
        static func phantom(_ id: Int32) -> State {
            precondition(id > 0, "phantom ids start at 1")
            return State(raw: -1 - id)
        }

        /// Whether this is a value, rather than absent or unknown.
        var isValue: Bool { self != .absent && self != .unknown }

        /// Whether `unknown` covers this state: absent or a written value.
        var isWritable: Bool { raw >= 0 }
    }

    enum Input: Hashable {
        case put(State)
        case get
        case delete
        case compareAndSwap(expected: State, new: State)
    }

    enum Output {
        case written
        case read(State)
        case deleted(count: Int64)
        case swapped(Bool)
    }

    /// The state after `input` answered with `output` is applied to `state`, or nil when
    /// that answer is impossible in that state (including answers of the wrong kind, which
    /// no server could give).
    ///
    /// `output == nil` means the outcome is unknown, so whatever the operation would have
    /// answered is accepted; only its effect on the state matters.
    static func step(_ state: State, _ input: Input, _ output: Output?) -> State? {
        switch (input, output) {
        case (.put(let value), nil), (.put(let value), .written?):
            return value

        case (.get, nil):
            return state
        case (.get, .read(let seen)?):
            return state == seen || (state == .unknown && seen.isWritable) ? seen : nil

        case (.delete, nil):
            return .absent
        case (.delete, .deleted(let count)?):
            switch count {
            case 0: return state == .unknown || state == .absent ? .absent : nil
            case 1: return state != .absent ? .absent : nil
            default: return nil  // one key can be deleted at most once
            }

        case (.compareAndSwap(let expected, let new), nil):
            // From `unknown` the swap may or may not happen; `unknown` covers both results.
            if state == .unknown { return .unknown }
            return state == expected ? new : state
        case (.compareAndSwap(let expected, let new), .swapped(true)?):
            return state == expected || (state == .unknown && expected.isWritable) ? new : nil
        case (.compareAndSwap(let expected, _), .swapped(false)?):
            // A failed compare only says the value was not `expected`; `unknown` is the
            // closest state that can say that.
            if state == .unknown { return .unknown }
            return state != expected ? state : nil

        default:
            return nil
        }
    }
}
