import GRPCCore

/// The message a pre-proposal check fails with (etcd's text for an `RPCError`), or nil when
/// it lets the request through.
func refusalMessage(_ check: () throws -> Void) -> String? {
    do {
        try check()
        return nil
    } catch let error as RPCError {
        return error.message
    } catch {
        return "\(error)"
    }
}
