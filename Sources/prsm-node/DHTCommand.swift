import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PRSMNode

struct DHTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dht",
        abstract: "Store and fetch immutable records in the DHT through a running node's local API.",
        subcommands: [DHTPutCommand.self, DHTGetCommand.self])
}

struct DHTPutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Store VALUE; prints its key (BLAKE2b-256 of the value).")

    @OptionGroup var directory: DataDirOption
    @Argument(help: "The value: text, or hex with --hex (at most \(DHTLimits.maxValueSize) bytes).") var value: String
    @Flag(help: "VALUE is hex.") var hex = false

    func run() async throws {
        let bytes: [UInt8]
        if hex {
            do { bytes = try Hex.decode(value) } catch { throw ValidationError("VALUE is not hex: \(error)") }
        } else {
            bytes = Array(value.utf8)
        }
        guard !bytes.isEmpty, bytes.count <= DHTLimits.maxValueSize else {
            throw ValidationError("a value is 1…\(DHTLimits.maxValueSize) bytes; this one is \(bytes.count)")
        }
        let api = try LocalAPIClient(directory: directory)
        let response = try await api.call("/dht/put", method: "POST", body: Data(bytes))
        if let error = response.error { throw Failure("put failed: \(error)") }
        print(response.key)
        print("stored at \(response.storedAt ?? 0) nodes in \(response.durationMs) ms (\(response.requests) requests)")
    }
}

struct DHTGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Fetch the value stored under KEY and print it.")

    @OptionGroup var directory: DataDirOption
    @Argument(help: "The key: 64 hex digits.") var key: String
    @Flag(help: "Print the value as hex instead of text.") var hex = false

    func run() async throws {
        guard key.count == 64, (try? Hex.decode(key)) != nil else {
            throw ValidationError("KEY is 64 hex digits (what `dht put` printed)")
        }
        let api = try LocalAPIClient(directory: directory)
        let response = try await api.call("/dht/get/\(key.lowercased())", method: "GET", body: nil)
        guard response.error == nil, let valueHex = response.value, let bytes = try? Hex.decode(valueHex) else {
            throw Failure("get failed: \(response.error ?? "no value in the answer")")
        }
        if hex {
            print(valueHex)
        } else if let text = String(validating: bytes, as: UTF8.self) {
            print(text)
        } else {
            print(valueHex)
        }
    }
}

/// Calls a running node's local API with the data directory's token.
struct LocalAPIClient {
    let address: String
    let token: String

    init(directory: DataDirOption) throws {
        let dir = DataDirectory(path: directory.dataDir ?? DataDirectory.defaultPath)
        do {
            address = try dir.readAPIAddress()
            token = try dir.apiToken()
        } catch {
            throw Failure(error.description)
        }
    }

    func call(_ path: String, method: String, body: Data?) async throws -> DHTResponse {
        try await call(path, method: method, body: body, as: DHTResponse.self)
    }

    func call<Answer: Decodable>(_ path: String, method: String, body: Data?, as: Answer.Type) async throws -> Answer {
        guard let url = URL(string: "http://\(address)\(path)") else { throw Failure("bad API address \(address)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 60
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        let data: Data
        do {
            (data, _) = try await URLSession.shared.data(for: request)
        } catch {
            throw Failure(NodeError.apiUnavailable("\(address): \(error.localizedDescription)").description)
        }
        do { return try JSONDecoder().decode(Answer.self, from: data) } catch {
            throw Failure("unexpected answer from the local API: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
    }
}
