import Storage
import Foundation
import Yams

extension RunbookPlan: Decodable {
    /// Parses a plan, turning every decoding failure into a `plan-invalid` error naming the key.
    public static func parse(yaml: String, path: String) throws -> RunbookPlan {
        do {
            return try YAMLDecoder().decode(RunbookPlan.self, from: yaml)
        } catch let error as DecodingError {
            throw RunbookError(.planInvalid, "plan \(path): \(PlanKey.describe(error))")
        } catch {
            throw RunbookError(.planInvalid, "plan \(path) is not valid YAML: \(error)")
        }
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case dataDir, restoreParent, dataDirMayBeMissing, endpoint, member, apiServer, server, repoint
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.strictContainer(CodingKeys.self)
        let dataDir = try keys.absolutePath(.dataDir)
        let endpoint = try keys.decode(String.self, forKey: .endpoint)
        guard let url = URL(string: endpoint), ["http", "https"].contains(url.scheme), url.host != nil else {
            throw DecodingError.dataCorruptedError(
                forKey: .endpoint, in: keys, debugDescription: "'\(endpoint)' is not an http(s) URL")
        }
        self.init(
            dataDir: dataDir,
            restoreParent: try keys.absolutePathIfPresent(.restoreParent),
            dataDirMayBeMissing: try keys.decodeIfPresent(Bool.self, forKey: .dataDirMayBeMissing) ?? false,
            endpoint: endpoint,
            member: try keys.decode(RunbookMember.self, forKey: .member),
            apiServer: try keys.decodeIfPresent(ServiceControl.self, forKey: .apiServer),
            server: try keys.decode(Server.self, forKey: .server),
            repoint: try keys.decode(Repoint.self, forKey: .repoint))
    }
}

extension RunbookMember: Decodable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case name, initialCluster, initialClusterToken, initialAdvertisePeerURLs, bumpRevision, markCompacted
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.strictContainer(CodingKeys.self)
        self.init(
            name: try keys.nonEmptyString(.name),
            initialCluster: try keys.nonEmptyString(.initialCluster),
            initialClusterToken: try keys.nonEmptyString(.initialClusterToken),
            initialAdvertisePeerURLs: try keys.nonEmptyString(.initialAdvertisePeerURLs),
            bumpRevision: try keys.decodeIfPresent(RevisionBump.self, forKey: .bumpRevision),
            markCompacted: try keys.decodeIfPresent(Bool.self, forKey: .markCompacted) ?? false)
    }
}

extension RevisionBump: Decodable {
    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer()
        if let count = try? value.decode(Int64.self) {
            guard count > 0 else {
                throw DecodingError.dataCorruptedError(in: value,
                    debugDescription: "must be 'auto' or a positive integer (leave it out for no bump)")
            }
            self = .by(count)
        } else if try value.decode(String.self) == "auto" {
            self = .automatic
        } else {
            throw DecodingError.dataCorruptedError(in: value, debugDescription: "must be 'auto' or a positive integer (leave it out for no bump)")
        }
    }
}

extension RunbookPlan.Server: Decodable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case stop, start, staticPod, stopTimeout, startTimeout
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.strictContainer(CodingKeys.self)
        self.init(
            control: try .decode(keys, stop: .stop, start: .start, staticPod: .staticPod),
            stopTimeout: try keys.durationIfPresent(.stopTimeout) ?? .seconds(60),
            startTimeout: try keys.durationIfPresent(.startTimeout) ?? .seconds(120))
    }
}

extension RunbookPlan.ServiceControl: Decodable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case stop, start, staticPod
    }

    public init(from decoder: any Decoder) throws {
        self = try .decode(decoder.strictContainer(CodingKeys.self), stop: .stop, start: .start, staticPod: .staticPod)
    }

    /// `{stop: ACTION, start: ACTION}` or `{staticPod: {...}}`, inside `apiServer` or `server`.
    fileprivate static func decode<Keys>(
        _ keys: KeyedDecodingContainer<Keys>, stop: Keys, start: Keys, staticPod: Keys
    ) throws -> Self {
        guard keys.contains(staticPod) else {
            return .actions(
                stop: try keys.decode(RunbookPlan.Action.self, forKey: stop),
                start: try keys.decode(RunbookPlan.Action.self, forKey: start))
        }
        for key in [stop, start] where keys.contains(key) {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: keys, debugDescription: "'\(key.stringValue)' cannot be given with 'staticPod'")
        }
        return .staticPod(try keys.decode(RunbookPlan.StaticPod.self, forKey: staticPod))
    }
}

extension RunbookPlan.Action: Decodable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case systemd, command
    }

    public init(from decoder: any Decoder) throws {
        switch try decoder.oneOf(CodingKeys.self) {
        case (.systemd, let keys): self = .systemd(unit: try keys.unitName(.systemd))
        case (.command, let keys): self = .command(try keys.nonEmptyString(.command))
        }
    }
}

extension RunbookPlan.StaticPod: Decodable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case manifest, parkDir
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.strictContainer(CodingKeys.self)
        self.init(manifest: try keys.absolutePath(.manifest), parkDir: try keys.absolutePath(.parkDir))
    }
}

extension RunbookPlan.Repoint: Decodable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case symlink, systemdDropIn, staticPod
    }

    public init(from decoder: any Decoder) throws {
        switch try decoder.oneOf(CodingKeys.self) {
        case (.symlink, let keys):
            _ = try keys.decode(SymlinkOptions.self, forKey: .symlink)
            self = .symlink
        case (.systemdDropIn, let keys):
            let dropIn = try keys.decode(DropInOptions.self, forKey: .systemdDropIn)
            self = .systemdDropIn(unit: dropIn.unit, path: dropIn.path ?? Self.defaultDropInPath(unit: dropIn.unit))
        case (.staticPod, let keys):
            self = .staticPod(manifest: try keys.decode(StaticPodOptions.self, forKey: .staticPod).manifest)
        }
    }

    /// `symlink: {}`: nothing to configure.
    private struct SymlinkOptions: Decodable {
        private enum CodingKeys: String, CodingKey, CaseIterable {
            case none
        }

        init(from decoder: any Decoder) throws {
            _ = try decoder.strictContainer(CodingKeys.self, allowing: [])
        }
    }

    private struct DropInOptions: Decodable {
        let unit: String
        let path: String?

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case unit, path
        }

        init(from decoder: any Decoder) throws {
            let keys = try decoder.strictContainer(CodingKeys.self)
            unit = try keys.unitName(.unit)
            path = try keys.absolutePathIfPresent(.path)
        }
    }

    private struct StaticPodOptions: Decodable {
        let manifest: String

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case manifest
        }

        init(from decoder: any Decoder) throws {
            manifest = try decoder.strictContainer(CodingKeys.self).absolutePath(.manifest)
        }
    }
}

/// A coding key for any string, so unknown keys can be listed.
private struct PlanKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; intValue = nil }
    init(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }

    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
        }
        return text.isEmpty ? "(top level)" : text
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key '\(path(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context):
            return "'\(path(context.codingPath))' is not a \(type)"
        case .valueNotFound(let type, let context):
            return "'\(path(context.codingPath))' has no value (wanted \(type))"
        case .dataCorrupted(let context):
            return "'\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

extension Decoder {
    /// A keyed container that refuses any key not in `Keys` (or in `allowing`), naming it.
    fileprivate func strictContainer<Keys: CodingKey & CaseIterable>(
        _: Keys.Type, allowing allowed: [Keys]? = nil
    ) throws -> KeyedDecodingContainer<Keys> {
        let known = (allowed ?? Array(Keys.allCases)).map(\.stringValue)
        let all = try container(keyedBy: PlanKey.self)
        for key in all.allKeys where !known.contains(key.stringValue) {
            let expected = known.isEmpty ? "no keys are allowed here" : "expected one of: \(known.joined(separator: ", "))"
            throw DecodingError.dataCorrupted(.init(
                codingPath: codingPath + [key], debugDescription: "unknown key '\(key.stringValue)' (\(expected))"))
        }
        return try container(keyedBy: Keys.self)
    }

    /// A mapping holding exactly one of `Keys`, and which one.
    fileprivate func oneOf<Keys: CodingKey & CaseIterable>(
        _: Keys.Type
    ) throws -> (Keys, KeyedDecodingContainer<Keys>) {
        let keys = try strictContainer(Keys.self)
        let present = keys.allKeys
        guard present.count == 1, let kind = present.first else {
            let names = Keys.allCases.map(\.stringValue).joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(
                codingPath: codingPath, debugDescription: "give exactly one of: \(names)"))
        }
        return (kind, keys)
    }
}

extension KeyedDecodingContainer {
    fileprivate func absolutePath(_ key: Key) throws -> String {
        let text = try decode(String.self, forKey: key)
        guard let path = PathText.normalized(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "'\(text)' must be an absolute path without '..'")
        }
        return path
    }

    fileprivate func absolutePathIfPresent(_ key: Key) throws -> String? {
        contains(key) ? try absolutePath(key) : nil
    }

    fileprivate func nonEmptyString(_ key: Key) throws -> String {
        let text = try decode(String.self, forKey: key)
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "must not be empty")
        }
        return text
    }

    fileprivate func unitName(_ key: Key) throws -> String {
        let unit = try nonEmptyString(key)
        guard !unit.contains("/"), !unit.contains(where: \.isWhitespace) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "'\(unit)' is not a systemd unit name")
        }
        return unit
    }

    fileprivate func durationIfPresent(_ key: Key) throws -> Duration? {
        guard contains(key) else { return nil }
        let text = try decode(String.self, forKey: key)
        guard let duration = DurationText.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "'\(text)' is not a duration like 500ms, 90s, 2m or 1h")
        }
        return duration
    }
}

/// Durations as operators write them: a positive integer and one unit.
enum DurationText {
    static func parse(_ text: String) -> Duration? {
        let units: [(suffix: String, milliseconds: Int64)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)]
        for unit in units where text.hasSuffix(unit.suffix) {
            guard let count = Int64(text.dropLast(unit.suffix.count)), count > 0, count <= 86_400_000 / unit.milliseconds
            else { return nil }
            return .milliseconds(count * unit.milliseconds)
        }
        return nil
    }

    static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1_000 == 0 ? "\(milliseconds / 1_000)s" : "\(milliseconds)ms"
    }
}
