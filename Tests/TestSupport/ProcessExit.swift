import Foundation

/// Waiting for a child process to exit with a bound: `run()` hands back a `ProcessExit` that
/// any thread may wait on, as often as it likes, each wait with its own timeout.
public struct ProcessExit: Sendable {
    private let group = DispatchGroup()

    /// Starts `process`, which must not have a termination handler of its own.
    public static func run(_ process: Process) throws -> ProcessExit {
        let exit = ProcessExit()
        exit.group.enter()
        process.terminationHandler = { [group = exit.group] _ in group.leave() }
        do {
            try process.run()
        } catch {
            exit.group.leave()
            throw error
        }
        return exit
    }

    /// True when the process exited within `timeout`.
    public func wait(upTo timeout: Duration) -> Bool {
        let (seconds, attoseconds) = timeout.components
        return group.wait(timeout: .now() + Double(seconds) + Double(attoseconds) / 1e18) == .success
    }

    public func wait() { group.wait() }
}
