import Foundation

/// The directory `swift build` put the products in: the test bundle (`<pkg>PackageTests.xctest`)
/// lives there on Linux, next to every executable the package builds.
public enum BuildProducts {
    public static var directory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.deletingLastPathComponent()
    }

    public static func executable(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }
}
