import Foundation

/// Loopback TCP ports that were free a moment ago: each is found by binding port 0, and all
/// sockets stay bound until every port is chosen, so one call never returns the same port twice.
public enum FreePort {
    public static func loopback(count: Int) throws -> [UInt16] {
        precondition(count > 0 && count <= 64)
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [UInt16] = []
        for _ in 0..<count {
            let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard socket >= 0 else { throw FreePortError(operation: "socket", code: errno) }
            sockets.append(socket)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else { throw FreePortError(operation: "bind", code: errno) }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    getsockname(socket, $0, &length)
                }
            }
            guard named == 0 else { throw FreePortError(operation: "getsockname", code: errno) }
            ports.append(UInt16(bigEndian: address.sin_port))
        }
        return ports
    }
}

public struct FreePortError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    public var description: String { "finding a free loopback port: \(operation) failed: \(String(cString: strerror(code)))" }
}
