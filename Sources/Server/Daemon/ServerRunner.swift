import API
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Raft
import Storage

/// Starts a member from its configuration and serves until SIGTERM or SIGINT.
public enum ServerRunner {
    enum StopReason: Sendable {
        case signal(Int32)
        case servingFailed(String)
        /// The cluster removed this member.
        case removed
        /// The raft host stopped on its own: its store cannot follow raft (logged critical).
        case hostFailed
    }

    /// `localSnapshots`, when given, takes snapshots of this member's store while it runs.
    public static func run(configuration: ServerConfiguration, logger: Logger, localSnapshots: LocalSnapshots? = nil)
        async throws
    {
        // A peer closing a stream mid-copy must fail that copy, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let directory = DataDirectory(root: configuration.resolvedDataDir)
        try makePrivateDirectories(directory, logger: logger)
        let joining = !directory.hasWAL && configuration.initialClusterState == .existing
        let joined = joining ? try await joinCluster(configuration: configuration, logger: logger) : nil
        let bootstrapIdentity = joined?.identity ?? founding(configuration).identity
        let store = try MVCCStore(path: directory.backendPath,
            options: MVCCOptions(quotaBytes: Int(configuration.quotaBackendBytes)))
        var (wal, replay) = try WAL.open(directory: directory.walDirectory,
            options: WALOptions(metadata: bootstrapIdentity.walMetadata))
        if let torn = replay.tornTail {
            logger.warning("repaired a torn WAL tail left by a crash",
                metadata: ["segment": "\(torn.segmentPath)", "offset": "\(torn.offset)", "discarded-bytes": "\(torn.discardedBytes)"])
        }
        if replay.lastIndex == 0 && replay.hardState.isEmpty && replay.snapshot.index == 0 {
            if configuration.initialClusterState == .new {
                try await DataDirectory.bootstrap(store: store, wal: wal, identity: bootstrapIdentity,
                    members: founding(configuration).records)
                wal.close()
                (wal, replay) = try WAL.open(directory: directory.walDirectory)
                logger.info("bootstrapped a new cluster", metadata: [
                    "cluster-id": "\(hex(bootstrapIdentity.clusterID))", "member-id": "\(hex(bootstrapIdentity.memberID))",
                ])
            } else {
                // Until the leader's snapshot replaces the store, the members it listed are
                // where this member sends its raft messages.
                let members = joined?.members ?? []
                try await store.write { transaction in
                    try transaction.setClusterID(bootstrapIdentity.clusterID)
                    for member in members { try transaction.putMember(member) }
                }
                logger.info("joining an existing cluster: waiting for the leader's snapshot", metadata: [
                    "cluster-id": "\(hex(bootstrapIdentity.clusterID))", "member-id": "\(hex(bootstrapIdentity.memberID))",
                ])
            }
        }
        try await reconcileStore(store, with: replay, directory: directory, logger: logger)
        guard let identity = MemberIdentity(walMetadata: replay.metadata) else {
            throw ConfigurationError("the WAL in \(directory.walDirectory) has no member identity in its metadata")
        }
        let peerSecurity = PeerSecurity(files: configuration.peerTLS)
        let corruptionCheck = CorruptionCheck(memberID: identity.memberID, store: store, security: peerSecurity, logger: logger)
        if configuration.initialCorruptCheck {
            try await checkAgainstMembers(corruptionCheck, logger: logger)
        }
        if identity.memberID != bootstrapIdentity.memberID {
            // As etcd: on restart the data-dir's identity wins over --initial-cluster.
            logger.info("existing data-dir: --initial-cluster flags are ignored",
                metadata: ["member-id": "\(hex(identity.memberID))"])
        }

        var raftConfig = RaftConfig(id: identity.memberID, randomSeed: UInt64.random(in: .min ... .max))
        raftConfig.heartbeatTicks = 1
        raftConfig.electionTicks = max(2, configuration.electionTimeoutMs / configuration.heartbeatIntervalMs)
        // etcd's request timeout: 5 s plus two election timeouts.
        let requestTimeoutMs = 5000 + 2 * configuration.electionTimeoutMs
        let host = try RaftHost(
            identity: identity, store: store, wal: wal, replay: replay, raftConfig: raftConfig,
            snapshotCount: configuration.snapshotCount, snapshotCatchUpEntries: configuration.snapshotCatchUpEntries,
            requestTimeoutTicks: requestTimeoutMs / configuration.heartbeatIntervalMs, logger: logger)
        let server = EtcdServer(configuration: configuration, identity: identity, store: store, host: host, logger: logger)
        let lessor = await Lessor.following(server)
        await host.subscribe { server.onHostEvent($0) }
        localSnapshots?.attach(server)
        defer { localSnapshots?.detach() }

        let servingTLS = (client: try ServingTLS(files: configuration.clientTLS, role: "client", logger: logger),
            peer: try ServingTLS(files: configuration.peerTLS, role: "peer", logger: logger))
        let transport = PeerTransport(
            memberID: identity.memberID, clusterID: identity.clusterID, store: store, security: peerSecurity,
            callbacks: PeerTransport.Callbacks(
                unreachable: { await host.reportUnreachable($0) },
                snapshotSent: { await host.reportSnapshot(to: $0, succeeded: $1) }),
            logger: logger)
        await host.setOutbox { transport.send($0) }
        transport.update(members: try store.members())
        await host.subscribe { event in
            switch event {
            case .membersChanged, .storeReplaced: transport.update(members: (try? store.members()) ?? [])
            default: break
            }
        }
        let peerServers = try configuration.listenPeerURLs.map { url in
            guard url.scheme == "http" || url.scheme == "https" else {
                throw ConfigurationError("listen-peer-urls: \(url): members speak http or https")
            }
            var transportConfig = HTTP2ServerTransport.Posix.Config.defaults
            transportConfig.rpc.maxRequestPayloadSize = PeerTransport.maxMessageBytes
            return GRPCServer(
                transport: HTTP2ServerTransport.Posix(
                    address: .ipv4(host: url.host, port: url.port), transportSecurity: try servingTLS.peer.transportSecurity(for: url), config: transportConfig),
                services: [PeerService(server: server, lessor: lessor,
                    snapshotDirectory: directory.snapshotDirectory, logger: logger)])
        }

        let services: [any RegistrableRPCService] = [
            KVService(server: server), MaintenanceService(server: server), ClusterService(server: server),
            HealthService(), LeaseService(server: server, lessor: lessor), AuthService(server: server),
            try await WatchService.attached(to: server, progressInterval: configuration.watchProgressNotifyInterval),
        ]
        var servers: [GRPCServer<HTTP2ServerTransport.Posix>] = []
        for url in configuration.listenClientURLs {
            guard url.scheme == "http" || url.scheme == "https" else {
                throw ConfigurationError("listen-client-urls: \(url): this cairn version serves http and https URLs")
            }
            var transportConfig = HTTP2ServerTransport.Posix.Config.defaults
            transportConfig.rpc.maxRequestPayloadSize = server.maxMessageBytes
            let transport = HTTP2ServerTransport.Posix(
                address: .ipv4(host: url.host, port: url.port),
                transportSecurity: try servingTLS.client.transportSecurity(for: url),
                config: transportConfig)
            servers.append(GRPCServer(transport: transport, services: services,
                interceptors: [
                    MetricsInterceptor(counters: server.counters), RequireLeaderInterceptor(host: host), CredentialsInterceptor(),
                ]))
        }
        let grpcServers = servers + peerServers
        var httpListeners: [HTTPListener] = []
        let metrics = MetricsRouter(server: server)
        for url in configuration.listenMetricsURLs {
            httpListeners.append(try await HTTPListener.start(host: url.host, port: url.port,
                tls: url.scheme == "https" ? try servingTLS.client.sslContext() : nil, serving: "/health and /metrics",
                logger: logger, respond: metrics.respond))
        }
        if let address = configuration.failpointsHTTP {
            httpListeners.append(try await HTTPListener.start(host: address.host, port: address.port, tls: nil,
                serving: "failpoints (\(Failpoint.httpEnvironmentVariable))", logger: logger, respond: FailpointRouter.respond))
        }

        let signals = SignalWatcher(signals: [SIGTERM, SIGINT])
        var failure: (any Error)?
        await withTaskGroup(of: Void.self) { group in
            let (stopRequests, stopRequest) = AsyncStream.makeStream(of: StopReason.self)
            group.addTask {
                await host.run()
                // After a shutdown nobody reads this; otherwise the host gave up, and so does the process.
                stopRequest.yield(.hostFailed)
            }
            group.addTask { await publishAttributes(server: server, configuration: configuration) }
            group.addTask { await lessor.run() }
            group.addTask { await servingTLS.client.run() }
            group.addTask { await servingTLS.peer.run() }
            if configuration.corruptCheckInterval > .zero {
                group.addTask {
                    await monitorCorruption(corruptionCheck, every: configuration.corruptCheckInterval, server: server, logger: logger)
                }
            }
            group.addTask {
                let tick = Duration.milliseconds(configuration.heartbeatIntervalMs)
                while (try? await Task.sleep(for: tick)) != nil {
                    await host.onTick()
                }
            }
            await host.subscribe { event in
                if case .removed = event { stopRequest.yield(.removed) }
            }
            let (drained, serverDrained) = AsyncStream.makeStream(of: Void.self)
            for grpcServer in grpcServers {
                group.addTask {
                    do {
                        try await grpcServer.serve()
                    } catch {
                        stopRequest.yield(.servingFailed("\(error)"))
                    }
                    serverDrained.yield()
                }
            }
            group.addTask {
                do {
                    for grpcServer in grpcServers {
                        guard try await grpcServer.listeningAddress != nil else { return }
                    }
                } catch {
                    return
                }
                logger.info("serving client requests", metadata: [
                    "listen-client-urls": "\(configuration.listenClientURLs.map(\.description).joined(separator: ","))",
                    "version": "\(EtcdServer.reportedVersion)",
                ])
                SystemdNotifier.notify("READY=1")
            }
            group.addTask {
                let number = await signals.next()
                stopRequest.yield(.signal(number))
            }
            var reason = StopReason.signal(SIGTERM)
            for await request in stopRequests {
                reason = request
                break
            }
            if case .servingFailed(let message) = reason {
                failure = ConfigurationError("cannot serve clients: \(message)")
            }
            if case .hostFailed = reason {
                failure = ConfigurationError(
                    "this member stopped because its backend cannot follow raft (see the critical message above); restart it to replay the WAL, or replace the member if it fails again")
            }
            logger.info("shutting down", metadata: ["reason": "\(reason)"])
            SystemdNotifier.notify("STOPPING=1")
            server.shuttingDown.store(true, ordering: .relaxed)
            for grpcServer in grpcServers { grpcServer.beginGracefulShutdown() }
            // Let the servers drain before their serving tasks are cancelled: cancelling one
            // while a stream that just arrived waits to be served traps in NIO ("Deinited
            // NIOAsyncWriter without calling finish()", apple/swift-nio#3481). Streams that do
            // not end by themselves (watches, other members' raft streams) are cut after the
            // grace period.
            await waitForServers(grpcServers.count, drained: drained, upTo: .seconds(2))
            for listener in httpListeners { await listener.stop() }
            transport.stop()
            server.leader.stop()
            await host.stop()
            group.cancelAll()
        }
        wal.close()
        store.close()
        if let failure { throw failure }
        logger.info("stopped")
    }

    /// Returns once `count` servers have finished serving, or after `timeout`.
    private static func waitForServers(_ count: Int, drained: AsyncStream<Void>, upTo timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var finished = 0
                for await _ in drained {
                    finished += 1
                    if finished == count { return }
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// The data-dir and its `member`, `member/snap` directories, created 0700 as etcd creates
    /// them (keys, values and leases are readable there); an existing data-dir open to others
    /// is used but warned about, as etcd does.
    private static func makePrivateDirectories(_ directory: DataDirectory, logger: Logger) throws {
        try FileManager.default.createDirectory(atPath: PathText.parent(of: directory.root), withIntermediateDirectories: true)
        for path in [directory.root, directory.root + "/member", directory.snapshotDirectory] {
            var info = stat()
            if stat(path, &info) == 0 {
                if path == directory.root, info.st_mode & 0o077 != 0 {
                    logger.warning("the data-dir is readable by other users; 0700 is recommended", metadata: [
                        "data-dir": "\(path)", "permission": "\(String(info.st_mode & 0o777, radix: 8))",
                    ])
                }
                continue
            }
            guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
                throw ConfigurationError("cannot create \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// The backend's applied index (etcd's consistent index, written with the data) must lie
    /// between the WAL's last snapshot and its last commit.
    /// - Behind the snapshot: the member crashed between recording a snapshot from the leader
    ///   and installing its backend; install it now from `member/snap/<index>.snap.db`.
    /// - Ahead of the commit: the backend applies only entries the WAL holds as committed (each
    ///   Ready's hard state is synced before its entries are applied), so the WAL is older than
    ///   the backend: replaced, or rolled back with a file-system copy. Serving from it would
    ///   renumber or lose acknowledged writes, so the member refuses to start.
    private static func reconcileStore(_ store: MVCCStore, with replay: WALReplay, directory: DataDirectory,
        logger: Logger) async throws
    {
        let applied = try store.status().consistentIndex
        let snapshotIndex = replay.snapshot.index
        if snapshotIndex > applied {
            let file = PeerService.snapshotFile(in: directory.snapshotDirectory, index: snapshotIndex)
            guard FileManager.default.fileExists(atPath: file) else {
                throw ConfigurationError(
                    "the backend \(directory.backendPath) has applied up to raft index \(applied), behind the WAL's snapshot at \(snapshotIndex), and \(file) is missing: the data-dir is damaged; restore it from a snapshot")
            }
            try await store.replace(withFileAt: file)
            logger.info("installed the raft snapshot received before a restart", metadata: ["index": "\(snapshotIndex)"])
            return
        }
        let committed = max(replay.hardState.commit, snapshotIndex)
        guard applied <= committed else {
            throw ConfigurationError(
                "the backend \(directory.backendPath) has applied up to raft index \(applied), beyond the WAL's last commit at \(committed): the WAL in \(directory.walDirectory) is older than the backend (replaced or rolled back?); nothing was changed: bring back the WAL that belongs to this backend, or restore the data-dir from a snapshot")
        }
    }

    /// `--experimental-initial-corrupt-check`: before serving, this member's data must hash as
    /// the other members' do at its revision (those that cannot answer are skipped, as etcd).
    private static func checkAgainstMembers(_ check: CorruptionCheck, logger: Logger) async throws {
        let mismatches = try await check.mismatches(among: check.store.members())
        guard mismatches.isEmpty else {
            throw ConfigurationError(
                "found data inconsistency with peers: \(mismatches.map(\.description).joined(separator: "; ")); this member's data differs from the cluster's: remove it and add a fresh member, or restore from a snapshot")
        }
        logger.info("initial corruption check passed")
    }

    /// `--experimental-corrupt-check-time`: while this member leads, it compares its hash with
    /// every member's each period and raises the CORRUPT alarm for a member that differs.
    private static func monitorCorruption(_ check: CorruptionCheck, every interval: Duration, server: EtcdServer,
        logger: Logger) async
    {
        while (try? await Task.sleep(for: interval)) != nil {
            guard await server.host.isLeader else { continue }
            do {
                for mismatch in try await check.mismatches(among: server.store.members()) {
                    logger.error("corruption check: a member's data differs; raising the CORRUPT alarm for it",
                        metadata: ["mismatch": "\(mismatch)"])
                    await server.raiseAlarm(.corrupt, memberID: mismatch.memberID)
                }
            } catch {
                logger.warning("corruption check failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// A member started with `--initial-cluster-state existing` and no data learns its cluster
    /// id and its member id (assigned by `member add`, found by its peer URLs) from a running
    /// member listed in `--initial-cluster`.
    static func joinCluster(configuration: ServerConfiguration, logger: Logger) async throws
        -> (identity: RaftHost.Identity, members: [MemberRecord])
    {
        let own = Set(configuration.initialAdvertisePeerURLs.map(\.description))
        let peers = configuration.resolvedInitialCluster.filter { $0.name != configuration.name }.flatMap(\.peerURLs)
        let deadline = ContinuousClock.now + .seconds(30)
        var failures: [String] = []
        while ContinuousClock.now < deadline {
            failures = []
            for url in peers {
                let answer: Cairnpb_MembersResponse
                do {
                    answer = try await PeerTransport.withClient(of: url.description,
                        security: PeerSecurity(files: configuration.peerTLS)) { client in
                        try await Cairnpb_Peer.Client(wrapping: client).members(Cairnpb_MembersRequest())
                    }
                } catch {
                    failures.append("\(url): \(error)")
                    continue
                }
                guard let me = answer.members.first(where: { Set($0.peerUrls) == own }) else {
                    throw ConfigurationError(
                        "cluster \(hex(answer.clusterID)) (asked at \(url)) has no member with peer URLs \(own.sorted().joined(separator: ",")); add it first with: etcdctl member add \(configuration.name) --peer-urls=\(own.sorted().joined(separator: ","))")
                }
                logger.info("found this member in the existing cluster", metadata: [
                    "cluster-id": "\(hex(answer.clusterID))", "member-id": "\(hex(me.id))", "asked": "\(url)",
                ])
                return (RaftHost.Identity(memberID: me.id, clusterID: answer.clusterID), answer.members.map(MemberRecord.init))
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw ConfigurationError(
            "--initial-cluster-state existing: no member of the cluster answered within 30 s: \(failures.joined(separator: "; "))")
    }

    /// Announces this member's name and client URLs through raft once it has a leader (etcd's
    /// publish), so `member list` names it and it counts as started; retried until it lands.
    private static func publishAttributes(server: EtcdServer, configuration: ServerConfiguration) async {
        let clientURLs = configuration.advertiseClientURLs.map(\.description)
        while !Task.isCancelled {
            if let current = try? server.store.members().first(where: { $0.id == server.identity.memberID }),
                current.name == configuration.name, current.clientURLs == clientURLs
            {
                return
            }
            do {
                _ = try await server.propose { request in
                    request.memberAttributes.memberID = server.identity.memberID
                    request.memberAttributes.name = configuration.name
                    request.memberAttributes.clientUrls = clientURLs
                }
            } catch {
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// The founding members' records and ids, derived as etcd derives them (the
    /// configuration was validated to name this member in `--initial-cluster`).
    static func founding(_ configuration: ServerConfiguration) -> (identity: MemberIdentity, records: [MemberRecord]) {
        let members = configuration.resolvedInitialCluster.map { member in
            DataDirectory.FoundingMember(name: member.name, peerURLs: member.peerURLs.map(\.description))
        }
        guard let founding = DataDirectory.founding(members, name: configuration.name, token: configuration.initialClusterToken)
        else { preconditionFailure("a validated configuration names its member in --initial-cluster") }
        return founding
    }

    static func hex(_ id: UInt64) -> String { String(id, radix: 16) }
}
