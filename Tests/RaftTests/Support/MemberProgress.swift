@testable import Raft

/// Raft's `Progress`, named so test files that import Foundation (through XCTest) do not
/// confuse it with `Foundation.Progress`; the module name is shadowed by the `Raft` struct.
typealias MemberProgress = Progress
