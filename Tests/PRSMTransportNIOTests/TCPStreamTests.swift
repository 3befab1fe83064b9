import NIOCore
import NIOPosix
import PRSMNode
import Testing
@testable import PRSMTransportNIO

@Suite(.timeLimit(.minutes(1)))
struct TCPStreamTests {
    /// Serves `handler` on a fresh listener until the test ends.
    func withServer(
        options: TCPStreamTransport.Options = .init(),
        _ handler: @escaping @Sendable (any FramedStream) async -> Void,
        _ body: (TCPStreamTransport) async throws -> Void
    ) async throws {
        let server = try await TCPStreamTransport.listen(.ipv4(127, 0, 41, 1, port: 0), options: options)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await server.serve(handler) }
            try await body(server)
            await server.close()
            try await group.waitForAll()
        }
    }

    static let echo: @Sendable (any FramedStream) async -> Void = { stream in
        while let frame = try? await stream.receive() { try? await stream.send(frame) }
    }

    @Test func framesRoundTripIntact() async throws {
        try await withServer(Self.echo) { server in
            let client = try await TCPStreamTransport.listen(.ipv4(127, 0, 42, 1, port: 0))
            let sizes = [0, 1, 4, 1_199, 70_000, 1_000_000]
            let echoed: [Int] = try await client.withStream(to: server.localAddress) { stream in
                var lengths: [Int] = []
                for size in sizes {
                    try await stream.send(ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0) }))
                    guard let frame = try await stream.receive() else { break }
                    #expect(frame.readableBytesView.elementsEqual((0..<size).map { UInt8(truncatingIfNeeded: $0) }))
                    lengths.append(frame.readableBytes)
                }
                return lengths
            }
            #expect(echoed == sizes)
            await client.close()
        }
    }

    @Test func oversizedFrameEndsTheStream() async throws {
        var options = TCPStreamTransport.Options()
        options.maxFrameSize = 1_024
        try await withServer(options: options, Self.echo) { server in
            // Raw socket: announce a 1 MiB frame the server must refuse before buffering it.
            let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(to: server.localAddress.socketAddress).get()
            var header = ByteBuffer()
            header.writeInteger(UInt32(1 << 20), endianness: .big)
            try await raw.writeAndFlush(header)
            try await raw.closeFuture.get()  // the server closes the connection
            let client = try await TCPStreamTransport.listen(.ipv4(127, 0, 43, 1, port: 0), options: options)
            await #expect(throws: (any Error).self) {
                try await client.withStream(to: server.localAddress) { stream in
                    try await stream.send(ByteBuffer(bytes: [UInt8](repeating: 1, count: 2_000)))
                }
            }
            await client.close()
        }
    }

    @Test func idleStreamIsClosed() async throws {
        var options = TCPStreamTransport.Options()
        options.idleTimeoutMs = 200
        try await withServer(options: options, Self.echo) { server in
            // The server's idle timer starts when it accepts, after this instant.
            let start = ContinuousClock.now
            let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(to: server.localAddress.socketAddress).get()
            try await raw.closeFuture.get()
            let waited = ContinuousClock.now - start
            #expect(waited >= .milliseconds(150) && waited < .seconds(5))
        }
    }

    @Test func connectingToAClosedPortFailsWithClearError() async throws {
        let client = try await TCPStreamTransport.listen(.ipv4(127, 0, 44, 1, port: 0))
        do {
            _ = try await client.withStream(to: .ipv4(127, 0, 45, 1, port: 9)) { _ in 0 }
            Issue.record("connected to a closed port")
        } catch let error as TransportError {
            #expect(error.description.contains("cannot connect to 127.0.45.1:9"))
        }
        await client.close()
    }

    /// swift-nio 2813: an async child channel accepted while the listener closes used to trap the
    /// process. Connections racing the close must be dropped quietly instead.
    @Test func connectionsRacingListenerCloseDoNotTrap() async throws {
        for round in 0..<20 {
            let server = try await TCPStreamTransport.listen(.ipv4(127, 0, 46, 1, port: 0))
            let address = server.localAddress.socketAddress
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await server.serve(Self.echo) }
                for _ in 0..<8 {
                    group.addTask {
                        let raw = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                            .connect(to: address).get()
                        try? await raw?.close()
                    }
                }
                if round % 2 == 0 { await Task.yield() }
                await server.close()
            }
        }
    }

    @Test func frameSentBeforeServeAdoptsTheConnectionIsNotLost() async throws {
        try await withServer(Self.echo) { server in
            let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(to: server.localAddress.socketAddress).get()
            let reply = raw.eventLoop.makePromise(of: ByteBuffer.self)
            try await raw.pipeline.addHandler(FirstReply(promise: reply))
            var frame = ByteBuffer()
            frame.writeInteger(UInt32(3), endianness: .big)
            frame.writeBytes([7, 8, 9])
            try await raw.writeAndFlush(frame)
            var echoed = try await reply.futureResult.get()
            #expect(echoed.readInteger(endianness: .big, as: UInt32.self) == 3)
            #expect(echoed.readBytes(length: 3) == [7, 8, 9])
            try? await raw.close()
        }
    }
}

/// Collects raw bytes until one length-prefixed frame has arrived.
private final class FirstReply: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let promise: EventLoopPromise<ByteBuffer>
    private var collected = ByteBuffer()

    init(promise: EventLoopPromise<ByteBuffer>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        collected.writeBuffer(&bytes)
        if let length = collected.getInteger(at: collected.readerIndex, endianness: .big, as: UInt32.self),
           collected.readableBytes >= 4 + Int(length) {
            promise.succeed(collected)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
    }
}
