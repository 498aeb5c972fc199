/// Lexical operations on paths: no file-system access, so a restore plan's dry run can use them.
/// (Foundation's `deletingLastPathComponent` traps on one-character names such as `d`.)
public enum PathText {
    /// `path` without repeated or trailing slashes and `.` components; `nil` when it is relative,
    /// contains `..`, a newline or a NUL, or is the root itself.
    public static func normalized(_ path: String) -> String? {
        guard path.hasPrefix("/"), !path.contains("\n"), !path.contains("\0") else { return nil }
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            guard part != ".." else { return nil }
            parts.append(part)
        }
        guard !parts.isEmpty else { return nil }
        return "/" + parts.joined(separator: "/")
    }

    /// The directory holding `path`: `/` for a top-level entry, `.` for a relative name
    /// without a slash.
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        guard slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// The last component of `path`.
    public static func base(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    public static func join(_ directory: String, _ name: String) -> String {
        directory == "/" ? "/" + name : directory + "/" + name
    }

    /// Whether `path` is `directory` or lies below it.
    public static func isInside(_ path: String, directory: String) -> Bool {
        path == directory || directory == "/" || path.hasPrefix(directory + "/")
    }
}
