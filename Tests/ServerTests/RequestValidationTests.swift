import API
import Foundation
import GRPCCore
import Storage
import XCTest

@testable import Server

/// etcd's txn checks, decided before anything is proposed.
final class RequestValidationTests: XCTestCase {
    private func put(_ key: String) -> Etcdserverpb_RequestOp {
        var op = Etcdserverpb_RequestOp()
        op.requestPut.key = Data(key.utf8)
        return op
    }

    private func delete(_ key: String, to end: String? = nil) -> Etcdserverpb_RequestOp {
        var op = Etcdserverpb_RequestOp()
        op.requestDeleteRange.key = Data(key.utf8)
        if let end { op.requestDeleteRange.rangeEnd = end == "\0" ? Data([0]) : Data(end.utf8) }
        return op
    }

    private func nested(then: [Etcdserverpb_RequestOp], else otherwise: [Etcdserverpb_RequestOp] = []) -> Etcdserverpb_RequestOp {
        var op = Etcdserverpb_RequestOp()
        op.requestTxn.success = then
        op.requestTxn.failure = otherwise
        return op
    }

    private func txn(_ success: [Etcdserverpb_RequestOp], failure: [Etcdserverpb_RequestOp] = []) -> Etcdserverpb_TxnRequest {
        var request = Etcdserverpb_TxnRequest()
        request.success = success
        request.failure = failure
        return request
    }

    /// The message the check fails with, or nil when it accepts the txn.
    private func refusal(_ request: Etcdserverpb_TxnRequest) -> String? {
        refusalMessage { try RequestValidation.check(request) }
    }

    private let duplicate = "etcdserver: duplicate key given in txn request"

    func testPutsMayNotCollideWithPutsOrDeletesOnOnePath() {
        XCTAssertEqual(refusal(txn([put("a"), put("a")])), duplicate)
        XCTAssertEqual(refusal(txn([put("a"), delete("a")])), duplicate)
        XCTAssertEqual(refusal(txn([delete("a", to: "c"), put("b")])), duplicate, "a range delete covers b")
        XCTAssertEqual(refusal(txn([delete("a", to: "\0"), put("zzz")])), duplicate, "\\0 deletes every key from a on")
        XCTAssertEqual(refusal(txn([put("a")], failure: [put("a")])), nil, "the branches exclude each other")
        XCTAssertEqual(refusal(txn([delete("a", to: "c"), delete("b")])), nil, "deletes may overlap deletes")
        XCTAssertEqual(refusal(txn([delete("a", to: "c"), put("c")])), nil, "the range end is exclusive")
        XCTAssertEqual(refusal(txn([delete("b", to: "\0"), put("a")])), nil)
    }

    func testNestedTxnsShareTheirParentsPath() {
        XCTAssertEqual(refusal(txn([put("a"), nested(then: [put("a")])])), duplicate)
        XCTAssertEqual(refusal(txn([put("b"), nested(then: [delete("a", to: "z")])])), duplicate)
        XCTAssertEqual(refusal(txn([nested(then: [put("a")], else: [put("a")])])), nil)
        XCTAssertEqual(refusal(txn([nested(then: [put("a")]), nested(then: [put("a")])])), duplicate)
        XCTAssertEqual(refusal(txn([nested(then: [put("a")]), nested(then: [], else: [put("a")])])), duplicate)
    }

    func testAtMost128OperationsPerBranchOrCompareList() {
        let many = (0..<128).map { put("k\($0)") }
        XCTAssertEqual(refusal(txn(many)), nil)
        XCTAssertEqual(refusal(txn(many + [put("one-more")])), "etcdserver: too many operations in txn request")
        var compares = txn([])
        compares.compare = (0..<129).map { index in
            var compare = Etcdserverpb_Compare()
            compare.key = Data("k\(index)".utf8)
            return compare
        }
        XCTAssertEqual(refusal(compares), "etcdserver: too many operations in txn request")
        XCTAssertEqual(refusal(txn([put("")])), "etcdserver: key is not provided")
    }

    func testNestedResponsesCarryOnlyTheirRevision() {
        var top = Etcdserverpb_ResponseHeader()
        top.clusterID = 1
        top.memberID = 2
        top.raftTerm = 3
        top.revision = 9
        let response = Storage.TxnResponse(revision: 9, succeeded: true, responses: [
            .range(Storage.RangeResponse(revision: 8, kvs: [], more: false, count: 0)),
            .put(Storage.PutResponse(revision: 9, prevKV: nil)),
        ])
        let wire = Etcdserverpb_TxnResponse(response, header: top)
        XCTAssertEqual(wire.header, top)
        XCTAssertEqual(wire.responses.map(\.responseRange.header), [.revision(8), Etcdserverpb_ResponseHeader()])
        XCTAssertEqual(wire.responses[1].responsePut.header, .revision(9))
        XCTAssertEqual(wire.responses[1].responsePut.header.clusterID, 0)
    }
}
