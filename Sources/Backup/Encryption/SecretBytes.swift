import CCrypto

/// Fixed-size heap storage for key material that is wiped with `OPENSSL_cleanse` when the
/// last reference goes away.
///
/// A class rather than an array so that copies of an `EncryptionKey` share one buffer instead
/// of scattering unwipeable copies of the key across the heap.
final class SecretBytes: @unchecked Sendable {
    // @unchecked: the buffer is written only inside `init`, before the object is shared, and
    // only read afterwards.
    private let storage: UnsafeMutableRawBufferPointer

    /// Allocates `count` zeroed bytes and lets `fill` write them.
    init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        storage = .allocate(byteCount: count, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        try fill(storage)
    }

    var count: Int { storage.count }

    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(storage))
    }

    deinit {
        OPENSSL_cleanse(storage.baseAddress, storage.count)
        storage.deallocate()
    }
}

/// Wipes a temporary buffer that held key material.
func cleanse(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
}
