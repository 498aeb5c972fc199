import XCTest
@testable import Raft

extension TestNetwork {
    /// Three voters led by node 1, where node 3 is cut off and missed entry "a" (index 3), and
    /// node 1 was asked to hand leadership to node 3: the transfer waits for it to catch up.
    static func pendingTransferToLaggingNode3() throws -> TestNetwork {
        let net = TestNetwork(voters: [1, 2, 3])
        net.elect(1)
        net.isolate(3)
        try net.propose(1, "a")
        net.deliverAll()
        net.transferLeadership(on: 1, to: 3)
        return net
    }
}
