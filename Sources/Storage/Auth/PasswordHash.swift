import CCrypto
import Foundation

/// Passwords are kept as salted PBKDF2-HMAC-SHA256 hashes, encoded
/// `pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>` so the cost can rise later
/// without breaking stored users. The member that receives a request hashes it before
/// proposing, so no password ever reaches the raft log, the WAL or a snapshot.
public enum PasswordHash {
    /// About 40 ms on one core of the reference machine: etcd's bcrypt cost 10 is in the same range.
    public static let defaultIterations = 100_000
    static let scheme = "pbkdf2-sha256"

    public static func make(_ password: String, iterations: Int = defaultIterations) -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        for index in salt.indices { salt[index] = UInt8.random(in: .min ... .max) }
        let digest = derive(password, salt: salt, iterations: iterations)
        return [scheme, String(iterations), Data(salt).base64EncodedString(), Data(digest).base64EncodedString()]
            .joined(separator: "$")
    }

    /// Whether `password` matches `encoded`; false for anything malformed.
    public static func matches(_ password: String, _ encoded: String) -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == scheme, let iterations = Int(parts[1]), iterations > 0,
            let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3]))
        else { return false }
        let actual = derive(password, salt: [UInt8](salt), iterations: iterations)
        guard actual.count == expected.count else { return false }
        // Compare every byte, so timing does not tell how much of a guess was right.
        return zip(actual, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func derive(_ password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        let utf8 = Array(password.utf8)
        let status = utf8.withUnsafeBufferPointer { passwordBytes in
            PKCS5_PBKDF2_HMAC(
                passwordBytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, Int32(utf8.count),
                salt, Int32(salt.count), Int32(iterations), EVP_sha256(), Int32(output.count), &output)
        }
        precondition(status == 1, "PKCS5_PBKDF2_HMAC failed")
        return output
    }
}
