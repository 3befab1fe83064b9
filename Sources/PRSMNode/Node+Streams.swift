import NIOCore

/// Streams carry what does not fit a datagram (proposals, large timeouts; later block sync).
/// Each peer gets one outbound stream, opened on demand and kept while frames flow, fed from a
/// bounded queue; inbound streams are read frame by frame into the same admission pipeline.
extension Node {
    /// Queues a sealed envelope for `address`'s stream, starting its sender if none runs.
    func sendFrame(_ bytes: ByteBuffer, to address: PeerAddress) {
        guard streams != nil, !stoppingStreams else { return }
        let queue: OutboundFrames
        if let existing = outbound[address] {
            queue = existing
        } else {
            guard outbound.count < options.maxOutboundStreams else {
                countDrop(.streamBacklog)
                return
            }
            queue = OutboundFrames()
            outbound[address] = queue
        }
        for _ in 0..<queue.push(bytes) { countDrop(.streamBacklog) }
        if !queue.senderRunning {
            queue.senderRunning = true
            streamStartsSink.yield(address)
        }
    }

    /// The next frame for `address`, waiting for one; nil once the node stops.
    func nextFrame(for address: PeerAddress) async -> ByteBuffer? {
        guard !stoppingStreams, let queue = outbound[address] else { return nil }
        if let frame = queue.pop() { return frame }
        // Checked again inside: the runtime may suspend between here and the body, and a frame
        // or the shutdown that came meanwhile would otherwise find no waiter and be missed.
        return await withCheckedContinuation { continuation in
            if stoppingStreams {
                continuation.resume(returning: nil)
            } else if let frame = queue.pop() {
                continuation.resume(returning: frame)
            } else {
                queue.waiter = continuation
            }
        }
    }

    /// A frame that failed to leave goes back to the front of its queue (the stream reopens).
    func requeue(_ frame: ByteBuffer, for address: PeerAddress) {
        guard let queue = outbound[address] else { return }
        queue.frames.prepend(frame)
        queue.bytes += frame.readableBytes
    }

    /// The sender for `address` ended: after repeated failures its queue is dropped (the peer
    /// is unreachable; consensus re-sends what matters), otherwise it is forgotten when empty.
    func outboundEnded(_ address: PeerAddress, gaveUp: Bool) {
        guard let queue = outbound[address] else { return }
        queue.senderRunning = false
        if gaveUp {
            for _ in queue.frames { countDrop(.streamBacklog) }
            outbound[address] = nil
        } else if queue.frames.isEmpty {
            outbound[address] = nil
        } else if !stoppingStreams {
            queue.senderRunning = true
            streamStartsSink.yield(address)
        }
    }

    /// Shutdown: wakes every waiting sender with nil and accepts no more frames.
    func stopStreams() {
        stoppingStreams = true
        // In address order, so a simulated shutdown resumes the senders in the same order every run.
        for address in outbound.keys.sorted(by: { $0.description < $1.description }) { outbound[address]?.finish() }
        streamStartsSink.finish()
    }

    /// Runs one sender task per peer with queued frames, until the node stops.
    nonisolated func runStreamSenders(_ streams: any StreamTransport) async {
        await withDiscardingTaskGroup { group in
            for await address in streamStarts {
                group.addTask { await self.runOutbound(to: address, streams: streams) }
            }
        }
    }

    nonisolated func runOutbound(to address: PeerAddress, streams: any StreamTransport) async {
        var failures = 0
        while failures < 3 {
            do {
                try await streams.withStream(to: address) { stream in
                    while let frame = await self.nextFrame(for: address) {
                        do {
                            try await stream.send(frame)
                        } catch {
                            await self.requeue(frame, for: address)
                            throw error
                        }
                    }
                }
                break
            } catch {
                failures += 1
                guard !Task.isCancelled else { break }
                try? await clock.sleep(untilMs: clock.nowMs + (100 << UInt64(failures)))
            }
        }
        await outboundEnded(address, gaveUp: failures >= 3)
    }

    /// Reads every inbound stream's frames into the admission pipeline, and sends the answers
    /// to each frame back on its stream before reading the next (a client that does not read
    /// them stops being read: TCP's back-pressure bounds what waits for it).
    nonisolated func serveStreams(_ streams: any StreamTransport) async {
        await streams.serve { stream in
            let source = stream.remoteAddress
            reading: while let frame = try? await stream.receive() {
                for reply in await self.receiveFrame(frame, from: source) {
                    do { try await stream.send(reply) } catch { break reading }
                }
            }
        }
    }
}
