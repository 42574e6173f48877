package dev.tokentap.proxy.tap;

/**
 * Sees every request whose body the proxy read whole (metered routes, POST, up to {@code
 * max-inspected-request-body}), after the body was inspected and before it is relayed; and learns of
 * the requests it could not see whole. The shadow engine is one.
 *
 * <p>Called on a client event loop: an implementation must return at once, never block and never
 * throw (the relay catches and logs anything thrown, but a tap that throws is a bug). Anything slow
 * goes to the tap's own bounded queue and threads.
 */
public interface RequestTap extends AutoCloseable {

  void onRequest(TappedRequest request);

  /**
   * As {@link #onRequest}; a tap that wants to see this request's response output (opt-in, for a
   * sampled share: the shadow comparison) returns an observer, which the relay sets on the
   * request's record. By default {@link #onRequest} and null.
   */
  default dev.tokentap.proxy.record.OutputObserver onRequestWatchingOutput(TappedRequest request) {
    onRequest(request);
    return null;
  }

  /** A request on a route the tap could have seen whose body was too large to read whole. */
  default void onRequestTooLarge(TappedRequest headOnly) {}

  /** Control endpoints the tap serves on the admin listener; by default itself, if it is one. */
  default java.util.List<dev.tokentap.proxy.admin.AdminEndpoint> adminEndpoints() {
    return this instanceof dev.tokentap.proxy.admin.AdminEndpoint e ? java.util.List.of(e) : java.util.List.of();
  }

  /** Stops the tap's own threads; called after the proxy stopped relaying. */
  @Override
  default void close() {}
}
