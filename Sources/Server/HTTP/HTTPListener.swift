import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A small HTTP/1.1 listener, over TLS when given a context: `--listen-metrics-urls` (see
/// ``MetricsRouter``) and the failpoint switch (``FailpointRouter``).
final class HTTPListener: Sendable {
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var contentType: String
        var body: String
    }

    typealias Respond = @Sendable (HTTPMethod, _ uri: String) async -> Response

    private let channel: any Channel
    let address: String

    /// Binds `host:port`, logging `serving` with the address.
    static func start(host: String, port: Int, tls: NIOSSLContext?, serving: String, logger: Logger,
        respond: @escaping Respond) async throws -> HTTPListener
    {
        let scheme = tls == nil ? "http" : "https"
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(respond: respond))
                }
            }
            .bind(host: host, port: port).get()
        logger.info("serving \(serving)", metadata: ["address": "\(scheme)://\(host):\(port)"])
        return HTTPListener(channel: channel, address: "\(scheme)://\(host):\(port)")
    }

    private init(channel: any Channel, address: String) {
        self.channel = channel
        self.address = address
    }

    func stop() async {
        try? await channel.close()
    }
}

/// Turns a request into a response; the answer may need raft (a read for `/health`), so it is
/// computed off the event loop and written back on it. Request bodies are not read.
private final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let respond: HTTPListener.Respond
    private var head: HTTPRequestHead?

    init(respond: @escaping HTTPListener.Respond) { self.respond = respond }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request): head = request
        case .body: break
        case .end:
            guard let request = head else { return }
            head = nil
            let loop = context.eventLoop
            let boundContext = NIOLoopBound(context, eventLoop: loop)
            let keepAlive = request.isKeepAlive
            let respond = respond
            Task {
                let response = await respond(request.method, request.uri)
                loop.execute {
                    Self.write(response, keepAlive: keepAlive, version: request.version, context: boundContext.value)
                }
            }
        }
    }

    private static func write(_ response: HTTPListener.Response, keepAlive: Bool, version: HTTPVersion,
        context: ChannelHandlerContext)
    {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.utf8.count)")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: response.status, headers: headers))),
            promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.utf8.count)
        buffer.writeString(response.body)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
        if !keepAlive { done.whenComplete { _ in context.close(promise: nil) } }
    }
}
