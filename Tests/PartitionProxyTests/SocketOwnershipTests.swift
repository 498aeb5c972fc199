import Foundation
import XCTest
@testable import PartitionProxy
#if canImport(Glibc)
import Glibc
#endif

final class SocketOwnershipTests: XCTestCase {
    func testFindsThisProcessAsOwnerOfItsOwnClientSocket() throws {
        let listener = try ProxyTestListener()
        let client = try XCTUnwrap(ProxyTestSocket.connect(toPort: listener.port))
        defer { close(client) }
        let server = try XCTUnwrap(listener.accept())
        defer { close(server) }
        let clientEnd = try XCTUnwrap(LoopbackSocket.localEndpoint(client))
        let serverEnd = TCPEndpoint.loopback(port: listener.port)

        XCTAssertEqual(
            SocketOwnership.owner(ofConnectionFrom: clientEnd, to: serverEnd, among: [1, getpid()]), getpid())
        XCTAssertNil(SocketOwnership.owner(ofConnectionFrom: clientEnd, to: serverEnd, among: [1]))
        XCTAssertNil(SocketOwnership.owner(ofConnectionFrom: clientEnd, to: serverEnd, among: []))
    }

    func testDistinguishesTheClientEndFromTheAcceptedEnd() throws {
        let listener = try ProxyTestListener()
        let client = try XCTUnwrap(ProxyTestSocket.connect(toPort: listener.port))
        defer { close(client) }
        let server = try XCTUnwrap(listener.accept())
        defer { close(server) }
        let clientEnd = try XCTUnwrap(LoopbackSocket.localEndpoint(client))
        let serverEnd = TCPEndpoint.loopback(port: listener.port)

        let dialling = try XCTUnwrap(SocketOwnership.socketInode(local: clientEnd, remote: serverEnd))
        let accepted = try XCTUnwrap(SocketOwnership.socketInode(local: serverEnd, remote: clientEnd))

        XCTAssertNotEqual(dialling, accepted)
        XCTAssertEqual(try inode(of: client), dialling)
        XCTAssertEqual(try inode(of: server), accepted)
    }

    func testUnknownConnectionHasNoInode() {
        XCTAssertNil(SocketOwnership.socketInode(local: .loopback(port: 1), remote: .loopback(port: 2)))
    }

    private func inode(of descriptor: Int32) throws -> UInt64 {
        var status = stat()
        XCTAssertEqual(fstat(descriptor, &status), 0)
        return UInt64(status.st_ino)
    }
}
