import Foundation
import Logging

/// etcd-style logs on stderr (`--log-format`): one JSON object per line with `ts`, `level`,
/// `caller`, `msg`, then the metadata fields; or zap's console layout, the same fields
/// tab-separated with the metadata as a JSON object.
public struct EtcdLogHandler: LogHandler {
    public enum Format: String, Sendable {
        case json
        case console
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let format: Format

    public init(label: String, level: Logger.Level, format: Format = .json) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", Self.timestamp()),
            ("level", Self.name(of: event.level)),
            ("caller", "\(URL(fileURLWithPath: event.file).lastPathComponent):\(event.line)"),
            ("msg", event.message.description),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let extra = merged.keys.sorted().map { ($0, merged[$0]!.description) }
        let line: String
        switch format {
        case .json:
            line = "{" + (fields + extra).map { "\(Self.quote($0.0)):\(Self.quote($0.1))" }.joined(separator: ",") + "}\n"
        case .console:
            let object = extra.isEmpty ? "" : "\t{" + extra.map { "\(Self.quote($0.0)): \(Self.quote($0.1))" }.joined(separator: ", ") + "}"
            line = fields.map(\.1).joined(separator: "\t") + object + "\n"
        }
        FileHandle.standardError.write(Data(line.utf8))
    }

    private static func name(of level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warn"
        case .error: "error"
        case .critical: "fatal"
        }
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }

    private static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 {
                    result += String(format: "\\u%04x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
