import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// HTTP/1.1 on `--listen-metrics-urls`: `/health`, `/livez`, `/readyz`, `/version` and
/// `/metrics`, with etcd's paths, status codes and bodies; over TLS for https URLs.
final class MetricsHTTPServer: Sendable {
    private let channel: any Channel
    let address: String

    static func start(host: String, port: Int, tls: NIOSSLContext?, server: EtcdServer, logger: Logger) async throws
        -> MetricsHTTPServer
    {
        let router = MetricsRouter(server: server)
        let scheme = tls == nil ? "http" : "https"
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsRequestHandler(router: router))
                }
            }
            .bind(host: host, port: port).get()
        logger.info("serving /health and /metrics", metadata: ["address": "\(scheme)://\(host):\(port)"])
        return MetricsHTTPServer(channel: channel, address: "\(scheme)://\(host):\(port)")
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
/// computed off the event loop and written back on it.
private final class MetricsRequestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: MetricsRouter
    private var head: HTTPRequestHead?

    init(router: MetricsRouter) { self.router = router }

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
            let router = router
            Task {
                let response = await router.respond(method: request.method, uri: request.uri)
                loop.execute {
                    Self.write(response, keepAlive: keepAlive, version: request.version, context: boundContext.value)
                }
            }
        }
    }

    private static func write(_ response: MetricsRouter.Response, keepAlive: Bool, version: HTTPVersion,
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
