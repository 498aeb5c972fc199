@testable import Raft

/// The simulation's only source of randomness: seeded, so a failing run replays exactly.
struct SimRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed &* 0x2545_F491_4F6C_DD1D | 1
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// True with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool {
        Double(next() % 1_000_000) < probability * 1_000_000
    }

    mutating func element<T>(of items: [T]) -> T? {
        items.isEmpty ? nil : items[int(0...items.count - 1)]
    }
}

/// FNV-1a, for cheap content digests that are equal exactly when the bytes are.
enum Digest {
    static func fnv(_ bytes: [UInt8], seed: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 {
        var hash = seed
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    static func fnv(_ value: UInt64, seed: UInt64) -> UInt64 {
        withUnsafeBytes(of: value.littleEndian) { fnv(Array($0), seed: seed) }
    }

    /// The digest of an entry's identity and content.
    static func of(_ entry: Entry) -> UInt64 {
        var hash = fnv(entry.data)
        hash = fnv(entry.index, seed: hash)
        hash = fnv(entry.term, seed: hash)
        return fnv(UInt64(entry.kind.rawValue), seed: hash)
    }
}
