import Foundation
import GRPCCore
import Raft
import XCTest

/// How many requests a fuzz test sends and from which seed: the test's fixed defaults, so a
/// failure replays, or `CAIRN_FUZZ_ROUNDS` and `CAIRN_FUZZ_SEED` for a longer run (`make fuzz`).
struct FuzzSettings: CustomStringConvertible {
    static let roundsVariable = "CAIRN_FUZZ_ROUNDS"
    static let seedVariable = "CAIRN_FUZZ_SEED"

    let rounds: Int
    let seed: UInt64

    /// Throws on a value that is not a number: a mistyped `ROUNDS=2O000` must not quietly run
    /// the short default.
    init(defaultRounds: Int, defaultSeed: UInt64) throws {
        let environment = ProcessInfo.processInfo.environment
        func number<T: FixedWidthInteger>(_ variable: String, _ fallback: T) throws -> T {
            guard let text = environment[variable], !text.isEmpty else { return fallback }
            return try XCTUnwrap(T(text), "\(variable)=\(text) is not a number")
        }
        rounds = try number(Self.roundsVariable, defaultRounds)
        seed = try number(Self.seedVariable, defaultSeed)
    }

    /// What replays the run.
    var description: String { "\(Self.roundsVariable)=\(rounds) \(Self.seedVariable)=\(seed)" }
}

/// What a fuzz test draws its fields from, repeatably.
struct FuzzDraw {
    /// A field larger than the gRPC limit, which the transport refuses before the server sees it.
    static let oversizedBytes = 2 << 20

    var random: SplitMix64
    /// Whether this round drew a field larger than the server's gRPC limit.
    var oversized = false

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    mutating func pick<T>(_ choices: [T]) -> T { choices[Int(random.next() % UInt64(choices.count))] }
    mutating func flag() -> Bool { random.next() % 2 == 0 }

    /// Random bytes, mostly small; once in a while more than the server takes in one request.
    mutating func bytes() -> Data {
        let size = pick([0, 0, 1, 3, 8, 64, 1024, 70_000])
        let count = random.next() % 97 == 0 ? Self.oversizedBytes : size
        if count >= Self.oversizedBytes { oversized = true }
        return Data((0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) })
    }

    /// Random text of `count` characters from ASCII, accented letters, a control character, NUL
    /// and characters outside the Basic Multilingual Plane.
    mutating func text(count: Int) -> String {
        let alphabet: [Character] = ["a", "z", "0", "/", " ", "\u{0}", "\u{7f}", "é", "ß", "\u{2028}", "🦆", "\u{10FFFF}"]
        return String((0..<count).map { _ in pick(alphabet) })
    }

    /// A name or password of the given sizes in bytes, padded with `x`; an oversized one marks
    /// the round.
    mutating func long(bytes: Int) -> String {
        if bytes >= Self.oversizedBytes { oversized = true }
        return String(repeating: "x", count: bytes)
    }

    mutating func int64() -> Int64 {
        pick([0, 1, -1, 2, 7, 1_000, Int64.max, Int64.min, Int64(bitPattern: random.next())])
    }

    /// A known value of a proto enum, or one no version of etcd defines.
    mutating func rawEnum() -> Int { pick([0, 1, 2, 3, 4, 5, -1, 99, Int(Int32.max)]) }
}

/// The answers of a fuzz run by status, and the check that each is one a healthy server gives:
/// success or a proper etcd error. A server that wedged or crashed answers neither (the
/// deadline passes or the connection goes); an internal or unknown error is a bug in it.
struct FuzzAnswers: CustomStringConvertible {
    /// The statuses etcd answers a request it refuses with.
    static let proper: Set<RPCError.Code> = [
        .invalidArgument, .outOfRange, .notFound, .failedPrecondition, .permissionDenied, .unauthenticated,
        .resourceExhausted,
    ]
    static let reset = "reset (over the gRPC limit)"

    private(set) var counts: [String: Int] = [:]

    mutating func recordSuccess() { counts["ok", default: 0] += 1 }

    /// Records a failed request; returns its status, nil when the request got no proper answer
    /// (the test has failed then).
    @discardableResult
    mutating func record(_ error: any Error, oversized: Bool, _ context: @autoclosure () -> String,
                         file: StaticString = #filePath, line: UInt = #line) -> RPCError.Code? {
        guard let error = error as? RPCError else {
            XCTFail("\(context()): not a gRPC status: \(error)", file: file, line: line)
            return nil
        }
        if oversized, error.code == .unavailable {
            // Beyond --max-request-bytes plus etcd's 512 KiB of gRPC overhead, grpc-swift's
            // transport resets the stream where grpc-go answers RESOURCE_EXHAUSTED.
            XCTAssertTrue(error.message.contains("RST_STREAM"), "\(context()): \(error)", file: file, line: line)
            counts[Self.reset, default: 0] += 1
            return error.code
        }
        guard Self.proper.contains(error.code) else {
            XCTFail("\(context()): \(error)", file: file, line: line)
            return nil
        }
        counts["\(error.code)", default: 0] += 1
        return error.code
    }

    var description: String {
        "answers by code: " + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}
