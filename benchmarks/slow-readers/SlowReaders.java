import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The two ends of benchmarks/slow-readers/run.sh, run as a single-file program (java SlowReaders.java).
 *
 * <pre>
 *   server PORT SIZE_MIB          a server answering every POST with one non-streaming chat completion
 *                                 of SIZE_MIB, Content-Length framed, its usage at the end (as OpenAI's)
 *   clients HOST:PORT N SECONDS   N connections that each send one chat request, then read 1 byte a
 *                                 second per connection for SECONDS; prints one summary line
 * </pre>
 */
public final class SlowReaders {
  static final int OUTPUT_TOKENS = 1_000_000;

  public static void main(String[] args) throws Exception {
    if (args[0].equals("server")) {
      server(Integer.parseInt(args[1]), Integer.parseInt(args[2]) << 20);
    } else {
      clients(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
    }
  }

  static byte[] body(int size) {
    StringBuilder json = new StringBuilder(size + 256)
        .append("{\"id\":\"chatcmpl-slow\",\"object\":\"chat.completion\",\"model\":\"m\",\"choices\":[{\"index\":0,")
        .append("\"message\":{\"role\":\"assistant\",\"content\":\"");
    while (json.length() < size) {
      json.append("token ");
    }
    json.append("\"},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":")
        .append(OUTPUT_TOKENS).append(",\"total_tokens\":").append(OUTPUT_TOKENS + 9).append("}}");
    return json.toString().getBytes(StandardCharsets.UTF_8);
  }

  static void server(int port, int size) throws Exception {
    byte[] body = body(size);
    byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress("127.0.0.1", port), 4096);
      while (true) {
        Socket socket = listener.accept();
        Thread t = new Thread(null, () -> serve(socket, head, body), "conn", 128 * 1024);
        t.setDaemon(true);
        t.start();
      }
    }
  }

  /** Keep-alive: reads each request (head, then Content-Length bytes) and writes the whole answer. */
  static void serve(Socket socket, byte[] head, byte[] body) {
    try (socket; InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
      while (true) {
        StringBuilder requestHead = new StringBuilder();
        int c;
        while (!requestHead.toString().endsWith("\r\n\r\n")) {
          if ((c = in.read()) < 0) {
            return;
          }
          requestHead.append((char) c);
        }
        long length = 0;
        for (String line : requestHead.toString().split("\r\n")) {
          if (line.toLowerCase().startsWith("content-length:")) {
            length = Long.parseLong(line.substring(15).trim());
          }
        }
        in.skipNBytes(length);
        out.write(head);
        out.write(body);
        out.flush();
      }
    } catch (Exception e) {
      // the proxy closed the connection (its client went away): nothing to do
    }
  }

  static void clients(String target, int n, int seconds) throws Exception {
    String[] hostPort = target.split(":");
    InetSocketAddress address = new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));
    String json = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    byte[] request = ("POST /v1/chat/completions HTTP/1.1\r\nHost: " + target + "\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + json.length() + "\r\n\r\n" + json).getBytes(StandardCharsets.US_ASCII);
    List<SocketChannel> channels = new ArrayList<>();
    int failed = 0;
    for (int i = 0; i < n; i++) {
      try {
        SocketChannel ch = SocketChannel.open();
        ch.setOption(StandardSocketOptions.SO_RCVBUF, 4096); // small, so the proxy meets backpressure early
        ch.connect(address);
        ch.write(ByteBuffer.wrap(request));
        ch.configureBlocking(false);
        channels.add(ch);
      } catch (Exception e) {
        failed++;
      }
      if (i % 100 == 99) {
        Thread.sleep(100); // a gentle ramp: the listener's backlog is not what is measured
      }
    }
    ByteBuffer one = ByteBuffer.allocate(1);
    long read = 0;
    int closed = 0;
    for (int s = 0; s < seconds; s++) {
      long start = System.nanoTime();
      closed = 0;
      for (SocketChannel ch : channels) {
        one.clear();
        try {
          int r = ch.read(one);
          if (r > 0) {
            read += r;
          } else if (r < 0) {
            closed++;
          }
        } catch (Exception e) {
          closed++;
        }
      }
      Thread.sleep(Math.max(0, 1000 - (System.nanoTime() - start) / 1_000_000));
    }
    System.out.printf("clients=%d connect_failures=%d closed_by_proxy=%d bytes_read=%d%n", channels.size(), failed, closed, read);
    for (SocketChannel ch : channels) {
      ch.close();
    }
  }
}
