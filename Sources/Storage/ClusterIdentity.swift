import CCrypto

/// etcd's derivation of member and cluster ids, so a cluster bootstrapped with the same
/// `--initial-cluster` and `--initial-cluster-token` gets the same ids under cairn as under etcd.
public enum ClusterIdentity {
    /// The first 8 bytes (big endian) of SHA-1 over the member's sorted peer URLs joined with
    /// nothing, followed by the cluster token.
    public static func memberID(peerURLs: [String], token: String) -> UInt64 {
        let joined = peerURLs.sorted().joined()
        return firstWord(ofSHA1: Array((joined + token).utf8))
    }

    /// The first 8 bytes (big endian) of SHA-1 over the sorted member ids, 8 big-endian bytes each.
    public static func clusterID(memberIDs: [UInt64]) -> UInt64 {
        var bytes: [UInt8] = []
        for id in memberIDs.sorted() {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: id >> UInt64(shift))) }
        }
        return firstWord(ofSHA1: bytes)
    }

    private static func firstWord(ofSHA1 bytes: [UInt8]) -> UInt64 {
        var digest = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        _ = bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { output in
                SHA1(input.baseAddress, input.count, output.baseAddress)
            }
        }
        return digest[0..<8].reduce(0) { ($0 << 8) | UInt64($1) }
    }
}
