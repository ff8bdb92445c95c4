import NIOCore

/// One side of a byte tunnel (tcp mode, or a connection after `101 Switching Protocols`):
/// what one channel reads the other writes. Reads stop while the other side cannot take more,
/// so a tunnel holds at most a write buffer's worth of bytes; a half-close crosses over.
/// Event-loop confined.
final class TunnelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: TunnelHandler? = nil
    private var context: ChannelHandlerContext? = nil
    private var pendingRead = false
    private var inputClosed = false
    /// Called once, when this side's channel has closed.
    var onClosed: () -> Void = {}

    /// Joins two handlers; each must be added to its own channel.
    static func pair() -> (TunnelHandler, TunnelHandler) {
        let first = TunnelHandler()
        let second = TunnelHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.write(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) { partner?.flush() }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.closeWhole()
        partner = nil
        let closed = onClosed
        onClosed = {}
        closed()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            partner?.closeOutput()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.resumeReading() }
    }

    func read(context: ChannelHandlerContext) {
        if let partner, !partner.isWritable {
            pendingRead = true
        } else {
            context.read()
        }
    }

    // MARK: - Called by the partner

    private var isWritable: Bool { context?.channel.isWritable ?? true }

    private func write(_ buffer: ByteBuffer) { context?.write(wrapOutboundOut(buffer), promise: nil) }

    private func flush() { context?.flush() }

    private func resumeReading() {
        guard pendingRead, let context else { return }
        pendingRead = false
        context.read()
    }

    private func closeOutput() {
        guard let context else { return }
        context.close(mode: .output).assumeIsolated().whenFailure { _ in context.close(promise: nil) }
        if inputClosed { context.close(promise: nil) }
    }

    private func closeWhole() {
        partner = nil
        context?.close(promise: nil)
    }
}
