import Foundation
@testable import Restore
import XCTest

final class RestoreRunbookTests: XCTestCase {
    private let allDone = [
        "preflight=done", "stop-api-server=done", "stop-server=done", "restore=done", "repoint=done",
        "start-server=done", "start-api-server=done",
    ]

    func testFullRunJournalsEveryStepDoneInOrder() async throws {
        let box = try Sandbox()
        try box.writePlan()
        let journal = try await box.restore()

        XCTAssertEqual(try box.stepStatuses(), allDone)
        XCTAssertEqual(box.calls, ["api-stop", "systemctl stop cairn.service", "systemctl start cairn.service", "api-start"])
        let newDataDir = try box.newDataDir()
        XCTAssertTrue(newDataDir.hasPrefix(box.root + "/var/lib/cairn.restored-"), newDataDir)
        XCTAssertEqual(box.symlinkTarget(box.dataDir), newDataDir)
        XCTAssertEqual(journal.expectedRevision, FakeEnvironment.snapshotRevision + 1_000)
        XCTAssertEqual(journal.previous.serverWasUp, true)
        let finished = journal.steps.compactMap(\.finishedAt)
        XCTAssertEqual(finished.count, RunbookStep.allCases.count)
        XCTAssertEqual(finished, finished.sorted(), "steps finish in order")
        XCTAssertGreaterThan(box.environment.count("probe"), 6, "both waits polled through the member's lag")
    }

    func testSymlinkRepointReplacesTheLinkAndKeepsTheOldTarget() async throws {
        let box = try Sandbox()
        try box.writePlan()
        let journal = try await box.restore()

        XCTAssertEqual(journal.previous.dataDir, .init(kind: .symlink, target: box.oldData, asidePath: nil))
        XCTAssertEqual(try String(contentsOfFile: box.oldData + "/revision", encoding: .utf8), "100")
        XCTAssertFalse(FileManager.default.fileExists(atPath: box.dataDir + ".cairn-new-link"))
    }

    func testSymlinkRepointMovesARealDataDirAside() async throws {
        let box = try Sandbox()
        try FileManager.default.removeItem(atPath: box.dataDir)
        try FileManager.default.moveItem(atPath: box.oldData, toPath: box.dataDir)
        try box.writePlan()
        let journal = try await box.restore()

        let aside = box.dataDir + ".pre-restore-" + journal.runID
        XCTAssertEqual(journal.previous.dataDir, .init(kind: .directory, target: nil, asidePath: aside))
        XCTAssertEqual(try String(contentsOfFile: aside + "/revision", encoding: .utf8), "100", "the old data-dir is kept aside")
        XCTAssertEqual(box.symlinkTarget(box.dataDir), journal.newDataDir)
    }

    func testSymlinkRepointCreatesTheLinkWhenTheDataDirIsLost() async throws {
        let box = try Sandbox()
        try FileManager.default.removeItem(atPath: box.dataDir)
        try box.write("down", at: box.stateFile)
        try box.writePlan(extra: "dataDirMayBeMissing: true")
        let journal = try await box.restore()

        XCTAssertEqual(journal.previous.dataDir?.kind, .missing)
        XCTAssertEqual(journal.previous.serverWasUp, false)
        XCTAssertEqual(box.symlinkTarget(box.dataDir), journal.newDataDir)
        XCTAssertEqual(try box.stepStatuses(), allDone)
    }

    func testMissingDataDirFailsPreflightUnlessThePlanAllowsIt() async throws {
        let box = try Sandbox()
        try FileManager.default.removeItem(atPath: box.dataDir)
        try box.writePlan()
        await assertThrows(.preflightFailed, containing: "set dataDirMayBeMissing: true") { try await box.restore() }
        XCTAssertFalse(FileManager.default.fileExists(atPath: box.journalPath))
    }

    func testSystemdDropInIsWrittenAndDaemonReloadedBeforeTheStart() async throws {
        let box = try Sandbox()
        let dropIn = box.root + "/etc/systemd/system/cairn.service.d/50-cairn-restore.conf"
        box.environment.answer(with: box.member(serving: { Self.dataDir(fromDropIn: dropIn) ?? box.dataDir }))
        try box.writePlan(repoint: "{systemdDropIn: {unit: cairn.service, path: \(dropIn)}}")
        let journal = try await box.restore()

        let content = try String(contentsOfFile: dropIn, encoding: .utf8)
        XCTAssertTrue(content.contains("[Service]\n"), content)
        XCTAssertTrue(content.contains("Environment=\"ETCD_DATA_DIR=\(journal.newDataDir)\"\n"), content)
        XCTAssertEqual(box.calls, [
            "api-stop", "systemctl stop cairn.service", "systemctl daemon-reload", "systemctl start cairn.service", "api-start",
        ])
        XCTAssertEqual(journal.previous.dropIn, .init(path: dropIn, content: nil))
        XCTAssertEqual(box.symlinkTarget(box.dataDir), box.oldData, "the drop-in leaves the data-dir path alone")

        _ = try await box.rollback()
        XCTAssertFalse(FileManager.default.fileExists(atPath: dropIn), "rollback removes the drop-in it wrote")
        XCTAssertEqual(box.calls.suffix(4), [
            "systemctl stop cairn.service", "systemctl daemon-reload", "systemctl start cairn.service", "api-start",
        ])
    }

    func testRollbackPutsBackADropInThatExistedBefore() async throws {
        let box = try Sandbox()
        let dropIn = box.root + "/etc/systemd/system/cairn.service.d/50-cairn-restore.conf"
        try FileManager.default.createDirectory(atPath: box.root + "/etc/systemd/system/cairn.service.d", withIntermediateDirectories: true)
        let earlier = "[Service]\nEnvironment=ETCD_DATA_DIR=\(box.oldData)\n"
        try box.write(earlier, at: dropIn)
        box.environment.answer(with: box.member(serving: { Self.dataDir(fromDropIn: dropIn) ?? box.dataDir }))
        try box.writePlan(repoint: "{systemdDropIn: {unit: cairn.service, path: \(dropIn)}}")
        _ = try await box.restore()
        _ = try await box.rollback()

        XCTAssertEqual(try String(contentsOfFile: dropIn, encoding: .utf8), earlier)
    }

    func testStaticPodRepointEditsTheHostPathAndKeepsTheBackupOutsideTheManifests() async throws {
        let box = try Sandbox()
        let manifests = box.root + "/etc/kubernetes/manifests"
        let park = box.root + "/etc/kubernetes/parked"
        for directory in [manifests, park, box.root + "/var/lib/etcd"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try box.write("100", at: box.root + "/var/lib/etcd/revision")
        let etcdManifest = manifests + "/etcd.yaml"
        try box.write(Self.kubeadmEtcdManifest(dataDir: box.root + "/var/lib/etcd"), at: etcdManifest)
        try box.write("kind: Pod\nmetadata: {name: kube-apiserver}\n", at: manifests + "/kube-apiserver.yaml")
        // kubelet: the pod runs while its manifest is in the manifests directory, on its hostPath.
        box.environment.answer(with: box.member(serving: {
            guard let paths = try? Manifest.hostPaths(etcdManifest) else { return nil }
            return paths["etcd-data"]
        }))
        try box.write("up", at: box.stateFile)
        try Data(Sandbox.planText(
            dataDir: box.root + "/var/lib/etcd",
            repoint: "{staticPod: {manifest: \(etcdManifest)}}",
            server: "  staticPod: {manifest: \(etcdManifest), parkDir: \(park)}",
            apiServer: "apiServer: {staticPod: {manifest: \(manifests)/kube-apiserver.yaml, parkDir: \(park)}}"
        ).utf8).write(to: URL(fileURLWithPath: box.planPath))
        let journal = try await box.restore()

        XCTAssertEqual(try box.stepStatuses(), allDone)
        XCTAssertEqual(try Manifest.hostPaths(etcdManifest), [
            "etcd-data": journal.newDataDir, "etcd-certs": "/etc/kubernetes/pki/etcd",
        ])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: manifests).sorted(), ["etcd.yaml", "kube-apiserver.yaml"])
        let backup = try XCTUnwrap(journal.previous.manifest?.backupPath)
        XCTAssertEqual(backup, park + "/etcd.yaml.pre-restore-" + journal.runID)
        XCTAssertEqual(try Manifest.hostPaths(backup)["etcd-data"], box.root + "/var/lib/etcd")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: park), ["etcd.yaml.pre-restore-" + journal.runID])

        _ = try await box.rollback()
        XCTAssertEqual(try Manifest.hostPaths(etcdManifest)["etcd-data"], box.root + "/var/lib/etcd")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: manifests).sorted(), ["etcd.yaml", "kube-apiserver.yaml"])
    }

    func testStaticPodRepointRefusesAManifestWithoutTheDataDirNamingTheHostPaths() async throws {
        let box = try Sandbox()
        let manifests = box.root + "/etc/kubernetes/manifests"
        try FileManager.default.createDirectory(atPath: manifests, withIntermediateDirectories: true)
        try box.write(Self.kubeadmEtcdManifest(dataDir: "/var/lib/etcd"), at: manifests + "/etcd.yaml")
        try box.writePlan(repoint: "{staticPod: {manifest: \(manifests)/etcd.yaml}}")
        await assertThrows(.preflightFailed, containing: "hostPaths found: /etc/kubernetes/pki/etcd, /var/lib/etcd") {
            try await box.restore()
        }
    }

    func testParkDirInsideTheManifestsDirectoryIsRefused() async throws {
        let box = try Sandbox()
        let manifests = box.root + "/etc/kubernetes/manifests"
        try FileManager.default.createDirectory(atPath: manifests + "/parked", withIntermediateDirectories: true)
        try box.write("kind: Pod\n", at: manifests + "/kube-apiserver.yaml")
        try box.writePlan(apiServer: "apiServer: {staticPod: {manifest: \(manifests)/kube-apiserver.yaml, parkDir: \(manifests)/parked}}")
        await assertThrows(.preflightFailed, containing: "kubelet would run a parked manifest") { try await box.restore() }
        XCTAssertEqual(box.calls, [])
    }

    func testDryRunChangesNothingAndPrintsEveryAction() async throws {
        let box = try Sandbox()
        try box.writePlan()
        let before = try box.listing()
        let journal = try await box.restore(dryRun: true)

        XCTAssertEqual(try box.listing(), before)
        XCTAssertEqual(box.environment.count("restore"), 0)
        let output = box.output.joined(separator: "\n")
        for expected in [
            "new data-dir: \(journal.newDataDir)",
            "[preflight] ok: snapshot \(box.snapshot) verifies",
            "would write the journal \(box.journalPath)",
            "[stop-api-server] would run: /bin/sh -c 'echo api-stop >> \(box.root)/calls.log'",
            "[stop-server] would run: systemctl stop cairn.service",
            "[stop-server] would wait until http://127.0.0.1:2379 stops answering (at most 5s)",
            "[restore] would restore \(box.snapshot) into \(journal.newDataDir)",
            "[repoint] would symlink \(box.dataDir) -> \(journal.newDataDir)",
            "[start-server] would run: systemctl start cairn.service",
            "[start-api-server] would run: /bin/sh -c 'echo api-start >> \(box.root)/calls.log'",
            "dry run complete: nothing was changed",
        ] {
            XCTAssertTrue(output.contains(expected), "missing '\(expected)' in:\n\(output)")
        }
    }

    func testDryRunOfARealDataDirShowsTheMoveAsideThenTheLink() async throws {
        let box = try Sandbox()
        try FileManager.default.removeItem(atPath: box.dataDir)
        try FileManager.default.moveItem(atPath: box.oldData, toPath: box.dataDir)
        try box.writePlan()
        let before = try box.listing()
        let journal = try await box.restore(dryRun: true)

        XCTAssertEqual(try box.listing(), before)
        let repoint = box.output.filter { $0.hasPrefix("[repoint] would") }
        XCTAssertEqual(repoint, [
            "[repoint] would move \(box.dataDir) -> \(box.dataDir).pre-restore-\(journal.runID)",
            "[repoint] would symlink \(box.dataDir) -> \(journal.newDataDir) (via \(box.dataDir).cairn-new-link, renamed over)",
        ])
    }

    func testPreflightFailureChangesNothingAndRunsNoCommand() async throws {
        let box = try Sandbox()
        try box.writePlan()
        box.environment.failVerify(RunbookError(.init(rawValue: "snapshot-corrupt"), "checksum mismatch at offset 4096"))
        let before = try box.listing()
        await assertThrows(.preflightFailed, containing: "checksum mismatch at offset 4096") { try await box.restore() }

        XCTAssertEqual(try box.listing(), before)
        XCTAssertEqual(box.calls, [])
        XCTAssertEqual(box.environment.count("restore"), 0)
    }

    func testStartServerOnTheOldDataDirFailsAndPrintsTheRollbackCommand() async throws {
        let box = try Sandbox()
        // A unit whose --data-dir flag still names the old data: the repoint has no effect.
        box.environment.answer(with: box.member(serving: { box.oldData }))
        try box.writePlan()
        await assertThrows(.stepFailed, containing: "serves an older data-dir") { try await box.restore() }

        XCTAssertEqual(try box.stepStatuses().suffix(2), ["start-server=failed", "start-api-server=pending"])
        let output = box.output.joined(separator: "\n")
        XCTAssertTrue(output.contains("[start-server] FAILED: "), output)
        XCTAssertTrue(output.contains("undo what was done: cairn runbook rollback --plan \(box.planPath)"), output)
        XCTAssertFalse(box.calls.contains("api-start"))
    }

    func testResumeAfterACrashCompletesWithoutRerunningDoneSteps() async throws {
        let box = try Sandbox()
        try box.writePlan()
        box.environment.crashOnNextRestore()
        await assertThrows(.stepFailed, containing: "simulated crash") { try await box.restore() }
        try markRunning("restore", in: box.journalPath)
        XCTAssertTrue(FileManager.default.fileExists(atPath: try box.newDataDir() + ".partial"), "the crash left scratch")

        _ = try await box.restore(resume: true)
        XCTAssertEqual(try box.stepStatuses(), allDone)
        XCTAssertEqual(box.calls, ["api-stop", "systemctl stop cairn.service", "systemctl start cairn.service", "api-start"])
        XCTAssertEqual(box.environment.count("restore"), 2)
        XCTAssertEqual(box.environment.count("verify"), 1, "preflight is not repeated")
        XCTAssertFalse(FileManager.default.fileExists(atPath: try box.newDataDir() + ".partial"))
    }

    func testResumeRerunsAStepKilledWhileRunning() async throws {
        let box = try Sandbox()
        try box.writePlan()
        try box.write("", at: box.root + "/fail-start")
        await assertThrows(.stepFailed, containing: "unit failed") { try await box.restore() }
        try markRunning("start-server", in: box.journalPath)
        try FileManager.default.removeItem(atPath: box.root + "/fail-start")

        _ = try await box.restore(resume: true)
        XCTAssertEqual(try box.stepStatuses(), allDone)
        XCTAssertEqual(box.calls.filter { $0 == "systemctl start cairn.service" }.count, 2)
        XCTAssertEqual(box.calls.filter { $0 == "systemctl stop cairn.service" }.count, 1)
        XCTAssertEqual(box.calls.filter { $0 == "api-stop" }.count, 1)
        XCTAssertEqual(box.environment.count("restore"), 1)
    }

    func testResumeRefusesAChangedPlan() async throws {
        let box = try Sandbox()
        let text = try box.writePlan()
        try box.write("", at: box.root + "/fail-start")
        await assertThrows(.stepFailed, containing: "unit failed") { try await box.restore() }
        try box.write(text + "\n# edited\n", at: box.planPath)
        await assertThrows(.journalMismatch, containing: "changed since run") { try await box.restore(resume: true) }
    }

    func testResumeRefusesAnotherSnapshot() async throws {
        let box = try Sandbox()
        try box.writePlan()
        try box.write("", at: box.root + "/fail-start")
        await assertThrows(.stepFailed, containing: "unit failed") { try await box.restore() }
        await assertThrows(.journalMismatch, containing: "resume with --snapshot \(box.snapshot)") {
            try await box.runbook().restore(snapshot: box.root + "/other.db", resume: true)
        }
    }

    func testAnUnfinishedRunRequiresResumeOrRollback() async throws {
        let box = try Sandbox()
        try box.writePlan()
        try box.write("", at: box.root + "/fail-start")
        await assertThrows(.stepFailed, containing: "unit failed") { try await box.restore() }
        await assertThrows(.runUnfinished, containing: "stopped at step start-server") { try await box.restore() }
        await assertThrows(.runUnfinished, containing: "--resume") { try await box.restore() }
    }

    func testACompletedRunIsNotRunAgain() async throws {
        let box = try Sandbox()
        try box.writePlan()
        _ = try await box.restore()
        await assertThrows(.runComplete, containing: "is complete") { try await box.restore() }
        await assertThrows(.runComplete, containing: "is complete") { try await box.restore(resume: true) }
    }

    func testResumeWithoutAJournalFails() async throws {
        let box = try Sandbox()
        try box.writePlan()
        await assertThrows(.journalMissing, containing: "no run to resume") { try await box.restore(resume: true) }
    }

    func testNoAPIServerSkipsItsSteps() async throws {
        let box = try Sandbox()
        try box.writePlan(apiServer: .some(nil))
        _ = try await box.restore()
        XCTAssertEqual(try box.stepStatuses().filter { $0.contains("api-server") }, ["stop-api-server=skipped", "start-api-server=skipped"])
    }

    func testRollbackAfterAFullRunRestoresTheOldSymlinkTarget() async throws {
        let box = try Sandbox()
        try box.writePlan()
        let run = try await box.restore()
        let journal = try await box.rollback()

        XCTAssertEqual(box.symlinkTarget(box.dataDir), box.oldData)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.newDataDir + "/revision"), "the restored dir is kept")
        XCTAssertEqual(box.calls.suffix(3), ["systemctl stop cairn.service", "systemctl start cairn.service", "api-start"])
        XCTAssertEqual(journal.rollback?.map(\.status), [.done, .done, .done, .done])

        let callsBefore = box.calls
        _ = try await box.rollback()
        XCTAssertEqual(box.calls, callsBefore, "a second rollback does nothing")
        await assertThrows(.runComplete, containing: "rolled back") { try await box.restore(resume: true) }
    }

    func testRollbackAfterAFullRunMovesTheAsideDirectoryBack() async throws {
        let box = try Sandbox()
        try FileManager.default.removeItem(atPath: box.dataDir)
        try FileManager.default.moveItem(atPath: box.oldData, toPath: box.dataDir)
        try box.writePlan()
        let run = try await box.restore()
        _ = try await box.rollback()

        XCTAssertNil(box.symlinkTarget(box.dataDir))
        XCTAssertEqual(try String(contentsOfFile: box.dataDir + "/revision", encoding: .utf8), "100")
        XCTAssertFalse(FileManager.default.fileExists(atPath: box.dataDir + ".pre-restore-" + run.runID))
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.newDataDir))
    }

    func testRollbackOfARunThatFailedBeforeTheRepointOnlyRestartsWhatItStopped() async throws {
        let box = try Sandbox()
        try box.writePlan()
        box.environment.crashOnNextRestore()
        await assertThrows(.stepFailed, containing: "simulated crash") { try await box.restore() }
        let journal = try await box.rollback()

        XCTAssertEqual(journal.rollback?.map(\.status), [.skipped, .skipped, .done, .done])
        XCTAssertEqual(box.calls, ["api-stop", "systemctl stop cairn.service", "systemctl start cairn.service", "api-start"])
        XCTAssertEqual(box.symlinkTarget(box.dataDir), box.oldData)
    }

    func testRollbackDryRunChangesNothingAndPrintsTheUndo() async throws {
        let box = try Sandbox()
        try box.writePlan()
        let run = try await box.restore()
        let before = try box.listing()
        _ = try await box.runbook().rollback(dryRun: true)

        XCTAssertEqual(try box.listing(), before)
        let output = box.output.joined(separator: "\n")
        for expected in [
            "[rollback stop-server] would run: systemctl stop cairn.service",
            "[rollback undo-repoint] would symlink \(box.dataDir) -> \(box.oldData)",
            "[rollback start-server] would run: systemctl start cairn.service",
        ] {
            XCTAssertTrue(output.contains(expected), "missing '\(expected)' in:\n\(output)")
        }
        XCTAssertEqual(box.symlinkTarget(box.dataDir), run.newDataDir)
    }

    // MARK: Helpers

    /// Leaves `step` as a SIGKILL mid-step would: `running`, with no finish time.
    private func markRunning(_ step: String, in journalPath: String) throws {
        let url = URL(fileURLWithPath: journalPath)
        var journal = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var steps = try XCTUnwrap(journal["steps"] as? [[String: Any]])
        let index = try XCTUnwrap(steps.firstIndex { $0["step"] as? String == step })
        steps[index]["status"] = "running"
        steps[index]["finishedAt"] = nil
        steps[index]["detail"] = nil
        journal["steps"] = steps
        try JSONSerialization.data(withJSONObject: journal, options: [.prettyPrinted]).write(to: url)
    }

    private static func dataDir(fromDropIn path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Environment=\"ETCD_DATA_DIR=") {
            return String(line.dropFirst("Environment=\"ETCD_DATA_DIR=".count).dropLast())
        }
        return nil
    }

    static func kubeadmEtcdManifest(dataDir: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata:
          annotations:
            kubeadm.kubernetes.io/etcd.advertise-client-urls: https://127.0.0.1:2379
          labels:
            component: etcd
            tier: control-plane
          name: etcd
          namespace: kube-system
        spec:
          containers:
          - command:
            - etcd
            - --advertise-client-urls=https://127.0.0.1:2379
            - --data-dir=/var/lib/etcd
            - --name=node1
            image: registry.k8s.io/etcd:3.5.15-0
            name: etcd
            volumeMounts:
            - mountPath: /var/lib/etcd
              name: etcd-data
            - mountPath: /etc/kubernetes/pki/etcd
              name: etcd-certs
          hostNetwork: true
          priorityClassName: system-node-critical
          volumes:
          - hostPath:
              path: /etc/kubernetes/pki/etcd
              type: DirectoryOrCreate
            name: etcd-certs
          - hostPath:
              path: \(dataDir)
              type: DirectoryOrCreate
            name: etcd-data
        status: {}

        """
    }
}

/// Runs `body` and checks it throws a `RunbookError` with `code` whose message contains `text`.
func assertThrows(
    _ code: RunbookError.Code, containing text: String, file: StaticString = #filePath, line: UInt = #line,
    _ body: () async throws -> some Any
) async {
    do {
        _ = try await body()
        XCTFail("expected a \(code) error", file: file, line: line)
    } catch let error as RunbookError {
        XCTAssertEqual(error.code, code, error.message, file: file, line: line)
        XCTAssertTrue(error.message.contains(text), "'\(text)' not in: \(error.message)", file: file, line: line)
    } catch {
        XCTFail("unexpected \(error)", file: file, line: line)
    }
}
