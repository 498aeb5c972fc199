/// The call and return events of one key's history in time order, as a doubly linked list
/// over array indices.
///
/// Linearizing a call removes it and its return from the list; backtracking puts them back.
/// Because removals are undone in exactly the reverse order, a removed node still knows its
/// old neighbours, so both are O(1) (Knuth's "dancing links", as in Lowe's and Porcupine's
/// checkers). Array indices instead of node objects keep reference counting out of the
/// search's inner loop.
struct EntryList {
    private var next: [Int]
    private var previous: [Int]
    /// Node 0 is the head sentinel and `tail` the tail sentinel; events are `1...count`.
    private let tail: Int

    /// A list of the nodes `1...count`, in order.
    init(count: Int) {
        tail = count + 1
        next = Array(1...tail) + [tail]
        previous = [0] + Array(0...count)
    }

    var isEmpty: Bool { next[0] == tail }

    /// The earliest node still in the list (`tail` when empty).
    var first: Int { next[0] }

    func after(_ node: Int) -> Int { next[node] }

    /// Removes a call and its return event.
    mutating func lift(call: Int, return returnNode: Int) {
        unlink(call)
        unlink(returnNode)
    }

    /// Undoes the most recent `lift` still in effect, which must be of this call.
    mutating func unlift(call: Int, return returnNode: Int) {
        relink(returnNode)
        relink(call)
    }

    private mutating func unlink(_ node: Int) {
        next[previous[node]] = next[node]
        previous[next[node]] = previous[node]
    }

    private mutating func relink(_ node: Int) {
        next[previous[node]] = node
        previous[next[node]] = node
    }
}
