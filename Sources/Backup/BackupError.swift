/// A snapshot archive could not be written or read. `check` names which integrity check (or
/// which step of a save) failed, `location` where: a member, a byte offset, a key.
public struct BackupError: Error, CustomStringConvertible, Sendable {
    public let check: String
    public let location: String
    public let message: String

    public init(_ check: String, at location: String, _ message: String) {
        self.check = check
        self.location = location
        self.message = message
    }

    public var description: String { "\(check) failed at \(location): \(message)" }
}
