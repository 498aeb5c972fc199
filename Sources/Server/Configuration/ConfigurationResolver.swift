import Yams

/// Turns flags, environment and an optional YAML config file into a ``ServerConfiguration``,
/// with etcd's precedence: when `--config-file` (or `ETCD_CONFIG_FILE`) is given, the file alone
/// decides and flags and environment are ignored; otherwise a flag beats the environment, which
/// beats the default.
public enum ConfigurationResolver {
    /// What was resolved, and notes for the log (ignored sources, unknown file keys).
    public struct Resolution: Sendable {
        public var configuration: ServerConfiguration
        public var notes: [String]
    }

    public static func resolve(arguments: [String], environment: [String: String],
        readFile: (String) throws -> String) throws -> Resolution
    {
        let flags = try parseFlags(arguments)
        let configFile = flags.first { $0.flag == "config-file" }?.value
            ?? environment["CAIRN_CONFIG_FILE"] ?? environment["ETCD_CONFIG_FILE"]
        var configuration = ServerConfiguration()
        var notes: [String] = []
        if let configFile {
            let text: String
            do {
                text = try readFile(configFile)
            } catch {
                throw ConfigurationError("config-file: cannot read \(configFile): \(error)")
            }
            notes += try applyYAML(text, file: configFile, to: &configuration)
            if flags.contains(where: { $0.flag != "config-file" }) {
                notes.append("flags other than --config-file are ignored because a config file is given (as etcd does)")
            }
        } else {
            for setting in ServerSetting.all {
                for name in setting.environmentNames {
                    guard let value = environment[name] else { continue }
                    try setting.apply(&configuration, value)
                    break
                }
            }
            for (flag, value) in flags {
                try ServerSetting.named(flag)!.apply(&configuration, value)
            }
        }
        try configuration.validate()
        return Resolution(configuration: configuration, notes: notes)
    }

    /// `--flag=value`, `--flag value`, `-flag value` (Go's flag package accepts one dash too).
    static func parseFlags(_ arguments: [String]) throws -> [(flag: String, value: String)] {
        var result: [(flag: String, value: String)] = []
        var position = 0
        while position < arguments.count {
            let argument = arguments[position]
            position += 1
            guard argument.hasPrefix("-") else {
                throw ConfigurationError("unexpected argument \"\(argument)\": settings are given as --flag=value")
            }
            let body = argument.drop { $0 == "-" }
            let flag: String
            var value: String?
            if let equals = body.firstIndex(of: "=") {
                flag = String(body[..<equals])
                value = String(body[body.index(after: equals)...])
            } else {
                flag = String(body)
            }
            guard flag == "config-file" || ServerSetting.named(flag) != nil else {
                throw ConfigurationError("unknown flag --\(flag) (see cairn server --help)")
            }
            if value == nil, ServerSetting.named(flag)?.isBoolean == true {
                value = "true"
            }
            if value == nil {
                guard position < arguments.count else { throw ConfigurationError("--\(flag) needs a value") }
                value = arguments[position]
                position += 1
            }
            result.append((flag, value!))
        }
        return result
    }

    private static func applyYAML(_ text: String, file: String, to configuration: inout ServerConfiguration)
        throws -> [String]
    {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError("config-file \(file): not valid YAML: \(error)")
        }
        guard let mapping = node?.mapping else {
            throw ConfigurationError("config-file \(file): expected a mapping of etcd setting names to values")
        }
        var notes: [String] = []
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else { continue }
            guard let setting = ServerSetting.named(key) else {
                // etcd's own config files carry keys cairn does not use (logger, enable-v2, …):
                // note them rather than refuse the file.
                notes.append("config-file \(file): key \"\(key)\" is not used by cairn and was ignored")
                continue
            }
            guard let scalar = valueNode.scalar else {
                throw ConfigurationError("config-file \(file): \"\(key)\" must be a single value")
            }
            // An empty value (`initial-cluster:`) keeps the default, as in etcd.
            if scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" { continue }
            try setting.apply(&configuration, scalar.string)
        }
        return notes
    }
}
