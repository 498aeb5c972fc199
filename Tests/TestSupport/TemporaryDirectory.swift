import Foundation

/// A fresh directory under the system temp dir, removed with everything in it by `remove()`.
public final class TemporaryDirectory {
    public let path: String

    public init(prefix: String = "cairn-test") throws {
        let parent = URL(fileURLWithPath: NSTemporaryDirectory()).standardizedFileURL.path
        var template = Array("\(parent)/\(prefix)-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else {
            throw NSError(domain: "TemporaryDirectory", code: Int(errno))
        }
        path = String(cString: created)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
