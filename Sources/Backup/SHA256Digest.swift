import CCrypto
import Foundation

/// Incremental SHA-256 over OpenSSL's EVP interface.
public final class SHA256Digest {
    private let context: OpaquePointer

    public init() {
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("OpenSSL could not allocate a digest context") }
        self.context = context
        precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "OpenSSL SHA-256 initialisation failed")
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(EVP_DigestUpdate(context, base, bytes.count) == 1, "OpenSSL SHA-256 update failed")
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The 32-byte digest of everything so far; the digest cannot be updated afterwards.
    public func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context, &digest, &length) == 1 && length == 32, "OpenSSL SHA-256 final failed")
        return digest
    }
}

extension Array where Element == UInt8 {
    /// Lower-case hex, as `sha256sum` prints digests.
    public var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
