import Foundation
import XCTest
@testable import PartitionProxy
#if canImport(Glibc)
import Glibc
#endif

/// This test process plays member m1 dialling member m2 through m2's proxy.
private let thisProcess = PartitionMember(pid: getpid(), label: "m1")

final class PartitionProxyTests: XCTestCase {
    func testRelaysToEchoServerAndAttributesThisProcess() throws {
        let echo = try ProxyTestEchoServer()
        defer { echo.stop() }
        let table = PartitionTable()
        let pid = getpid()
        let proxy = PartitionProxy(
            label: "m2", targetPort: echo.port, table: table,
            candidates: { [pid] }, sourceLabel: { $0 == pid ? "m1" : nil })
        try proxy.start()
        defer { XCTAssertTrue(proxy.stop()) }
        XCTAssertNotEqual(proxy.port, 0)
        XCTAssertNotEqual(proxy.port, echo.port)

        let client = try XCTUnwrap(ProxyTestSocket.connect(toPort: proxy.port))
        defer { close(client) }
        let message = Array("hello through the proxy".utf8)
        XCTAssertTrue(ProxyTestSocket.send(client, message))

        XCTAssertEqual(ProxyTestSocket.receive(client, count: message.count), message)
        XCTAssertEqual(proxy.connectionsAccepted, 1)
        XCTAssertEqual(proxy.attributed, ["m1": 1])
        // Counted after each send completes, so possibly just after the echo arrived.
        XCTAssertTrue(ProxyTesting.eventually {
            proxy.stats.bytesToTarget == message.count && proxy.stats.bytesFromTarget == message.count
        })
    }

    func testAttributesConnectionFromAnotherProcessToThatProcess() throws {
        let echo = try ProxyTestEchoServer()
        defer { echo.stop() }
        let members = ProxyTestMembers([thisProcess])
        let proxy = PartitionProxy(label: "m3", targetPort: echo.port, table: PartitionTable()) { members.current }
        try proxy.start()
        defer { XCTAssertTrue(proxy.stop()) }

        // The child waits for a line on stdin, so it dials only after its pid is registered.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/bash")
        child.arguments = [
            "-c",
            """
            read -r go
            exec 3<>/dev/tcp/127.0.0.1/$1
            printf 'ping' >&3
            IFS= read -r -n 4 reply <&3
            printf '%s' "$reply"
            """,
            "bash", String(proxy.port),
        ]
        let input = Pipe()
        let output = Pipe()
        child.standardInput = input
        child.standardOutput = output
        try child.run()
        defer { if child.isRunning { child.terminate() } }
        members.add(PartitionMember(pid: child.processIdentifier, label: "m2"))
        input.fileHandleForWriting.write(Data("go\n".utf8))

        XCTAssertTrue(ProxyTesting.eventually { !child.isRunning }, "child did not finish")
        let reply = output.fileHandleForReading.readDataToEndOfFile()
        XCTAssertEqual(String(decoding: reply, as: UTF8.self), "ping")
        XCTAssertEqual(proxy.attributed, ["m2": 1])
        XCTAssertEqual(proxy.stats.unattributed, 0)
    }

    func testCutHoldsBytesBothWaysAndHealDeliversThemIntactInOrder() throws {
        let member = try ProxyTestListener()
        let table = PartitionTable()
        let proxy = PartitionProxy(label: "m2", targetPort: member.port, table: table) { [thisProcess] }
        try proxy.start()
        defer { XCTAssertTrue(proxy.stop()) }
        let client = try XCTUnwrap(ProxyTestSocket.connect(toPort: proxy.port))
        defer { close(client) }
        let server = try XCTUnwrap(member.accept())
        defer { close(server) }
        try assertRelays(from: client, to: server)

        table.cut("m1", "m2")
        // With send buffers pinned small (no autotuning), these payloads are far more than
        // the buffers on the way hold, so the senders must block on back-pressure.
        ProxyTestSocket.pinSendBuffer(client, sizeBytes: 16 * 1024)
        ProxyTestSocket.pinSendBuffer(server, sizeBytes: 16 * 1024)
        let toServer = ProxyTesting.pseudoRandomBytes(count: 1 << 20, seed: 1)
        let toClient = ProxyTesting.pseudoRandomBytes(count: 1 << 20, seed: 2)
        let upload = ProxyTestBackgroundWork { XCTAssertTrue(ProxyTestSocket.send(client, toServer)) }
        let download = ProxyTestBackgroundWork { XCTAssertTrue(ProxyTestSocket.send(server, toClient)) }

        XCTAssertTrue(ProxyTesting.eventually { proxy.stats.heldChunks >= 2 }, "both directions should hold a chunk")
        XCTAssertFalse(ProxyTestSocket.anythingArrives(on: [client, server], withinSeconds: 0.2))
        XCTAssertFalse(upload.wait(timeoutSeconds: 0), "back-pressure should block the sender")
        XCTAssertFalse(download.wait(timeoutSeconds: 0), "back-pressure should block the sender")

        table.heal()

        XCTAssertEqual(ProxyTestSocket.receive(server, count: toServer.count), toServer)
        XCTAssertEqual(ProxyTestSocket.receive(client, count: toClient.count), toClient)
        XCTAssertTrue(upload.wait())
        XCTAssertTrue(download.wait())
    }

    func testCloseDuringCutReachesTheOtherSideOnlyAfterHeal() throws {
        let member = try ProxyTestListener()
        let table = PartitionTable()
        let proxy = PartitionProxy(label: "m2", targetPort: member.port, table: table) { [thisProcess] }
        try proxy.start()
        defer { XCTAssertTrue(proxy.stop()) }
        let client = try XCTUnwrap(ProxyTestSocket.connect(toPort: proxy.port))
        let server = try XCTUnwrap(member.accept())
        defer { close(server) }
        try assertRelays(from: client, to: server)

        table.isolate("m2", from: ["m1"])
        close(client)

        XCTAssertTrue(ProxyTesting.eventually { proxy.stats.heldChunks >= 1 })
        XCTAssertFalse(ProxyTestSocket.anythingArrives(on: [server], withinSeconds: 0.1))
        table.heal()
        XCTAssertTrue(ProxyTestSocket.waitForClose(server))
        XCTAssertTrue(ProxyTesting.eventually { proxy.stats.activeConnections == 0 })
    }

    func testSplitCutsOnlyConnectionsAcrossTheSplit() throws {
        let member = try ProxyTestListener()
        let table = PartitionTable()
        // Two proxies in front of m3 that see this process as m1 and as m4 respectively.
        let fromM1 = PartitionProxy(label: "m3", targetPort: member.port, table: table) {
            [PartitionMember(pid: getpid(), label: "m1")]
        }
        let fromM4 = PartitionProxy(label: "m3", targetPort: member.port, table: table) {
            [PartitionMember(pid: getpid(), label: "m4")]
        }
        try fromM1.start()
        defer { XCTAssertTrue(fromM1.stop()) }
        try fromM4.start()
        defer { XCTAssertTrue(fromM4.stop()) }
        let m1Client = try XCTUnwrap(ProxyTestSocket.connect(toPort: fromM1.port))
        defer { close(m1Client) }
        let m1Server = try XCTUnwrap(member.accept())
        defer { close(m1Server) }
        try assertRelays(from: m1Client, to: m1Server)
        let m4Client = try XCTUnwrap(ProxyTestSocket.connect(toPort: fromM4.port))
        defer { close(m4Client) }
        let m4Server = try XCTUnwrap(member.accept())
        defer { close(m4Server) }
        try assertRelays(from: m4Client, to: m4Server)

        table.split(["m1", "m2"], ["m3", "m4", "m5"])
        let message = Array("after split".utf8)
        XCTAssertTrue(ProxyTestSocket.send(m1Client, message))
        XCTAssertTrue(ProxyTestSocket.send(m4Client, message))

        XCTAssertEqual(ProxyTestSocket.receive(m4Server, count: message.count), message)
        XCTAssertTrue(ProxyTesting.eventually { fromM1.stats.heldChunks == 1 })
        XCTAssertEqual(fromM4.stats.heldChunks, 0)
        XCTAssertFalse(ProxyTestSocket.anythingArrives(on: [m1Server], withinSeconds: 0.1))
        table.heal()
        XCTAssertEqual(ProxyTestSocket.receive(m1Server, count: message.count), message)
    }

    func testUnattributedConnectionIsNeverCut() throws {
        let member = try ProxyTestListener()
        let table = PartitionTable()
        let proxy = PartitionProxy(
            label: "m2", targetPort: member.port, table: table, attributionWindowSeconds: 0,
            members: { [] })
        try proxy.start()
        defer { XCTAssertTrue(proxy.stop()) }
        table.isolate("m2", from: ["m1", "m3"])

        let client = try XCTUnwrap(ProxyTestSocket.connect(toPort: proxy.port))
        defer { close(client) }
        let server = try XCTUnwrap(member.accept())
        defer { close(server) }
        try assertRelays(from: client, to: server)

        XCTAssertEqual(proxy.stats.unattributed, 1)
        XCTAssertEqual(proxy.attributed, [:])
        XCTAssertEqual(proxy.stats.heldChunks, 0)
    }

    func testClientIsClosedWhenTargetRefuses() throws {
        let closedPort = try LoopbackSocket.listenOnLoopback()
        close(closedPort.descriptor)
        let proxy = PartitionProxy(label: "m2", targetPort: closedPort.port, table: PartitionTable()) {
            [PartitionMember(pid: getpid(), label: "m1")]
        }
        try proxy.start()
        defer { XCTAssertTrue(proxy.stop()) }

        let client = try XCTUnwrap(ProxyTestSocket.connect(toPort: proxy.port))
        defer { close(client) }

        XCTAssertTrue(ProxyTestSocket.waitForClose(client))
        XCTAssertTrue(ProxyTesting.eventually { proxy.stats.upstreamFailures == 1 && proxy.stats.activeConnections == 0 })
    }

    func testStopReturnsPromptlyClosesEverythingAndStopsListening() throws {
        let member = try ProxyTestListener()
        let table = PartitionTable()
        let proxy = PartitionProxy(label: "m2", targetPort: member.port, table: table) { [thisProcess] }
        try proxy.start()
        let port = proxy.port
        let held = try XCTUnwrap(ProxyTestSocket.connect(toPort: port))
        defer { close(held) }
        let heldServer = try XCTUnwrap(member.accept())
        defer { close(heldServer) }
        try assertRelays(from: held, to: heldServer)
        table.cut("m1", "m2")
        XCTAssertTrue(ProxyTestSocket.send(held, Array("held".utf8)))
        XCTAssertTrue(ProxyTesting.eventually { proxy.stats.heldChunks == 1 })
        let idle = try XCTUnwrap(ProxyTestSocket.connect(toPort: port))
        defer { close(idle) }
        let idleServer = try XCTUnwrap(member.accept())
        defer { close(idleServer) }

        let started = Date()
        XCTAssertTrue(proxy.stop())
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)

        XCTAssertNil(ProxyTestSocket.connect(toPort: port), "nothing may listen after stop")
        for descriptor in [held, heldServer, idle, idleServer] {
            XCTAssertTrue(ProxyTestSocket.waitForClose(descriptor))
        }
        XCTAssertEqual(proxy.stats.activeConnections, 0)
        XCTAssertTrue(proxy.stop(), "stop is idempotent")
        XCTAssertThrowsError(try proxy.start())
        table.heal()
    }

    func testStoppedProxiesLeaveNoDescriptorsBehind() throws {
        let member = try ProxyTestListener()
        let table = PartitionTable()
        try runProxyCycle(member: member, table: table)
        let baseline = ProxyTestSocket.openDescriptorCount()

        for _ in 0..<3 { try runProxyCycle(member: member, table: table) }

        XCTAssertEqual(ProxyTestSocket.openDescriptorCount(), baseline)
    }

    /// Starts a proxy, opens connections (one held by a cut, one ended by its client, one
    /// left open), stops the proxy and closes the test's own ends.
    private func runProxyCycle(member: ProxyTestListener, table: PartitionTable) throws {
        let proxy = PartitionProxy(label: "m2", targetPort: member.port, table: table) { [thisProcess] }
        try proxy.start()
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        for _ in 0..<3 {
            let client = try XCTUnwrap(ProxyTestSocket.connect(toPort: proxy.port))
            descriptors.append(client)
            let server = try XCTUnwrap(member.accept())
            descriptors.append(server)
            try assertRelays(from: client, to: server)
        }
        shutdown(descriptors[0], Int32(SHUT_RDWR))
        XCTAssertTrue(ProxyTestSocket.waitForClose(descriptors[1]))
        table.cut("m1", "m2")
        XCTAssertTrue(ProxyTestSocket.send(descriptors[2], Array("held".utf8)))
        XCTAssertTrue(ProxyTesting.eventually { proxy.stats.heldChunks == 1 })

        XCTAssertTrue(proxy.stop())
        table.heal()
    }

    /// Sends a probe each way and checks it arrives, proving the connection is relayed.
    private func assertRelays(from client: Int32, to server: Int32, file: StaticString = #filePath, line: UInt = #line) throws {
        let request = Array("ping".utf8)
        let response = Array("pong".utf8)
        XCTAssertTrue(ProxyTestSocket.send(client, request), file: file, line: line)
        XCTAssertEqual(ProxyTestSocket.receive(server, count: request.count), request, file: file, line: line)
        XCTAssertTrue(ProxyTestSocket.send(server, response), file: file, line: line)
        XCTAssertEqual(ProxyTestSocket.receive(client, count: response.count), response, file: file, line: line)
    }
}
