import NIOCore

/// A handler whose work ends in a promise (a check's answer, a response): an error fails it and
/// closes the channel, and a close before the answer fails it with `closedEarly`. Completing a
/// promise that is already complete does nothing, so whatever comes first decides.
protocol PromiseHandler: ChannelInboundHandler {
    associatedtype Answer
    var promise: EventLoopPromise<Answer> { get }
    /// What the promise fails with when the channel closes before the answer.
    var closedEarly: Error { get }
}

extension PromiseHandler {
    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(closedEarly)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
