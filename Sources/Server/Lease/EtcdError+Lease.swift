import GRPCCore

extension EtcdError {
    static let leaseTTLTooLarge = RPCError(code: .outOfRange, message: "etcdserver: too large lease TTL")
    /// Lease deadlines live on the leader; clients retry this (Unavailable) elsewhere.
    static let notLeader = RPCError(code: .unavailable, message: "etcdserver: not leader")
}
