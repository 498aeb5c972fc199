#if canImport(Glibc)
import Glibc
#endif

/// Thin wrappers over the POSIX socket calls the proxy needs. Every descriptor is created
/// close-on-exec so member processes spawned by the test harness never inherit proxy sockets
/// (an inherited socket would also confuse `/proc` attribution with a second owner).
enum LoopbackSocket {
    static let streamCloseOnExec = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)

    /// A non-blocking socket listening on 127.0.0.1 at a kernel-chosen port. Non-blocking so
    /// that a connection reset between `poll` and `accept` cannot block the accept loop.
    static func listenOnLoopback(backlog: Int32 = 128) throws(PartitionProxyError) -> (descriptor: Int32, port: UInt16) {
        let descriptor = socket(AF_INET, streamCloseOnExec | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw .system(.listenFailed, "socket") }
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = TCPEndpoint.loopback(port: 0).socketAddress
        let bound = withSocketAddress(&address) { bind(descriptor, $0, $1) }
        guard bound == 0 else {
            let error = PartitionProxyError.system(.listenFailed, "bind 127.0.0.1:0")
            close(descriptor)
            throw error
        }
        guard listen(descriptor, backlog) == 0 else {
            let error = PartitionProxyError.system(.listenFailed, "listen")
            close(descriptor)
            throw error
        }
        guard let local = localEndpoint(descriptor) else {
            let error = PartitionProxyError.system(.listenFailed, "getsockname")
            close(descriptor)
            throw error
        }
        return (descriptor, local.port)
    }

    /// Accepts a pending connection, or returns `nil` with `errno` set.
    ///
    /// `accept4` (which would set close-on-exec atomically) is a GNU extension the Glibc module
    /// does not export, so the flag is set right after; children spawned with Foundation's
    /// `Process` do not inherit descriptors anyway, which closes that window in practice.
    static func accept(_ listener: Int32) -> (descriptor: Int32, peer: TCPEndpoint)? {
        var peer = sockaddr_in()
        let descriptor = withSocketAddress(&peer) { pointer, length in
            var length = length
            return Glibc.accept(listener, pointer, &length)
        }
        guard descriptor >= 0 else { return nil }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        return (descriptor, TCPEndpoint(peer))
    }

    /// A connected pair of Unix sockets whose only use is that closing `writeEnd` makes
    /// `readEnd` poll as readable (hung up), waking a thread blocked in `poll`.
    static func makeWakePair() -> (readEnd: Int32, writeEnd: Int32)? {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, streamCloseOnExec, 0, &ends) == 0 else { return nil }
        return (ends[0], ends[1])
    }

    /// A new, unconnected TCP socket, or `nil` if the system is out of descriptors.
    static func makeStreamSocket() -> Int32? {
        let descriptor = socket(AF_INET, streamCloseOnExec, 0)
        return descriptor >= 0 ? descriptor : nil
    }

    /// Connects `descriptor` to `endpoint`, giving up after `timeoutSeconds`. The socket is
    /// blocking again afterwards. A peer that vanishes mid-connect (its socket shut down by
    /// `stop()`) ends the wait early with a failure.
    static func connect(_ descriptor: Int32, to endpoint: TCPEndpoint, timeoutSeconds: Double) -> Bool {
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0, fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) == 0 else { return false }
        var address = endpoint.socketAddress
        let result = withSocketAddress(&address) { Glibc.connect(descriptor, $0, $1) }
        if result != 0 {
            guard errno == EINPROGRESS || errno == EINTR else { return false }
            var request = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&request, 1, Int32(timeoutSeconds * 1000))
            guard ready == 1 else { return false }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &length) == 0, failure == 0 else {
                return false
            }
        }
        return fcntl(descriptor, F_SETFL, flags) == 0
    }

    /// Sends small writes at once: the peers speak HTTP/2, where Nagle's algorithm would add
    /// delayed-ACK latency to every small frame the proxy relays.
    static func disableNagle(_ descriptor: Int32) {
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Writes all of `bytes`, or returns `false` when the peer is gone. Uses `MSG_NOSIGNAL`
    /// so a closed peer yields `EPIPE` instead of killing the process with `SIGPIPE`.
    static func sendAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    static func localEndpoint(_ descriptor: Int32) -> TCPEndpoint? {
        var address = sockaddr_in()
        let status = withSocketAddress(&address) { pointer, length in
            var length = length
            return getsockname(descriptor, pointer, &length)
        }
        return status == 0 ? TCPEndpoint(address) : nil
    }

    /// Calls `body` with `address` viewed as the generic `sockaddr` the socket API takes.
    static func withSocketAddress<Result>(
        _ address: inout sockaddr_in, _ body: (UnsafeMutablePointer<sockaddr>, socklen_t) -> Result
    ) -> Result {
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
}
