import Foundation
import HTTPTypes
import NIOCore
import NIOPosix
import PRSMNode

/// A plain HTTP/1.1 client over a real socket (one request per connection, `Connection: close`),
/// so API tests send exactly the headers a browser or tool would, Host included, without pulling
/// in an HTTP client library.
struct LiveAPIClient {
    let address: PeerAddress

    func execute(
        uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil,
        _ check: (LiveResponse) async throws -> Void
    ) async throws {
        var head = "\(method.rawValue) \(uri) HTTP/1.1\r\n"
        if !headers.contains(where: { $0.name == .hostHeader }) { head += "Host: \(address)\r\n" }
        for field in headers { head += "\(field.name.rawName): \(field.value)\r\n" }
        if let body { head += "Content-Length: \(body.readableBytes)\r\n" }
        head += "Connection: close\r\n\r\n"
        var request = ByteBuffer(string: head)
        if var body { request.writeBuffer(&body) }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(to: address.socketAddress) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let raw = try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(request)
            var collected = ByteBuffer()
            for try await var chunk in inbound { collected.writeBuffer(&chunk) }
            return collected
        }
        try await check(try LiveResponse(parsing: raw))
    }
}

/// A parsed HTTP/1.1 response (content-length or chunked body).
struct LiveResponse {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer

    struct Malformed: Error, CustomStringConvertible { let description: String }

    init(parsing raw: ByteBuffer) throws {
        let bytes = Array(raw.readableBytesView)
        guard let split = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { throw Malformed(description: "no header end") }
        let lines = String(decoding: bytes[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let code = Int(statusParts[1]) else { throw Malformed(description: lines[0]) }
        status = HTTPResponse.Status(code: code)
        var fields = HTTPFields()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon])) else { continue }
            fields.append(HTTPField(name: name, value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        headers = fields
        var rest = Array(bytes[split.upperBound...])
        if fields[.transferEncoding]?.lowercased() == "chunked" {
            var decoded: [UInt8] = []
            while let lineEnd = rest.firstRange(of: Array("\r\n".utf8)),
                  let size = Int(String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self)
                      .split(separator: ";")[0], radix: 16), size > 0 {
                let start = lineEnd.upperBound
                decoded += rest[start..<min(rest.count, start + size)]
                rest = Array(rest[min(rest.count, start + size + 2)...])
            }
            rest = decoded
        }
        body = ByteBuffer(bytes: rest)
    }

    var text: String { String(decoding: body.readableBytesView, as: UTF8.self) }

    func decoded<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body.readableBytesView))
    }
}
