import Foundation
import NIOHTTP1
import Storage

/// The failpoint switch `CAIRN_FAILPOINTS_HTTP` serves, with gofail's verbs: `PUT /<name>`
/// arms a failpoint, `DELETE /<name>` disarms it, `GET /` lists every failpoint and whether
/// it is armed. For the robustness suite only; a server never starts it unless told to.
enum FailpointRouter {
    @Sendable static func respond(method: HTTPMethod, uri: String) async -> HTTPListener.Response {
        let path = URLComponents(string: uri)?.path ?? uri
        let name = String(path.drop { $0 == "/" })
        if name.isEmpty {
            guard method == .GET else { return reply(.methodNotAllowed, "use GET / to list, PUT or DELETE /<name>") }
            let active = Failpoint.active
            return reply(.ok, Failpoint.allCases.map { "\($0.rawValue)=\(active.contains($0) ? "armed" : "off")" }.joined(separator: "\n"))
        }
        guard let failpoint = Failpoint(rawValue: name) else {
            return reply(.notFound, "unknown failpoint '\(name)'; known: \(Failpoint.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        switch method {
        case .GET: return reply(.ok, failpoint.isActive ? "armed" : "off")
        case .PUT: failpoint.arm(); return reply(.ok, "armed")
        case .DELETE: failpoint.disarm(); return reply(.ok, "off")
        default: return reply(.methodNotAllowed, "use GET, PUT or DELETE /\(name)")
        }
    }

    private static func reply(_ status: HTTPResponseStatus, _ text: String) -> HTTPListener.Response {
        HTTPListener.Response(status: status, contentType: "text/plain; charset=utf-8", body: text + "\n")
    }
}
