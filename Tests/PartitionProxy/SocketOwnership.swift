#if canImport(Glibc)
import Glibc
#endif

/// Finds which process owns the other end of a loopback TCP connection, using only `/proc`.
///
/// A proxy in front of a member's peer port sees every member connect from 127.0.0.1, so the
/// source address says nothing; the process holding the client socket does. The kernel lists
/// each socket's endpoints and inode in `/proc/net/tcp` (and IPv4-mapped IPv6 sockets in
/// `/proc/net/tcp6`), and every descriptor of a process in `/proc/<pid>/fd` as a symlink to
/// `socket:[<inode>]`.
public enum SocketOwnership {
    /// The pid among `candidates` holding the socket whose local end is `client` and whose
    /// remote end is `server` — that is, the process that dialled `server` from `client`.
    /// `nil` when no such socket is listed or no candidate holds it.
    public static func owner(
        ofConnectionFrom client: TCPEndpoint, to server: TCPEndpoint, among candidates: [pid_t]
    ) -> pid_t? {
        guard let inode = socketInode(local: client, remote: server) else { return nil }
        return owner(ofSocketInode: inode, among: candidates)
    }

    /// The inode of the TCP socket with these endpoints, as seen from that socket.
    ///
    /// Sockets no process holds any more (orphaned, `TIME_WAIT`) are listed with inode 0 and
    /// skipped: there is no owner to find for them.
    public static func socketInode(local: TCPEndpoint, remote: TCPEndpoint) -> UInt64? {
        if let inode = socketInode(local: local, remote: remote, table: "/proc/net/tcp", mapped: false) {
            return inode
        }
        return socketInode(local: local, remote: remote, table: "/proc/net/tcp6", mapped: true)
    }

    /// The first pid among `candidates` with a descriptor on socket `inode`. A socket shared
    /// across `fork` has several owners; candidates are tried in the order given.
    public static func owner(ofSocketInode inode: UInt64, among candidates: [pid_t]) -> pid_t? {
        let link = Array("socket:[\(inode)]".utf8)
        return candidates.first { pid in
            descriptorNames(of: pid).contains { name in
                symlinkTarget("/proc/\(pid)/fd/\(name)") == link
            }
        }
    }

    /// Scans one `/proc/net/tcp*` table. Rows read
    /// `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...`, with
    /// addresses as `%08X` of each 32-bit word in host order (127.0.0.1 is `0100007F` on a
    /// little-endian machine) and ports as big-endian `%04X`.
    private static func socketInode(
        local: TCPEndpoint, remote: TCPEndpoint, table: String, mapped: Bool
    ) -> UInt64? {
        guard let contents = readWholeFile(table) else { return nil }
        for line in contents.split(separator: UInt8(ascii: "\n")).dropFirst() {
            let fields = line.split(separator: UInt8(ascii: " "))
            guard fields.count >= 10,
                  matches(fields[1], local, mapped: mapped),
                  matches(fields[2], remote, mapped: mapped),
                  let inode = UInt64(String(decoding: fields[9], as: UTF8.self)),
                  inode != 0
            else { continue }
            return inode
        }
        return nil
    }

    /// `::ffff:a.b.c.d` in `/proc/net/tcp6`: three words `00000000 00000000 FFFF0000`, then
    /// the IPv4 address as in `/proc/net/tcp`.
    private static let mappedPrefix = Array("0000000000000000FFFF0000".utf8)

    private static func matches(_ field: ArraySlice<UInt8>, _ endpoint: TCPEndpoint, mapped: Bool) -> Bool {
        guard let colon = field.lastIndex(of: UInt8(ascii: ":")) else { return false }
        var address = field[field.startIndex..<colon]
        let port = field[(colon + 1)...]
        guard hexValue(port) == UInt64(endpoint.port) else { return false }
        if mapped {
            guard address.count == 32, address.starts(with: mappedPrefix) else { return false }
            address = address.suffix(8)
        }
        return address.count == 8 && hexValue(address) == UInt64(endpoint.address)
    }

    private static func hexValue(_ digits: ArraySlice<UInt8>) -> UInt64? {
        UInt64(String(decoding: digits, as: UTF8.self), radix: 16)
    }

    private static func descriptorNames(of pid: pid_t) -> [String] {
        guard let directory = opendir("/proc/\(pid)/fd") else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private static func symlinkTarget(_ path: String) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 128)
        let length = buffer.withUnsafeMutableBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                readlink(path, $0, bytes.count)
            }
        }
        guard length > 0 else { return nil }
        return Array(buffer[..<length])
    }

    /// Reads a file to its end. `/proc` files report size 0, so the size cannot be trusted.
    private static func readWholeFile(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return count == 0 ? contents : nil }
            contents.append(contentsOf: chunk[..<count])
        }
    }
}
