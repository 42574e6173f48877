package dev.tokentap.proxy.record;

import dev.tokentap.meter.OutputCollector;

/**
 * Opt-in: sees one request's response output as its meter reads it ({@link OutputCollector}), then
 * the finished record, exactly once, whether a response arrived or not. Set on a {@link
 * RequestRecord} by a tap that asked for it ({@code RequestTap#onRequestWatchingOutput}) or by
 * whoever sends the request (a shadow copy). Called on the record's thread; must not block.
 */
public interface OutputObserver extends OutputCollector {

  void onFinished(FinishedRequest request);
}
