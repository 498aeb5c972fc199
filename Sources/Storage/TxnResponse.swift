/// The answer to a ``TxnRequest``.
public struct TxnResponse: Sendable, Hashable {
    /// The store revision after the transaction (the response header's revision).
    public var revision: Int64
    /// Whether the compares held, so `success` ran.
    public var succeeded: Bool
    /// One response per operation of the branch that ran.
    public var responses: [ResponseOp]

    public init(revision: Int64, succeeded: Bool, responses: [ResponseOp]) {
        self.revision = revision
        self.succeeded = succeeded
        self.responses = responses
    }
}

/// The answer to one ``RequestOp``.
public indirect enum ResponseOp: Sendable, Hashable {
    case range(RangeResponse)
    case put(PutResponse)
    case deleteRange(DeleteRangeResponse)
    case txn(TxnResponse)
}
