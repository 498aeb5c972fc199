import Foundation

/// Stopping and starting the API server and the server, shared by the restore and the rollback.
extension RestoreRunbook {
    /// stop-server: records whether the server answered, stops it, and waits until it does not.
    ///
    /// Idempotent: `systemctl stop` of a stopped unit succeeds, a parked manifest stays parked, a
    /// stop command must tolerate a stopped server (the plan's contract), and the wait passes at once.
    func stopServer(journal: inout RunbookJournal, fx: RunbookEffects) async throws -> String {
        let deadline = environment.now().addingTimeInterval(Self.seconds(plan.server.stopTimeout))
        if journal.previous.serverWasUp == nil {
            let answer = await environment.probe(endpoint: plan.endpoint)
            journal.previous.serverWasUp = answer != .down
            try fx.save(journal)
            fx.say("before the stop \(plan.endpoint) \(Self.describe(answer))")
        }
        let stopped = try await stop(plan.server.control, timeout: remaining(until: deadline), journal: &journal, fx: fx)
        try await waitUntilDown(deadline: deadline, timeout: plan.server.stopTimeout, fx: fx)
        return "\(stopped); \(plan.endpoint) no longer answers"
    }

    /// The revision a started server must serve.
    enum WantedRevision {
        /// The rollback's start: the old data, whatever its revision.
        case any
        /// The restore's: at least the restored revision (unknown in a dry run, which restores nothing).
        case restored(Int64?)
    }

    /// start-server: starts the server and waits until it is healthy at the wanted revision.
    ///
    /// Idempotent: starting a running server is a no-op for systemd and for an unparked manifest,
    /// and a start command must tolerate a running server (the plan's contract).
    func startServer(_ wanted: WantedRevision, fx: RunbookEffects) async throws -> String {
        let deadline = environment.now().addingTimeInterval(Self.seconds(plan.server.startTimeout))
        let started = try await start(plan.server.control, timeout: remaining(until: deadline), fx: fx)
        let revision = try await waitUntilServing(wanted, deadline: deadline, timeout: plan.server.startTimeout, fx: fx)
        return "\(started); \(plan.endpoint) healthy at revision \(revision.map(String.init) ?? "?")"
    }

    /// Stops a service; a static pod's manifest is parked (and journaled, for rollback).
    func stop(_ control: RunbookPlan.ServiceControl, timeout: Duration, journal: inout RunbookJournal, fx: RunbookEffects) async throws -> String {
        switch control {
        case .actions(let stop, _):
            return try await run(stop, verb: "stop", timeout: timeout, fx: fx)
        case .staticPod(let pod):
            if plan.serverStaticPod == pod {
                journal.previous.parkedServerManifest = pod.parkedManifest
            } else {
                journal.previous.parkedAPIServerManifest = pod.parkedManifest
            }
            try fx.save(journal)
            return try move(pod, from: pod.manifest, to: pod.parkedManifest, done: "parked", fx: fx)
        }
    }

    /// Starts a service; a static pod's manifest goes back into the manifests directory.
    func start(_ control: RunbookPlan.ServiceControl, timeout: Duration, fx: RunbookEffects) async throws -> String {
        switch control {
        case .actions(_, let start):
            return try await run(start, verb: "start", timeout: timeout, fx: fx)
        case .staticPod(let pod):
            return try move(pod, from: pod.parkedManifest, to: pod.manifest, done: "in the manifests directory", fx: fx)
        }
    }

    private func run(_ action: RunbookPlan.Action, verb: String, timeout: Duration, fx: RunbookEffects) async throws -> String {
        let command = action.command(verb: verb)
        try await fx.run(command, timeout: timeout)
        return "ran \(command)"
    }

    /// Moves a static pod's manifest between its two homes; already there is success, both or
    /// neither is an error (kubelet would run the one in the manifests directory).
    private func move(
        _ pod: RunbookPlan.StaticPod, from source: String, to destination: String, done: String, fx: RunbookEffects
    ) throws -> String {
        switch (try fx.exists(source), try fx.exists(destination)) {
        case (false, true):
            fx.say("\(destination) is already \(done)")
            return "\(destination) already \(done)"
        case (true, false):
            try fx.move(source, to: destination)
            return "moved \(source) -> \(destination)"
        case (true, true):
            throw RunbookError(.fileSystem, "both \(pod.manifest) and \(pod.parkedManifest) exist; kubelet runs the one in \(pod.manifestsDir): remove the stale one")
        case (false, false):
            throw RunbookError(.fileSystem, "the manifest is neither at \(pod.manifest) nor parked at \(pod.parkedManifest)")
        }
    }

    /// Polls until the endpoint stops answering, at most until `deadline`.
    func waitUntilDown(deadline: Date, timeout: Duration, fx: RunbookEffects) async throws {
        guard fx.act("wait until \(plan.endpoint) stops answering (at most \(DurationText.format(timeout)))") else { return }
        var last = ProbeResult.down
        for _ in 0..<pollsMax(timeout) {
            last = await environment.probe(endpoint: plan.endpoint)
            if last == .down { return }
            guard environment.now() < deadline else { break }
            try await environment.sleep(for: probeInterval)
        }
        throw RunbookError(.serverState, "\(plan.endpoint) still \(Self.describe(last)) \(DurationText.format(timeout)) after the stop; check the server's stop action, or raise server.stopTimeout")
    }

    /// Polls until the endpoint is healthy at the wanted revision and returns its revision; a
    /// healthy server below the restored revision is serving an older data-dir, an error at once.
    private func waitUntilServing(_ wanted: WantedRevision, deadline: Date, timeout: Duration, fx: RunbookEffects) async throws -> Int64? {
        let text: String
        var expected: Int64?
        switch wanted {
        case .any: text = "any revision"
        case .restored(nil): text = "the restored revision or later"
        case .restored(let revision?):
            text = "revision ≥ \(revision)"
            expected = revision
        }
        guard fx.act("wait until \(plan.endpoint) answers healthy at \(text) (at most \(DurationText.format(timeout)))") else { return nil }
        var last = ProbeResult.down
        for _ in 0..<pollsMax(timeout) {
            last = await environment.probe(endpoint: plan.endpoint)
            if case .up(let revision, healthy: true) = last {
                guard let expected, revision < expected else { return revision }
                throw RunbookError(.serverState, "\(plan.endpoint) is healthy at revision \(revision), below the restored revision \(expected): the server serves an older data-dir, not the restored one; check that the repoint took effect (a --data-dir flag or a config file overrides a drop-in)")
            }
            guard environment.now() < deadline else { break }
            try await environment.sleep(for: probeInterval)
        }
        throw RunbookError(.serverState, "\(plan.endpoint) not healthy \(DurationText.format(timeout)) after the start (last probe: \(Self.describe(last))); check the server's log, or raise server.startTimeout")
    }

    /// A bound on probes besides the clock's deadline.
    private func pollsMax(_ timeout: Duration) -> Int {
        Int(min(timeout / probeInterval, 100_000)) + 2
    }

    func remaining(until deadline: Date) -> Duration {
        .milliseconds(max(1_000, Int64(deadline.timeIntervalSince(environment.now()) * 1_000)))
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func describe(_ answer: ProbeResult) -> String {
        switch answer {
        case .down: "does not answer"
        case .up(let revision, let healthy): "answers, \(healthy ? "healthy" : "unhealthy") at revision \(revision)"
        }
    }
}
