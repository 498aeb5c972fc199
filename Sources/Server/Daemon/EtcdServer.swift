import API
import Foundation
import Logging
import Raft
import Storage
import Synchronization

/// One running member: its identity, storage, raft host and the facts every service needs.
public final class EtcdServer: Sendable {
    /// Reported in Maintenance.Status: a 3.5-series version at or past 3.5.13, so clients such
    /// as the Kubernetes API server enable the features cairn supports (progress requests, …).
    public static let reportedVersion = "3.5.17"
    public static let clusterVersion = "3.5.0"

    let configuration: ServerConfiguration
    let identity: RaftHost.Identity
    let store: MVCCStore
    let host: RaftHost
    let logger: Logger
    /// What only the leader answers, asked from a follower.
    let leader: LeaderForwarder
    /// Counters behind `/metrics` that no other component keeps.
    let counters = ServerCounters()
    /// Set when the member begins to shut down: the other members' raft streams then end, so
    /// the peer server drains at once instead of waiting for them.
    let shuttingDown = Atomic<Bool>(false)
    /// Simple tokens issued on this member.
    let tokens: TokenKeeper
    let auth: AuthGate

    init(configuration: ServerConfiguration, identity: RaftHost.Identity, store: MVCCStore, host: RaftHost, logger: Logger) {
        self.configuration = configuration
        self.identity = identity
        self.store = store
        self.host = host
        self.logger = logger
        leader = LeaderForwarder(host: host, store: store, security: PeerSecurity(files: configuration.peerTLS))
        tokens = TokenKeeper(ttl: configuration.authTokenTTL)
        auth = AuthGate(store: store, tokens: tokens, certificateNamesUsers: configuration.clientTLS.clientCertAuth)
    }

    /// Keeps this member's tokens in step with applied entries: issued by Authenticate, void
    /// when their user is deleted or changes password, when auth is disabled, or when a
    /// leader's snapshot replaces the store.
    func onHostEvent(_ event: RaftHost.HostEvent) {
        switch event {
        case .applied(_, .authenticated(let user, let token)?):
            tokens.issue(token, to: user)
        case .applied(_, .authChanged(.user(let user))?):
            tokens.revoke(user: user)
        case .applied(_, .authChanged(.all)?), .storeReplaced:
            tokens.revokeAll()
        default:
            break
        }
    }

    /// Every response header: cluster id, member id, revision, raft term.
    func header(revision: Int64) async -> Etcdserverpb_ResponseHeader {
        var header = Etcdserverpb_ResponseHeader()
        header.clusterID = identity.clusterID
        header.memberID = identity.memberID
        header.revision = revision
        header.raftTerm = await host.term
        return header
    }

    /// A header at the store's current revision.
    func header() async throws -> Etcdserverpb_ResponseHeader {
        await header(revision: try store.status().revision)
    }

    var maxRequestBytes: Int { configuration.maxRequestBytes }

    /// etcd's allowance for gRPC framing on top of `--max-request-bytes`: the largest message
    /// a client may send, and the size past which a fragmenting watcher's responses split.
    static let grpcOverheadBytes = 512 * 1024

    var maxMessageBytes: Int { maxRequestBytes + Self.grpcOverheadBytes }

    /// Client writes go through raft; the answer is what applying them produced. A write that
    /// would take the backend past its quota is refused before it is proposed, and raises the
    /// NOSPACE alarm for this member, as etcd does.
    func propose(_ build: (inout Cairnpb_InternalRequest) -> Void) async throws -> AppliedResult {
        var request = Cairnpb_InternalRequest()
        // Every client request names its caller, for the permission checks made on apply.
        request.caller = try auth.caller()
        build(&request)
        let cost = request.quotaCostBytes
        if cost > 0, try !store.hasRoom(forBytes: cost) {
            counters.proposalFailed()
            await raiseNoSpaceAlarm()
            throw StorageError.noSpace
        }
        do {
            return try await host.propose(request, maxRequestBytes: maxRequestBytes)
        } catch {
            counters.proposalFailed()
            throw error
        }
    }

    private func raiseNoSpaceAlarm() async {
        if await raiseAlarm(.noSpace, memberID: identity.memberID) {
            logger.warning("backend quota reached: NOSPACE alarm raised; compact, defragment, then disarm",
                metadata: ["quota-backend-bytes": "\(configuration.quotaBackendBytes)"])
        }
    }

    /// Raises `kind` for `memberID` through raft unless it is active already; true when this
    /// call raised it.
    @discardableResult
    func raiseAlarm(_ kind: AlarmRecord.Kind, memberID: UInt64) async -> Bool {
        let raised = AlarmRecord(memberID: memberID, kind: kind)
        if (try? store.alarms().contains(raised)) == true { return false }
        var alarm = Etcdserverpb_AlarmRequest()
        alarm.action = .activate
        alarm.memberID = memberID
        alarm.alarm = Etcdserverpb_AlarmType(rawValue: Int(kind.rawValue)) ?? .none
        var request = Cairnpb_InternalRequest()
        request.alarm = alarm
        do {
            _ = try await host.propose(request, maxRequestBytes: maxRequestBytes)
            return true
        } catch {
            logger.error("cannot raise an alarm", metadata: ["alarm": "\(kind.etcdName)", "error": "\(error)"])
            return false
        }
    }

    /// The active alarms in etcd's text form, for Maintenance.Status's `errors`.
    func alarmDescriptions() throws -> [String] {
        try store.alarms().map { alarm in
            "memberID:\(alarm.memberID) alarm:\(alarm.kind.etcdName) "
        }
    }
}
