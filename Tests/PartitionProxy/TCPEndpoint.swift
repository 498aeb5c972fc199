#if canImport(Glibc)
import Glibc
#endif

/// One end of an IPv4 TCP connection, in the form `/proc/net/tcp` prints it.
public struct TCPEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// The address exactly as stored in `in_addr.s_addr` (network byte order in memory).
    public var address: in_addr_t
    /// The port in host byte order.
    public var port: UInt16

    public init(address: in_addr_t, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `127.0.0.1:port`.
    public static func loopback(port: UInt16) -> TCPEndpoint {
        TCPEndpoint(address: in_addr_t(INADDR_LOOPBACK).bigEndian, port: port)
    }

    /// The endpoint a `sockaddr_in` (as filled in by `accept` or `getsockname`) names.
    public init(_ socketAddress: sockaddr_in) {
        self.init(address: socketAddress.sin_addr.s_addr, port: UInt16(bigEndian: socketAddress.sin_port))
    }

    /// The `sockaddr_in` to pass to `bind` or `connect`.
    public var socketAddress: sockaddr_in {
        var result = sockaddr_in()
        result.sin_family = sa_family_t(AF_INET)
        result.sin_port = port.bigEndian
        result.sin_addr = in_addr(s_addr: address)
        return result
    }

    public var description: String {
        let bytes = withUnsafeBytes(of: address) { Array($0) }
        return bytes.map(String.init).joined(separator: ".") + ":\(port)"
    }
}
