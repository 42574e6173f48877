package dev.tokentap.proxy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.emulator.EmulatedRequest;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.meter.Outcome;
import dev.tokentap.proxy.ProxyHarness;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.RawHttpClient;
import dev.tokentap.testkit.RawUpstream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Clients that read slowly or vanish. A client reading a byte at a time holds the upstream still
 * (backpressure end to end), so the bytes in transit stay bounded by socket buffers and water marks
 * however much the upstream has to send. Thousands of clients hanging up at once release every
 * request: the upstream sees each disconnect and stops generating, the in-flight gauge returns to
 * 0, every request is recorded {@code client_abort}, and no buffer leaks (the leak extension fails
 * the class otherwise). {@code BackpressureTest} covers a client that reads nothing, then everything.
 */
class SlowAndVanishingClientsTest {
  static final String HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  static final String EVENT = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok\"}}]}\n\n";
  /**
   * Socket buffers on the path (upstream send, proxy receive and send, client receive: loopback
   * auto-tuning reaches a few MiB each) plus the proxy's 64 KiB high-water mark. An upstream that is
   * not held back would pass this in a fraction of a second.
   */
  static final long IN_TRANSIT_BOUND = 24L * 1024 * 1024;

  @Test
  void aClientReadingOneByteAtATimeHoldsTheUpstreamBack() throws Exception {
    String events = EVENT.repeat(256); // ~18 KiB per write
    String piece = Integer.toHexString(events.length()) + "\r\n" + events + "\r\n";
    AtomicReference<RawUpstream.Connection> streaming = new AtomicReference<>();
    try (RawUpstream upstream = new RawUpstream((request, c) -> {
          streaming.set(c);
          c.write(HEAD);
          while (true) {
            c.write(piece); // blocks once nothing downstream reads; fails once the client left
          }
        });
        ProxyHarness proxy = new ProxyHarness(upstream.baseUrl())) {
      long clientRead = 0;
      try (Socket socket = new Socket()) {
        socket.setReceiveBufferSize(4096);
        socket.connect(new InetSocketAddress("127.0.0.1", proxy.tokentap.proxyAddress().getPort()));
        byte[] body = "{\"model\":\"m\",\"stream\":true,\"messages\":[]}".getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: "
            + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
        InputStream in = socket.getInputStream();
        // Read a byte at a time until the upstream's writes stop advancing: it is held back.
        long lastWritten = -1;
        int unchanged = 0;
        while (unchanged < 5) {
          for (int i = 0; i < 20; i++) {
            assertThat(in.read()).isNotNegative();
            clientRead++;
            Thread.sleep(10);
          }
          long written = streaming.get() == null ? 0 : streaming.get().bytesWritten();
          unchanged = written == lastWritten ? unchanged + 1 : 0;
          lastWritten = written;
        }
        assertThat(lastWritten - clientRead).as("bytes between the upstream's writes and the client's reads").isLessThan(IN_TRANSIT_BOUND);
      } // the slow client vanishes
      FinishedRequest record = proxy.next();
      assertThat(record.outcome()).isEqualTo(Outcome.CLIENT_ABORT);
      HostileRequestsTest.waitFor(() -> upstream.connectionsClosedByPeer() == 1);
      assertThat(Meters.inFlight(proxy.tokentap.registry())).isZero();
      assertThat(Meters.requests(proxy.tokentap.registry(), "client_abort")).isEqualTo(1);
    }
  }

  @Test
  void thousandsOfClientsAbortingAtOnceReleaseEverythingAndCancelTheirUpstreamRequests() throws Exception {
    // Each client holds four descriptors in this JVM (client, proxy's client side, proxy's upstream
    // side, emulator); where the limit is low, fewer clients, still far more than any pool or loop.
    long maxFds = ((com.sun.management.UnixOperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getMaxFileDescriptorCount();
    int clients = (int) Math.min(2000, (maxFds - 512) / 4);
    org.junit.jupiter.api.Assumptions.assumeTrue(clients >= 200, "open file limit " + maxFds + " is too low for this test");
    ConcurrentLinkedQueue<EmulatedRequest> served = new ConcurrentLinkedQueue<>();
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.realistic()));
        ProxyHarness proxy = new ProxyHarness(emulator.baseUri().toString(), Map.of("tokentap.upstream.max-connections-per-loop", 4096))) {
      emulator.addListener(served::add);
      List<RawHttpClient> open = new ArrayList<>();
      try {
        for (int i = 0; i < clients; i++) {
          RawHttpClient c = new RawHttpClient(proxy.tokentap.proxyAddress().getPort());
          open.add(c);
          c.post("/v1/chat/completions",
              "{\"model\":\"m\",\"stream\":true,\"max_tokens\":20000,\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}");
        }
        // Every request is in flight through the proxy and has reached the engine (running or queued).
        HostileRequestsTest.waitFor(() -> Meters.inFlight(proxy.tokentap.registry()) == clients);
        HostileRequestsTest.waitFor(() -> emulator.stats().running() + emulator.stats().waiting() == clients);
        assertThat(served).as("no request ended before the clients left").isEmpty();
      } finally {
        for (int i = 0; i < open.size(); i++) {
          if (i % 2 == 0) {
            open.get(i).socket().setSoLinger(true, 0); // half reset, half close
          }
          open.get(i).close();
        }
      }
      HostileRequestsTest.waitFor(() -> Meters.inFlight(proxy.tokentap.registry()) == 0);
      HostileRequestsTest.waitFor(() -> served.size() == clients);
      assertThat(served).allSatisfy(r -> assertThat(r.finishReason()).isEqualTo("cancelled"));
      assertThat(emulator.stats().running() + emulator.stats().waiting()).isZero();
      assertThat(Meters.requests(proxy.tokentap.registry(), "client_abort")).isEqualTo(clients);
      assertThat(Meters.requests(proxy.tokentap.registry())).isEqualTo(clients);
      List<FinishedRequest> records = new ArrayList<>();
      proxy.finished.drainTo(records);
      assertThat(records).hasSize(clients).allSatisfy(r -> assertThat(r.outcome()).isEqualTo(Outcome.CLIENT_ABORT));
    }
  }
}
