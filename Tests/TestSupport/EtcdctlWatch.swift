import Foundation

/// A running `etcdctl watch … -w json`, which prints one WatchResponse per line as events arrive.
public final class EtcdctlWatch {
    private let child: ChildProcess
    private let arguments: [String]
    private let errorPath: String
    private var pending: [EtcdctlJSON.Watch.Event] = []

    init(child: ChildProcess, arguments: [String], errorPath: String) {
        self.child = child
        self.arguments = arguments
        self.errorPath = errorPath
    }

    /// The next response line, or nil when the deadline passes first; throws when etcdctl exits.
    public func nextResponse(before deadline: ContinuousClock.Instant) throws -> EtcdctlJSON.Watch? {
        let line: String?
        do {
            line = try child.readLine(before: deadline)
        } catch ChildProcess.ChildError.timedOut {
            return nil
        }
        guard let line else { throw failure("etcdctl watch exited") }
        do {
            return try JSONDecoder().decode(EtcdctlJSON.Watch.self, from: Data(line.utf8))
        } catch {
            throw failure("cannot decode the watch response \(line): \(error)")
        }
    }

    /// The next `count` events, across as many responses as they come in.
    public func nextEvents(_ count: Int, before deadline: ContinuousClock.Instant) throws -> [EtcdctlJSON.Watch.Event] {
        while pending.count < count {
            guard let response = try nextResponse(before: deadline) else {
                throw failure("\(count) events did not arrive before the deadline; got \(pending.count)")
            }
            guard !response.canceled else { throw failure("the watch was canceled: \(response)") }
            pending += response.events
        }
        defer { pending.removeFirst(count) }
        return Array(pending.prefix(count))
    }

    public func stop() {
        child.kill()
        try? FileManager.default.removeItem(atPath: errorPath)
    }

    private func failure(_ message: String) -> EtcdctlWatchError {
        let stderr = String(decoding: FileManager.default.contents(atPath: errorPath) ?? Data(), as: UTF8.self)
        return EtcdctlWatchError(description: "`etcdctl watch \(arguments.joined(separator: " "))`: \(message); stderr: \(stderr)")
    }
}

public struct EtcdctlWatchError: Error, CustomStringConvertible {
    public let description: String
}
