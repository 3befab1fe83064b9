import Testing
@testable import PRSMCore

/// What a join leaves in the newcomer's table: every far bucket refreshed (farthest first, even
/// when there are more buckets than concurrent refreshes; before, the farthest were left for the
/// hourly refresh), and full buckets spread over their range. In a network this small the joins
/// happen to spread buckets even without the rule (its own effect is in `RoutingTableSpreadTests`
/// and in the 500-node loopback bench); here it must keep them so.
struct DHTJoinSpreadTests {
    /// k = 4, two spread bits (four regions per bucket), at most 4 refreshes at once.
    static func config(spreadBits: Int) -> DHTCore.Config {
        var config = DHTCore.Config.small(k: 4)
        config.routing.spreadBits = spreadBits
        config.maintenanceLookupsPerTick = 1
        return config
    }

    /// Regions of `bucket` that hold network nodes, and how many contacts `n`'s table keeps in each.
    static func spread(of n: Int, bucket: Int, in network: DHTTestNetwork) -> (populated: Set<Int>, held: [Int: Int]) {
        let table = network.nodes[n].core.table
        var populated = Set<Int>()
        for other in network.nodes where table.bucketIndex(of: other.core.ownID) == bucket {
            populated.insert(table.region(of: other.core.ownID, inBucket: bucket))
        }
        var held: [Int: Int] = [:]
        for contact in table.contacts(inBucket: bucket) { held[table.region(of: contact.id, inBucket: bucket), default: 0] += 1 }
        return (populated, held)
    }

    @Test func aNewcomerRefreshesEveryFarBucketAndSpreadsTheFullOnes() {
        let config = Self.config(spreadBits: 2)
        var network = DHTCoreNetworkTests.formNetwork(80, config: config)
        let newcomer = network.addNode(config: config)
        network.join(newcomer, through: [0])
        network.advance(by: 10_000)
        let core = network.nodes[newcomer].core
        #expect(core.joinState == .joined)
        #expect(core.pendingJoinRefreshes.isEmpty && core.lookupCount == 0)
        let deepest = (0..<RoutingTable.bucketCount).last { !core.table.contacts(inBucket: $0).isEmpty } ?? 0
        #expect(deepest > 4, "the network is too small to have more far buckets than concurrent refreshes")

        for bucket in 0..<3 {
            // 80 nodes: about 40, 20 and 10 in buckets 0, 1 and 2, so each fills up.
            #expect(core.table.contacts(inBucket: bucket).count == 4, "bucket \(bucket) was not filled")
            let (populated, held) = Self.spread(of: newcomer, bucket: bucket, in: network)
            let most = held.values.max() ?? 0
            for region in populated {
                #expect(held[region, default: 0] >= most - 1,
                        "bucket \(bucket): region \(region) holds \(held[region, default: 0]) while another holds \(most)")
            }
        }
        #expect(network.unearnedAdds.isEmpty, "\(network.unearnedAdds.prefix(3))")
    }

    /// Distinct FindNode targets per bucket of the newcomer's table that it sent while joining
    /// (a bucket's refresh is one; each spread lookup adds one in a region of that bucket).
    static func joinTargets(spreadLookupBuckets: Int) -> [Int: Int] {
        var config = Self.config(spreadBits: 2)
        config.spreadLookupBuckets = spreadLookupBuckets
        var network = DHTCoreNetworkTests.formNetwork(80, config: config)
        let newcomer = network.addNode(config: config)
        network.join(newcomer, through: [0])
        network.advance(by: 10_000)
        let core = network.nodes[newcomer].core
        var targets: [Int: Set<NodeID>] = [:]
        for sent in sends(network.nodes[newcomer].effects) {
            guard case let .dht(.findNode(request)) = sent.message, let bucket = core.table.bucketIndex(of: request.target)
            else { continue }
            targets[bucket, default: []].insert(request.target)
        }
        return targets.mapValues(\.count)
    }

    /// Spread lookups make more nodes remember the newcomer, so only the farthest
    /// `spreadLookupBuckets` buckets (which cover most keys) get them.
    @Test func onlyTheFarthestBucketsGetSpreadLookups() {
        let everyBucket = Self.joinTargets(spreadLookupBuckets: RoutingTable.bucketCount)
        #expect(everyBucket.contains { $0.key >= 1 && $0.value > 1 },
                "no bucket past the first had a spread lookup, so this network cannot show the limit: \(everyBucket)")
        let firstOnly = Self.joinTargets(spreadLookupBuckets: 1)
        #expect(firstOnly.allSatisfy { $0.key < 1 || $0.value <= 1 }, "\(firstOnly)")
    }
}
