import API
import Foundation
import Logging
import Raft
import Storage

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

    init(configuration: ServerConfiguration, identity: RaftHost.Identity, store: MVCCStore, host: RaftHost, logger: Logger) {
        self.configuration = configuration
        self.identity = identity
        self.store = store
        self.host = host
        self.logger = logger
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

    /// Client writes go through raft; the answer is what applying them produced.
    func propose(_ build: (inout Cairnpb_InternalRequest) -> Void) async throws -> AppliedResult {
        var request = Cairnpb_InternalRequest()
        build(&request)
        return try await host.propose(request, maxRequestBytes: maxRequestBytes)
    }
}
