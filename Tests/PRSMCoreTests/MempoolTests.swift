import Testing
@testable import PRSMCore

/// A deterministic account key for mempool tests (seed bytes derived from `index`).
private func mempoolKey(_ index: Int) -> SigningKey {
    var seed = [UInt8](repeating: 0x3D, count: 32)
    seed[0] = UInt8(index & 0xFF)
    seed[1] = UInt8((index >> 8) & 0xFF)
    return try! SigningKey(seed: seed)
}

/// A signed transaction whose encoded size is `Transaction.overhead + payloadSize`.
private func mempoolTx(_ key: SigningKey, nonce: UInt64, payloadSize: Int = 8, tag: UInt8 = 0) -> Transaction {
    Transaction.signed(by: key, networkID: .zero, nonce: nonce, payload: [UInt8](repeating: tag, count: payloadSize))
}

private func mempoolConfig(_ change: (inout Mempool.Config) -> Void) -> Mempool.Config {
    var config = Mempool.Config()
    change(&config)
    return config
}

private func reapAll(_ pool: Mempool, excluding: Set<Digest32> = []) -> [Transaction] {
    pool.reap(maxCount: .max, maxBytes: .max, excluding: excluding)
}

@Suite struct MempoolTests {
    let alice = mempoolKey(1)
    let bob = mempoolKey(2)
    let carol = mempoolKey(3)

    @Test func addsThenReportsDuplicate() {
        var pool = Mempool()
        let tx = mempoolTx(alice, nonce: 0, payloadSize: 20)
        #expect(pool.add(tx, nextNonce: 0) == .added)
        #expect(pool.contains(tx.hash))
        #expect(pool.count == 1)
        #expect(pool.byteCount == Transaction.overhead + 20)
        #expect(pool.add(tx, nextNonce: 0) == .duplicate)
        #expect(pool.count == 1)
        #expect(pool.byteCount == Transaction.overhead + 20)
        #expect(!pool.contains(mempoolTx(alice, nonce: 1).hash))
    }

    @Test func refusesStaleNonceAndRemembersHighestNextNonce() {
        var pool = Mempool()
        #expect(pool.add(mempoolTx(alice, nonce: 4), nextNonce: 5) == .refused(.staleNonce))
        #expect(pool.count == 0)
        #expect(pool.senderCount == 0)

        #expect(pool.add(mempoolTx(alice, nonce: 5), nextNonce: 5) == .added)
        // A report computed against older state cannot move the sender's next nonce back.
        #expect(pool.add(mempoolTx(alice, nonce: 3), nextNonce: 2) == .refused(.staleNonce))
        #expect(pool.count == 1)
    }

    @Test func higherNextNonceOnAddEvictsStaleOnes() {
        var pool = Mempool()
        let early = (0..<3).map { mempoolTx(alice, nonce: $0) }
        for tx in early { #expect(pool.add(tx, nextNonce: 0) == .added) }
        let later = mempoolTx(alice, nonce: 3)
        #expect(pool.add(later, nextNonce: 2) == .added)
        #expect(!pool.contains(early[0].hash))
        #expect(!pool.contains(early[1].hash))
        #expect(pool.count == 2)
        #expect(pool.byteCount == 2 * later.encodedSize)
        #expect(reapAll(pool).map(\.nonce) == [2, 3])
    }

    @Test func refusesNonceTooFarAhead() {
        var pool = Mempool(config: mempoolConfig { $0.maxNonceAhead = 10 })
        #expect(pool.add(mempoolTx(alice, nonce: 110), nextNonce: 100) == .added)
        #expect(pool.add(mempoolTx(alice, nonce: 111), nextNonce: 100) == .refused(.nonceTooFar))
        #expect(pool.add(mempoolTx(alice, nonce: .max), nextNonce: 100) == .refused(.nonceTooFar))
        #expect(pool.count == 1)
    }

    @Test func keepsFirstTransactionWhenNonceIsTaken() {
        var pool = Mempool()
        let first = mempoolTx(alice, nonce: 0, tag: 1)
        let rival = mempoolTx(alice, nonce: 0, tag: 2)
        #expect(first.hash != rival.hash)
        #expect(pool.add(first, nextNonce: 0) == .added)
        #expect(pool.add(rival, nextNonce: 0) == .refused(.nonceTaken))
        #expect(pool.contains(first.hash))
        #expect(!pool.contains(rival.hash))
        #expect(reapAll(pool) == [first])
    }

    @Test func refusesSenderOverItsShare() {
        var pool = Mempool(config: mempoolConfig { $0.maxPerSender = 3 })
        for nonce in 0..<3 { #expect(pool.add(mempoolTx(alice, nonce: UInt64(nonce)), nextNonce: 0) == .added) }
        #expect(pool.add(mempoolTx(alice, nonce: 3), nextNonce: 0) == .refused(.senderFull))
        #expect(pool.add(mempoolTx(bob, nonce: 0), nextNonce: 0) == .added)
        #expect(pool.count == 4)
    }

    @Test func refusesWhenCountLimitReached() {
        var pool = Mempool(config: mempoolConfig { $0.maxTransactions = 3 })
        #expect(pool.add(mempoolTx(alice, nonce: 0), nextNonce: 0) == .added)
        #expect(pool.add(mempoolTx(bob, nonce: 0), nextNonce: 0) == .added)
        #expect(pool.add(mempoolTx(carol, nonce: 0), nextNonce: 0) == .added)
        #expect(pool.add(mempoolTx(alice, nonce: 1), nextNonce: 0) == .refused(.full))
        #expect(pool.add(mempoolTx(mempoolKey(4), nonce: 0), nextNonce: 0) == .refused(.full))
        #expect(pool.count == 3)
        #expect(pool.senderCount == 3)
    }

    @Test func refusesWhenByteLimitReached() {
        let size = Transaction.overhead + 100
        var pool = Mempool(config: mempoolConfig { $0.maxBytes = 2 * size + 50 })
        #expect(pool.add(mempoolTx(alice, nonce: 0, payloadSize: 100), nextNonce: 0) == .added)
        #expect(pool.add(mempoolTx(bob, nonce: 0, payloadSize: 100), nextNonce: 0) == .added)
        #expect(pool.add(mempoolTx(carol, nonce: 0, payloadSize: 100), nextNonce: 0) == .refused(.full))
        #expect(pool.add(mempoolTx(carol, nonce: 0, payloadSize: 0), nextNonce: 0) == .refused(.full))
        #expect(pool.byteCount == 2 * size)
        #expect(pool.count == 2)
    }

    @Test func byteLimitAllowsExactFit() {
        let size = Transaction.overhead + 10
        var pool = Mempool(config: mempoolConfig { $0.maxBytes = 2 * size })
        #expect(pool.add(mempoolTx(alice, nonce: 0, payloadSize: 10), nextNonce: 0) == .added)
        #expect(pool.add(mempoolTx(bob, nonce: 0, payloadSize: 10), nextNonce: 0) == .added)
        #expect(pool.byteCount == pool.config.maxBytes)
        #expect(pool.add(mempoolTx(carol, nonce: 0, payloadSize: 0), nextNonce: 0) == .refused(.full))
    }

    @Test func waitsForNonceGapToFill() {
        var pool = Mempool()
        let five = mempoolTx(alice, nonce: 5)
        let six = mempoolTx(alice, nonce: 6)
        let eight = mempoolTx(alice, nonce: 8)
        #expect(pool.add(eight, nextNonce: 4) == .added)
        #expect(pool.add(six, nextNonce: 4) == .added)
        #expect(pool.add(five, nextNonce: 4) == .added)
        #expect(reapAll(pool).isEmpty)

        let four = mempoolTx(alice, nonce: 4)
        #expect(pool.add(four, nextNonce: 4) == .added)
        // Nonce order, not arrival order; the run stops at the gap before 8.
        #expect(reapAll(pool) == [four, five, six])
    }

    @Test func reapStopsAtMaxCountAndMaxBytes() {
        var pool = Mempool()
        let txs = [mempoolTx(alice, nonce: 0, payloadSize: 100), mempoolTx(alice, nonce: 1, payloadSize: 200),
                   mempoolTx(alice, nonce: 2, payloadSize: 0)]
        for tx in txs { #expect(pool.add(tx, nextNonce: 0) == .added) }

        #expect(pool.reap(maxCount: 2, maxBytes: .max, excluding: []) == Array(txs[0..<2]))
        #expect(pool.reap(maxCount: 0, maxBytes: .max, excluding: []).isEmpty)
        // The second would exceed the budget: stop there, even though the third would fit.
        let budget = txs[0].encodedSize + txs[2].encodedSize + 10
        #expect(pool.reap(maxCount: 10, maxBytes: budget, excluding: []) == [txs[0]])
        let exact = txs[0].encodedSize + txs[1].encodedSize
        #expect(pool.reap(maxCount: 10, maxBytes: exact, excluding: []) == Array(txs[0..<2]))
        #expect(pool.reap(maxCount: 10, maxBytes: txs[0].encodedSize - 1, excluding: []).isEmpty)
        // Reaping does not remove anything.
        #expect(pool.count == 3)
    }

    @Test func excludedTransactionsFillTheirSlot() {
        var pool = Mempool()
        let txs = (0..<4).map { mempoolTx(alice, nonce: UInt64($0)) }
        for tx in txs { #expect(pool.add(tx, nextNonce: 0) == .added) }
        #expect(reapAll(pool, excluding: [txs[0].hash, txs[1].hash]) == [txs[2], txs[3]])
        #expect(reapAll(pool, excluding: [txs[1].hash]) == [txs[0], txs[2], txs[3]])
        #expect(reapAll(pool, excluding: Set(txs.map(\.hash))).isEmpty)
        // Excluded ones do not use the count budget.
        #expect(pool.reap(maxCount: 1, maxBytes: .max, excluding: [txs[0].hash]) == [txs[1]])
    }

    @Test func servesSendersRoundRobinByEarliestArrival() {
        var pool = Mempool()
        // Bob's nonce 1 arrives first, so Bob goes first once his nonce 0 arrives.
        let b1 = mempoolTx(bob, nonce: 1)
        let a = (0..<3).map { mempoolTx(alice, nonce: UInt64($0)) }
        let b0 = mempoolTx(bob, nonce: 0)
        let b2 = mempoolTx(bob, nonce: 2)
        let c0 = mempoolTx(carol, nonce: 0)
        #expect(pool.add(b1, nextNonce: 0) == .added)
        for tx in a { #expect(pool.add(tx, nextNonce: 0) == .added) }
        #expect(pool.add(c0, nextNonce: 0) == .added)
        #expect(pool.add(b0, nextNonce: 0) == .added)
        #expect(pool.add(b2, nextNonce: 0) == .added)

        #expect(reapAll(pool) == [b0, a[0], c0, b1, a[1], b2, a[2]])
        #expect(pool.reap(maxCount: 4, maxBytes: .max, excluding: []) == [b0, a[0], c0, b1])
    }

    @Test func removeCommittedEvictsStaleAndFreesSpace() {
        var pool = Mempool()
        let txs = (0..<5).map { mempoolTx(alice, nonce: UInt64($0)) }
        for tx in txs { #expect(pool.add(tx, nextNonce: 0) == .added) }
        let other = mempoolTx(bob, nonce: 0)
        #expect(pool.add(other, nextNonce: 0) == .added)

        // The block committed Alice's 0 and 1 plus a rival of her 2 that reached another node.
        let rival = mempoolTx(alice, nonce: 2, tag: 9)
        var asked: [PublicKey] = []
        pool.removeCommitted([txs[0], txs[1], rival], height: 1) { sender in
            asked.append(sender)
            return sender == alice.publicKey ? 3 : 0
        }
        #expect(asked == [alice.publicKey])
        #expect(!pool.contains(txs[0].hash))
        #expect(!pool.contains(txs[2].hash))
        #expect(pool.count == 3)
        #expect(pool.byteCount == 3 * other.encodedSize)
        #expect(reapAll(pool) == [txs[3], other, txs[4]])
        #expect(pool.add(txs[2], nextNonce: 0) == .refused(.staleNonce))

        pool.removeCommitted([txs[3], txs[4]], height: 2) { _ in 5 }
        pool.removeCommitted([other], height: 3) { _ in 1 }
        #expect(pool.count == 0)
        #expect(pool.byteCount == 0)
        #expect(pool.senderCount == 0)
    }

    @Test func fullPoolAcceptsAgainAfterRemoval() {
        var pool = Mempool(config: mempoolConfig { $0.maxTransactions = 4 })
        let keys = (10..<14).map(mempoolKey)
        let txs = keys.map { mempoolTx($0, nonce: 0) }
        for tx in txs { #expect(pool.add(tx, nextNonce: 0) == .added) }
        let late = mempoolTx(mempoolKey(20), nonce: 0)
        #expect(pool.add(late, nextNonce: 0) == .refused(.full))
        pool.removeCommitted([txs[2]], height: 1) { _ in 1 }
        #expect(pool.count == 3)
        #expect(pool.add(late, nextNonce: 0) == .added)
        #expect(pool.add(mempoolTx(mempoolKey(21), nonce: 0), nextNonce: 0) == .refused(.full))
    }

    @Test func gappedTransactionsGetOnlyTheirShare() {
        var pool = Mempool(config: mempoolConfig { $0.maxGapped = 2 })
        #expect(pool.add(mempoolTx(alice, nonce: 0), nextNonce: 0) == .added)
        #expect(pool.add(mempoolTx(alice, nonce: 2), nextNonce: 0) == .added)
        #expect(pool.add(mempoolTx(bob, nonce: 3), nextNonce: 1) == .added)
        #expect(pool.gappedCount == 2)
        // A third transaction behind a gap is refused; one that can run is not.
        let waiting = mempoolTx(alice, nonce: 3)
        #expect(pool.refusal(of: waiting, nextNonce: 0) == .gappedFull)
        #expect(pool.add(waiting, nextNonce: 0) == .refused(.gappedFull))
        #expect(pool.add(mempoolTx(carol, nonce: 0), nextNonce: 0) == .added)
        // Alice's 1 closes her gap: her 2 can run, so her 3 is welcome again.
        #expect(pool.add(mempoolTx(alice, nonce: 1), nextNonce: 0) == .added)
        #expect(pool.gappedCount == 1)
        #expect(pool.add(waiting, nextNonce: 0) == .added)
        #expect(pool.gappedCount == 1)
        #expect(reapAll(pool).map(\.nonce) == [0, 0, 1, 2, 3])
    }

    @Test func aFullPoolRefusesBeforeAnyChange() {
        var pool = Mempool(config: mempoolConfig { $0.maxTransactions = 2 })
        #expect(pool.add(mempoolTx(alice, nonce: 0), nextNonce: 0) == .added)
        #expect(pool.add(mempoolTx(alice, nonce: 1), nextNonce: 0) == .added)
        let late = mempoolTx(bob, nonce: 0)
        #expect(pool.refusal(of: late, nextNonce: 0) == .full)
        #expect(pool.refusal(of: mempoolTx(alice, nonce: 0, tag: 7), nextNonce: 0) == .nonceTaken)
        #expect(pool.refusal(of: mempoolTx(alice, nonce: 0), nextNonce: 1) == .staleNonce)
        // A next nonce that makes Alice's 0 stale frees its slot, as `add` would.
        #expect(pool.refusal(of: mempoolTx(alice, nonce: 2), nextNonce: 1) == nil)
        #expect(pool.count == 2)
        #expect(pool.add(mempoolTx(alice, nonce: 2), nextNonce: 1) == .added)
        #expect(pool.count == 2)
    }

    @Test func transactionsStuckBehindAGapExpire() {
        var pool = Mempool(config: mempoolConfig { $0.gapTimeoutBlocks = 10 })
        let runnable = mempoolTx(alice, nonce: 0)
        #expect(pool.add(runnable, nextNonce: 0) == .added)
        #expect(pool.add(mempoolTx(alice, nonce: 2), nextNonce: 0) == .added)
        pool.removeCommitted([], height: 5) { _ in 0 }
        let younger = mempoolTx(bob, nonce: 4)
        #expect(pool.add(younger, nextNonce: 0) == .added)
        #expect(pool.gappedCount == 2)
        pool.removeCommitted([], height: 9) { _ in 0 }
        #expect(pool.count == 3)
        // Ten blocks after it came, Alice's 2 is still behind her missing 1: dropped. Bob's is younger.
        pool.removeCommitted([], height: 10) { _ in 0 }
        #expect(pool.count == 2)
        #expect(pool.gappedCount == 1)
        #expect(pool.contains(runnable.hash) && pool.contains(younger.hash))
        pool.removeCommitted([], height: 15) { _ in 0 }
        #expect(pool.count == 1)
        #expect(pool.gappedCount == 0)
        #expect(pool.senderCount == 1)
        #expect(pool.byteCount == runnable.encodedSize)
    }

    @Test func reapIsDeterministicAcrossManySenders() {
        let senderCount = 50
        let perSender = 5
        let keys = (100..<(100 + senderCount)).map(mempoolKey)
        // Senders first arrive in a scrambled order, and each sender's nonces arrive reversed.
        let arrivalOrder = (0..<senderCount).map { ($0 * 17) % senderCount }
        var adds: [Transaction] = []
        for nonce in (0..<perSender).reversed() {
            for sender in arrivalOrder { adds.append(mempoolTx(keys[sender], nonce: UInt64(nonce))) }
        }

        var first = Mempool()
        var second = Mempool()
        for tx in adds {
            #expect(first.add(tx, nextNonce: 0) == .added)
            #expect(second.add(tx, nextNonce: 0) == .added)
        }
        let reaped = reapAll(first)
        #expect(reaped == reapAll(second))
        // Independent of dictionary order: round by round, senders in their arrival order.
        let expected = (0..<perSender).flatMap { nonce in
            arrivalOrder.map { mempoolTx(keys[$0], nonce: UInt64(nonce)) }
        }
        #expect(reaped == expected)

        let budget = reaped.prefix(73).reduce(0) { $0 + $1.encodedSize }
        #expect(first.reap(maxCount: 120, maxBytes: budget, excluding: []) == Array(expected.prefix(73)))
        #expect(second.reap(maxCount: 120, maxBytes: budget, excluding: []) == Array(expected.prefix(73)))
    }
}
