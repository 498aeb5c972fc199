import CLMDB

extension MVCCReader {
    static let userPrefix = Array("u/".utf8)
    static let rolePrefix = Array("r/".utf8)
    /// A user or role name keys its record after the prefix, so it shares LMDB's key limit.
    static let maxAuthNameBytes = WriteTransaction.maxKeySizeBytes - max(userPrefix.count, rolePrefix.count)

    func authStatus() throws(StorageError) -> AuthStatus {
        AuthStatus(enabled: try meta(.authEnabled) == 1, revision: UInt64(try meta(.authRevision)))
    }

    func user(_ name: String) throws(StorageError) -> AuthUser? {
        guard let dbi = databases.auth, let value = try txn.get(dbi, Self.userPrefix + Array(name.utf8)) else { return nil }
        guard let user = AuthUser(name: name, encodedValue: value) else {
            throw StorageError(.backend, "corrupt auth user record \"\(name)\" in \(txn.path)")
        }
        return user
    }

    func role(_ name: String) throws(StorageError) -> AuthRole? {
        guard let dbi = databases.auth, let value = try txn.get(dbi, Self.rolePrefix + Array(name.utf8)) else { return nil }
        guard let role = AuthRole(name: name, encodedValue: value) else {
            throw StorageError(.backend, "corrupt auth role record \"\(name)\" in \(txn.path)")
        }
        return role
    }

    /// Every user, by name.
    func users() throws(StorageError) -> [AuthUser] {
        try authRecords(prefix: Self.userPrefix, what: "user") { AuthUser(name: $0, encodedValue: $1) }
    }

    /// Every role, by name.
    func roles() throws(StorageError) -> [AuthRole] {
        try authRecords(prefix: Self.rolePrefix, what: "role") { AuthRole(name: $0, encodedValue: $1) }
    }

    /// What user `name` may touch; nil when there is no such user.
    func authRanges(of name: String) throws(StorageError) -> AuthRanges? {
        guard let user = try user(name) else { return nil }
        var roles: [AuthRole] = []
        for roleName in user.roles {
            if let role = try role(roleName) { roles.append(role) }
        }
        return AuthRanges(user: user, roles: roles)
    }

    private func authRecords<Record>(
        prefix: [UInt8], what: String, _ decode: (String, [UInt8]) -> Record?
    ) throws(StorageError) -> [Record] {
        guard let dbi = databases.auth else { return [] }
        return try txn.withCursor(dbi) { cursor throws(StorageError) in
            var records: [Record] = []
            var current = try cursor.get(MDB_SET_RANGE, key: prefix)
            while let (key, value) = current, key.starts(with: prefix) {
                let name = String(decoding: key[prefix.count...], as: UTF8.self)
                guard let record = decode(name, value) else {
                    throw StorageError(.backend, "corrupt auth \(what) record \"\(name)\" in \(txn.path)")
                }
                records.append(record)
                current = try cursor.get(MDB_NEXT)
            }
            return records
        }
    }
}

extension MVCCStore {
    public func authStatus() throws(StorageError) -> AuthStatus {
        try read { reader throws(StorageError) in try reader.authStatus() }
    }

    public func user(_ name: String) throws(StorageError) -> AuthUser? {
        try read { reader throws(StorageError) in try reader.user(name) }
    }

    public func role(_ name: String) throws(StorageError) -> AuthRole? {
        try read { reader throws(StorageError) in try reader.role(name) }
    }

    public func users() throws(StorageError) -> [AuthUser] {
        try read { reader throws(StorageError) in try reader.users() }
    }

    public func roles() throws(StorageError) -> [AuthRole] {
        try read { reader throws(StorageError) in try reader.roles() }
    }

    /// Whether auth is enabled and, if so, what user `name` may touch (nil: no such user).
    public func authRanges(of name: String) throws(StorageError) -> (enabled: Bool, ranges: AuthRanges?) {
        try read { reader throws(StorageError) in
            guard try reader.authStatus().enabled else { return (false, nil) }
            return (true, try reader.authRanges(of: name))
        }
    }
}
