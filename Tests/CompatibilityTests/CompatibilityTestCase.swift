import Foundation
import GRPCNIOTransportHTTP2
import TestSupport
import XCTest

/// Each test gets a fresh single-member server — `cairn server`, or etcd itself when
/// `CAIRN_COMPAT_SERVER=etcd` — on free loopback ports with a temp data dir, healthy before
/// the test starts and stopped (SIGTERM, then SIGKILL) afterwards whatever happened.
/// A fresh server is at revision 1, so tests can state absolute revisions, as etcd gives them.
class CompatibilityTestCase: XCTestCase {
    static let serverVariable = "CAIRN_COMPAT_SERVER"

    private(set) var directory: TemporaryDirectory!
    private(set) var server: ServerProcess!
    private(set) var etcdctl: Etcdctl!

    /// Flags a test class adds to the server's command line.
    class var serverArguments: [String] { [] }

    override func setUpWithError() throws {
        try super.setUpWithError()
        let binary = try ServerBinary.resolve(environmentVariable: Self.serverVariable)
        directory = try TemporaryDirectory(prefix: "cairn-compat")
        let ports = try FreePort.loopback(count: 2)
        server = ServerProcess(binary: binary, name: "compat", directory: directory, clientPort: ports[0], peerPort: ports[1])
        server.extraArguments = Self.serverArguments
        etcdctl = try Etcdctl(endpoints: [server.clientURL], scratchDirectory: directory.path)
        try server.start()
        try server.waitUntilHealthy(using: etcdctl)
    }

    override func tearDown() {
        server?.stop(after: testRun)
        directory?.remove()
        server = nil
        etcdctl = nil
        directory = nil
        super.tearDown()
    }

    // MARK: - Shorthands for the commands most tests use

    @discardableResult
    func put(_ key: String, _ value: String, _ options: String...) throws -> EtcdctlJSON.Put {
        try etcdctl.json(["put", key, value] + options)
    }

    func get(_ arguments: String...) throws -> EtcdctlJSON.Range {
        try etcdctl.json(["get"] + arguments)
    }

    func del(_ arguments: String...) throws -> EtcdctlJSON.Delete {
        try etcdctl.json(["del"] + arguments)
    }

    func kv(_ key: String, _ value: String, create: Int64, mod: Int64, version: Int64, lease: Int64 = 0) -> EtcdctlJSON.KeyValue {
        EtcdctlJSON.KeyValue(key: key, value: value, createRevision: create, modRevision: mod, version: version, lease: lease)
    }

    /// A plaintext gRPC transport to the server's client URL, for tests that call the API
    /// directly (one per client: `withGRPCClient` consumes it).
    func clientTransport() throws -> HTTP2ClientTransport.Posix {
        let url = try XCTUnwrap(URL(string: server.clientURL))
        return try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: try XCTUnwrap(url.port)), transportSecurity: .plaintext)
    }

    /// The keys of `range`, in the order the server returned them.
    func keys(_ range: EtcdctlJSON.Range) -> [String] { range.kvs.map(\.key) }
}
