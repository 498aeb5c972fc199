import Foundation

/// The client side of a server's `CAIRN_FAILPOINTS_HTTP` switch: arms and disarms failpoints
/// in a running member with gofail's verbs (`PUT /<name>`, `DELETE /<name>`), over a plain
/// HTTP/1.0 request on loopback so the tests need no HTTP library.
public struct FailpointSwitch: Sendable {
    public let port: UInt16

    public init(port: UInt16) { self.port = port }

    /// The environment a server needs to serve this switch.
    public var environment: [String: String] { ["CAIRN_FAILPOINTS_HTTP": "127.0.0.1:\(port)"] }

    public func arm(_ name: String) throws { try request("PUT", name) }

    public func disarm(_ name: String) throws { try request("DELETE", name) }

    private func request(_ method: String, _ name: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FailpointSwitchError(message: "socket: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            throw FailpointSwitchError(message: "\(method) /\(name): cannot connect to the failpoint switch on port \(port): errno \(errno)")
        }
        let text = Array("\(method) /\(name) HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".utf8)
        guard send(fd, text, text.count, Int32(MSG_NOSIGNAL)) == text.count else {
            throw FailpointSwitchError(message: "\(method) /\(name): send failed: errno \(errno)")
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response.append(contentsOf: buffer[..<count])
        }
        let answer = String(decoding: response, as: UTF8.self)
        // A crash failpoint can end the server before it answers the request that armed it.
        if answer.isEmpty, method == "PUT", name.hasPrefix("crash-") { return }
        guard answer.hasPrefix("HTTP/1.0 200") || answer.hasPrefix("HTTP/1.1 200") else {
            throw FailpointSwitchError(message: "\(method) /\(name): the failpoint switch answered: \(answer)")
        }
    }
}

public struct FailpointSwitchError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
