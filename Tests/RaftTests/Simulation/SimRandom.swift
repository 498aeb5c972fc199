@testable import Raft

/// The simulation's only source of randomness: seeded, so a failing run replays exactly.
/// It draws from raft's own SplitMix64 and adds the helpers the simulator needs.
struct SimRandom: RandomNumberGenerator {
    private var generator: SplitMix64

    init(seed: UInt64) {
        generator = SplitMix64(seed: seed &* 0x2545_F491_4F6C_DD1D | 1)
    }

    mutating func next() -> UInt64 {
        generator.next()
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
