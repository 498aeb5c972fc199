/// Shrinks a non-linearizable key history to a few operations that still cannot be
/// linearized, so that an engineer can see the bug.
///
/// Plain delta debugging (drop operations while the rest still fails) is unsound for a
/// register: dropping a put can make a perfectly valid read of its value look impossible,
/// and the "minimal" history then blames an innocent read. Every reduction here instead only
/// ever gives the checker more freedom, so that if the recorded history were linearizable,
/// the reduced one would be too. A reduced history that still fails is therefore a genuine
/// witness, and it always contains the operation that was actually wrong. The reductions:
///  - effect-free calls (reads, failed compare-and-swaps, deletes of nothing) are dropped;
///  - other writes are made optional: they take effect within their interval, or not at all;
///  - a prefix cut at time T drops calls completed before T, makes calls in flight at T
///    optional and starts from an unknown value: whatever the dropped calls left behind;
///  - a suffix cut at time T drops calls invoked at or after T, and turns the calls still in
///    flight at T into unknown-outcome calls (their answers may depend on dropped calls).
/// Dropped and optional calls need not be shown, because a history with optional calls that
/// fails still fails without them; the calls that stay mandatory are the witness.
///
/// Every trial that fails has to rule out every order of the calls before the failure, so
/// the cuts are chosen to keep trials small: the prefix cut is searched backwards from where
/// the original search got stuck, and the suffix cut and one-by-one reductions only run
/// once the prefix is gone.
struct WitnessShrinker {
    /// What the reduced history does with one recorded call.
    private enum Treatment: Equatable {
        case dropped
        /// As recorded.
        case mandatory
        /// As recorded if it takes effect, but it may not.
        case optional
        /// Outcome unknown: may take effect at any time after its invoke.
        case pending
    }

    /// A reduced history: a treatment for every recorded call, and the starting value.
    private struct Scenario {
        var treatments: [Treatment]
        var initial: RegisterModel.State
    }

    struct Result {
        /// Indices of the witness's calls.
        var witness: [Int]
        /// Whether the witness fails whatever value the key held before it.
        var failsFromAnyStartingValue: Bool
        /// False when the deadline cut shrinking short; the witness is then still genuine,
        /// just possibly larger than necessary.
        var isMinimal: Bool
    }

    private let calls: [RegisterCall]
    private let blockingCall: Int
    private let budget: SearchBudget
    private var ranOutOfTime = false

    /// - Parameters:
    ///   - calls: a key's history, as checked, known not to be linearizable.
    ///   - blockingCall: where the search that found the violation got stuck.
    ///   - budget: bounds each trial search; its deadline bounds shrinking as a whole.
    init(calls: [RegisterCall], blockingCall: Int, budget: SearchBudget) {
        self.calls = calls
        self.blockingCall = blockingCall
        self.budget = budget
    }

    mutating func shrink() -> Result {
        var scenario = Scenario(
            treatments: calls.map { $0.output == nil ? .pending : .mandatory },
            initial: .absent
        )
        let start = cutPrefix(&scenario)
        cutSuffix(&scenario, after: start)
        minimize(&scenario)
        addProvenance(&scenario)
        return Result(
            witness: scenario.treatments.indices.filter { scenario.treatments[$0] == .mandatory },
            failsFromAnyStartingValue: scenario.initial == .unknown,
            isMinimal: !ranOutOfTime
        )
    }

    /// Cuts the scenario at the latest completion time that still leaves it failing, and
    /// returns that time (0 when no cut fails). Completion times are the candidates because
    /// only a completion lets a call drop out of the prefix.
    private mutating func cutPrefix(_ scenario: inout Scenario) -> UInt64 {
        let times = Set(calls.map(\.complete).filter { $0 < .max }).sorted()
        // Index -1 stands for not cutting, which fails. Cutting at or after the blocking
        // call's completion makes that call optional or drops it, so assume it passes, and
        // gallop backwards from there: trials near the failure are cheap.
        var passing = times.firstIndex { $0 >= calls[blockingCall].complete } ?? times.count
        var failing = -1
        var distance = 1
        while passing - distance >= 0 {
            let candidate = passing - distance
            if fails(prefixCut(scenario, at: times[candidate])) {
                failing = candidate
                break
            }
            passing = candidate
            distance *= 2
        }
        failing = Self.bisect(failing: failing, passing: passing) { fails(prefixCut(scenario, at: times[$0])) }
        guard failing >= 0 else { return 0 }
        scenario = prefixCut(scenario, at: times[failing])
        return times[failing]
    }

    /// Bisects between a cut index known to fail and one known to pass (in either order) for
    /// the failing one closest to the passing one. Every candidate is tried before it is used,
    /// so a history on which failing is not monotonic in the cut only gets a shallower cut.
    private static func bisect(failing: Int, passing: Int, _ cutFails: (Int) -> Bool) -> Int {
        var failing = failing
        var passing = passing
        while abs(passing - failing) > 1 {
            let middle = (passing + failing) / 2
            if cutFails(middle) {
                failing = middle
            } else {
                passing = middle
            }
        }
        return failing
    }

    private func prefixCut(_ scenario: Scenario, at time: UInt64) -> Scenario {
        var cut = scenario
        cut.initial = .unknown
        for (index, call) in calls.enumerated() where cut.treatments[index] != .dropped {
            if call.complete < time {
                cut.treatments[index] = .dropped
            } else if call.invoke < time {
                cut.treatments[index] = relaxed(index, in: cut)
            }
        }
        return cut
    }

    /// Cuts the scenario at the earliest invoke time after `start` (the prefix cut) that
    /// still leaves it failing. Cutting at or before `start` would drop every mandatory call.
    private mutating func cutSuffix(_ scenario: inout Scenario, after start: UInt64) {
        let times = Set(calls.map(\.invoke).filter { $0 > start }).sorted()
        // Cutting at times[0] keeps next to nothing, so assume it passes; not cutting fails.
        let failing = Self.bisect(failing: times.count, passing: 0) { fails(suffixCut(scenario, at: times[$0])) }
        if failing < times.count {
            scenario = suffixCut(scenario, at: times[failing])
        }
    }

    private func suffixCut(_ scenario: Scenario, at time: UInt64) -> Scenario {
        var cut = scenario
        for (index, call) in calls.enumerated() where cut.treatments[index] != .dropped {
            if call.invoke >= time {
                cut.treatments[index] = .dropped
            } else if call.complete >= time {
                cut.treatments[index] = call.isEffectFree ? .dropped : .pending
            }
        }
        return cut
    }

    /// Delta debugging (Zeller's ddmin, complement variant) over the mandatory calls:
    /// relaxes ever smaller chunks of them while the scenario keeps failing. When it ends
    /// normally, relaxing any single remaining call makes the scenario pass.
    private mutating func minimize(_ scenario: inout Scenario) {
        var mandatory = scenario.treatments.indices.filter { scenario.treatments[$0] == .mandatory }
        var chunkCount = 2
        while mandatory.count >= 2 && !ranOutOfTime {
            let chunkSize = (mandatory.count + chunkCount - 1) / chunkCount
            var reduced = false
            for start in stride(from: 0, to: mandatory.count, by: chunkSize) {
                let chunk = mandatory[start..<min(start + chunkSize, mandatory.count)]
                var trial = scenario
                for index in chunk {
                    trial.treatments[index] = relaxed(index, in: scenario)
                }
                if fails(trial) {
                    scenario = trial
                    mandatory.removeSubrange(start..<start + chunk.count)
                    chunkCount = max(chunkCount - 1, 2)
                    reduced = true
                    break
                }
            }
            if !reduced {
                guard chunkCount < mandatory.count else { break }
                chunkCount = min(chunkCount * 2, mandatory.count)
            }
        }
    }

    /// Makes the writes that produced the witness's observed values mandatory again where
    /// the witness still fails with them.
    ///
    /// Shrinking proves a stale read with just the overwriting put and the read, since any
    /// other explanation of the read was already ruled out. Showing the put the value came
    /// from, too, tells the engineer it was stale rather than invented.
    private mutating func addProvenance(_ scenario: inout Scenario) {
        for (reader, call) in calls.enumerated() where scenario.treatments[reader] == .mandatory {
            guard let value = call.observedValue else { continue }
            let writers = calls.indices.filter { calls[$0].writtenValue == value }
            guard !writers.contains(where: { scenario.treatments[$0] == .mandatory }) else { continue }
            let latestBefore = writers
                .filter { calls[$0].invoke < call.complete }
                .max { calls[$0].invoke < calls[$1].invoke }
            guard let writer = latestBefore else { continue }
            var trial = scenario
            trial.treatments[writer] = .mandatory
            if fails(trial) {
                scenario = trial
            }
        }
    }

    /// The treatment that gives the checker more freedom with a call than `scenario` does.
    private func relaxed(_ index: Int, in scenario: Scenario) -> Treatment {
        guard scenario.treatments[index] == .mandatory else { return scenario.treatments[index] }
        return calls[index].isEffectFree ? .dropped : .optional
    }

    /// Whether the scenario is (known to be) not linearizable. A trial that runs out of
    /// budget counts as passing, so a reduction is kept only when proven.
    private mutating func fails(_ scenario: Scenario) -> Bool {
        guard !ranOutOfTime else { return false }
        var reduced: [RegisterCall] = []
        for (call, treatment) in zip(calls, scenario.treatments) {
            var call = call
            switch treatment {
            case .dropped:
                continue
            case .mandatory:
                break
            case .optional:
                call.isOptional = true
            case .pending:
                call.output = nil
                call.complete = .max
            }
            reduced.append(call)
        }
        let result = WingGongSearch.run(reduced, from: scenario.initial, budget: budget)
        switch result.outcome {
        case .violation:
            return true
        case .exhausted:
            ranOutOfTime = ranOutOfTime || budget.isExpired
            return false
        case .linearizable:
            return false
        }
    }
}
