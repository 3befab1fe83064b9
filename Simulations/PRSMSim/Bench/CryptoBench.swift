import CSodium
import NIOCore
import PRSMNode

/// `prsm-sim bench crypto`: our signing, verification and hashing against raw libsodium over
/// the same bytes. Each round runs every measurement once, interleaved, so drifts in machine
/// speed hit all of them alike; results are medians over rounds.
public struct CryptoBench: Sendable {
    public var rounds = 7
    public var batch = 2_000
    public var hashMegabytes = 16

    public init() {}

    public func run() -> BenchReport {
        let key = try! SigningKey(seed: Blake2b.hash256(Array("prsm-bench-key".utf8)).bytes)
        let network = Devnet.genesis.networkID
        let message = Message.ping(Ping(nonce: 42))
        let envelope = Envelope.seal(message, networkID: network, key: key, sequence: 1, timestamp: 1)
        let signed = Array(envelope.readableBytesView.dropLast(Signature.size))
        let signature = Array(envelope.readableBytesView.suffix(Signature.size))
        let secret = rawSecretKey(seed: Blake2b.hash256(Array("prsm-bench-key".utf8)).bytes)
        let hashInput = [UInt8](repeating: 0x5A, count: 1 << 20)

        var samples: [String: [Double]] = [:]
        for _ in 0..<rounds {
            samples["raw_sign_per_s", default: []].append(rate(batch) {
                var out = [UInt8](repeating: 0, count: 64)
                crypto_sign_detached(&out, nil, signed, UInt64(signed.count), secret)
                return out[0]
            })
            samples["envelope_sign_per_s", default: []].append(rate(batch) {
                Envelope.seal(message, networkID: network, key: key, sequence: 1, timestamp: 1).readableBytes
            })
            samples["raw_verify_per_s", default: []].append(rate(batch) {
                crypto_sign_verify_detached(signature, signed, UInt64(signed.count), key.publicKey.bytes)
            })
            samples["envelope_verify_per_s", default: []].append(rate(batch) {
                guard let parsed = try? Envelope.parse(envelope), parsed.hasValidSignature(in: envelope),
                      (try? Message.decode(kind: parsed.kind, payload: parsed.payload)) != nil else { return 0 }
                return 1
            })
            samples["sign_per_s", default: []].append(rate(batch) { key.sign(signed).bytes[0] })
            samples["verify_per_s", default: []].append(rate(batch) {
                key.publicKey.isValidSignature(try! Signature(signature), for: signed) ? 1 : 0
            })
            samples["blake2b_mb_per_s", default: []].append(rate(hashMegabytes) { Blake2b.hash256(hashInput).bytes[0] })
        }
        var results = samples.mapValues { JSONValue.double(median($0)) }
        let envelopeVerify = median(samples["envelope_verify_per_s"]!)
        let rawVerify = median(samples["raw_verify_per_s"]!)
        results["ratio_to_raw"] = .double(envelopeVerify / rawVerify)
        results["sign_ratio_to_raw"] = .double(median(samples["envelope_sign_per_s"]!) / median(samples["raw_sign_per_s"]!))
        results["envelope_bytes"] = .int(envelope.readableBytes)
        return BenchReport(bench: "crypto", params: [
            "rounds": .int(rounds), "batch": .int(batch), "hash_megabytes_per_round": .int(hashMegabytes),
            "libsodium": .string(String(cString: sodium_version_string())),
        ], results: results)
    }

    func rawSecretKey(seed: [UInt8]) -> [UInt8] {
        var publicKey = [UInt8](repeating: 0, count: 32)
        var secret = [UInt8](repeating: 0, count: 64)
        crypto_sign_seed_keypair(&publicKey, &secret, seed)
        return secret
    }

    /// Operations per second of `body` run `count` times (the results are kept alive so the
    /// optimizer cannot drop the work).
    func rate<T>(_ count: Int, _ body: () -> T) -> Double {
        var sink: [T] = []
        sink.reserveCapacity(count)
        let start = ContinuousClock.now
        for _ in 0..<count { sink.append(body()) }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return withExtendedLifetime(sink) { Double(count) / seconds }
    }

    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2]
            : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
