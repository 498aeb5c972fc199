import ArgumentParser
import Backup
import Foundation
import Restore
import Server
import Storage

extension SnapshotCommand {
    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a fresh data-dir from a snapshot, as a member of a new cluster (new cluster and member ids).",
            discussion: """
                FILE is a cairn snapshot archive, or an etcd snapshot (etcdctl snapshot save, or \
                a cairn archive of an etcd server): its keys, revisions and leases are imported. \
                The archive is verified first. DIR must not exist or be empty; it is assembled in \
                DIR.restoring and renamed into place once complete. Restore the same snapshot on \
                every member with the same --initial-cluster and --initial-cluster-token (each \
                with its own --name and --initial-advertise-peer-urls), then start them.

                Kubernetes and other watch caches must not see revisions go backwards: use \
                --bump-revision auto --mark-compacted (or a number) so revisions continue above \
                every revision the old cluster could have served and watchers re-list.
                """
        )

        @Argument(help: "The snapshot: a cairn archive or an etcd snapshot file.") var file: String
        @Option(help: "The new data-dir (must not exist, or be empty).") var dataDir: String
        @Option(help: "This member's name in --initial-cluster.") var name = "default"
        @Option(help: "Every member of the new cluster: name=peer-url,… (default: this member alone).")
        var initialCluster: String?
        @Option(help: "The new cluster's token (with the peer URLs it determines the cluster and member ids).")
        var initialClusterToken = "etcd-cluster"
        @Option(help: "This member's peer URLs.") var initialAdvertisePeerUrls = "http://127.0.0.1:2380"
        @Option(help: "Move the revision forward by N, or auto: max(1000000000, the snapshot's revision).")
        var bumpRevision: String?
        @Flag(help: "Mark the bumped revision compacted, so watchers from older revisions re-list (needs --bump-revision).")
        var markCompacted = false
        @Flag(help: "Accept an etcd snapshot without its SHA-256 trailer (a copied member/snap/db); skip a cairn archive's sidecar and KV-hash checks.")
        var skipHashCheck = false
        @Option(name: [.customShort("w"), .long], help: "Output format: table or json.")
        var writeOut: SnapshotCommand.OutputFormat = .table
        @OptionGroup var encryption: SnapshotCommand.EncryptionOption

        func validate() throws {
            if let bumpRevision, RevisionBump(argument: bumpRevision) == nil {
                throw ValidationError("--bump-revision must be a positive number or auto, not \"\(bumpRevision)\"")
            }
            if markCompacted && bumpRevision == nil {
                throw ValidationError("--mark-compacted needs --bump-revision (a number, or auto)")
            }
        }

        func run() async throws {
            let meter = ProgressMeter(enabled: isatty(STDERR_FILENO) == 1)
            let summary: RestoreSummary
            do {
                let options = try RestoreFlags(name: name, initialCluster: initialCluster,
                    initialClusterToken: initialClusterToken, initialAdvertisePeerURLs: initialAdvertisePeerUrls
                ).options(revisionBump: bumpRevision.flatMap(RevisionBump.init(argument:)), markCompacted: markCompacted,
                    skipHashCheck: skipHashCheck, encryptionKey: try encryption.key())
                summary = try await SnapshotRestore.restore(snapshot: file, into: dataDir, options: options) {
                    meter.report(bytes: $0.bytes, total: $0.totalBytes)
                }
                meter.finish()
            } catch {
                meter.finish()
                throw CommandFailure.exit(error)
            }
            switch writeOut {
            case .json: try SnapshotCommand.printJSON(summary)
            case .table:
                SnapshotCommand.printTable([
                    ("data-dir", summary.dataDir),
                    ("snapshot", "\(summary.snapshotFormat), revision \(summary.snapshotRevision), compacted at \(summary.snapshotCompactRevision)"),
                    ("revision", summary.revisionBump > 0 ? "\(summary.revision) (bumped by \(summary.revisionBump))" : "\(summary.revision)"),
                    ("compact revision", "\(summary.compactRevision)"),
                    ("keys", "\(summary.keyCount)"),
                    ("leases", "\(summary.leaseCount) (full TTLs again)"),
                    ("cluster id", summary.clusterID),
                    ("member", "\(summary.name) (\(summary.memberID))"),
                    ("members", summary.members.map { "\($0.name)=\($0.peerURLs.joined(separator: ","))" }.joined(separator: " ")),
                    ("alarms cleared", summary.alarmsCleared.isEmpty ? "none" : summary.alarmsCleared.joined(separator: ", ")),
                ])
            }
        }
    }
}

/// The membership flags of a restore, read exactly as `cairn server` reads them, so a restored
/// member gets the ids a server started with the same flags would.
struct RestoreFlags {
    var name: String
    var initialCluster: String?
    var initialClusterToken: String
    var initialAdvertisePeerURLs: String

    func options(revisionBump: RevisionBump?, markCompacted: Bool, skipHashCheck: Bool, encryptionKey: EncryptionKey? = nil) throws
        -> RestoreOptions
    {
        var arguments = ["--name", name, "--initial-cluster-token", initialClusterToken,
            "--initial-advertise-peer-urls", initialAdvertisePeerURLs]
        if let initialCluster { arguments += ["--initial-cluster", initialCluster] }
        let configuration: ServerConfiguration
        do {
            configuration = try ConfigurationResolver.resolve(arguments: arguments, environment: [:]) { path in
                throw ConfigurationError("no config file is read here: \(path)")
            }.configuration
        } catch {
            throw RestoreError(.invalidOptions, "\(error)")
        }
        return RestoreOptions(
            initialCluster: configuration.resolvedInitialCluster.map {
                DataDirectory.FoundingMember(name: $0.name, peerURLs: $0.peerURLs.map(\.description))
            },
            name: configuration.name, initialClusterToken: configuration.initialClusterToken,
            revisionBump: revisionBump, markCompacted: markCompacted, skipHashCheck: skipHashCheck, encryptionKey: encryptionKey)
    }
}
