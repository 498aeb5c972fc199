import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// One HTTP/1.1 GET over TLS, trusting a given CA (URLSession on Linux cannot), optionally
/// presenting a client certificate: for the https metrics URLs.
enum HTTPSGet {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func fetch(host: String, port: Int, path: String, caFile: String,
        clientCertificate: (cert: String, key: String)? = nil) async throws -> (status: Int, body: String)
    {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(caFile)
        if let clientCertificate {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(clientCertificate.cert).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: clientCertificate.key, format: .pem))
        }
        let context = try NIOSSLContext(configuration: configuration)
        // One loop for the channel and the promise of its response.
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let response = loop.makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(Collector(response: response))
                }
            }
            .connect(host: host, port: port).get()
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
        let text = String(decoding: try await response.futureResult.get(), as: UTF8.self)
        guard let statusLine = text.split(separator: "\r\n").first, statusLine.split(separator: " ").count >= 2,
            let status = Int(statusLine.split(separator: " ")[1]), let split = text.range(of: "\r\n\r\n")
        else { throw Failure(description: "not an HTTP response: \(text.prefix(200))") }
        return (status, String(text[split.upperBound...]))
    }

    /// Gathers everything the server sends until it closes the connection.
    private final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        private var received: [UInt8] = []
        private let response: EventLoopPromise<[UInt8]>

        init(response: EventLoopPromise<[UInt8]>) { self.response = response }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            received += buffer.readBytes(length: buffer.readableBytes) ?? []
        }

        func channelInactive(context: ChannelHandlerContext) {
            response.succeed(received)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A TLS close without close_notify still ends a Connection: close response.
            if let ssl = error as? NIOSSLError, case .uncleanShutdown = ssl { return }
            response.fail(error)
            context.close(promise: nil)
        }
    }
}
