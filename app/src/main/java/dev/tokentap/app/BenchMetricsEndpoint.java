package dev.tokentap.app;

import dev.tokentap.proxy.admin.AdminServer;
import dev.tokentap.proxy.config.HostAndPort;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;

/** {@code tokentap bench --metrics}: the bench's meters on {@code GET /metrics} while it runs. */
final class BenchMetricsEndpoint {
  private BenchMetricsEndpoint() {}

  /** {@code --metrics}: {@code HOST:PORT}, {@code :PORT} or a bare {@code PORT} (all interfaces, like an exporter). */
  static HostAndPort listen(String value) {
    String v = value.trim();
    try {
      return HostAndPort.parse(v.chars().allMatch(Character::isDigit) ? ":" + v : v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--metrics " + value + ": " + e.getMessage() + " (expected: [HOST:]PORT, e.g. 9465 or 127.0.0.1:9465)");
    }
  }

  /** The bench's registry on {@code GET /metrics} (and /health, /ready) until the command ends. */
  static AdminServer serve(HostAndPort listen, PrometheusMeterRegistry registry, PrintWriter stderr)
      throws IOException, InterruptedException {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    AdminServer server;
    try {
      server = AdminServer.start(listen, registry, () -> true);
    } catch (IOException e) {
      throw new IOException("cannot listen on " + listen + " (--metrics): "
          + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage()), e);
    }
    InetSocketAddress bound = server.address();
    stderr.printf("bench metrics: http://%s:%d/metrics%n", bound.getAddress().isAnyLocalAddress() ? "127.0.0.1" : bound.getHostString(), bound.getPort());
    stderr.flush();
    return server;
  }
}
