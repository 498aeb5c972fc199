import CLMDB

/// Users, roles and the enabled flag, with etcd's rules for each change. Every change bumps
/// the auth revision. Who may make a change is the server's concern, not the store's.
extension WriteTransaction {
    public func authStatus() throws(StorageError) -> AuthStatus { try reader.authStatus() }
    public func user(_ name: String) throws(StorageError) -> AuthUser? { try reader.user(name) }
    public func role(_ name: String) throws(StorageError) -> AuthRole? { try reader.role(name) }

    /// Whether auth is enabled and, if so, what user `name` may touch (nil: no such user).
    public func authRanges(of name: String) throws(StorageError) -> (enabled: Bool, ranges: AuthRanges?) {
        guard try reader.authStatus().enabled else { return (false, nil) }
        return (true, try reader.authRanges(of: name))
    }

    /// Needs the root user holding the root role; enabling twice changes nothing.
    public func enableAuth() throws(any Error) {
        if try reader.authStatus().enabled { return }
        guard let root = try reader.user(AuthUser.root) else { throw AuthError.rootUserNotExist }
        guard root.hasRootRole else { throw AuthError.rootRoleNotExist }
        try setMeta(.authEnabled, 1)
        try bumpAuthRevision()
    }

    /// Returns whether auth was enabled.
    @discardableResult
    public func disableAuth() throws(any Error) -> Bool {
        guard try reader.authStatus().enabled else { return false }
        try setMeta(.authEnabled, 0)
        try bumpAuthRevision()
        return true
    }

    public func addUser(_ user: AuthUser) throws(any Error) {
        guard !user.name.isEmpty else { throw AuthError.userEmpty }
        try Self.checkNameSize(user.name, of: "user")
        guard try reader.user(user.name) == nil else { throw AuthError.userAlreadyExists }
        try putUser(user)
    }

    /// The root user cannot be deleted while auth is enabled.
    public func deleteUser(_ name: String) throws(any Error) {
        if name == AuthUser.root, try reader.authStatus().enabled { throw AuthError.invalidAuthManagement }
        guard try reader.user(name) != nil else { throw AuthError.userNotFound }
        try txn.delete(try authDatabase(), MVCCReader.userPrefix + Array(name.utf8))
        try bumpAuthRevision()
    }

    /// A `no_password` user stays one, as in etcd: only its client certificate names it, and a
    /// password set for it is not kept.
    public func changePassword(of name: String, to passwordHash: String) throws(any Error) {
        guard var user = try reader.user(name) else { throw AuthError.userNotFound }
        if !user.noPassword { user.passwordHash = passwordHash }
        try putUser(user)
    }

    /// Granting a role twice changes nothing. The root role may be granted before it exists
    /// as a role of its own, as in etcd.
    public func grantRole(_ role: String, to name: String) throws(any Error) {
        guard var user = try reader.user(name) else { throw AuthError.userNotFound }
        if role != AuthRole.root, try reader.role(role) == nil { throw AuthError.roleNotFound }
        guard !user.roles.contains(role) else { return }
        user.roles.append(role)
        user.roles.sort()
        try putUser(user)
    }

    /// The root user keeps the root role while auth is enabled.
    public func revokeRole(_ role: String, from name: String) throws(any Error) {
        if name == AuthUser.root, role == AuthRole.root, try reader.authStatus().enabled {
            throw AuthError.invalidAuthManagement
        }
        guard var user = try reader.user(name) else { throw AuthError.userNotFound }
        guard let index = user.roles.firstIndex(of: role) else { throw AuthError.roleNotGranted }
        user.roles.remove(at: index)
        try putUser(user)
    }

    public func addRole(_ name: String) throws(any Error) {
        guard !name.isEmpty else { throw AuthError.roleEmpty }
        try Self.checkNameSize(name, of: "role")
        guard try reader.role(name) == nil else { throw AuthError.roleAlreadyExists }
        try putRole(AuthRole(name: name))
    }

    /// Also revokes the role from every user holding it. The root role stays while auth is
    /// enabled.
    public func deleteRole(_ name: String) throws(any Error) {
        if name == AuthRole.root, try reader.authStatus().enabled { throw AuthError.invalidAuthManagement }
        guard try reader.role(name) != nil else { throw AuthError.roleNotFound }
        try txn.delete(try authDatabase(), MVCCReader.rolePrefix + Array(name.utf8))
        for var user in try reader.users() where user.roles.contains(name) {
            user.roles.removeAll { $0 == name }
            try putUser(user)
        }
        try bumpAuthRevision()
    }

    /// A permission for the same key and range end replaces the old one's kind; others are
    /// inserted in key order.
    public func grantPermission(_ permission: AuthPermission, to name: String) throws(any Error) {
        guard var role = try reader.role(name) else { throw AuthError.roleNotFound }
        if let index = role.permissions.firstIndex(where: { $0.key == permission.key && $0.rangeEnd == permission.rangeEnd }) {
            role.permissions[index].kind = permission.kind
        } else {
            let index = role.permissions.firstIndex { !$0.key.lexicographicallyPrecedes(permission.key) }
                ?? role.permissions.endIndex
            role.permissions.insert(permission, at: index)
        }
        try putRole(role)
    }

    public func revokePermission(key: [UInt8], rangeEnd: [UInt8], from name: String) throws(any Error) {
        guard var role = try reader.role(name) else { throw AuthError.roleNotFound }
        guard let index = role.permissions.firstIndex(where: { $0.key == key && $0.rangeEnd == rangeEnd }) else {
            throw AuthError.permissionNotGranted
        }
        role.permissions.remove(at: index)
        try putRole(role)
    }

    /// A name beyond the key limit is refused like such a key, before LMDB fails the put and the
    /// apply loop takes that for a failing backend (etcd 3.4 exits on a name beyond bbolt's
    /// 32 KiB key limit).
    private static func checkNameSize(_ name: String, of what: String) throws(StorageError) {
        guard name.utf8.count <= MVCCReader.maxAuthNameBytes else {
            throw StorageError(.keyTooLarge,
                "etcdserver: \(what) name is \(name.utf8.count) bytes; cairn's backend keeps names up to \(MVCCReader.maxAuthNameBytes) bytes")
        }
    }

    private func putUser(_ user: AuthUser) throws(StorageError) {
        try txn.put(try authDatabase(), MVCCReader.userPrefix + Array(user.name.utf8), user.encodedValue)
        try bumpAuthRevision()
    }

    private func putRole(_ role: AuthRole) throws(StorageError) {
        try txn.put(try authDatabase(), MVCCReader.rolePrefix + Array(role.name.utf8), role.encodedValue)
        try bumpAuthRevision()
    }

    private func bumpAuthRevision() throws(StorageError) {
        try setMeta(.authRevision, try reader.meta(.authRevision) + 1)
    }

    private func authDatabase() throws(StorageError) -> MDB_dbi {
        guard let dbi = databases.auth else { throw StorageError(.backend, "\(txn.path) has no auth database") }
        return dbi
    }
}

extension WriteTransaction {
    /// The keys attached to lease `id`, in key order.
    public func keys(attachedTo id: Int64) throws(StorageError) -> [[UInt8]] {
        try reader.keys(attachedTo: id)
    }
}
