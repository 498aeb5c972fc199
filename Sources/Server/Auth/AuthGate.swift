import API
import Storage

/// Who a request runs as, and the checks made where a request is served instead of applied:
/// reads, watches, and the maintenance and membership calls reserved to the root role.
///
/// While auth is disabled every request runs as nobody and nothing is checked; tokens are
/// ignored (etcd 3.4.23 refuses an unknown one even then, with `invalid auth token`).
struct AuthGate: Sendable {
    let store: MVCCStore
    let tokens: TokenKeeper
    /// `--client-cert-auth`: a verified client certificate's common name is the user when the
    /// request carries no token.
    let certificateNamesUsers: Bool

    /// The caller of the request being served (from ``Credentials/current``); refused when it
    /// carries a token this member does not know.
    func caller() throws -> Cairnpb_Caller {
        var caller = Cairnpb_Caller()
        if try store.authStatus().enabled { caller.username = try username() }
        return caller
    }

    /// The user the request's credentials name ("" for none); asked only while auth is
    /// enabled, so each check reads the enabled flag once.
    private func username() throws -> String {
        let credentials = Credentials.current
        if let token = credentials.token {
            guard let user = tokens.user(of: token) else { throw AuthError.invalidAuthToken }
            return user
        }
        if certificateNamesUsers, let name = credentials.certificateCommonName { return name }
        return ""
    }

    /// Read access to `key` (or the range to `rangeEnd`) for the caller.
    func requireRead(key: [UInt8], rangeEnd: [UInt8]) throws {
        guard let ranges = try callerRanges() else { return }
        guard ranges.permits(.read, key: key, rangeEnd: rangeEnd) else { throw AuthError.permissionDenied }
    }

    /// Write access to every key attached to lease `id` (what revoking it deletes).
    func requireWrite(keysOf lease: Int64) throws {
        guard let ranges = try callerRanges() else { return }
        for key in try store.keys(attachedTo: lease) where !ranges.permits(.write, key: key) {
            throw AuthError.permissionDenied
        }
    }

    /// What the caller may touch; nil while auth is disabled.
    private func callerRanges() throws -> AuthRanges? {
        guard try store.authStatus().enabled else { return nil }
        let username = try username()
        let (enabled, found) = try store.authRanges(of: username)
        guard enabled else { return nil }
        guard !username.isEmpty else { throw AuthError.userEmpty }
        guard let found else { throw AuthError.permissionDenied }
        return found
    }

    /// The root role, or `alsoAllowed` for the caller's own record (UserGet of oneself, RoleGet
    /// of one's own role), as etcd allows.
    func requireAdmin(alsoAllowed: (AuthUser) -> Bool = { _ in false }) throws {
        guard try store.authStatus().enabled else { return }
        let username = try username()
        guard !username.isEmpty else { throw AuthError.userEmpty }
        guard let user = try store.user(username) else { throw AuthError.userNotFound }
        guard user.hasRootRole || alsoAllowed(user) else { throw AuthError.permissionDenied }
    }
}
