/// A fixed-size set of small integers, packed 64 to a word.
///
/// The search keys its cache by (set of linearized calls, model state), so the set must be
/// cheap to copy, hash and compare: a few words instead of a `Set<Int>`, and a running
/// fingerprint (Zobrist hashing: the XOR of a pseudo-random number per member) so that
/// hashing costs O(1) however many calls the key has.
struct Bitset: Hashable {
    private var words: [UInt64]
    private var fingerprint: UInt64 = 0

    /// An empty set that can hold the integers `0..<capacity`.
    init(capacity: Int) {
        words = Array(repeating: 0, count: (capacity + 63) / 64)
    }

    mutating func insert(_ member: Int) {
        guard !contains(member) else { return }
        words[member >> 6] |= 1 << UInt64(member & 63)
        fingerprint ^= Self.scramble(member)
    }

    mutating func remove(_ member: Int) {
        guard contains(member) else { return }
        words[member >> 6] &= ~(1 << UInt64(member & 63))
        fingerprint ^= Self.scramble(member)
    }

    func contains(_ member: Int) -> Bool {
        words[member >> 6] & (1 << UInt64(member & 63)) != 0
    }

    /// Whether every member of this set is also in `other`, which has the same capacity.
    func isSubset(of other: Bitset) -> Bool {
        // A plain loop: this runs for every cache probe, and debug builds do not inline
        // `zip` and `allSatisfy`.
        for index in words.indices where words[index] & ~other.words[index] != 0 {
            return false
        }
        return true
    }

    /// Equal sets have equal fingerprints, so hashing the fingerprint alone is consistent
    /// with the synthesized `==`, which compares the words.
    func hash(into hasher: inout Hasher) {
        hasher.combine(fingerprint)
    }

    /// SplitMix64's finalizer: spreads consecutive members over all 64 bits.
    private static func scramble(_ member: Int) -> UInt64 {
        var z = UInt64(member) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
