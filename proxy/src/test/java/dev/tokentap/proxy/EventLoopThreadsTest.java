package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.testkit.ScriptedUpstream;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code tokentap.proxy.io-threads = 0} means one event loop per core, as reference.conf says (not
 * Netty's default of two per core); a number means that many. Counted as live threads, since every
 * loop is started before the listener opens.
 */
class EventLoopThreadsTest {
  /** Live relay loop threads, once the previous proxy's have ended (they stop after its close). */
  static long ioThreads(long expected) throws InterruptedException {
    long n = 0;
    for (int i = 0; i < 100; i++) {
      n = Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith("tokentap-io-")).count();
      if (n == expected) {
        break;
      }
      Thread.sleep(50);
    }
    return n;
  }

  @Test
  void zeroMeansOnePerCore() throws Exception {
    try (ScriptedUpstream upstream = new ScriptedUpstream(r -> null)) {
      try (ProxyHarness proxy = new ProxyHarness(upstream.baseUrl(), Map.of("tokentap.proxy.io-threads", 0))) {
        assertThat(ioThreads(Runtime.getRuntime().availableProcessors())).isEqualTo(Runtime.getRuntime().availableProcessors());
      }
      try (ProxyHarness proxy = new ProxyHarness(upstream.baseUrl(), Map.of("tokentap.proxy.io-threads", 3))) {
        assertThat(ioThreads(3)).isEqualTo(3);
      }
    }
  }
}
