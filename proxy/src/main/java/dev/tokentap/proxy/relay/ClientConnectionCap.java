package dev.tokentap.proxy.relay;

import io.micrometer.core.instrument.Counter;
import io.netty.channel.Channel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * At most {@code tokentap.proxy.max-connections} client connections open at once, so a flood of
 * connections cannot exhaust the process's file descriptors (docs/reliability.md, "Limits"). A
 * connection beyond is closed as it is accepted, before any byte is read, and counted in {@code
 * tokentap_client_connections_closed_total{reason="max_connections"}}; it is no request. Shared
 * by every event loop of one listener.
 */
final class ClientConnectionCap {
  private final int max;
  private final Counter refused;
  private final AtomicInteger open = new AtomicInteger();

  ClientConnectionCap(int max, Counter refused) {
    this.max = max;
    this.refused = refused;
  }

  /** True when {@code ch} may stay open, and it is counted until it closes; false: close it. */
  boolean admit(Channel ch) {
    if (open.incrementAndGet() > max) {
      open.decrementAndGet();
      refused.increment();
      return false;
    }
    ch.closeFuture().addListener(f -> open.decrementAndGet());
    return true;
  }
}
