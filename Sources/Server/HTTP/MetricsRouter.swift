import Foundation
import NIOHTTP1

/// What each path of `--listen-metrics-urls` answers: `/health`, `/livez`, `/readyz`,
/// `/version` and `/metrics`, with etcd's paths, status codes and bodies.
struct MetricsRouter: Sendable {
    typealias Response = HTTPListener.Response

    let server: EtcdServer
    var checks: HealthChecks { HealthChecks(server: server) }

    func respond(method: HTTPMethod, uri: String) async -> Response {
        guard method == .GET || method == .HEAD else {
            return Response(status: .methodNotAllowed, contentType: "text/plain", body: "Method Not Allowed\n")
        }
        let components = URLComponents(string: uri)
        let query = components?.queryItems ?? []
        switch components?.path ?? uri {
        case "/health":
            let excluded = Set(query.filter { $0.name == "exclude" }.compactMap(\.value))
            let serializable = query.contains { $0.name == "serializable" && $0.value == "true" }
            let (healthy, reason) = await checks.health(excluding: excluded, serializable: serializable)
            let body = "{\"health\":\"\(healthy)\",\"reason\":\"\(reason)\"}"
            return Response(status: healthy ? .ok : .serviceUnavailable, contentType: "application/json", body: body)
        case "/livez":
            return Self.checkList(checks.liveness(), verbose: query.contains { $0.name == "verbose" }, what: "livez")
        case "/readyz":
            return Self.checkList(await checks.readiness(), verbose: query.contains { $0.name == "verbose" }, what: "readyz")
        case "/version":
            let body = "{\"etcdserver\":\"\(EtcdServer.reportedVersion)\",\"etcdcluster\":\"\(EtcdServer.clusterVersion)\"}"
            return Response(status: .ok, contentType: "application/json", body: body)
        case "/metrics":
            return Response(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8",
                body: await PrometheusExposition(server: server).text())
        default:
            return Response(status: .notFound, contentType: "text/plain", body: "404 page not found\n")
        }
    }

    /// etcd's (and Kubernetes') check-list format: `ok`, or with `?verbose` one `[+]name ok` line
    /// per check; a failed check answers 503 and names itself.
    private static func checkList(_ results: [(name: String, passed: Bool)], verbose: Bool, what: String) -> Response {
        let passed = results.allSatisfy(\.passed)
        var lines = results.map { "[\($0.passed ? "+" : "-")]\($0.name) \($0.passed ? "ok" : "failed")" }
        lines.append(passed ? "\(what) check passed" : "\(what) check failed")
        let body = passed && !verbose ? "ok\n" : lines.joined(separator: "\n") + "\n"
        return Response(status: passed ? .ok : .serviceUnavailable, contentType: "text/plain; charset=utf-8", body: body)
    }
}
