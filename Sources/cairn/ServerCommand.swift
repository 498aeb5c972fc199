import ArgumentParser
import Foundation
import Logging
import Server

/// `cairn server`: the daemon, configured with etcd's flag names, environment variables and
/// config file, so etcd's systemd units work with the binary name changed.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run a cairn member (etcd v3 API on the client URLs).",
        discussion: ServerHelp.text
    )

    @Argument(parsing: .captureForPassthrough, help: "etcd-style settings, e.g. --name=infra1 --data-dir=/var/lib/cairn")
    var settings: [String] = []

    func run() async throws {
        let resolution: ConfigurationResolver.Resolution
        do {
            resolution = try ConfigurationResolver.resolve(
                arguments: settings, environment: ProcessInfo.processInfo.environment
            ) { path in try String(contentsOfFile: path, encoding: .utf8) }
        } catch {
            throw ValidationError("\(error)")
        }
        let configuration = resolution.configuration
        let level: Logger.Level =
            switch configuration.logLevel {
            case "debug": .debug
            case "warn": .warning
            case "error": .error
            default: .info
            }
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
        let logger = Logger(label: "cairn")
        for note in resolution.notes { logger.warning("\(note)") }
        logger.info("starting cairn", metadata: [
            "name": "\(configuration.name)", "data-dir": "\(configuration.resolvedDataDir)",
            "version": "\(Cairn.version)",
        ])
        do {
            try await ServerRunner.run(configuration: configuration, logger: logger)
        } catch {
            logger.critical("cairn server failed", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }
}
