import ArgumentParser

@main
struct Cairn: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "An etcd-compatible, Raft-replicated key-value server and its backup toolkit.",
        version: version,
        subcommands: [ServerCommand.self, SnapshotCommand.self, ScheduleCommand.self, RunbookCommandLine.self, BenchCommand.self]
    )
}
