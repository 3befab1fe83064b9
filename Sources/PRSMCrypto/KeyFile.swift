/// Reads and writes private key files. A key file holds the 32-byte seed and the public key it
/// derives (a checksum against silent corruption). It is created with mode 0600 and never
/// overwritten; a file readable by group or others is refused.
public enum KeyFile {
    static let header = "# PRSM private key. Keep this file private: mode 0600, never share or commit it."
    static let kindLine = "kind: ed25519-seed"

    public static func write(_ key: SigningKey, to path: String) throws(CryptoError) {
        let text = "\(header)\n\(kindLine)\nseed: \(Hex.encode(key.exportSeed()))\npublic: \(key.publicKey.hex)\n"
        try PrivateFile.create(path, contents: Array(text.utf8))
    }

    public static func read(from path: String) throws(CryptoError) -> SigningKey {
        try parse(try PrivateFile.read(path), path: path)
    }

    static func parse(_ text: String, path: String) throws(CryptoError) -> SigningKey {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else {
                throw .keyFileCorrupt(path: path, reason: "unexpected line")
            }
            let name = line[..<colon].trimmingSpaces()
            fields[name] = line[line.index(after: colon)...].trimmingSpaces()
        }
        guard fields["kind"] == "ed25519-seed" else { throw .keyFileCorrupt(path: path, reason: "missing kind") }
        guard let seedHex = fields["seed"], let seed = try? Hex.decode(seedHex), seed.count == SigningKey.seedSize
        else { throw .keyFileCorrupt(path: path, reason: "seed is missing, short or not hex") }
        let key = try SigningKey(seed: seed)
        guard fields["public"] == key.publicKey.hex else {
            throw .keyFileCorrupt(path: path, reason: "public key does not match the seed")
        }
        return key
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed()
            .drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed())
    }
}
