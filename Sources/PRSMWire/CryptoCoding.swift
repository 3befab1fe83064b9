@_exported import PRSMCrypto

/// Canonical decoding of the fixed-size crypto values.

extension Digest32 {
    public static func decode(from reader: inout WireReader, _ what: String) throws(WireError) -> Digest32 {
        let bytes = try reader.fixed(32, what)
        do { return try Digest32(bytes) } catch { throw .truncated(what) }
    }
}

extension PublicKey {
    public static func decode(from reader: inout WireReader, _ what: String) throws(WireError) -> PublicKey {
        let bytes = try reader.fixed(PublicKey.size, what)
        do { return try PublicKey(bytes) } catch { throw .truncated(what) }
    }
}

extension Signature {
    public static func decode(from reader: inout WireReader, _ what: String) throws(WireError) -> Signature {
        let bytes = try reader.fixed(Signature.size, what)
        do { return try Signature(bytes) } catch { throw .truncated(what) }
    }
}
