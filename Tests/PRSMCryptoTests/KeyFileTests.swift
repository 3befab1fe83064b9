import Foundation
import Testing
@testable import PRSMCrypto

struct KeyFileTests {
    func temporaryPath() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prsm-keyfile-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("node.key").path
    }

    @Test func writesMode0600AndReadsBack() throws {
        let path = temporaryPath()
        let key = SigningKey.generate()
        try KeyFile.write(key, to: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! Int
        #expect(mode == 0o600)
        #expect(try KeyFile.read(from: path).publicKey == key.publicKey)
    }

    @Test func refusesToOverwrite() throws {
        let path = temporaryPath()
        try KeyFile.write(SigningKey.generate(), to: path)
        #expect(throws: CryptoError.keyFileExists(path: path)) { try KeyFile.write(SigningKey.generate(), to: path) }
    }

    @Test func refusesGroupReadableFileWithChmodAdvice() throws {
        let path = temporaryPath()
        try KeyFile.write(SigningKey.generate(), to: path)
        chmod(path, 0o640)
        do {
            _ = try KeyFile.read(from: path)
            Issue.record("a group-readable key file was accepted")
        } catch {
            #expect(error == .keyFileTooOpen(path: path, mode: 0o640))
            #expect(error.description.contains("chmod 600"))
        }
    }

    @Test func refusesShortOrCorruptFiles() throws {
        for text in ["", "kind: ed25519-seed\nseed: abcd\n",
                     "kind: ed25519-seed\nseed: \(String(repeating: "11", count: 32))\npublic: \(String(repeating: "22", count: 32))\n",
                     "garbage without colon"] {
            let path = temporaryPath()
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            #expect(throws: CryptoError.self) { try KeyFile.read(from: path) }
        }
        #expect(throws: CryptoError.keyFileMissing(path: "/nonexistent/node.key")) {
            try KeyFile.read(from: "/nonexistent/node.key")
        }
    }
}
