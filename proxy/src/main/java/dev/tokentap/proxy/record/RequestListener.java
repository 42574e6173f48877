package dev.tokentap.proxy.record;

/**
 * Consumes finished requests. Called on the event loop that finished the request, so an
 * implementation must not block: hand slow work (I/O) to its own thread.
 */
@FunctionalInterface
public interface RequestListener {
  void onFinished(FinishedRequest request);
}
