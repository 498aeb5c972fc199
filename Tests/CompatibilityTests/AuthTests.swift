import Foundation
import TestSupport
import XCTest

/// etcd's auth as operators drive it with etcdctl: users, roles, key-range permissions, the
/// root role, enable/disable, and the errors etcd gives (clients match their text). Passes
/// against etcd 3.4 too (`CAIRN_COMPAT_SERVER=etcd`).
final class AuthTests: CompatibilityTestCase {
    private let root = ["--user", "root:rootpw"]
    private let alice = ["--user", "alice:alicepw"]
    private var watches: [EtcdctlWatch] = []

    override func tearDown() {
        watches.forEach { $0.stop() }
        watches = []
        super.tearDown()
    }

    /// root, and alice with read and write on the prefix `app/` only; then auth enabled
    /// (etcdctl creates the root role itself when the server says root lacks it).
    private func enableAuthWithAlice() throws {
        try etcdctl.succeed(["user", "add", "root:rootpw"])
        try etcdctl.succeed(["user", "add", "alice:alicepw"])
        try etcdctl.succeed(["role", "add", "app"])
        try etcdctl.succeed(["role", "grant-permission", "--prefix", "app", "readwrite", "app/"])
        try etcdctl.succeed(["user", "grant-role", "alice", "app"])
        XCTAssertEqual(try etcdctl.succeed(["auth", "enable"]), "Authentication Enabled\n")
    }

    private func error(_ arguments: [String]) throws -> String? {
        try etcdctl.fail(arguments).errorLine
    }

    func testAUserLimitedToAPrefixGetsPermissionDeniedElsewhereAndRootDoesNot() throws {
        try put("other", "before-auth")
        try enableAuthWithAlice()

        XCTAssertEqual(try etcdctl.succeed(alice + ["put", "app/x", "1"]), "OK\n")
        XCTAssertEqual(try etcdctl.succeed(alice + ["get", "app/", "--prefix", "--print-value-only"]), "1\n")
        XCTAssertEqual(try etcdctl.succeed(alice + ["del", "app/x"]), "1\n")
        let denied = "Error: etcdserver: permission denied"
        for arguments in [["put", "other", "2"], ["get", "other"], ["del", "other"], ["get", "", "--prefix"], ["get", "app/", "--from-key"]] {
            XCTAssertEqual(try error(alice + arguments), denied, "\(arguments)")
        }
        // A txn is checked as a whole, both branches and every compare.
        let txn = try etcdctl.fail(alice + ["txn"], stdin: "value(\"other\") = \"before-auth\"\n\nput app/y 2\n\n\n")
        XCTAssertEqual(txn.errorLine, denied, "\(txn)")
        let otherBranch = try etcdctl.fail(alice + ["txn"], stdin: "value(\"app/x\") = \"gone\"\n\nput app/y 2\n\nput other 3\n\n")
        XCTAssertEqual(otherBranch.errorLine, denied, "\(otherBranch)")

        XCTAssertEqual(try error(["get", "app/x"]), "Error: etcdserver: user name is empty")
        XCTAssertEqual(try error(["--user", "alice:wrong", "get", "app/x"]),
            "Error: etcdserver: authentication failed, invalid user ID or password")
        XCTAssertEqual(try error(alice + ["user", "add", "mallory:pw"]), denied)
        XCTAssertEqual(try error(alice + ["role", "grant-permission", "app", "readwrite", "other"]), denied)

        XCTAssertEqual(try etcdctl.succeed(root + ["put", "other", "by-root"]), "OK\n")
        XCTAssertEqual(try etcdctl.succeed(root + ["get", "other", "--print-value-only"]), "by-root\n")

        XCTAssertEqual(try etcdctl.succeed(root + ["auth", "disable"]), "Authentication Disabled\n")
        XCTAssertEqual(try etcdctl.succeed(["put", "other", "open-again"]), "OK\n")
        XCTAssertEqual(try etcdctl.succeed(["get", "other", "--print-value-only"]), "open-again\n")
    }

    func testPermissionsTakeEffectAsTheyAreGrantedAndRevoked() throws {
        try enableAuthWithAlice()
        let denied = "Error: etcdserver: permission denied"
        XCTAssertEqual(try error(alice + ["put", "shared", "1"]), denied)
        try etcdctl.succeed(root + ["role", "add", "shared-reader"])
        try etcdctl.succeed(root + ["role", "grant-permission", "shared-reader", "read", "shared"])
        try etcdctl.succeed(root + ["user", "grant-role", "alice", "shared-reader"])
        try etcdctl.succeed(root + ["put", "shared", "from-root"])
        XCTAssertEqual(try etcdctl.succeed(alice + ["get", "shared", "--print-value-only"]), "from-root\n")
        XCTAssertEqual(try error(alice + ["put", "shared", "2"]), denied, "read does not grant write")
        try etcdctl.succeed(root + ["role", "grant-permission", "shared-reader", "readwrite", "shared"])
        XCTAssertEqual(try etcdctl.succeed(alice + ["put", "shared", "2"]), "OK\n")
        try etcdctl.succeed(root + ["user", "revoke-role", "alice", "shared-reader"])
        XCTAssertEqual(try error(alice + ["get", "shared"]), denied)
        try etcdctl.succeed(root + ["role", "revoke-permission", "app", "app/", "app0"])
        XCTAssertEqual(try error(alice + ["put", "app/x", "1"]), denied)
        try etcdctl.succeed(root + ["user", "delete", "alice"])
        XCTAssertEqual(try error(alice + ["get", "app/x"]),
            "Error: etcdserver: authentication failed, invalid user ID or password")
    }

    func testAWatchOutsideThePrefixIsCanceledAndOneInsideSeesEvents() throws {
        try enableAuthWithAlice()
        let refused = try etcdctl.run(alice + ["watch", "other"], timeout: .seconds(15))
        XCTAssertFalse(refused.succeeded, "\(refused)")
        XCTAssertTrue((refused.stdout + refused.stderr).contains("etcdserver: permission denied"), "\(refused)")

        let watch = try etcdctl.watch(alice + ["--prefix", "app/"])
        watches.append(watch)
        let deadline = ContinuousClock.now + .seconds(20)
        // etcdctl prints nothing when the watch is created: write until a write shows up.
        var writes = 0
        repeat {
            guard ContinuousClock.now < deadline else { return XCTFail("the watch saw none of \(writes) writes") }
            writes += 1
            try etcdctl.succeed(alice + ["put", "app/seen", "\(writes)"])
        } while try watch.nextResponse(before: min(deadline, ContinuousClock.now + .milliseconds(300))) == nil
    }

    func testSnapshotsHashesAndMembershipChangesNeedTheRootRole() throws {
        try enableAuthWithAlice()
        let snapshot = directory.path + "/alice.db"
        let refused = try etcdctl.fail(alice + ["snapshot", "save", snapshot])
        XCTAssertTrue(refused.stderr.contains("permission denied"), "\(refused)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: snapshot))
        XCTAssertEqual(try error(alice + ["member", "add", "intruder", "--peer-urls=http://127.0.0.1:1"]),
            "Error: etcdserver: permission denied")

        try etcdctl.succeed(root + ["snapshot", "save", directory.path + "/root.db"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path + "/root.db"))
        // Status and the member list stay open to every authenticated user, as in etcd.
        XCTAssertTrue(try etcdctl.run(alice + ["endpoint", "status"]).succeeded)
        XCTAssertTrue(try etcdctl.run(alice + ["member", "list"]).succeeded)
    }

    /// cairn's own client commands log in as etcdctl does: `--user` on `snapshot save` and
    /// `schedule once`; without a user, or as a user without the root role, they fail saying so.
    func testCairnSnapshotSaveAndScheduleLogInWithUser() throws {
        try enableAuthWithAlice()
        func cairn(_ arguments: [String]) throws -> CairnCommand.Run {
            try CairnCommand.run(arguments, scratchDirectory: directory.path, timeout: .seconds(60))
        }
        let file = directory.file("root.cairn")
        let saved = try cairn(["snapshot", "save", file, "--endpoints", server.clientURL, "--user", "root:rootpw"])
        XCTAssertEqual(saved.status, 0, saved.stderr)
        let anonymous = try cairn(["snapshot", "save", directory.file("anonymous.cairn"), "--endpoints", server.clientURL])
        XCTAssertNotEqual(anonymous.status, 0)
        XCTAssertTrue(anonymous.stderr.contains("user name is empty"), anonymous.stderr)
        let limited = try cairn(["snapshot", "save", directory.file("alice.cairn"), "--endpoints", server.clientURL,
            "--user", "alice", "--password", "alicepw"])
        XCTAssertNotEqual(limited.status, 0)
        XCTAssertTrue(limited.stderr.contains("permission denied"), limited.stderr)
        let wrong = try cairn(["snapshot", "save", directory.file("wrong.cairn"), "--endpoints", server.clientURL,
            "--user", "root:nope"])
        XCTAssertTrue(wrong.stderr.contains("authentication failed"), wrong.stderr)
        for name in ["anonymous", "alice", "wrong"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("\(name).cairn")), name)
        }
        let scheduled = try cairn(["schedule", "once", "--endpoints", server.clientURL, "--dir", directory.file("backups"),
            "--user", "root:rootpw"])
        XCTAssertEqual(scheduled.status, 0, scheduled.stderr)
    }

    /// A `--no-password` user is one only a client certificate names; setting a password for it
    /// does not change that (etcd 3.4 refuses the login with `password was given for no
    /// password user`, cairn with its usual authentication failure).
    func testAPasswordSetForANoPasswordUserDoesNotLogItIn() throws {
        try etcdctl.succeed(["user", "add", "root:rootpw"])
        try etcdctl.succeed(["user", "add", "bob", "--no-password"])
        XCTAssertEqual(try etcdctl.succeed(["user", "passwd", "bob", "--interactive=false"], stdin: "bobpw\n"), "Password updated\n")
        try etcdctl.succeed(["auth", "enable"])
        let refused = try etcdctl.fail(["--user", "bob:bobpw", "get", "k"])
        XCTAssertTrue(refused.stderr.contains("authentication failed"), "\(refused)")
        XCTAssertEqual(try etcdctl.succeed(root + ["get", "k"]), "", "root still logs in")
    }

    func testAuthManagementFollowsEtcdsRules() throws {
        XCTAssertEqual(try error(["auth", "enable"]), "Error: etcdserver: root user does not exist")
        try etcdctl.succeed(["user", "add", "root:rootpw"])
        XCTAssertEqual(try error(["user", "add", "root:again"]), "Error: etcdserver: user name already exists")
        XCTAssertEqual(try error(["user", "grant-role", "root", "missing"]), "Error: etcdserver: role name not found")
        XCTAssertEqual(try error(["user", "grant-role", "nobody", "root"]), "Error: etcdserver: user name not found")
        try etcdctl.succeed(["role", "add", "app"])
        XCTAssertEqual(try error(["role", "add", "app"]), "Error: etcdserver: role name already exists")
        XCTAssertEqual(try error(["role", "revoke-permission", "app", "k"]),
            "Error: etcdserver: permission is not granted to the role")
        XCTAssertEqual(try error(["user", "revoke-role", "root", "app"]), "Error: etcdserver: role is not granted to the user")
        try etcdctl.succeed(["auth", "enable"])

        for arguments in [["user", "delete", "root"], ["role", "delete", "root"], ["user", "revoke-role", "root", "root"]] {
            XCTAssertEqual(try error(root + arguments), "Error: etcdserver: invalid auth management", "\(arguments)")
        }
        XCTAssertEqual(try etcdctl.succeed(root + ["role", "get", "root"]), "Role root\nKV Read:\nKV Write:\n")
        XCTAssertEqual(try etcdctl.succeed(root + ["user", "get", "root"]), "User: root\nRoles: root\n")
        XCTAssertEqual(try etcdctl.succeed(root + ["user", "list"]), "root\n")
        XCTAssertEqual(try etcdctl.succeed(root + ["role", "list"]), "app\nroot\n")
        try etcdctl.succeed(root + ["role", "delete", "app"])
        XCTAssertEqual(try etcdctl.succeed(root + ["role", "list"]), "root\n")
    }
}
