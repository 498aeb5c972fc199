import API
import SwiftProtobuf

/// Splits a watch response the client asked to have fragmented, as etcd does: a response
/// under the limit, or with fewer than two events, goes whole; otherwise each fragment takes
/// events while it stays under the limit (at least one each), every fragment but the last
/// has `fragment` set, and the client joins them back into one response.
enum WatchFragmenter {
    static func split(_ response: Etcdserverpb_WatchResponse, limitBytes: Int) -> [Etcdserverpb_WatchResponse] {
        guard response.events.count >= 2 else { return [response] }
        var empty = response
        empty.events = []
        let baseBytes = size(of: empty)
        // An event costs its bytes plus the field tag and length prefix around them.
        let eventBytes = response.events.map { event in
            let bytes = size(of: event)
            return bytes + 1 + varintLength(UInt64(bytes))
        }
        guard baseBytes + eventBytes.reduce(0, +) >= limitBytes else { return [response] }

        var fragments: [Etcdserverpb_WatchResponse] = []
        var current = empty
        var currentBytes = baseBytes
        for (event, bytes) in zip(response.events, eventBytes) {
            if !current.events.isEmpty && currentBytes + bytes >= limitBytes {
                current.fragment = true
                fragments.append(current)
                current = empty
                currentBytes = baseBytes
            }
            current.events.append(event)
            currentBytes += bytes
        }
        current.fragment = false
        fragments.append(current)
        return fragments
    }

    private static func size(of message: some SwiftProtobuf.Message) -> Int {
        // Encoding these in-memory messages cannot fail; count nothing if it somehow does.
        ((try? message.serializedBytes()) as [UInt8]?)?.count ?? 0
    }

    private static func varintLength(_ value: UInt64) -> Int {
        var value = value
        var length = 1
        while value >= 0x80 {
            value >>= 7
            length += 1
        }
        return length
    }
}
