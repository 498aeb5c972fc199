import Foundation
import XCTest
@testable import Storage
import TestSupport

/// Key-range coverage, the stored users and roles with etcd's rules, and password hashes.
final class AuthStoreTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var store: MVCCStore!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        store = try MVCCStore(path: directory.file("db"))
    }

    override func tearDown() {
        store?.close()
        directory?.remove()
    }

    private func ranges(_ permissions: [AuthPermission], root: Bool = false) -> AuthRanges {
        AuthRanges(user: AuthUser(name: "u", passwordHash: "", roles: root ? ["r", "root"] : ["r"]),
            roles: [AuthRole(name: "r", permissions: permissions)])
    }

    private func permission(_ kind: AuthPermission.Kind, _ key: String, _ rangeEnd: [UInt8] = []) -> AuthPermission {
        AuthPermission(kind: kind, key: bytes(key), rangeEnd: rangeEnd)
    }

    func testRangesCoverPrefixesSingleKeysAndOpenEnds() {
        let ranges = ranges([
            permission(.readWrite, "app/", bytes("app0")), permission(.read, "config"), permission(.write, "logs/", [0]),
        ])
        XCTAssertTrue(ranges.permits(.read, key: bytes("app/x")))
        XCTAssertTrue(ranges.permits(.write, key: bytes("app/"), rangeEnd: bytes("app0")))
        XCTAssertTrue(ranges.permits(.read, key: bytes("app/a"), rangeEnd: bytes("app/b")))
        XCTAssertFalse(ranges.permits(.read, key: bytes("app/"), rangeEnd: bytes("app1")), "runs past the prefix")
        XCTAssertFalse(ranges.permits(.read, key: bytes("app/"), rangeEnd: [0]), "open-ended past the prefix")
        XCTAssertFalse(ranges.permits(.read, key: bytes("app")))
        XCTAssertTrue(ranges.permits(.read, key: bytes("config")))
        XCTAssertFalse(ranges.permits(.write, key: bytes("config")), "read does not grant write")
        XCTAssertFalse(ranges.permits(.read, key: bytes("config"), rangeEnd: bytes("config0")), "one key is not a range")
        XCTAssertTrue(ranges.permits(.write, key: bytes("logs/z"), rangeEnd: [0]))
        XCTAssertTrue(ranges.permits(.write, key: bytes("zzz")))
        XCTAssertFalse(ranges.permits(.read, key: bytes("logs/z")))
        XCTAssertFalse(ranges.permits(.read, key: [0], rangeEnd: [0]), "everything")
        XCTAssertTrue(self.ranges([], root: true).permits(.write, key: [0], rangeEnd: [0]), "root may do anything")
    }

    func testAdjacentPermissionsOfDifferentRolesJoin() {
        let user = AuthUser(name: "u", passwordHash: "", roles: ["a", "b"])
        let ranges = AuthRanges(user: user, roles: [
            AuthRole(name: "a", permissions: [permission(.read, "a", bytes("m"))]),
            AuthRole(name: "b", permissions: [permission(.readWrite, "m", bytes("t"))]),
            AuthRole(name: "not-granted", permissions: [permission(.readWrite, "t", [0])]),
        ])
        XCTAssertTrue(ranges.permits(.read, key: bytes("b"), rangeEnd: bytes("s")), "a range spanning both roles")
        XCTAssertFalse(ranges.permits(.write, key: bytes("b"), rangeEnd: bytes("s")))
        XCTAssertFalse(ranges.permits(.read, key: bytes("b"), rangeEnd: bytes("u")), "a role the user lacks")
        XCTAssertTrue(ranges.permits(.read, key: bytes("q"), rangeEnd: bytes("b")), "an inverted range needs its first key")
    }

    func testUsersAndRolesFollowEtcdsRules() async throws {
        func fails(_ body: @escaping @Sendable (inout WriteTransaction) throws -> Void) async -> AuthError? {
            do {
                try await store.write(body)
                return nil
            } catch {
                return error as? AuthError
            }
        }
        let enable: @Sendable (inout WriteTransaction) throws -> Void = { try $0.enableAuth() }
        var failure = await fails(enable)
        XCTAssertEqual(failure, .rootUserNotExist)
        try await store.write { try $0.addUser(AuthUser(name: "root", passwordHash: "h")) }
        failure = await fails(enable)
        XCTAssertEqual(failure, .rootRoleNotExist)
        failure = await fails { try $0.addUser(AuthUser(name: "root", passwordHash: "h")) }
        XCTAssertEqual(failure, .userAlreadyExists)
        failure = await fails { try $0.addUser(AuthUser(name: "", passwordHash: "h")) }
        XCTAssertEqual(failure, .userEmpty)
        failure = await fails { try $0.grantRole("missing", to: "root") }
        XCTAssertEqual(failure, .roleNotFound)
        // The root role may be granted before it exists, as etcdctl's auth enable does.
        try await store.write { try $0.grantRole("root", to: "root") }
        try await store.write(enable)
        XCTAssertEqual(try store.authStatus().enabled, true)

        try await store.write { txn in
            try txn.addRole("app")
            try txn.grantPermission(AuthPermission(kind: .read, key: bytes("b"), rangeEnd: []), to: "app")
            try txn.grantPermission(AuthPermission(kind: .read, key: bytes("a"), rangeEnd: bytes("b")), to: "app")
            try txn.grantPermission(AuthPermission(kind: .readWrite, key: bytes("b"), rangeEnd: []), to: "app")
            try txn.addUser(AuthUser(name: "alice", passwordHash: "h"))
            try txn.grantRole("app", to: "alice")
        }
        XCTAssertEqual(try store.role("app")?.permissions, [
            AuthPermission(kind: .read, key: bytes("a"), rangeEnd: bytes("b")),
            AuthPermission(kind: .readWrite, key: bytes("b"), rangeEnd: []),
        ], "sorted by key; the same key and range end replaced")
        failure = await fails { try $0.revokePermission(key: bytes("a"), rangeEnd: [], from: "app") }
        XCTAssertEqual(failure, .permissionNotGranted)
        failure = await fails { try $0.deleteUser("root") }
        XCTAssertEqual(failure, .invalidAuthManagement)
        failure = await fails { try $0.deleteRole("root") }
        XCTAssertEqual(failure, .invalidAuthManagement)
        failure = await fails { try $0.revokeRole("root", from: "root") }
        XCTAssertEqual(failure, .invalidAuthManagement)
        failure = await fails { try $0.revokeRole("other", from: "alice") }
        XCTAssertEqual(failure, .roleNotGranted)

        let revisionBefore = try store.status().revision
        try await store.write { try $0.deleteRole("app") }
        XCTAssertEqual(try store.user("alice")?.roles, [], "a deleted role leaves its users")
        XCTAssertEqual(try store.users().map(\.name), ["alice", "root"])
        XCTAssertEqual(try store.roles().map(\.name), [])
        XCTAssertEqual(try store.status().revision, revisionBefore, "auth changes leave the key revision alone")
        XCTAssertEqual(try store.authStatus().revision, 11, "one per change that committed")
    }

    /// A name keys its record, so one beyond LMDB's key limit is refused as a key that is too
    /// large (InvalidArgument at the server) instead of failing in LMDB, which the apply loop
    /// would take for a failing backend; looking one up finds nothing.
    func testNamesBeyondTheKeyLimitAreRefusedAndNeverFound() async throws {
        let longest = String(repeating: "n", count: MVCCReader.maxAuthNameBytes)
        try await store.write { txn in
            try txn.addUser(AuthUser(name: longest, passwordHash: "h"))
            try txn.addRole(longest)
            try txn.grantRole(longest, to: longest)
        }
        XCTAssertEqual(try store.user(longest)?.roles, [longest])
        XCTAssertEqual(try store.role(longest)?.name, longest)

        // Bytes count, not characters: 255 "é" are 510 bytes.
        for tooLong in [longest + "n", String(repeating: "é", count: 255), String(repeating: "x", count: 100_000)] {
            for add: @Sendable (inout WriteTransaction) throws -> Void in [
                { try $0.addUser(AuthUser(name: tooLong, passwordHash: "h")) }, { try $0.addRole(tooLong) },
            ] {
                do {
                    try await store.write(add)
                    XCTFail("a name of \(tooLong.utf8.count) bytes was stored")
                } catch let error as StorageError {
                    XCTAssertEqual(error.code, .keyTooLarge, "\(error)")
                }
            }
            XCTAssertNil(try store.user(tooLong))
            XCTAssertNil(try store.role(tooLong))
            do {
                try await store.write { try $0.grantRole(tooLong, to: longest) }
                XCTFail("granted a role that cannot exist")
            } catch {
                XCTAssertEqual(error as? AuthError, .roleNotFound)
            }
        }
    }

    /// etcd's rule: a `no_password` user stays one when a password is set for it, so the
    /// password does not log it in.
    func testANoPasswordUserStaysOneWhenAPasswordIsSet() async throws {
        try await store.write { try $0.addUser(AuthUser(name: "alice", passwordHash: "", noPassword: true)) }
        let hash = PasswordHash.make("alicepw", iterations: 10)
        try await store.write { try $0.changePassword(of: "alice", to: hash) }
        let alice = try XCTUnwrap(try store.user("alice"))
        XCTAssertTrue(alice.noPassword)
        XCTAssertFalse(PasswordHash.matches("alicepw", alice.passwordHash))
    }

    func testAuthSurvivesReopening() async throws {
        try await store.write { txn in
            try txn.addUser(AuthUser(name: "root", passwordHash: "h", roles: []))
            try txn.grantRole("root", to: "root")
            try txn.enableAuth()
        }
        store.close()
        store = try MVCCStore(path: directory.file("db"))
        XCTAssertEqual(try store.authStatus().enabled, true)
        XCTAssertEqual(try store.user("root")?.roles, ["root"])
    }

    func testPasswordHashesAreSaltedAndCheckedExactly() {
        let first = PasswordHash.make("s3cret", iterations: 1000)
        let second = PasswordHash.make("s3cret", iterations: 1000)
        XCTAssertNotEqual(first, second, "salted")
        XCTAssertFalse(first.contains("s3cret"))
        XCTAssertTrue(PasswordHash.matches("s3cret", first))
        XCTAssertFalse(PasswordHash.matches("s3cret ", first))
        XCTAssertFalse(PasswordHash.matches("", first))
        XCTAssertFalse(PasswordHash.matches("s3cret", ""), "a user without a password")
        XCTAssertFalse(PasswordHash.matches("s3cret", "pbkdf2-sha256$0$AAAA$AAAA"))
        XCTAssertTrue(PasswordHash.matches("", PasswordHash.make("", iterations: 10)))
    }
}
