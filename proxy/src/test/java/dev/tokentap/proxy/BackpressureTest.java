package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Outcome;
import dev.tokentap.testkit.RawHttpClient;
import dev.tokentap.testkit.ScriptedUpstream;
import dev.tokentap.testkit.ScriptedUpstream.Ending;
import dev.tokentap.testkit.ScriptedUpstream.Script;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.Collections;
import org.junit.jupiter.api.Test;

/**
 * A client that stops reading while the upstream streams far more than any buffer: the proxy stops
 * reading from the upstream (autoRead off while the client is not writable) instead of buffering,
 * so its memory stays bounded; once the client reads again every byte arrives intact.
 */
class BackpressureTest {
  static final int PIECE = 64 * 1024;
  static final int PIECES = 1536; // 96 MiB

  @Test
  void slowClientBoundsProxyMemoryAndStillGetsEveryByte() throws Exception {
    byte[] piece = new byte[PIECE];
    for (int i = 0; i < PIECE; i++) {
      piece[i] = (byte) ('a' + i % 26);
    }
    try (ScriptedUpstream upstream = new ScriptedUpstream(
            r -> new Script(200, "application/octet-stream", Collections.nCopies(PIECES, piece), 0, Ending.COMPLETE));
        ProxyHarness proxy = new ProxyHarness(upstream.baseUrl())) {
      long before = directMemoryInUse();
      java.net.Socket socket = new java.net.Socket();
      socket.setReceiveBufferSize(16 * 1024);
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", proxy.tokentap.proxyAddress().getPort()));
      socket.getOutputStream().write("GET /download HTTP/1.1\r\nHost: t\r\n\r\n".getBytes());
      Thread.sleep(1500); // the client reads nothing; the upstream keeps writing
      long held = directMemoryInUse() - before;
      assertThat(held).as("direct memory held while the client does not read").isLessThan(32L * 1024 * 1024);

      InputStream in = socket.getInputStream();
      long total = readChunkedBody(in);
      socket.close();
      assertThat(total).isEqualTo((long) PIECE * PIECES);
      assertThat(proxy.next().outcome()).isEqualTo(Outcome.OK);
    }
  }

  /** Direct memory in use by Netty's default allocator (adaptive in 4.2), which the relay reads into. */
  private static long directMemoryInUse() {
    return ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
  }

  /** Reads the response head and a chunked body, checking the pattern, and returns its length. */
  private static long readChunkedBody(InputStream in) throws Exception {
    String line;
    while (!(line = line(in)).isEmpty()) {
      if (line.toLowerCase().startsWith("content-length")) {
        throw new AssertionError("expected a chunked body");
      }
    }
    long total = 0;
    while (true) {
      int size = Integer.parseInt(line(in).trim(), 16);
      if (size == 0) {
        line(in);
        return total;
      }
      byte[] chunk = in.readNBytes(size);
      for (int i = 0; i < chunk.length; i++) {
        if (chunk[i] != (byte) ('a' + (total + i) % PIECE % 26)) {
          throw new AssertionError("corrupt byte at " + (total + i));
        }
      }
      total += chunk.length;
      line(in);
    }
  }

  private static String line(InputStream in) throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != '\n') {
      if (c == -1) {
        throw new AssertionError("stream ended early");
      }
      if (c != '\r') {
        b.write(c);
      }
    }
    return b.toString();
  }
}
