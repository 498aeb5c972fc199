/// A key-range permission of a role, as etcd's `authpb.Permission`: `rangeEnd` empty means the
/// single key `key`, `[0]` means every key from `key` on, anything else the half-open range
/// `[key, rangeEnd)`.
public struct AuthPermission: Sendable, Hashable {
    /// etcd's `authpb.Permission.Type` numbering.
    public enum Kind: Int32, Sendable {
        case read = 0
        case write = 1
        case readWrite = 2

        func allows(_ access: Access) -> Bool {
            switch (self, access) {
            case (.readWrite, _), (.read, .read), (.write, .write): true
            default: false
            }
        }
    }

    /// What a request needs: to read or to write.
    public enum Access: Sendable {
        case read
        case write
    }

    public var kind: Kind
    public var key: [UInt8]
    public var rangeEnd: [UInt8]

    public init(kind: Kind, key: [UInt8], rangeEnd: [UInt8]) {
        self.kind = kind
        self.key = key
        self.rangeEnd = rangeEnd
    }
}

/// A role: a name and its permissions, kept sorted by key as etcd keeps them.
public struct AuthRole: Sendable, Hashable {
    /// The role that may do everything, including managing auth and the cluster.
    public static let root = "root"

    public var name: String
    public var permissions: [AuthPermission]

    public init(name: String, permissions: [AuthPermission] = []) {
        self.name = name
        self.permissions = permissions
    }

    var encodedValue: [UInt8] {
        var writer = ByteWriter()
        writer.write(UInt32(permissions.count))
        for permission in permissions {
            writer.write(UInt8(permission.kind.rawValue))
            writer.writeBlob(permission.key)
            writer.writeBlob(permission.rangeEnd)
        }
        return writer.bytes
    }

    init?(name: String, encodedValue: [UInt8]) {
        let permissions: [AuthPermission]? = encodedValue.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            guard let count = reader.readUInt32(), Int(count) <= reader.remaining else { return nil }
            var permissions: [AuthPermission] = []
            for _ in 0..<count {
                guard let kind = reader.readUInt8().flatMap({ AuthPermission.Kind(rawValue: Int32($0)) }),
                    let key = reader.readBlob(), let rangeEnd = reader.readBlob()
                else { return nil }
                permissions.append(AuthPermission(kind: kind, key: key, rangeEnd: rangeEnd))
            }
            return reader.isAtEnd ? permissions : nil
        }
        guard let permissions else { return nil }
        self.init(name: name, permissions: permissions)
    }
}

/// A user: a name, a password hash (never the password) and the names of its roles, sorted.
public struct AuthUser: Sendable, Hashable {
    /// The user that must exist, holding the root role, before auth can be enabled.
    public static let root = "root"

    public var name: String
    /// A ``PasswordHash`` encoding; empty for a user created with `noPassword`.
    public var passwordHash: String
    public var roles: [String]
    /// The user can only authenticate by client certificate (etcd's `--no-password`).
    public var noPassword: Bool

    public init(name: String, passwordHash: String, roles: [String] = [], noPassword: Bool = false) {
        self.name = name
        self.passwordHash = passwordHash
        self.roles = roles
        self.noPassword = noPassword
    }

    public var hasRootRole: Bool { roles.contains(AuthRole.root) }

    var encodedValue: [UInt8] {
        var writer = ByteWriter()
        writer.writeString(passwordHash)
        writer.write(noPassword)
        writer.write(UInt32(roles.count))
        roles.forEach { writer.writeString($0) }
        return writer.bytes
    }

    init?(name: String, encodedValue: [UInt8]) {
        let decoded: AuthUser? = encodedValue.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            guard let hash = reader.readString(), let noPassword = reader.readBool(),
                let count = reader.readUInt32(), Int(count) <= reader.remaining
            else { return nil }
            var roles: [String] = []
            for _ in 0..<count {
                guard let role = reader.readString() else { return nil }
                roles.append(role)
            }
            guard reader.isAtEnd else { return nil }
            return AuthUser(name: name, passwordHash: hash, roles: roles, noPassword: noPassword)
        }
        guard let decoded else { return nil }
        self = decoded
    }
}

/// Whether auth is enabled, and how many times the auth state has changed (etcd's auth
/// revision, reported by AuthStatus).
public struct AuthStatus: Sendable, Hashable {
    public var enabled: Bool
    public var revision: UInt64
}

/// The auth refusals etcd clients know by message text; the server maps each to etcd's
/// gRPC status and message.
public enum AuthError: Error, Sendable, Hashable {
    case userEmpty
    case userAlreadyExists
    case userNotFound
    case roleEmpty
    case roleAlreadyExists
    case roleNotFound
    case authFailed
    case permissionDenied
    case roleNotGranted
    case permissionNotGranted
    case authNotEnabled
    case invalidAuthToken
    case invalidAuthManagement
    case rootUserNotExist
    case rootRoleNotExist
}
