#!/usr/bin/env python3
"""Checks the test vectors of docs/PROTOCOL.md with an implementation independent of the Swift
code: hashlib's BLAKE2b and the `cryptography` package's Ed25519. Run from the repository root:

    python3 Tests/python/test_vectors.py

Exits non-zero and names every failed check; prints a one-line summary either way.
"""
import hashlib
import struct
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DOC = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"

# Envelope layout (docs/PROTOCOL.md section 1).
MAGIC, VERSION = b"PRSM", 1
HEADER, SIGNATURE = 91, 64

PING, PONG = 0x0001, 0x0002
NONCE = 0x0102030405060708
PING_TIME, PONG_TIME = 1767225600000, 1767225600005

failures = []
checks = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        failures.append(what)


def blake2b_256(data):
    return hashlib.blake2b(data, digest_size=32).digest()


def public_from_seed(seed):
    key = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def read_vectors():
    """`name: hex` lines inside ```vectors fenced blocks."""
    vectors, in_block = {}, False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_block = not in_block and stripped == "```vectors"
            continue
        if in_block and ":" in stripped:
            name, value = (part.strip() for part in stripped.split(":", 1))
            vectors[name] = bytes.fromhex(value)
    return vectors


def verifies(public_key, signature, message):
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except InvalidSignature:
        return False


def parse_envelope(data):
    """Splits an envelope by the documented offsets; None if the layout is wrong."""
    if len(data) < HEADER + SIGNATURE:
        return None
    (length,) = struct.unpack_from(">I", data, 87)
    if length != len(data) - HEADER - SIGNATURE:
        return None
    return {
        "magic": data[0:4],
        "version": data[4],
        "network": data[5:37],
        "kind": struct.unpack_from(">H", data, 37)[0],
        "sender": data[39:71],
        "sequence": struct.unpack_from(">Q", data, 71)[0],
        "timestamp": struct.unpack_from(">Q", data, 79)[0],
        "payload": data[HEADER:HEADER + length],
        "signed": data[:HEADER + length],
        "signature": data[HEADER + length:],
    }


def decode_address(data):
    """family u8 (4|6), address bytes, port u16; returns (family, host bytes, port, size)."""
    family = data[0]
    width = {4: 4, 6: 16}[family]
    host = data[1:1 + width]
    (port,) = struct.unpack_from(">H", data, 1 + width)
    return family, host, port, 1 + width + 2


def check_envelope(name, data, network, kind, sender, timestamp):
    envelope = parse_envelope(data)
    check(envelope is not None, f"{name}: layout (length field must match the size)")
    if envelope is None:
        return None
    check(envelope["magic"] == MAGIC, f"{name}: magic")
    check(envelope["version"] == VERSION, f"{name}: version")
    check(envelope["network"] == network, f"{name}: network id")
    check(envelope["kind"] == kind, f"{name}: kind")
    check(envelope["sender"] == sender, f"{name}: sender public key")
    check(envelope["timestamp"] == timestamp, f"{name}: timestamp")
    check(envelope["sequence"] == (timestamp << 16) | 1, f"{name}: sequence")
    check(verifies(envelope["sender"], envelope["signature"], envelope["signed"]), f"{name}: signature")
    # Flipping any byte of the signed region or of the signature must break verification.
    for position in sorted({0, 4, 5, 37, 39, 71, 79, 87, HEADER, len(data) - SIGNATURE - 1,
                            len(data) - SIGNATURE, len(data) - 33, len(data) - 1}):
        tampered = bytearray(data)
        tampered[position] ^= 0x01
        signed, signature = bytes(tampered[:-SIGNATURE]), bytes(tampered[-SIGNATURE:])
        check(not verifies(envelope["sender"], signature, signed), f"{name}: flipped byte {position} still verifies")
    return envelope


def main():
    vectors = read_vectors()
    required = ["devnet-genesis", "devnet-network-id", "key-a-seed", "key-a-public", "key-b-seed",
                "key-b-public", "ping-envelope", "pong-envelope"]
    missing = [name for name in required if name not in vectors]
    if missing:
        print(f"test_vectors: FAIL: {DOC} lacks vectors {', '.join(missing)}")
        return 1

    # Network id and devnet genesis.
    genesis, network = vectors["devnet-genesis"], vectors["devnet-network-id"]
    check(blake2b_256(genesis) == network, "network id is BLAKE2b-256 of the genesis bytes")
    check(hashlib.blake2b(genesis).digest()[:32] != network, "network id must not be truncated BLAKE2b-512")
    check(genesis.startswith(b"PRSMGEN\x03\x00\x06devnet"), "genesis starts with magic, version and name")

    def devnet_key(role, n):
        return public_from_seed(blake2b_256(f"prsm-devnet-{role}-{n}".encode()))

    for n in range(4):
        check(vectors.get(f"devnet-validator-{n}-public") == devnet_key("validator", n), f"devnet validator {n} public key")
        check(vectors.get(f"devnet-node-{n}-public") == devnet_key("node", n), f"devnet node {n} public key")
    # Accounts: the nodes' keys. Validators: consensus key, then the key of the node running it.
    accounts = sorted(devnet_key("node", n) for n in range(4))
    validators = sorted((devnet_key("validator", n), devnet_key("node", n)) for n in range(4))
    expected = b"PRSMGEN" + bytes([3]) + struct.pack(">H", 6) + b"devnet"
    # time, block interval, epoch length, max block bytes, min validator stake, checkpoint interval
    expected += struct.pack(">QIQIQQ", PING_TIME, 1000, 1000, 1048576, 1000 * 10**8, 1000)
    expected += struct.pack(">I", 4) + b"".join(key + struct.pack(">Q", 10**14) for key in accounts)
    expected += struct.pack(">I", 4) + b"".join(key + node + struct.pack(">Q", 100) for key, node in validators)
    check(genesis == expected, "devnet genesis matches the field-by-field definition")

    # Keys.
    for letter, text in (("a", "prsm-test-vector-key"), ("b", "prsm-test-vector-responder")):
        seed = blake2b_256(text.encode())
        check(vectors[f"key-{letter}-seed"] == seed, f"key {letter} seed is BLAKE2b-256 of {text!r}")
        check(vectors[f"key-{letter}-public"] == public_from_seed(seed), f"key {letter} public key derives from its seed")

    # Ping.
    ping = vectors["ping-envelope"]
    check(len(ping) == 163, "Ping envelope is 163 bytes")
    envelope = check_envelope("ping", ping, network, PING, vectors["key-a-public"], PING_TIME)
    if envelope is not None:
        check(envelope["payload"] == struct.pack(">Q", NONCE), "ping payload is the nonce u64")

    # Pong.
    pong = vectors["pong-envelope"]
    check(len(pong) == 170, "Pong envelope (IPv4 observed address) is 170 bytes")
    check(len(pong) <= 3 * len(ping), "Pong is at most 3x the Ping")
    envelope = check_envelope("pong", pong, network, PONG, vectors["key-b-public"], PONG_TIME)
    if envelope is not None:
        payload = envelope["payload"]
        (nonce,) = struct.unpack_from(">Q", payload, 0)
        check(nonce == NONCE, "pong nonce equals the ping nonce")
        family, host, port, size = decode_address(payload[8:])
        check((family, host, port) == (4, bytes([127, 0, 0, 1]), 7700), "pong observed address is 127.0.0.1:7700")
        check(8 + size == len(payload), "pong payload has no trailing bytes")

    # Signatures from the seeds are deterministic: re-signing gives the documented bytes.
    for name, letter in (("ping-envelope", "a"), ("pong-envelope", "b")):
        data = vectors[name]
        signature = Ed25519PrivateKey.from_private_bytes(vectors[f"key-{letter}-seed"]).sign(data[:-SIGNATURE])
        check(signature == data[-SIGNATURE:], f"{name}: signature equals a fresh RFC 8032 signature")

    if failures:
        for failure in failures:
            print(f"FAIL: {failure}", file=sys.stderr)
        print(f"test_vectors: FAIL: {len(failures)} of {checks} checks failed ({DOC.name})")
        return 1
    print(f"test_vectors: ok: {checks} checks passed ({DOC.name}, devnet network id {network.hex()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
