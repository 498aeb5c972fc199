/// Decides whether one key's calls are linearizable: Wing & Gong's backtracking search with
/// Lowe's memoisation, as in Porcupine, plus pruning rules for unknown outcomes.
///
/// The events (every call's invoke and return) are kept in time order in an `EntryList`.
/// Walking the list from the front, a call that has been invoked can be linearized next if
/// the model accepts it in the current state; it is then removed, with its return, and the
/// walk restarts from the front. Reaching a return event means that call's invoke has passed
/// and it was not linearized before everything now pending returned, so the last choice is
/// undone and the walk tries the next candidate after it. The history is linearizable when
/// the list empties and not when there is no choice left to undo.
///
/// The cache records every (set of linearized calls, state) pair reached: the rest of the
/// search depends only on that pair, so reaching it again by a different order is pruned.
/// That is what keeps the common, linearizable case close to linear time.
///
/// Calls whose outcome is unknown and that never returned ("unconstrained") need more,
/// because each may take effect at any point after its invoke and a plain search tries all
/// of those points: with a dozen of them, a failing search explores thousands of times more
/// states. Such a call is legal in every state, so it can always be put off to the very end,
/// where nothing observes it. Hence:
///  - they are kept out of the list and applied only where needed: just before a listed
///    call that is impossible without them (see `choose`), or, for chains of them, when the
///    walk is stuck at a return event;
///  - a pair (linearized calls, state) is pruned when it was already reached with a subset
///    of the same unconstrained calls applied: whatever the search could still do from here,
///    it could do from there, applying the extra calls at the end;
///  - unconstrained calls with the same input are interchangeable once invoked, so only the
///    earliest unused one is tried (see `nextUnconstrained`);
///  - a put or delete is never applied right after another unconstrained call, which it
///    would simply overwrite (see `isWasted`).
///
/// A class rather than a struct: it is one piece of mutable state shared by many small
/// helpers, and unoptimized builds copy a struct to call its non-mutating methods.
final class WingGongSearch {
    enum Outcome {
        case linearizable
        /// `blockingCall` is the call whose return the search could not get past in any
        /// order it tried: the failure is around there.
        case violation(blockingCall: Int)
        /// The budget ran out first.
        case exhausted
    }

    struct Result {
        var outcome: Outcome
        /// Steps taken, so follow-up searches on related histories can be budgeted.
        var steps: Int
    }

    /// A linearization choice: a call in the list, or the `index`th unconstrained call made
    /// while stuck at the return event `boundary`.
    private enum Choice {
        case listed(node: Int)
        case unconstrained(index: Int, boundary: Int)
    }

    /// A choice that can be undone.
    private struct Frame {
        let choice: Choice
        let stateBefore: RegisterModel.State
        let alternative: Int
    }

    /// Where the walk is: at a list node, or trying unconstrained calls from position `from` on
    /// because it reached the return event `boundary`.
    private enum Cursor {
        case listed(node: Int)
        case unconstrained(from: Int, boundary: Int)
    }

    private struct CacheKey: Hashable {
        let linearized: Bitset
        let state: RegisterModel.State
    }

    private let calls: [RegisterCall]
    /// For each list node, the index of its call.
    private let callOfNode: [Int]
    /// For each call node, its return node; -1 for return nodes.
    private let returnOfNode: [Int]
    /// Indices of the unconstrained calls, ordered by `gates`.
    private let unconstrained: [Int]
    /// For each unconstrained call, the first list node after its invoke: it may be applied
    /// while the walk is stuck at that node or any later one.
    private let gates: [Int]
    /// For each unconstrained call, the previous one (by position) with the same input, or -1.
    private let previousTwins: [Int]
    private var list: EntryList
    private var state: RegisterModel.State
    /// The listed calls linearized so far, by call index.
    private var linearized: Bitset
    /// The unconstrained calls applied so far, by position in `unconstrained`.
    private var applied: Bitset
    /// For each pair reached, the sets of unconstrained calls it was reached with.
    private var cache: [CacheKey: [Bitset]] = [:]
    private var frames: [Frame] = []

    /// Searches for a linearization of `calls` starting from `initial`.
    static func run(_ calls: [RegisterCall], from initial: RegisterModel.State, budget: SearchBudget) -> Result {
        WingGongSearch(calls: calls, initial: initial).run(budget: budget)
    }

    private init(calls: [RegisterCall], initial: RegisterModel.State) {
        self.calls = calls
        state = initial
        linearized = Bitset(capacity: calls.count)

        // At equal times calls sort before returns: intervals that touch count as
        // overlapping, which is the permissive reading of a clock with finite resolution.
        // The call index breaks remaining ties so the search is deterministic.
        struct Event { let time: UInt64, isReturn: Bool, call: Int }
        var events: [Event] = []
        events.reserveCapacity(calls.count * 2)
        for (index, call) in calls.enumerated() {
            events.append(Event(time: call.invoke, isReturn: false, call: index))
            if !call.isUnconstrained {
                events.append(Event(time: call.complete, isReturn: true, call: index))
            }
        }
        events.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.isReturn != b.isReturn { return !a.isReturn }
            return a.call < b.call
        }

        // Listed events become nodes 1, 2, ... in order; node 0 is the list's head sentinel.
        var callOfNode = [-1]
        var returnOfNode = [-1]
        var callNodeOfCall = Array(repeating: 0, count: calls.count)
        var unconstrained: [Int] = []
        var gates: [Int] = []
        for event in events {
            if calls[event.call].isUnconstrained {
                unconstrained.append(event.call)
                gates.append(callOfNode.count)
                continue
            }
            let node = callOfNode.count
            callOfNode.append(event.call)
            returnOfNode.append(-1)
            if event.isReturn {
                returnOfNode[callNodeOfCall[event.call]] = node
            } else {
                callNodeOfCall[event.call] = node
            }
        }
        self.callOfNode = callOfNode
        self.returnOfNode = returnOfNode
        self.unconstrained = unconstrained
        self.gates = gates
        var lastWithInput: [RegisterModel.Input: Int] = [:]
        previousTwins = unconstrained.indices.map { position in
            defer { lastWithInput[calls[unconstrained[position]].input] = position }
            return lastWithInput[calls[unconstrained[position]].input] ?? -1
        }
        applied = Bitset(capacity: unconstrained.count)
        list = EntryList(count: callOfNode.count - 1)
    }

    private func run(budget: SearchBudget) -> Result {
        var cursor = Cursor.listed(node: list.first)
        var steps = 0
        var furthestBoundary = 0
        // Unconstrained calls not applied when the list empties go at the very end.
        while !list.isEmpty {
            guard budget.allows(steps: steps) else { return Result(outcome: .exhausted, steps: steps) }
            steps += 1
            switch cursor {
            case .listed(let node):
                if returnOfNode[node] >= 0 {
                    cursor = choose(.listed(node: node), from: 0) ? .listed(node: list.first) : .listed(node: list.after(node))
                } else {
                    furthestBoundary = max(furthestBoundary, node)
                    cursor = .unconstrained(from: 0, boundary: node)
                }
            case .unconstrained(let from, let boundary):
                if let index = nextUnconstrained(from: from, before: boundary) {
                    cursor = choose(.unconstrained(index: index, boundary: boundary), from: 0)
                        ? .listed(node: list.first)
                        : .unconstrained(from: index + 1, boundary: boundary)
                } else {
                    guard let frame = frames.popLast() else {
                        return Result(outcome: .violation(blockingCall: callOfNode[furthestBoundary]), steps: steps)
                    }
                    undo(frame)
                    cursor = choose(frame.choice, from: frame.alternative + 1) ? .listed(node: list.first) : after(frame.choice)
                }
            }
        }
        return Result(outcome: .linearizable, steps: steps)
    }

    /// The first unconstrained call from position `from` on that was invoked before the
    /// return event `boundary` and may be applied now.
    ///
    /// Unconstrained calls with the same input are interchangeable once invoked, so only the
    /// earliest one not yet applied is ever used: the applied ones of each kind are always
    /// the first few, instead of every subset of them.
    private func nextUnconstrained(from: Int, before boundary: Int) -> Int? {
        var index = from
        while index < unconstrained.count && gates[index] <= boundary {
            let twin = previousTwins[index]
            if !applied.contains(index) && (twin < 0 || applied.contains(twin)) { return index }
            index += 1
        }
        return nil
    }

    /// Where the walk goes on after `choice` was undone and has no alternative left.
    private func after(_ choice: Choice) -> Cursor {
        switch choice {
        case .listed(let node): .listed(node: list.after(node))
        case .unconstrained(let index, let boundary): .unconstrained(from: index + 1, boundary: boundary)
        }
    }

    /// Makes `choice`, the first way from `firstAlternative` on that is valid and leads
    /// somewhere not yet explored. Returns whether it did.
    ///
    /// A listed call's alternatives are its own (apply, or skip if optional), then, if it
    /// cannot be applied as things stand, applying one unconstrained call first and then it,
    /// for each unconstrained call in turn. An unconstrained call only ever needs to come
    /// right before a call that is impossible without it (anywhere else it can move to the
    /// end), so trying that on the spot finds, say, the lost put a read saw without first
    /// exploring every order of the calls around the read. Longer chains of unconstrained
    /// calls (a lost put, then a lost compare-and-swap that needed it) are still found at
    /// the return events, by the `.unconstrained` choices.
    private func choose(_ choice: Choice, from firstAlternative: Int) -> Bool {
        switch choice {
        case .listed(let node):
            let index = callOfNode[node]
            let call = calls[index]
            for alternative in min(firstAlternative, call.alternativeCount)..<call.alternativeCount {
                guard let next = call.successor(of: state, alternative: alternative) else { continue }
                if linearize(node, into: next, applying: nil, alternative: alternative) { return true }
            }
            guard call.successor(of: state, alternative: 0) == nil else { return false }
            let boundary = firstReturn(from: node)
            var position = max(firstAlternative - call.alternativeCount, 0)
            while let enabler = nextUnconstrained(from: position, before: boundary) {
                position = enabler + 1
                guard !isWasted(enabler),
                      let middle = calls[unconstrained[enabler]].successor(of: state, alternative: 0),
                      let next = call.successor(of: middle, alternative: 0)
                else { continue }
                if linearize(node, into: next, applying: enabler, alternative: call.alternativeCount + enabler) {
                    return true
                }
            }
            return false

        case .unconstrained(let index, _):
            guard firstAlternative == 0, !isWasted(index),
                  let next = calls[unconstrained[index]].successor(of: state, alternative: 0)
            else { return false }
            var candidate = applied
            candidate.insert(index)
            guard remember(linearized, next, candidate) else { return false }
            frames.append(Frame(choice: choice, stateBefore: state, alternative: 0))
            applied = candidate
            state = next
            return true
        }
    }

    /// Linearizes the call at `node`, after the unconstrained call `enabler` if given,
    /// reaching state `next`, unless that was explored already.
    private func linearize(_ node: Int, into next: RegisterModel.State, applying enabler: Int?, alternative: Int) -> Bool {
        var candidate = linearized
        candidate.insert(callOfNode[node])
        var candidateApplied = applied
        if let enabler {
            candidateApplied.insert(enabler)
        }
        guard remember(candidate, next, candidateApplied) else { return false }
        frames.append(Frame(choice: .listed(node: node), stateBefore: state, alternative: alternative))
        linearized = candidate
        applied = candidateApplied
        state = next
        list.lift(call: node, return: returnOfNode[node])
        return true
    }

    /// Whether applying the unconstrained call `index` now would only undo the unconstrained
    /// call applied just before it: a put or delete overwrites whatever was there, so the
    /// same state is reached, with fewer calls used up, by skipping the earlier one.
    private func isWasted(_ index: Int) -> Bool {
        guard calls[unconstrained[index]].overwritesState, let last = frames.last else { return false }
        if case .unconstrained = last.choice { return true }
        return false
    }

    /// The first return event in the list from `node` on: the calls before it are the ones
    /// that may be linearized next.
    private func firstReturn(from node: Int) -> Int {
        var node = node
        while returnOfNode[node] >= 0 {
            node = list.after(node)
        }
        return node
    }

    private func undo(_ frame: Frame) {
        switch frame.choice {
        case .listed(let node):
            list.unlift(call: node, return: returnOfNode[node])
            linearized.remove(callOfNode[node])
            let enabler = frame.alternative - calls[callOfNode[node]].alternativeCount
            if enabler >= 0 {
                applied.remove(enabler)
            }
        case .unconstrained(let index, _):
            applied.remove(index)
        }
        state = frame.stateBefore
    }

    /// Records reaching (`linearized`, `state`) with `applied`; false if that is pruned
    /// because it was reached before with a subset of `applied`.
    private func remember(_ linearized: Bitset, _ state: RegisterModel.State, _ applied: Bitset) -> Bool {
        // The defaulted subscript hands the stored array over in place: one hash lookup.
        Self.record(applied, in: &cache[CacheKey(linearized: linearized, state: state), default: []])
    }

    private static func record(_ applied: Bitset, in reached: inout [Bitset]) -> Bool {
        for earlier in reached where earlier.isSubset(of: applied) {
            return false
        }
        reached.append(applied)
        return true
    }
}
