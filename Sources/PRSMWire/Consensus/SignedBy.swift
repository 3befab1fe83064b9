import PRSMCrypto

/// One validator's signature, named by its index in the validator set.
public struct SignedBy: Hashable, Sendable {
    public let index: Int
    public let signature: Signature

    public init(index: Int, signature: Signature) {
        self.index = index
        self.signature = signature
    }

    /// Index as u16 (at most `ConsensusLimits.maxValidators`), then the 64-byte signature.
    public func encode(into writer: inout WireWriter) {
        writer.u16(UInt16(index))
        writer.fixed(signature.bytes)
    }

    public static func decode(from reader: inout WireReader) throws(WireError) -> SignedBy {
        SignedBy(index: Int(try reader.u16("signer index")), signature: try Signature.decode(from: &reader, "signature"))
    }
}
