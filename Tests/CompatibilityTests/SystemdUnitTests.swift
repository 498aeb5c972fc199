import Foundation
import TestSupport
import XCTest

/// The server as the seeds' systemd units start it: settings from etcd's YAML config file,
/// `Type=notify` with `$NOTIFY_SOCKET`. READY=1 must arrive once it serves, and SIGTERM must
/// stop it cleanly. Runs against cairn, or etcd with `CAIRN_COMPAT_SERVER=etcd`.
final class SystemdUnitTests: XCTestCase {
    func testConfigFileStartedServerReportsReadyAndStopsOnSIGTERM() throws {
        let binary = try ServerBinary.resolve(environmentVariable: CompatibilityTestCase.serverVariable)
        let directory = try TemporaryDirectory(prefix: "cairn-unit")
        defer { directory.remove() }
        let ports = try FreePort.loopback(count: 2)
        let client = "http://127.0.0.1:\(ports[0])"
        let peer = "http://127.0.0.1:\(ports[1])"
        let config = directory.file("etcd.conf.yml")
        try Data("""
            name: 'unit'
            data-dir: \(directory.file("unit.data"))
            listen-client-urls: \(client)
            advertise-client-urls: \(client)
            listen-peer-urls: \(peer)
            initial-advertise-peer-urls: \(peer)
            initial-cluster: unit=\(peer)
            initial-cluster-token: 'unit-test'
            initial-cluster-state: 'new'

            """.utf8).write(to: URL(fileURLWithPath: config))

        let socketPath = directory.file("notify.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        XCTAssertLessThan(pathBytes.count, MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count))
            }
        }
        XCTAssertEqual(bound, 0, String(cString: strerror(errno)))

        let log = directory.file("server.log")
        XCTAssertTrue(FileManager.default.createFile(atPath: log, contents: nil))
        let logHandle = FileHandle(forWritingAtPath: log)
        defer { try? logHandle?.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary.executable)
        process.arguments = binary.leadingArguments + ["--config-file", config]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ETCD_") && !$0.key.hasPrefix("CAIRN_") }
        environment["NOTIFY_SOCKET"] = socketPath
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = logHandle
        process.standardError = logHandle
        let exited = try ProcessExit.run(process)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let logText = { String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self) }

        // Datagrams until READY=1 (etcd and cairn may send others first), bounded by a deadline.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let deadline = ContinuousClock.now + .seconds(30)
        var received: [String] = []
        while !received.contains(where: { $0.split(separator: "\n").contains("READY=1") }) {
            guard ContinuousClock.now < deadline, process.isRunning else {
                return XCTFail("no READY=1 on NOTIFY_SOCKET (got \(received)); log:\n\(logText())")
            }
            var buffer = [UInt8](repeating: 0, count: 512)
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got > 0 { received.append(String(decoding: buffer[..<got], as: UTF8.self)) }
        }
        let etcdctl = try Etcdctl(endpoints: [client], scratchDirectory: directory.path)
        XCTAssertTrue(try etcdctl.run(["endpoint", "health"]).succeeded, "ready means serving")

        kill(process.processIdentifier, SIGTERM)
        XCTAssertTrue(exited.wait(upTo: .seconds(30)), "SIGTERM stops the server; log:\n\(logText())")
        if binary.kind == .cairn {
            // etcd re-raises SIGTERM after its own cleanup, so it ends by the signal; cairn exits 0.
            XCTAssertEqual(process.terminationReason, .exit, logText())
            XCTAssertEqual(process.terminationStatus, 0, logText())
            // cairn also says STOPPING=1 as it begins to shut down (etcd 3.4 does not).
            var stopping = false
            while !stopping {
                var buffer = [UInt8](repeating: 0, count: 512)
                let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                guard got > 0 else { break }
                stopping = String(decoding: buffer[..<got], as: UTF8.self).split(separator: "\n").contains("STOPPING=1")
            }
            XCTAssertTrue(stopping, "no STOPPING=1 on NOTIFY_SOCKET before the exit; log:\n\(logText())")
        }
    }
}
