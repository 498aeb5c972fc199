import API
import Foundation
import GRPCCore
import Raft
import Storage

/// etcd's membership rules: which changes a client may ask for (checked before proposing,
/// with etcd's messages) and how an applied change rewrites the stored member list.
enum Membership {
    static let memberExists = RPCError(code: .failedPrecondition, message: "etcdserver: member ID already exist")
    static let peerURLExists = RPCError(code: .failedPrecondition, message: "etcdserver: Peer URLs already exists")
    static let notEnoughStarted = RPCError(
        code: .failedPrecondition, message: "etcdserver: re-configuration failed due to not enough started members")
    static let badURLs = RPCError(code: .invalidArgument, message: "etcdserver: given member URLs are invalid")
    static let notLearner = RPCError(code: .failedPrecondition, message: "etcdserver: can only promote a learner member")
    static let learnerNotReady = RPCError(
        code: .failedPrecondition, message: "etcdserver: can only promote a learner member which is in sync with leader")
    static let tooManyLearners = RPCError(code: .failedPrecondition, message: "etcdserver: too many learner members in cluster")
    static let notLeader = RPCError(code: .failedPrecondition, message: "etcdserver: not leader")
    static let unhealthy = RPCError(code: .unavailable, message: "etcdserver: unhealthy cluster")

    /// etcd refuses to reconfigure a cluster while a voter is unreachable. The leader knows
    /// whom it heard from lately; a follower can only require that there is a leader.
    static func checkHealthy(_ members: [MemberRecord], leader: UInt64, self id: UInt64, recentlyActive: Set<NodeID>) throws {
        guard leader != 0 else { throw EtcdError.noLeader }
        guard leader == id else { return }
        let voters = members.filter { !$0.isLearner }.map(\.id)
        if !voters.allSatisfy(recentlyActive.contains) { throw unhealthy }
    }

    /// etcd allows one learner at a time.
    static let maxLearners = 1
    /// A learner may be promoted once its log reaches this share of the leader's.
    static let learnerReadyShare = 0.9

    /// A member is started once it has announced its name (members added at runtime start
    /// unnamed).
    static func isStarted(_ member: MemberRecord) -> Bool { !member.name.isEmpty }

    /// Whether the voters other than `excluded`, plus one more (`adding`, started or not),
    /// keep a started quorum (etcd's strict reconfiguration check).
    private static func startedQuorumSurvives(
        _ members: [MemberRecord], excluding excluded: UInt64? = nil, adding: (started: Bool, count: Int) = (false, 0)
    ) -> Bool {
        let voters = members.filter { !$0.isLearner && $0.id != excluded }
        let quorum = (voters.count + adding.count) / 2 + 1
        return voters.filter(isStarted).count + (adding.started ? adding.count : 0) >= quorum
    }

    static func validatePeerURLs(_ urls: [String]) throws -> [String] {
        guard !urls.isEmpty else { throw badURLs }
        for url in urls {
            guard let spec = try? URLSpec(parsing: url, setting: "peer-urls"), spec.scheme == "http" || spec.scheme == "https"
            else { throw badURLs }
        }
        return urls
    }

    static func checkAdd(_ members: [MemberRecord], peerURLs: [String], isLearner: Bool) throws {
        _ = try validatePeerURLs(peerURLs)
        let taken = Set(members.flatMap(\.peerURLs))
        if peerURLs.contains(where: taken.contains) { throw peerURLExists }
        if isLearner {
            if members.filter(\.isLearner).count >= maxLearners { throw tooManyLearners }
            return
        }
        let voters = members.filter { !$0.isLearner }
        // etcd lets a lone started member take a second voter (how a restored single member
        // grows back into a cluster), although writes then wait until the new member runs.
        if voters.count == 1, voters.allSatisfy(isStarted) { return }
        if !startedQuorumSurvives(members, adding: (started: false, count: 1)) { throw notEnoughStarted }
    }

    static func checkRemove(_ members: [MemberRecord], id: UInt64) throws {
        guard let member = members.first(where: { $0.id == id }) else { throw EtcdError.memberNotFound }
        if !member.isLearner, !startedQuorumSurvives(members, excluding: id) { throw notEnoughStarted }
    }

    static func checkUpdate(_ members: [MemberRecord], id: UInt64, peerURLs: [String]) throws {
        _ = try validatePeerURLs(peerURLs)
        guard members.contains(where: { $0.id == id }) else { throw EtcdError.memberNotFound }
        let taken = Set(members.filter { $0.id != id }.flatMap(\.peerURLs))
        if peerURLs.contains(where: taken.contains) { throw peerURLExists }
    }

    /// `matched` is how far the leader knows each member's log matches its own (empty on
    /// a follower).
    static func checkPromote(_ members: [MemberRecord], id: UInt64, leader: UInt64, matched: [NodeID: LogIndex]) throws {
        guard let member = members.first(where: { $0.id == id }) else { throw EtcdError.memberNotFound }
        guard member.isLearner else { throw notLearner }
        guard let leaderMatch = matched[leader] else { throw notLeader }
        guard let learnerMatch = matched[id], Double(learnerMatch) >= Double(leaderMatch) * learnerReadyShare else {
            throw learnerNotReady
        }
        // The learner is running (it is in sync), so it counts as started.
        if !startedQuorumSurvives(members, adding: (started: true, count: 1)) { throw notEnoughStarted }
    }

    /// Rewrites the stored members for an applied change exactly as raft changes its
    /// configuration (``RaftNode/applyConfChange(_:)``), so replays and every member agree:
    /// adding an existing learner as a voter promotes it, a learner add of a voter and the
    /// removal of the last voter change nothing.
    static func apply(_ change: ConfChange, member: MemberRecord?, in transaction: borrowing WriteTransaction) throws {
        let members = try transaction.members()
        let existing = members.first { $0.id == change.nodeID }
        switch change.kind {
        case .addNode:
            if var promoted = existing {
                promoted.isLearner = false
                try transaction.putMember(promoted)
            } else if var added = member {
                added.isLearner = false
                try transaction.putMember(added)
            }
        case .addLearner:
            guard existing == nil, var added = member else { return }
            added.isLearner = true
            try transaction.putMember(added)
        case .removeNode:
            let voters = members.filter { !$0.isLearner }
            guard existing != nil, voters.map(\.id) != [change.nodeID] else { return }
            try transaction.removeMember(id: change.nodeID)
        }
    }

    /// A member announcing its name and client URLs, or an update of its peer URLs.
    static func apply(_ attributes: Cairnpb_MemberAttributes, in transaction: borrowing WriteTransaction) throws {
        guard var member = try transaction.members().first(where: { $0.id == attributes.memberID }) else { return }
        member.name = attributes.name
        member.clientURLs = attributes.clientUrls
        try transaction.putMember(member)
    }

    static func apply(_ update: Etcdserverpb_MemberUpdateRequest, in transaction: borrowing WriteTransaction) throws {
        guard var member = try transaction.members().first(where: { $0.id == update.id }) else {
            throw StorageError(.invalidArgument, EtcdError.memberNotFound.message)
        }
        member.peerURLs = update.peerUrls
        try transaction.putMember(member)
    }
}

extension Etcdserverpb_Member {
    init(_ record: MemberRecord) {
        self.init()
        id = record.id
        name = record.name
        peerUrls = record.peerURLs
        clientUrls = record.clientURLs
        isLearner = record.isLearner
    }
}

extension MemberRecord {
    init(_ member: Etcdserverpb_Member) {
        self.init(id: member.id, name: member.name, peerURLs: member.peerUrls, clientURLs: member.clientUrls,
            isLearner: member.isLearner)
    }
}

extension ClusterIdentity {
    /// etcd's id for a member added at runtime: its peer URLs and the time of the request.
    static func memberID(peerURLs: [String], addedAt date: Date) -> UInt64 {
        memberID(peerURLs: peerURLs, token: "\(Int64(date.timeIntervalSince1970))")
    }
}
