import Foundation

/// Parsed JSON that keeps booleans, integers and fractions apart.
indirect enum JSONTree: Decodable {
    case null, bool(Bool), int(Int64), double(Double), string(String)
    case array([JSONTree]), object([String: JSONTree])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONTree].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONTree].self)) }
    }
}

/// Walks parsed JSON with its path, so every error names where it is ("$.nodes[2].roles").
/// Objects refuse keys they do not know: a misspelt key is an error, not a silent default.
struct JSONCursor {
    let value: JSONTree
    let path: String

    static func parse(_ data: Data) throws(TopologyError) -> JSONCursor {
        do {
            return JSONCursor(value: try JSONDecoder().decode(JSONTree.self, from: data), path: "$")
        } catch {
            throw TopologyError(path: "$", message: "not valid JSON (\(error))")
        }
    }

    func fail(_ message: String) -> TopologyError { TopologyError(path: path, message: message) }

    func object(allowing keys: Set<String>) throws(TopologyError) -> [String: JSONCursor] {
        guard case let .object(dict) = value else { throw fail("expected an object") }
        for key in dict.keys.sorted() where !keys.contains(key) {
            throw TopologyError(path: "\(path).\(key)",
                                message: "unknown key (expected one of \(keys.sorted().joined(separator: ", ")))")
        }
        return dict.reduce(into: [:]) { $0[$1.key] = JSONCursor(value: $1.value, path: "\(path).\($1.key)") }
    }

    func array() throws(TopologyError) -> [JSONCursor] {
        guard case let .array(list) = value else { throw fail("expected an array") }
        return list.enumerated().map { JSONCursor(value: $1, path: "\(path)[\($0)]") }
    }

    func string() throws(TopologyError) -> String {
        guard case let .string(text) = value else { throw fail("expected a string") }
        return text
    }

    /// A non-negative integer no larger than `max`.
    func uint(max: UInt64 = UInt64(Int64.max)) throws(TopologyError) -> UInt64 {
        guard case let .int(number) = value, number >= 0, UInt64(number) <= max else {
            throw fail("expected an integer between 0 and \(max)")
        }
        return UInt64(number)
    }

    func bool() throws(TopologyError) -> Bool {
        guard case let .bool(flag) = value else { throw fail("expected true or false") }
        return flag
    }
}

extension Dictionary where Key == String, Value == JSONCursor {
    func required(_ key: String, in parent: JSONCursor) throws(TopologyError) -> JSONCursor {
        guard let value = self[key] else { throw TopologyError(path: "\(parent.path).\(key)", message: "required") }
        return value
    }
}
