/// What a proxy has done so far, for test assertions and logs.
public struct PartitionProxyStats: Equatable, Sendable {
    /// Connections accepted on the proxy port.
    public var connectionsAccepted = 0
    /// Accepted connections per source label, counted once the dialling process was found.
    public var attributed: [String: Int] = [:]
    /// Accepted connections whose dialling process was not among the members; never cut.
    public var unattributed = 0
    /// Accepted connections closed because the target port could not be reached.
    public var upstreamFailures = 0
    /// Connections currently open through the proxy.
    public var activeConnections = 0
    /// Bytes forwarded from dialling members to the target.
    public var bytesToTarget = 0
    /// Bytes forwarded from the target back to dialling members.
    public var bytesFromTarget = 0
    /// Times a pump had to hold a chunk, or an end of stream, because its pair was cut.
    public var heldChunks = 0

    public init() {}
}
