package dev.tokentap.emulator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * A raw socket client, for what an HTTP library hides: resets, truncation, hanging up mid-stream.
 */
final class RawHttp implements AutoCloseable {

  private final Socket socket = new Socket();
  private final InputStream in;
  private final ByteArrayOutputStream received = new ByteArrayOutputStream();

  RawHttp(URI base) throws IOException {
    socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), 5000);
    socket.setSoTimeout(10_000);
    in = socket.getInputStream();
  }

  void post(String path, String json, String... headers) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    StringBuilder head =
        new StringBuilder(
            "POST "
                + path
                + " HTTP/1.1\r\nHost: emulator\r\n"
                + "Content-Type: application/json\r\nContent-Length: "
                + body.length
                + "\r\n");
    for (int i = 0; i < headers.length; i += 2) {
      head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
    }
    socket
        .getOutputStream()
        .write(head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().write(body);
    socket.getOutputStream().flush();
  }

  /** Reads until {@code count} occurrences of {@code marker} were received in total. */
  String readUntil(String marker, int count) throws IOException {
    byte[] buf = new byte[8192];
    while (occurrences(text(), marker) < count) {
      int n = in.read(buf);
      if (n < 0) {
        throw new IOException("EOF before " + count + " x " + marker + ":\n" + text());
      }
      received.write(buf, 0, n);
    }
    return text();
  }

  /** Reads until the peer closes: returns normally on EOF, throws on a reset. */
  String readToEnd() throws IOException {
    byte[] buf = new byte[8192];
    for (int n; (n = in.read(buf)) >= 0; ) {
      received.write(buf, 0, n);
    }
    return text();
  }

  String text() {
    return received.toString(StandardCharsets.UTF_8);
  }

  static int occurrences(String text, String marker) {
    int count = 0;
    for (int i = text.indexOf(marker); i >= 0; i = text.indexOf(marker, i + marker.length())) {
      count++;
    }
    return count;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
