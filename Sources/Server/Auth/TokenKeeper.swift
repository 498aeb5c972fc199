import Foundation
import Synchronization

/// etcd's simple tokens: opaque strings issued when an Authenticate entry is applied (so every
/// member knows them), each valid for `ttl` since its last use. They live in memory only; a
/// restarted member's clients authenticate again, which etcd clients do by themselves on
/// "invalid auth token".
final class TokenKeeper: Sendable {
    private struct Entry {
        var user: String
        var expires: ContinuousClock.Instant
    }

    let ttl: Duration
    private let tokens = Mutex<[String: Entry]>([:])

    init(ttl: Duration) {
        self.ttl = ttl
    }

    func issue(_ token: String, to user: String) {
        let now = ContinuousClock.now
        tokens.withLock { tokens in
            // Sweep on issue, so abandoned tokens cannot pile up between uses.
            tokens = tokens.filter { $0.value.expires > now }
            tokens[token] = Entry(user: user, expires: now + ttl)
        }
    }

    /// The user of a live token, whose life starts over; nil when unknown or expired.
    func user(of token: String) -> String? {
        let now = ContinuousClock.now
        return tokens.withLock { tokens in
            guard var entry = tokens[token], entry.expires > now else {
                tokens[token] = nil
                return nil
            }
            entry.expires = now + ttl
            tokens[token] = entry
            return entry.user
        }
    }

    func revoke(user: String) {
        tokens.withLock { tokens in tokens = tokens.filter { $0.value.user != user } }
    }

    func revokeAll() {
        tokens.withLock { $0.removeAll() }
    }

    /// etcd's simple token prefix: 16 random letters; the raft index is appended when issued.
    static func newPrefix() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var generator = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in letters.randomElement(using: &generator)! })
    }
}
