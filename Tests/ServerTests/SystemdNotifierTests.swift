import Foundation
import XCTest

@testable import Server

/// `Type=notify` units depend on one datagram reaching `$NOTIFY_SOCKET`.
final class SystemdNotifierTests: XCTestCase {
    private func receive(on fd: Int32) -> String? {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 256)
        let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return got > 0 ? String(decoding: buffer[..<got], as: UTF8.self) : nil
    }

    private func bindDatagramSocket(path: [UInt8]) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
        return fd
    }

    func testReadyReachesAFilesystemSocket() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-notify-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("notify.sock").path
        let fd = try bindDatagramSocket(path: Array(path.utf8))
        defer { close(fd) }

        XCTAssertTrue(SystemdNotifier.notify("READY=1", environment: ["NOTIFY_SOCKET": path]))
        XCTAssertEqual(receive(on: fd), "READY=1")
    }

    func testReadyReachesAnAbstractSocketNamedWithAnAt() throws {
        let name = "cairn-notify-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = try bindDatagramSocket(path: [0] + Array(name.utf8))
        defer { close(fd) }

        XCTAssertTrue(SystemdNotifier.notify("READY=1", environment: ["NOTIFY_SOCKET": "@" + name]))
        XCTAssertEqual(receive(on: fd), "READY=1")
    }

    func testWithoutNotifySocketNothingIsSent() {
        XCTAssertFalse(SystemdNotifier.notify("READY=1", environment: [:]))
    }
}
