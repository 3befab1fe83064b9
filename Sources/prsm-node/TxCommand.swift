import ArgumentParser
import Foundation
import PRSMNode

struct TxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tx", abstract: "Submit signed transactions to the consensus engine through a running node.",
        subcommands: [TxSetCommand.self, TxNonceCommand.self])
}

/// Until the FTNS ledger exists the chain runs a small key-value application: a transaction
/// `KEY=VALUE` sets KEY once it commits. The account is the node's own key (on the devnet the
/// validators' node keys hold the genesis balances); wallet keys come with the ledger.
struct TxSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Sign `KEY=VALUE` with the node's key at its next nonce and submit it.")

    @OptionGroup var directory: DataDirOption
    @Argument(help: "The key (1–64 bytes, no '=').") var key: String
    @Argument(help: "The value.") var value: String

    func run() async throws {
        guard (1...KeyValueApplication.maxKeyBytes).contains(key.utf8.count), !key.contains("=") else {
            throw ValidationError("KEY is 1…\(KeyValueApplication.maxKeyBytes) bytes without '='")
        }
        let payload = Array("\(key)=\(value)".utf8)
        guard payload.count <= Transaction.maxPayload else {
            throw ValidationError("KEY=VALUE is at most \(Transaction.maxPayload) bytes; this is \(payload.count)")
        }
        let dir = DataDirectory(path: directory.dataDir ?? DataDirectory.defaultPath)
        let (identity, genesis): (SigningKey, Genesis)
        do { (identity, genesis) = (try dir.loadIdentity(), try dir.loadGenesis()) } catch { throw Failure(error.description) }
        let api = try LocalAPIClient(directory: directory)
        let nonce = try await api.call("/consensus/nonce/\(identity.publicKey.hex)", method: "GET", body: nil,
                                       as: TransactionResponse.self)
        guard let next = nonce.nextNonce else { throw Failure("cannot get a nonce: \(nonce.error ?? "no answer")") }
        let transaction = Transaction.signed(by: identity, networkID: genesis.networkID, nonce: next, payload: payload)
        var writer = WireWriter()
        transaction.encode(into: &writer)
        let answer = try await api.call("/consensus/transactions", method: "POST", body: Data(writer.bytesWritten),
                                        as: TransactionResponse.self)
        guard answer.accepted == true else { throw Failure("refused: \(answer.error ?? "unknown reason")") }
        print(transaction.hash.hex)
        print("admitted with nonce \(next); it is final once a block carrying it commits (see `prsm-node status`)")
    }
}
