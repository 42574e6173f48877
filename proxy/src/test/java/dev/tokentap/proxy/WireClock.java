package dev.tokentap.proxy;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.SocketFactory;

/**
 * A socket factory for a real HTTP client that notes when the client's request bytes left and when
 * each read of the response returned, keeping the bytes, so a test can time the client's view of a
 * stream at its socket (as a packet capture would) while the client library does all the work.
 * Records one exchange at a time: {@link #reset()} before each request.
 */
final class WireClock extends SocketFactory {
  private final Object lock = new Object();
  private long firstWriteNanos = -1;
  private final ByteArrayOutputStream received = new ByteArrayOutputStream();
  private final List<long[]> reads = new ArrayList<>(); // {arrivalNanos, bytes received so far}

  void reset() {
    synchronized (lock) {
      firstWriteNanos = -1;
      received.reset();
      reads.clear();
    }
  }

  long firstWriteNanos() {
    synchronized (lock) {
      return firstWriteNanos;
    }
  }

  /**
   * The offset in the received bytes just past {@code end}, first found after the first {@code
   * marker} in the response body. The body is searched with its chunked framing removed (a proxy may
   * cut an event across two HTTP chunks); the result counts the framing in, like the reads do.
   */
  int indexAfter(String marker, String end) {
    synchronized (lock) {
      byte[] raw = received.toByteArray();
      String rawText = new String(raw, StandardCharsets.ISO_8859_1);
      int pos = rawText.indexOf("\r\n\r\n") + 4;
      StringBuilder body = new StringBuilder();
      List<Integer> rawOffsetOf = new ArrayList<>(); // body offset -> raw offset
      while (pos < raw.length) {
        int lineEnd = rawText.indexOf("\r\n", pos);
        int size = Integer.parseInt(rawText.substring(pos, lineEnd).trim(), 16);
        pos = lineEnd + 2;
        if (size == 0) {
          break;
        }
        for (int i = 0; i < size; i++) {
          body.append(rawText.charAt(pos + i));
          rawOffsetOf.add(pos + i);
        }
        pos += size + 2;
      }
      int at = body.indexOf(marker);
      if (at < 0) {
        throw new AssertionError("the client never received " + marker);
      }
      int last = body.indexOf(end, at) + end.length() - 1;
      return rawOffsetOf.get(last) + 1;
    }
  }

  /** The offset just past the terminating chunk of a chunked response. */
  int endOfChunkedBody() {
    synchronized (lock) {
      return received.size();
    }
  }

  /** When the read that delivered byte {@code offset - 1} returned. */
  long arrivalOf(int offset) {
    synchronized (lock) {
      for (long[] r : reads) {
        if (r[1] >= offset) {
          return r[0];
        }
      }
      throw new AssertionError("byte " + offset + " never arrived");
    }
  }

  @Override
  public Socket createSocket() {
    return new Socket() {
      @Override
      public InputStream getInputStream() throws IOException {
        return new FilterInputStream(super.getInputStream()) {
          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            long now = System.nanoTime();
            if (n > 0) {
              synchronized (lock) {
                received.write(b, off, n);
                reads.add(new long[] {now, received.size()});
              }
            }
            return n;
          }
        };
      }

      @Override
      public OutputStream getOutputStream() throws IOException {
        return new FilterOutputStream(super.getOutputStream()) {
          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            synchronized (lock) {
              if (firstWriteNanos < 0) {
                firstWriteNanos = System.nanoTime();
              }
            }
            out.write(b, off, len);
          }
        };
      }
    };
  }

  @Override
  public Socket createSocket(String host, int port) {
    throw new UnsupportedOperationException("unconnected sockets only");
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress localHost, int localPort) {
    throw new UnsupportedOperationException("unconnected sockets only");
  }

  @Override
  public Socket createSocket(InetAddress host, int port) {
    throw new UnsupportedOperationException("unconnected sockets only");
  }

  @Override
  public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) {
    throw new UnsupportedOperationException("unconnected sockets only");
  }
}
