package dev.tokentap.proxy.relay;

import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.client.ConnectionPool;
import dev.tokentap.proxy.client.PeerFaults;
import dev.tokentap.proxy.client.ResponseDispatcher;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.ConnectException;
import java.util.ArrayDeque;

/**
 * The upstream side of one {@link Exchange}: the pooled connection (from the client's event loop's
 * pool), the request parts waiting for it, and sending a request once more when the upstream cannot
 * have acted on it ({@code tokentap.upstream.retry-unanswered}): a new connection lost before any
 * request byte, or a pooled one closed before any response byte.
 *
 * <p>While it waits for a connection, the client's reads are paused: request bytes have nowhere to go.
 */
final class UpstreamLeg {
  private final RelayContext relay;
  private final Exchange exchange;
  private final Channel client;
  private final ArrayDeque<HttpObject> pending = new ArrayDeque<>(2); // one per open connection: small, it grows if ever needed

  private Channel upstream;
  private boolean reused;
  private boolean connecting;
  /** Sent once more after its pooled connection turned out stale. */
  private boolean resent;
  /** Connected once more after a new connection was lost before a request byte left. */
  private boolean reconnected;
  /** Queues the request again as it was sent, while it may be sent again; null: it cannot be. */
  private Runnable replay;

  UpstreamLeg(RelayContext relay, Exchange exchange, Channel client) {
    this.relay = relay;
    this.exchange = exchange;
    this.client = client;
  }

  /** Queues a request part, or writes it when connected (without a flush). */
  void send(HttpObject msg) {
    if (upstream != null) {
      write(msg);
    } else {
      pending.add(msg);
    }
  }

  /**
   * Forwards a part of a streamed body: written and flushed piece by piece, as an upload streams
   * through and unflushed bytes would hold the upstream channel unwritable (and so the client's reads
   * paused) for ever.
   */
  void forward(HttpObject msg) {
    send(msg);
    if (upstream != null) {
      upstream.flush();
    }
  }

  /** The request can be sent again by running {@code requeue}, until {@link #forgetReplay}. */
  void replayWith(Runnable requeue) {
    this.replay = requeue;
  }

  /** The upstream answered: it has acted on the request, which is never sent again. */
  void forgetReplay() {
    replay = null;
  }

  void connect() {
    connect(false);
  }

  /** @param fresh a new connection, not an idle pooled one (a retry) */
  private void connect(boolean fresh) {
    if (connecting || upstream != null) {
      return;
    }
    connecting = true;
    Future<Channel> acquired = relay.pool(client.eventLoop()).acquire(fresh);
    if (acquired.isDone()) {
      onAcquired(acquired); // an idle pooled connection: no pause in reading the client, no epoll_ctl pair
      return;
    }
    client.config().setAutoRead(false); // until a connection is there to take the client's bytes
    acquired.addListener(this::onAcquired);
  }

  private void onAcquired(Future<? super Channel> f) {
    connecting = false;
    if (!f.isSuccess()) {
      Throwable cause = f.cause();
      if (cause instanceof ConnectionPool.PoolExhaustedException) {
        client.config().setAutoRead(true);
        exchange.respondItself(HttpResponseStatus.SERVICE_UNAVAILABLE, Outcome.REJECTED, "upstream_busy", "tokentap: " + cause.getMessage());
        return;
      }
      String reason = connectErrorReason(cause);
      relay.recorder.metrics().upstreamConnectError(relay.settings.proxy().targetName(), reason);
      if (reason.equals("other") && !exchange.ended() && !reconnected && relay.settings.upstream().retryUnanswered()) {
        // Made, then lost before a request byte left (a reset or close during the connect): nothing
        // was sent, so a second connection is safe, also after a stale pooled one (each is tried
        // again once). Refused, timed out or untrusted would fail the same way again.
        reconnected = true;
        retry("connect_failed");
        return;
      }
      client.config().setAutoRead(true);
      exchange.respondItself(HttpResponseStatus.BAD_GATEWAY, Outcome.ERROR, "upstream_unavailable",
          "tokentap: cannot connect to upstream " + relay.settings.proxy().upstream() + ": " + describe(cause));
      return;
    }
    Channel ch = (Channel) f.getNow();
    if (exchange.ended()) {
      relay.pool(client.eventLoop()).release(ch); // the client left while we waited: the connection is clean
      return;
    }
    upstream = ch;
    reused = ConnectionPool.reused(ch);
    ResponseDispatcher.of(ch).bind(exchange);
    ch.config().setAutoRead(true);
    client.config().setAutoRead(true);
    HttpObject msg;
    while (upstream == ch && (msg = pending.poll()) != null) {
      write(msg);
    }
    if (upstream != ch) {
      return;
    }
    ch.flush();
    // A pooled connection its server reset while it sat idle (the RST not read yet) fails on this
    // flush and closes at once: the exchange has then moved on (the request queued again for a new
    // connection, or answered) and this connection is no longer its own.
    if (upstream == ch && !ch.isWritable()) {
      client.config().setAutoRead(false);
    }
  }

  private void write(HttpObject msg) {
    if (msg instanceof LastHttpContent) {
      upstream.write(msg).addListener((ChannelFutureListener) this::onRequestSent);
    } else {
      upstream.write(msg, upstream.voidPromise());
    }
  }

  private void onRequestSent(ChannelFuture f) {
    if (f.isSuccess()) {
      exchange.onRequestSent();
    }
  }

  /**
   * Whether the request may go again after its connection broke: a pooled connection closed or
   * reset (an I/O error, not a malformed response) before any response byte, so the server closed
   * it while idle and the request crossed its FIN or RST.
   */
  boolean mayResend(Throwable cause, boolean requestComplete, boolean responseStarted) {
    return !resent && relay.settings.upstream().retryUnanswered() && reused && replay != null && requestComplete && !responseStarted
        && (cause == null || PeerFaults.connectionLost(cause));
  }

  /** Sends the request again, as it was sent, on a new connection. */
  void resend() {
    Channel stale = upstream;
    upstream = null;
    ResponseDispatcher.of(stale).unbind();
    stale.close();
    releasePending(); // parts of the first send that never reached the connection: the replay has them all
    replay.run();
    resent = true;
    retry("stale_connection");
  }

  private void retry(String reason) {
    relay.recorder.metrics().upstreamRetry(relay.settings.proxy().targetName(), reason);
    connect(true);
  }

  /** Reads from the upstream on or off (the client's backpressure). */
  void setAutoRead(boolean read) {
    if (upstream != null) {
      upstream.config().setAutoRead(read);
    }
  }

  /** Whether the upstream is being read (not paused for a slow client). */
  boolean reading() {
    return upstream == null || upstream.config().isAutoRead();
  }

  boolean connected() {
    return upstream != null;
  }

  private void releasePending() {
    HttpObject msg;
    while ((msg = pending.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }

  /** At the end: the connection back to the pool when {@code reusable}, else closed; queued parts released. */
  void finish(boolean reusable) {
    releasePending();
    replay = null;
    Channel ch = upstream;
    upstream = null;
    if (ch == null) {
      return;
    }
    ResponseDispatcher.of(ch).unbind();
    ch.config().setAutoRead(true);
    if (reusable && ch.isActive()) {
      relay.pool(client.eventLoop()).release(ch);
    } else {
      ch.close();
    }
  }

  static String describe(Throwable cause) {
    if (cause instanceof javax.net.ssl.SSLException) {
      // The JDK's words say which check failed: an untrusted chain ("PKIX path building failed") or
      // a certificate for another host ("No subject alternative names matching ...").
      return "TLS handshake failed (" + cause.getMessage() + ")";
    }
    if (cause instanceof ConnectException) {
      return "connection refused or unreachable (" + cause.getMessage() + ")";
    }
    if (cause instanceof io.netty.channel.ConnectTimeoutException) {
      return "connect timed out (" + cause.getMessage() + ")";
    }
    return cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
  }

  private static String connectErrorReason(Throwable cause) {
    return cause instanceof ConnectException ? "refused"
        : cause instanceof io.netty.channel.ConnectTimeoutException ? "timeout"
        : cause instanceof javax.net.ssl.SSLException ? "tls"
        : "other";
  }
}
