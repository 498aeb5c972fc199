import Dispatch
import Foundation

/// Turns termination signals into an awaitable event.
public final class SignalWatcher: Sendable {
    private let stream: AsyncStream<Int32>
    nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

    public init(signals: [Int32]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            // The default action would kill the process before a graceful shutdown.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    /// Waits for the first of the watched signals.
    public func next() async -> Int32 {
        for await number in stream { return number }
        return SIGTERM
    }
}
