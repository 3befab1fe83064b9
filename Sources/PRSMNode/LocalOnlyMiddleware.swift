import Hummingbird

/// Refuses requests whose Host is not a loopback name (a page on another site that rebinds its
/// DNS name to 127.0.0.1 still sends its own Host), whose Origin is a foreign site, or that
/// change state without the bearer token.
struct LocalOnlyMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    static func isLocalHost(_ host: Substring) -> Bool {
        let name: Substring
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            name = host[host.startIndex...close]
        } else {
            name = host.split(separator: ":", maxSplits: 1).first ?? host
        }
        // A dotted quad of numbers only: "127.x.evil.example" is a DNS name an attacker can point
        // at 127.0.0.1, exactly what this check is for.
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        return name == "localhost" || name == "[::1]"
            || octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let host = request.head.authority, Self.isLocalHost(host[...]) else {
            throw HTTPError(.forbidden, message: "Host must be a loopback address")
        }
        if let origin = request.headers[.origin] {
            let stripped = origin.hasPrefix("http://") ? origin.dropFirst(7) : origin[...]
            guard Self.isLocalHost(stripped) else { throw HTTPError(.forbidden, message: "foreign Origin") }
        }
        if request.method != .get && request.method != .head {
            guard request.headers[.authorization] == "Bearer \(token)" else {
                throw HTTPError(.unauthorized, message: "this route needs the token from the data directory's api.token")
            }
        }
        return try await next(request, context)
    }
}
