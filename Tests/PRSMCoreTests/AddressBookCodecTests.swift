import Testing
@testable import PRSMCore

/// The address book's stored form: a restarted node gets back each peer's address, last-seen
/// time, roles and the listen addresses from its Hello; entries written before listen addresses
/// were kept still read; damaged ones are refused, not misread.
struct AddressBookCodecTests {
    let key = try! SigningKey(seed: [UInt8](repeating: 7, count: 32)).publicKey
    let seen = PeerAddress.ipv4(127, 0, 9, 1, port: 7700)

    @Test func aPeerComesBackWithItsListenAddresses() throws {
        let listen = [PeerAddress.ipv4(127, 0, 9, 1, port: 7700), PeerAddress(host: .v6([UInt8](repeating: 0, count: 15) + [1]), port: 7701)]
        let peer = KnownPeer(key: key, address: seen, lastSeenMs: 1_700_000_000_000, roles: [.validator], listenAddresses: listen)
        let (storedKey, value) = AddressBookCodec.encode(peer)
        let back = try AddressBookCodec.decode(key: storedKey, value: value)
        #expect(back.key == key && back.address == seen && back.lastSeenMs == peer.lastSeenMs && back.roles == [.validator])
        #expect(back.listenAddresses == listen)
    }

    @Test func anEntryFromBeforeListenAddressesReadsWithNone() throws {
        var writer = WireWriter()
        seen.encode(into: &writer)
        writer.u64(42)
        writer.u8(Roles([.client]).rawValue)
        let back = try AddressBookCodec.decode(key: key.bytes, value: writer.bytesWritten)
        #expect(back.address == seen && back.lastSeenMs == 42 && back.listenAddresses.isEmpty)
    }

    @Test func damagedOrOversizedEntriesAreRefused() {
        let nine = (1...9).map { PeerAddress.ipv4(127, 0, UInt8($0), 1, port: 7700) }
        var writer = WireWriter()
        seen.encode(into: &writer)
        writer.u64(42)
        writer.u8(0)
        writer.array(nine) { $1.encode(into: &$0) }
        #expect(throws: WireError.self) { try AddressBookCodec.decode(key: key.bytes, value: writer.bytesWritten) }
        let (_, good) = AddressBookCodec.encode(KnownPeer(key: key, address: seen, lastSeenMs: 1, listenAddresses: [seen]))
        #expect(throws: WireError.self) { try AddressBookCodec.decode(key: key.bytes, value: Array(good.dropLast())) }
        #expect(throws: WireError.self) { try AddressBookCodec.decode(key: key.bytes, value: good + [0]) }
    }
}
