import XCTest

@testable import Server

final class ConfigurationResolverTests: XCTestCase {
    private func resolve(_ arguments: [String], environment: [String: String] = [:], files: [String: String] = [:])
        throws -> ConfigurationResolver.Resolution
    {
        try ConfigurationResolver.resolve(arguments: arguments, environment: environment) { path in
            guard let text = files[path] else { throw ConfigurationError("no such file \(path)") }
            return text
        }
    }

    func testDefaultsMatchEtcdExceptTheDataDir() throws {
        let configuration = try resolve([]).configuration
        XCTAssertEqual(configuration.name, "default")
        XCTAssertEqual(configuration.resolvedDataDir, "default.cairn")
        XCTAssertEqual(configuration.listenClientURLs.map(\.description), ["http://127.0.0.1:2379"])
        XCTAssertEqual(configuration.listenPeerURLs.map(\.description), ["http://127.0.0.1:2380"])
        XCTAssertEqual(configuration.resolvedInitialCluster.map(\.name), ["default"])
        XCTAssertEqual(configuration.quotaBackendBytes, 2 << 30)
        XCTAssertEqual(configuration.maxRequestBytes, 1_572_864)
        XCTAssertEqual(configuration.heartbeatIntervalMs, 100)
        XCTAssertEqual(configuration.electionTimeoutMs, 1000)
        XCTAssertEqual(configuration.initialClusterState, .new)
        XCTAssertEqual(configuration.initialClusterToken, "etcd-cluster")
    }

    func testFlagsInBothSpellingsAndTheDataDirFollowsTheName() throws {
        let configuration = try resolve([
            "--name", "infra1", "--listen-client-urls=http://127.0.0.1:12379,http://[::1]:12379",
            "-heartbeat-interval", "50", "--election-timeout=500",
        ]).configuration
        XCTAssertEqual(configuration.name, "infra1")
        XCTAssertEqual(configuration.resolvedDataDir, "infra1.cairn")
        XCTAssertEqual(configuration.listenClientURLs.map(\.description), ["http://127.0.0.1:12379", "http://[::1]:12379"])
        XCTAssertEqual(configuration.heartbeatIntervalMs, 50)
        XCTAssertEqual(configuration.electionTimeoutMs, 500)
    }

    func testFlagBeatsCairnEnvironmentWhichBeatsEtcdEnvironment() throws {
        let environment = ["ETCD_NAME": "from-etcd", "CAIRN_NAME": "from-cairn", "ETCD_SNAPSHOT_COUNT": "500"]
        XCTAssertEqual(try resolve([], environment: environment).configuration.name, "from-cairn")
        let configuration = try resolve(["--name=from-flag"], environment: environment).configuration
        XCTAssertEqual(configuration.name, "from-flag")
        XCTAssertEqual(configuration.snapshotCount, 500)
    }

    func testInitialClusterGroupsRepeatedNamesAsEtcdDoes() throws {
        let configuration = try resolve([
            "--name", "a", "--initial-cluster", "a=http://10.0.0.1:2380,a=http://10.0.0.9:2380",
        ]).configuration
        XCTAssertEqual(configuration.initialCluster.map(\.name), ["a"])
        XCTAssertEqual(configuration.initialCluster[0].peerURLs.map(\.description),
            ["http://10.0.0.1:2380", "http://10.0.0.9:2380"])
    }

    func testSettingsThisVersionCannotHonourAreRefused() {
        let cases: [([String], String)] = [
            (["--initial-cluster-state", "existing"], "must also list running members to join through"),
            (["--listen-metrics-urls", "https://127.0.0.1:2381"],
             "--listen-client-urls and --listen-metrics-urls: https URLs need --cert-file and --key-file"),
            (["--auto-compaction-retention", "1h"], "no automatic compaction yet"),
        ]
        for (arguments, expected) in cases {
            XCTAssertThrowsError(try resolve(arguments), "\(arguments)") { error in
                XCTAssertTrue("\(error)".contains(expected), "\(arguments): \(error)")
            }
        }
    }

    func testConfigFileAloneDecidesAndUnknownKeysAreNoted() throws {
        let file = """
            name: 'infra2'
            data-dir: /var/lib/etcd
            initial-cluster:
            snapshot-count: 10000
            logger: zap
            """
        let resolution = try resolve(["--config-file", "/etc/etcd.yml", "--name", "ignored"],
            environment: ["ETCD_SNAPSHOT_COUNT": "1"], files: ["/etc/etcd.yml": file])
        XCTAssertEqual(resolution.configuration.name, "infra2")
        XCTAssertEqual(resolution.configuration.dataDir, "/var/lib/etcd")
        XCTAssertEqual(resolution.configuration.snapshotCount, 10000)
        XCTAssertTrue(resolution.configuration.initialCluster.isEmpty, "an empty value keeps the default")
        XCTAssertTrue(resolution.notes.contains { $0.contains("\"logger\"") })
        XCTAssertTrue(resolution.notes.contains { $0.contains("ignored because a config file is given") })
    }

    func testBadInputNamesTheSettingAndTheValue() {
        let cases: [([String], String)] = [
            (["--listen-client-urls", "127.0.0.1:2379"], "listen-client-urls: \"127.0.0.1:2379\" is not a URL"),
            (["--snapshot-count", "many"], "snapshot-count: \"many\" is not an integer"),
            (["--initial-cluster-state", "old"], "initial-cluster-state: \"old\""),
            (["--no-such-flag", "1"], "unknown flag --no-such-flag"),
            (["--name"], "--name needs a value"),
            (["--heartbeat-interval", "300"], "--election-timeout (1000 ms) must be at least 5 times"),
            (["--name", "x", "--initial-cluster", "y=http://127.0.0.1:2380"], "--initial-cluster has no member named \"x\""),
            (["stray"], "unexpected argument \"stray\""),
            (["--experimental-watch-progress-notify-interval", "10"], "is not a positive duration"),
            (["--experimental-watch-progress-notify-interval", "0"], "is not a positive duration"),
            (["--log-format", "yaml"], "log-format: \"yaml\" is neither json nor console"),
            (["--snapshot-schedule", "@hourly"], "--snapshot-schedule needs --snapshot-dir"),
            (["--snapshot-dir", "/backups"], "need --snapshot-schedule"),
            (["--snapshot-time-zone", "Mars/Olympus"], "snapshot-time-zone: \"Mars/Olympus\" is not a known time zone"),
            (["--snapshot-on-start=maybe"], "snapshot-on-start: \"maybe\" is neither true nor false"),
        ]
        for (arguments, expected) in cases {
            XCTAssertThrowsError(try resolve(arguments), "\(arguments)") { error in
                XCTAssertTrue("\(error)".contains(expected), "\(arguments): \(error)")
            }
        }
    }

    func testUnreadableOrMalformedConfigFileIsAnError() {
        XCTAssertThrowsError(try resolve(["--config-file=/missing.yml"])) { error in
            XCTAssertTrue("\(error)".contains("cannot read /missing.yml"), "\(error)")
        }
        XCTAssertThrowsError(try resolve(["--config-file=/bad.yml"], files: ["/bad.yml": "- just\n- a list\n"])) { error in
            XCTAssertTrue("\(error)".contains("expected a mapping"), "\(error)")
        }
    }

    func testDurationsAreWrittenAsGoWritesThem() {
        XCTAssertEqual(GoDuration.parse("200ms"), .milliseconds(200))
        XCTAssertEqual(GoDuration.parse("10m"), .seconds(600))
        XCTAssertEqual(GoDuration.parse("1h30m"), .seconds(5400))
        XCTAssertEqual(GoDuration.parse("1.5s"), .milliseconds(1500))
        XCTAssertEqual(GoDuration.parse("0"), .zero)
        for bad in ["", "10", "ms", "1x", "-1s", "1.2.3s"] {
            XCTAssertNil(GoDuration.parse(bad), bad)
        }
        XCTAssertEqual(try resolve(["--experimental-watch-progress-notify-interval", "250ms"]).configuration.watchProgressNotifyInterval,
            .milliseconds(250))
    }
}
