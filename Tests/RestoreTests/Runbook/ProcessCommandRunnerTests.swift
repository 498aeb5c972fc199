import Foundation
@testable import Restore
import XCTest

final class ProcessCommandRunnerTests: XCTestCase {
    func testShellCommandsReportStatusAndOutput() async throws {
        let result = try await ProcessCommandRunner().run(.shell("echo out; echo err >&2; exit 3"), timeout: .seconds(10))
        XCTAssertEqual(result.status, 3)
        XCTAssertEqual(result.output, "out\nerr\n")
    }

    func testACommandPastItsTimeoutIsKilled() async throws {
        let started = Date()
        await assertThrows(.commandFailed, containing: "ran longer than 200ms and was killed") {
            try await ProcessCommandRunner().run(.exec(["sleep", "30"]), timeout: .milliseconds(200))
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    func testExecutablesAreFoundOnTheRunnersOwnSearchPath() async throws {
        let runner = ProcessCommandRunner(searchPath: "/nonexistent")
        XCTAssertNil(runner.locateExecutable("sh"))
        XCTAssertEqual(runner.locateExecutable("/bin/sh"), "/bin/sh")
        await assertThrows(.commandFailed, containing: "'systemctl' is not an executable in PATH /nonexistent") {
            try await runner.run(.exec(["systemctl", "daemon-reload"]), timeout: .seconds(1))
        }
    }

    /// A start command that leaves a daemon behind (as `server-start.sh &` does) returns when
    /// the command does, not when the daemon exits, and the daemon holds none of our descriptors.
    func testACommandThatLeavesADaemonRunningReturnsAtOnce() async throws {
        let pidFile = NSTemporaryDirectory() + "/cairn-runner-daemon-\(UUID().uuidString)"
        defer {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGKILL)
            }
            try? FileManager.default.removeItem(atPath: pidFile)
        }
        let started = ContinuousClock.now
        let result = try await ProcessCommandRunner().run(
            .shell("sleep 60 >/dev/null 2>&1 </dev/null & echo $! >\(pidFile); echo started"), timeout: .seconds(30))
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.output, "started\n")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(10))
        let pid = try XCTUnwrap(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // The shell may open descriptors of its own; none may be one of this process's.
        let theirs = Self.descriptorTargets(of: "\(pid)")
        let ours = Set(Self.descriptorTargets(of: "self").values)
        // Sharing /dev/null is harmless.
        let shared = theirs.filter { $0.value != "/dev/null" && ours.contains($0.value) }
        XCTAssertEqual(shared.count, 0, "the daemon holds descriptors of the runner's process: \(shared)")
    }

    /// What each descriptor above 2 of a process refers to (`socket:[…]`, `pipe:[…]`, a path).
    private static func descriptorTargets(of process: String) -> [Int32: String] {
        let directory = "/proc/\(process)/fd"
        var targets: [Int32: String] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            guard let descriptor = Int32(name), descriptor > 2,
                let target = try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + name)
            else { continue }
            targets[descriptor] = target
        }
        return targets
    }
}
