package dev.tokentap.proxy.client;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;

/**
 * What one exchange on an upstream connection hears from {@link ResponseDispatcher}: the response
 * head and body parts as decoded, each stamped with the socket read that carried it ({@link
 * ReadClock}), and the connection breaking. Called on the connection's event loop only.
 */
public interface ResponseListener {
  /** A response head, an interim (1xx) one included; the listener tells them apart. */
  void onResponseHead(HttpResponse head, long readNanos);

  /** A body part ({@link io.netty.handler.codec.http.LastHttpContent} ends the message); the listener releases it. */
  void onResponseContent(HttpContent content, long readNanos);

  /**
   * The connection closed, failed, or sent what cannot be a response (then {@code cause} says why,
   * and the dispatcher closes the connection) before the listener unbound itself. {@code cause} is
   * null for a plain close.
   */
  void onConnectionBroken(Throwable cause);

  /** The connection's writability changed (backpressure on a request body being sent). */
  default void onWritabilityChanged(boolean writable) {}
}
