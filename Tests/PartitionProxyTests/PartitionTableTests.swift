import Foundation
import XCTest
@testable import PartitionProxy

final class PartitionTableTests: XCTestCase {
    func testSplitCutsOnlyPairsAcrossSides() {
        let table = PartitionTable()
        table.split(["m1", "m2"], ["m3", "m4", "m5"])

        for a in ["m1", "m2"] {
            for b in ["m3", "m4", "m5"] {
                XCTAssertTrue(table.isCut(a, b), "\(a)-\(b)")
                XCTAssertTrue(table.isCut(b, a), "\(b)-\(a)")
            }
        }
        XCTAssertFalse(table.isCut("m1", "m2"))
        XCTAssertFalse(table.isCut("m4", "m3"))
        XCTAssertFalse(table.isCut("m3", "m5"))
        XCTAssertEqual(table.cutPairs.count, 6)
    }

    func testIsolateLeavesOthersConnected() {
        let table = PartitionTable()
        table.isolate("m2", from: ["m1", "m3"])

        XCTAssertTrue(table.isCut("m1", "m2"))
        XCTAssertTrue(table.isCut("m2", "m3"))
        XCTAssertFalse(table.isCut("m1", "m3"))
    }

    func testUnknownSourceAndSelfAreNeverCut() {
        let table = PartitionTable()
        table.isolate("m1", from: ["m1", "m2"])

        XCTAssertFalse(table.isCut(nil, "m1"))
        XCTAssertFalse(table.isCut("m1", "m1"))
        XCTAssertEqual(table.cutPairs.map { [$0.0, $0.1] }, [["m1", "m2"]])
    }

    func testHealRemovesEveryCut() {
        let table = PartitionTable()
        table.split(["m1"], ["m2", "m3"])
        table.cut("m2", "m3")
        XCTAssertTrue(table.isPartitioned)

        table.heal()

        XCTAssertFalse(table.isPartitioned)
        XCTAssertFalse(table.isCut("m1", "m2"))
        XCTAssertFalse(table.isCut("m2", "m3"))
    }

    func testWaiterWakesOnHeal() {
        let table = PartitionTable()
        table.cut("m1", "m2")
        let passed = ProxyTestBackgroundWork {
            XCTAssertTrue(table.waitWhileCut("m1", "m2", abandonIf: { false }))
        }
        XCTAssertFalse(passed.wait(timeoutSeconds: 0.05), "must block while cut")

        table.heal()

        XCTAssertTrue(passed.wait())
    }

    func testWaiterGivesUpWhenAbandoned() {
        let table = PartitionTable()
        table.cut("m1", "m2")
        let closing = ProxyTestFlag()
        let gaveUp = ProxyTestBackgroundWork {
            XCTAssertFalse(table.waitWhileCut("m1", "m2", abandonIf: { closing.isSet }))
        }

        closing.set()
        table.wakeWaiters()

        XCTAssertTrue(gaveUp.wait())
        XCTAssertTrue(table.isCut("m1", "m2"))
    }
}
