import API
import GRPCCore
import Logging
import Storage

/// Compares this member's KV hash with the other members' at this member's current revision,
/// as etcd's corruption checks do. A member whose hash differs over the same history (same
/// revision, same compact revision) holds different data: one of the two is corrupt.
struct CorruptionCheck: Sendable {
    let memberID: UInt64
    let store: MVCCStore
    let security: PeerSecurity
    let logger: Logger

    struct Mismatch: Sendable, CustomStringConvertible {
        var memberID: UInt64
        var revision: Int64
        var localHash: UInt32
        var peerHash: UInt32

        var description: String {
            "member \(String(memberID, radix: 16)) has hash \(peerHash) at revision \(revision), this member \(localHash)"
        }
    }

    /// The members whose hash differs from this member's. A member that cannot answer for
    /// this revision (down, behind it, or compacted past it) is skipped: there is nothing to
    /// compare, which is not a verdict.
    func mismatches(among members: [MemberRecord]) async throws -> [Mismatch] {
        let local = try store.hashKV(revision: 0)
        var found: [Mismatch] = []
        for member in members where member.id != memberID && !member.isLearner {
            guard let url = member.peerURLs.first else { continue }
            var request = Etcdserverpb_HashKVRequest()
            request.revision = local.revision
            var options = CallOptions.defaults
            options.timeout = .seconds(5)
            let remote: Etcdserverpb_HashKVResponse
            do {
                remote = try await PeerTransport.withClient(of: url, security: security) {
                    try await Cairnpb_Peer.Client(wrapping: $0).hashKV(request, options: options)
                }
            } catch {
                logger.debug("corruption check: a member could not answer", metadata: [
                    "member-id": "\(String(member.id, radix: 16))", "revision": "\(local.revision)", "error": "\(error)",
                ])
                continue
            }
            // etcd reports -1 before the first compaction; the store says 0.
            guard max(remote.compactRevision, 0) == local.compactRevision else { continue }
            if remote.hash != local.hash {
                found.append(Mismatch(memberID: member.id, revision: local.revision, localHash: local.hash, peerHash: remote.hash))
            }
        }
        return found
    }
}
