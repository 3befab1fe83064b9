import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PRSMNode

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a running node's status from its local API.")

    @OptionGroup var directory: DataDirOption

    @Flag(help: "Print the raw JSON.")
    var json = false

    func run() async throws {
        let dir = DataDirectory(path: directory.dataDir ?? DataDirectory.defaultPath)
        let address: String
        do { address = try dir.readAPIAddress() } catch { throw Failure(error.description) }
        guard let url = URL(string: "http://\(address)/status") else { throw ValidationError("bad API address \(address)") }
        let data: Data
        do {
            let (body, response) = try await URLSession.shared.data(from: url)
            guard (response as? HTTPURLResponse)?.statusCode == 200 else {
                throw Failure("local API at \(address) answered \((response as? HTTPURLResponse)?.statusCode ?? 0)")
            }
            data = body
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(NodeError.apiUnavailable("\(address): \(error.localizedDescription)").description)
        }
        if json {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let status = try JSONDecoder().decode(NodeStatus.self, from: data)
        print("node id:    \(status.nodeID)")
        print("version:    \(status.version)")
        print("network:    \(status.network) \(status.networkID)")
        print("listening:  \(status.listenAddresses.joined(separator: ", "))")
        print("uptime:     \(status.uptimeSeconds) s")
        print("peers:      \(status.peersKnown)")
        print("accepted:   \(status.accepted)")
        if let dht = status.dht {
            print("dht:        \(dht.joinState), \(dht.contacts) contacts, \(dht.records) records, \(dht.mode) mode")
            if let error = dht.lastJoinError { print("dht error:  \(error)") }
        }
        if let consensus = status.consensus {
            let role = consensus.validator.map { "validator \($0)" } ?? "observer"
            print("consensus:  \(role) of \(consensus.validators) in epoch \(consensus.epoch), view \(consensus.view), "
                  + "committed height \(consensus.committedHeight) (\(consensus.committedTransactions) transactions), "
                  + "mempool \(consensus.mempool)")
            print("state root: \(consensus.stateRoot)")
            let stored = consensus.storedFromHeight.map { "blocks \($0)…\(consensus.committedHeight)" } ?? "no blocks"
            print("chain:      \(stored) (\(consensus.storedBlockBytes / 1024) KiB), snapshot at \(consensus.snapshotHeight)"
                  + ", serving checkpoint \(consensus.servedCheckpointHeight.map(String.init) ?? "none")"
                  + (consensus.stateSyncs > 0 ? ", state synced \(consensus.stateSyncs)×" : ""))
        }
        let drops = status.drops.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        print("dropped:    \(drops.isEmpty ? "none" : drops.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }
}
