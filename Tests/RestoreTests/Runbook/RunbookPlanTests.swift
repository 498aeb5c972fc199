@testable import Restore
import XCTest

final class RunbookPlanTests: XCTestCase {
    private let example = """
        dataDir: /var/lib/cairn            # the path the server is configured with
        restoreParent: /var/lib            # optional, default: dirname(dataDir)
        endpoint: http://127.0.0.1:2379    # probed for down/up/revision
        member:
          name: node1
          initialCluster: node1=http://127.0.0.1:2380
          initialClusterToken: restored-2026-11-25
          initialAdvertisePeerURLs: http://127.0.0.1:2380
          bumpRevision: auto               # or an integer; optional
          markCompacted: true
        apiServer:
          stop: {command: "systemctl stop kube-apiserver"}
          start: {command: "systemctl start kube-apiserver"}
        server:
          stop: {systemd: cairn.service}
          start: {systemd: cairn.service}
          stopTimeout: 60s
          startTimeout: 2m
        repoint: {symlink: {}}
        """

    func testTheBriefsExampleParses() throws {
        let plan = try RunbookPlan.parse(yaml: example, path: "/p.yaml")
        XCTAssertEqual(plan, RunbookPlan(
            dataDir: "/var/lib/cairn", restoreParent: "/var/lib", endpoint: "http://127.0.0.1:2379",
            member: RunbookMember(
                name: "node1", initialCluster: "node1=http://127.0.0.1:2380", initialClusterToken: "restored-2026-11-25",
                initialAdvertisePeerURLs: "http://127.0.0.1:2380", bumpRevision: .automatic, markCompacted: true),
            apiServer: .actions(stop: .command("systemctl stop kube-apiserver"), start: .command("systemctl start kube-apiserver")),
            server: .init(control: .actions(stop: .systemd(unit: "cairn.service"), start: .systemd(unit: "cairn.service")),
                          stopTimeout: .seconds(60), startTimeout: .seconds(120)),
            repoint: .symlink))
    }

    func testDefaultsFillTheOptionalKeys() throws {
        let plan = try parse(removing: ["restoreParent", "bumpRevision", "markCompacted", "stopTimeout", "startTimeout"])
        XCTAssertEqual(plan.restoreParent, "/var/lib")
        XCTAssertNil(plan.member.bumpRevision)
        XCTAssertFalse(plan.member.markCompacted)
        XCTAssertEqual(plan.server.stopTimeout, .seconds(60))
        XCTAssertEqual(plan.server.startTimeout, .seconds(120))
        XCTAssertFalse(plan.dataDirMayBeMissing)
    }

    func testAnUnknownKeyIsNamedWithItsPath() {
        assertInvalid(example.replacingOccurrences(of: "  markCompacted: true", with: "  markCompacted: true\n  bumpRevison: 5"),
                      "'member.bumpRevison': unknown key 'bumpRevison'")
        assertInvalid(example + "\nextra: 1", "unknown key 'extra'")
        assertInvalid(example.replacingOccurrences(of: "{symlink: {}}", with: "{symlink: {target: /x}}"),
                      "'repoint.symlink.target': unknown key 'target' (no keys are allowed here)")
    }

    func testRelativeAndDotDotPathsAreRefused() {
        assertInvalid(example.replacingOccurrences(of: "dataDir: /var/lib/cairn", with: "dataDir: var/lib/cairn"),
                      "'dataDir': 'var/lib/cairn' must be an absolute path")
        assertInvalid(example.replacingOccurrences(of: "restoreParent: /var/lib ", with: "restoreParent: /var/../lib "),
                      "'restoreParent': '/var/../lib' must be an absolute path without '..'")
    }

    func testDurationsNeedAUnit() throws {
        assertInvalid(example.replacingOccurrences(of: "stopTimeout: 60s", with: "stopTimeout: 60"),
                      "'server.stopTimeout': '60' is not a duration")
        let plan = try RunbookPlan.parse(yaml: example.replacingOccurrences(of: "stopTimeout: 60s", with: "stopTimeout: 1500ms"), path: "/p")
        XCTAssertEqual(plan.server.stopTimeout, .milliseconds(1500))
    }

    func testBumpRevisionIsAutoOrACount() throws {
        let plan = try RunbookPlan.parse(yaml: example.replacingOccurrences(of: "bumpRevision: auto", with: "bumpRevision: 10000"), path: "/p")
        XCTAssertEqual(plan.member.bumpRevision, .by(10_000))
        assertInvalid(example.replacingOccurrences(of: "bumpRevision: auto", with: "bumpRevision: lots"),
                      "'member.bumpRevision': must be 'auto' or a positive integer")
    }

    func testEachActionIsExactlyOneKind() {
        assertInvalid(example.replacingOccurrences(of: "stop: {systemd: cairn.service}", with: "stop: {systemd: cairn.service, command: x}"),
                      "'server.stop': give exactly one of: systemd, command")
        assertInvalid(example.replacingOccurrences(of: "{symlink: {}}", with: "{}"), "'repoint': give exactly one of")
    }

    func testStaticPodExcludesStopAndStart() {
        let text = example.replacingOccurrences(
            of: "  stop: {command: \"systemctl stop kube-apiserver\"}",
            with: "  staticPod: {manifest: /etc/kubernetes/manifests/kube-apiserver.yaml, parkDir: /root/parked}\n  stop: {command: x}")
        assertInvalid(text, "'apiServer.stop': 'stop' cannot be given with 'staticPod'")
    }

    func testRepointKindsCarryTheirSettings() throws {
        let dropIn = try RunbookPlan.parse(
            yaml: example.replacingOccurrences(of: "{symlink: {}}", with: "{systemdDropIn: {unit: cairn.service}}"), path: "/p")
        XCTAssertEqual(dropIn.repoint, .systemdDropIn(unit: "cairn.service", path: "/etc/systemd/system/cairn.service.d/50-cairn-restore.conf"))
        let pod = try RunbookPlan.parse(
            yaml: example.replacingOccurrences(of: "{symlink: {}}", with: "{staticPod: {manifest: /etc/kubernetes/manifests/etcd.yaml}}"), path: "/p")
        XCTAssertEqual(pod.repoint, .staticPod(manifest: "/etc/kubernetes/manifests/etcd.yaml"))
    }

    func testTheEndpointMustBeAnHTTPURL() {
        assertInvalid(example.replacingOccurrences(of: "endpoint: http://127.0.0.1:2379", with: "endpoint: 127.0.0.1:2379"),
                      "'endpoint': '127.0.0.1:2379' is not an http(s) URL")
    }

    func testAMissingKeyIsNamed() {
        assertInvalid(example.replacingOccurrences(of: "  initialClusterToken: restored-2026-11-25\n", with: ""),
                      "missing key 'member.initialClusterToken'")
    }

    private func parse(removing keys: [String]) throws -> RunbookPlan {
        let lines = example.split(separator: "\n").filter { line in
            !keys.contains { line.trimmingCharacters(in: .whitespaces).hasPrefix($0 + ":") }
        }
        return try RunbookPlan.parse(yaml: lines.joined(separator: "\n"), path: "/p.yaml")
    }

    private func assertInvalid(_ yaml: String, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try RunbookPlan.parse(yaml: yaml, path: "/p.yaml"), file: file, line: line) { error in
            let runbookError = error as? RunbookError
            XCTAssertEqual(runbookError?.code, .planInvalid, file: file, line: line)
            XCTAssertTrue(runbookError?.message.contains(text) == true, "'\(text)' not in: \(error)", file: file, line: line)
        }
    }
}
