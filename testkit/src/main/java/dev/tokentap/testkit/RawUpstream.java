package dev.tokentap.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An upstream on plain blocking sockets that writes whatever bytes a test gives it: a broken status
 * line, half a head, a reset at any point, a header no HTTP library would send, a body that never
 * drains. Where {@link ScriptedUpstream} answers with well-formed HTTP, this one answers with
 * anything. It records every request it read and every connection the peer closed on it, so a test
 * can assert what the upstream saw, including the proxy hanging up.
 */
public final class RawUpstream implements AutoCloseable {

  /** {@code data} as one HTTP/1.1 chunk: its size in hex, CRLF, the bytes, CRLF. */
  public static byte[] chunk(byte[] data) {
    byte[] head = (Integer.toHexString(data.length) + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    byte[] out = new byte[head.length + data.length + 2];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(data, 0, out, head.length, data.length);
    out[out.length - 2] = '\r';
    out[out.length - 1] = '\n';
    return out;
  }

  /** What to do with one request: write to {@code connection}, return to read the next one. */
  @FunctionalInterface
  public interface Responder {
    void respond(Request request, Connection connection) throws IOException, InterruptedException;
  }

  /** A request as read off the socket: its head (request line and headers, as sent) and body. */
  public record Request(String head, byte[] body) {
    public String requestLine() {
      return head.substring(0, head.indexOf("\r\n"));
    }

    /** The first value of header {@code name} (case-insensitive), or null. */
    public String header(String name) {
      for (String line : head.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
          return line.substring(colon + 1).trim();
        }
      }
      return null;
    }
  }

  /** One accepted connection, as the responder sees it. */
  public static final class Connection {
    private final Socket socket;
    private final OutputStream out;
    private volatile long bytesWritten;
    private boolean closed;

    Connection(Socket socket) throws IOException {
      this.socket = socket;
      this.out = socket.getOutputStream();
    }

    /** Writes and flushes; blocks while the peer does not read (TCP backpressure). */
    public void write(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
      bytesWritten += bytes.length;
    }

    public void write(String text) throws IOException {
      write(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Bytes this connection has handed to its socket so far. */
    public long bytesWritten() {
      return bytesWritten;
    }

    /** Closes with a TCP RST (SO_LINGER 0). */
    public void reset() throws IOException {
      socket.setSoLinger(true, 0);
      socket.close();
      closed = true;
    }

    /** Closes cleanly (FIN), whatever was or was not sent. */
    public void close() throws IOException {
      socket.close();
      closed = true;
    }

    /** Sends nothing more and waits until the peer hangs up (true) or {@code millis} pass (false). */
    public boolean stallUntilPeerCloses(long millis) throws IOException {
      socket.setSoTimeout((int) millis);
      try {
        return socket.getInputStream().read(new byte[1]) == -1 || drainToEnd();
      } catch (java.net.SocketTimeoutException e) {
        return false;
      } catch (SocketException e) {
        return true; // reset by the peer
      } finally {
        if (!socket.isClosed()) {
          socket.setSoTimeout(0);
        }
      }
    }

    private boolean drainToEnd() throws IOException {
      byte[] sink = new byte[4096];
      while (socket.getInputStream().read(sink) != -1) {
        // a pipelined request the responder does not want; keep waiting for the close
      }
      return true;
    }
  }

  private final ServerSocket server;
  private final Thread acceptor;
  private final LinkedBlockingQueue<Request> received = new LinkedBlockingQueue<>();
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger peerClosed = new AtomicInteger();
  private final ConcurrentLinkedQueue<Socket> open = new ConcurrentLinkedQueue<>();
  private final CopyOnWriteArrayList<Throwable> failures = new CopyOnWriteArrayList<>();
  private volatile Responder responder;

  public RawUpstream(Responder responder) throws IOException {
    this.responder = responder;
    this.server = new ServerSocket(0, 4096, InetAddress.getLoopbackAddress());
    this.acceptor = new Thread(this::acceptLoop, "raw-upstream-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public void respond(Responder responder) {
    this.responder = responder;
  }

  public int port() {
    return server.getLocalPort();
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + port();
  }

  /** The next request received, waiting up to 5 s. */
  public Request takeRequest() throws InterruptedException {
    Request r = received.poll(5, TimeUnit.SECONDS);
    if (r == null) {
      throw new AssertionError("the upstream received no request");
    }
    return r;
  }

  /** Requests received and not yet taken. */
  public int pendingRequests() {
    return received.size();
  }

  public int connectionsAccepted() {
    return accepted.get();
  }

  /** Connections the peer (the proxy) closed or reset, seen while reading or writing. */
  public int connectionsClosedByPeer() {
    return peerClosed.get();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        s.setTcpNoDelay(true);
        accepted.incrementAndGet();
        open.add(s);
        Thread t = new Thread(() -> serve(s), "raw-upstream-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void serve(Socket socket) {
    boolean byPeer = false;
    try (socket) {
      Connection c = new Connection(socket);
      InputStream in = socket.getInputStream();
      while (!c.closed) {
        Request r = readRequest(in);
        if (r == null) {
          byPeer = true;
          return;
        }
        received.add(r);
        responder.respond(r, c);
      }
    } catch (SocketException e) {
      byPeer = !server.isClosed(); // reset by the peer, or a write to a connection it closed
    } catch (IOException | InterruptedException | RuntimeException e) {
      failures.add(e);
    } finally {
      if (byPeer) {
        peerClosed.incrementAndGet();
      }
      open.remove(socket);
    }
  }

  /** Reads one request (Content-Length or chunked body); null at a clean end of stream. */
  private static Request readRequest(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    int b;
    while (matched < 4) {
      b = in.read();
      if (b == -1) {
        return null;
      }
      head.write(b);
      matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3)) ? matched + 1 : 0;
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    Request headOnly = new Request(text, new byte[0]);
    String length = headOnly.header("content-length");
    String coding = headOnly.header("transfer-encoding");
    if (coding != null && coding.toLowerCase(Locale.ROOT).contains("chunked")) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      while (true) {
        int size = Integer.parseInt(line(in).split(";")[0].trim(), 16);
        if (size == 0) {
          while (!line(in).isEmpty()) {
            // trailers
          }
          return new Request(text, body.toByteArray());
        }
        body.write(in.readNBytes(size));
        line(in);
      }
    }
    return new Request(text, length == null ? new byte[0] : in.readNBytes(Integer.parseInt(length)));
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != '\n') {
      if (c == -1) {
        throw new SocketException("end of stream inside a request");
      }
      if (c != '\r') {
        b.write(c);
      }
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    server.close();
    Socket s;
    while ((s = open.poll()) != null) {
      s.close();
    }
    if (!failures.isEmpty()) {
      throw new AssertionError("the raw upstream failed", failures.get(0));
    }
  }
}
