package dev.tokentap.testkit;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately small HTTP/1.1 client over a plain socket, for what real clients hide: sending
 * hop-by-hop headers, reusing one connection, reading a chunked body and telling a stream that ended
 * with its terminating chunk from one that was cut.
 */
public final class RawHttpClient implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  /** A response as read off the wire; {@code complete} is false when the body was cut short. */
  public record Response(int status, Map<String, String> headers, byte[] body, boolean complete) {
    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  public RawHttpClient(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    socket.setTcpNoDelay(true);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  public Socket socket() {
    return socket;
  }

  public void send(String requestHead, byte[] body) throws IOException {
    out.write(requestHead.getBytes(StandardCharsets.ISO_8859_1));
    if (body != null) {
      out.write(body);
    }
    out.flush();
  }

  /** Sends a request with a JSON body and a Content-Length. */
  public void post(String path, String json, String... extraHeaders) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    StringBuilder head = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n");
    for (String h : extraHeaders) {
      head.append(h).append("\r\n");
    }
    head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
    send(head.toString(), body);
  }

  /** Reads the status line and headers. */
  public Response readHead() throws IOException {
    String status = line();
    if (status == null) {
      throw new EOFException("connection closed before a response");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    String line;
    while ((line = line()) != null && !line.isEmpty()) {
      int colon = line.indexOf(':');
      headers.merge(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim(), (a, b) -> a + ", " + b);
    }
    return new Response(Integer.parseInt(status.split(" ")[1]), headers, new byte[0], false);
  }

  /** Reads one whole response, body included (chunked, by length, or to the close). */
  public Response read() throws IOException {
    Response head = readHead();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    boolean complete = readBody(head, body);
    return new Response(head.status(), head.headers(), body.toByteArray(), complete);
  }

  /** Reads a body after {@link #readHead}; returns whether it ended properly. */
  public boolean readBody(Response head, ByteArrayOutputStream body) throws IOException {
    try {
      if ("chunked".equalsIgnoreCase(head.header("transfer-encoding"))) {
        while (true) {
          String size = line();
          if (size == null) {
            return false;
          }
          int n = Integer.parseInt(size.split(";")[0].trim(), 16);
          if (n == 0) {
            while (true) {
              String trailer = line();
              if (trailer == null) {
                return false;
              }
              if (trailer.isEmpty()) {
                return true;
              }
            }
          }
          body.write(in.readNBytes(n));
          if (line() == null) {
            return false;
          }
        }
      }
      String length = head.header("content-length");
      if (length != null) {
        byte[] b = in.readNBytes(Integer.parseInt(length));
        body.write(b);
        return b.length == Integer.parseInt(length);
      }
      body.write(in.readAllBytes());
      return true;
    } catch (java.net.SocketException e) {
      return false; // reset
    }
  }

  /** Exactly {@code n} raw bytes (a body's framing included); fewer only if the connection closed. */
  public byte[] readBytes(int n) throws IOException {
    return in.readNBytes(n);
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        byte[] bytes = b.toByteArray();
        int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
      }
      b.write(c);
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
