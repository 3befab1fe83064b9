import ArgumentParser
import Foundation
import PRSMNode

/// The next nonce an account may use, as the running node sees it: its committed state, plus
/// the transactions of that account waiting in its mempool. A nonce that moved past a
/// transaction's means that transaction (or another at its nonce) was admitted.
struct TxNonceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nonce", abstract: "Print the next nonce of an account (default: this node's key).")

    @OptionGroup var directory: DataDirOption
    @Option(help: "The account's public key (64 hex digits).") var account: String?

    func run() async throws {
        let key: PublicKey
        if let account {
            guard let bytes = try? Hex.decode(account), let parsed = try? PublicKey(bytes) else {
                throw ValidationError("--account is a public key: 64 hex digits")
            }
            key = parsed
        } else {
            do { key = try DataDirectory(path: directory.dataDir ?? DataDirectory.defaultPath).loadIdentity().publicKey } catch {
                throw Failure(error.description)
            }
        }
        let api = try LocalAPIClient(directory: directory)
        let answer = try await api.call("/consensus/nonce/\(key.hex)", method: "GET", body: nil, as: TransactionResponse.self)
        guard let next = answer.nextNonce else { throw Failure("cannot get a nonce: \(answer.error ?? "no answer")") }
        print(next)
    }
}
