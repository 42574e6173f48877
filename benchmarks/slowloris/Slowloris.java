import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The two kinds of client of benchmarks/slowloris/run.sh, run as a single-file program (java Slowloris.java).
 *
 * <pre>
 *   normal HOST:PORT M CONC      M streaming chat requests (max_tokens 32), CONC at a time, each on its
 *                                own connection; prints one line: count, failures, TTFT and E2E p50/p99
 *                                (ms, client side; TTFT is the first data: line with non-empty content)
 *   attack HOST:PORT N SECONDS   N connections that each send a request head one byte a second and
 *                                never finish it; writes "opened N" once all are connected, then, when
 *                                all are closed by the server or after SECONDS, one line per connection
 *                                (lifetime in seconds, or "open", and the first line of what the server
 *                                answered) and a summary line
 * </pre>
 */
public final class Slowloris {
  public static void main(String[] args) throws Exception {
    String[] hostPort = args[1].split(":");
    InetSocketAddress address = new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));
    if (args[0].equals("normal")) {
      normal(address, args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
    } else {
      attack(address, args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
    }
  }

  // ---- normal requests ----

  static void normal(InetSocketAddress address, String target, int m, int conc) throws Exception {
    String json = "{\"model\":\"m\",\"stream\":true,\"max_tokens\":32,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    byte[] request = ("POST /v1/chat/completions HTTP/1.1\r\nHost: " + target + "\r\nContent-Type: application/json\r\n"
        + "Accept: text/event-stream\r\nConnection: close\r\nContent-Length: " + json.length() + "\r\n\r\n" + json)
        .getBytes(StandardCharsets.US_ASCII);
    ExecutorService pool = Executors.newFixedThreadPool(conc);
    AtomicInteger next = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    double[] ttft = new double[m];
    double[] e2e = new double[m];
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < conc; w++) {
      workers.add(pool.submit(() -> {
        int i;
        while ((i = next.getAndIncrement()) < m) {
          ttft[i] = e2e[i] = Double.NaN;
          long start = System.nanoTime();
          try (Socket socket = new Socket()) {
            socket.setSoTimeout(60_000);
            socket.connect(address, 10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            String status = in.readLine();
            if (status == null || !status.startsWith("HTTP/1.1 200")) {
              failures.incrementAndGet();
              continue;
            }
            String line;
            boolean done = false;
            while ((line = in.readLine()) != null) { // chunk sizes and CRLFs come through as lines too: ignored
              if (line.startsWith("data:")) {
                if (Double.isNaN(ttft[i]) && hasContent(line)) {
                  ttft[i] = (System.nanoTime() - start) / 1e6;
                }
                if (line.contains("[DONE]")) {
                  done = true;
                  break;
                }
              }
            }
            if (done && !Double.isNaN(ttft[i])) {
              e2e[i] = (System.nanoTime() - start) / 1e6;
            } else {
              ttft[i] = Double.NaN;
              failures.incrementAndGet();
            }
          } catch (Exception e) {
            ttft[i] = Double.NaN;
            failures.incrementAndGet();
          }
        }
        return null;
      }));
    }
    for (Future<?> w : workers) {
      w.get();
    }
    pool.shutdown();
    double[] t = Arrays.stream(ttft).filter(d -> !Double.isNaN(d)).sorted().toArray();
    double[] e = Arrays.stream(e2e).filter(d -> !Double.isNaN(d)).sorted().toArray();
    System.out.printf("requests=%d failures=%d ttft_p50=%.1f ttft_p99=%.1f e2e_p50=%.1f e2e_p99=%.1f%n",
        m, failures.get(), pct(t, 50), pct(t, 99), pct(e, 50), pct(e, 99));
  }

  /** A data: line whose delta has a non-empty "content" (the role-only first chunk has none). */
  static boolean hasContent(String line) {
    int at = line.indexOf("\"content\":\"");
    return at >= 0 && line.length() > at + 11 && line.charAt(at + 11) != '"';
  }

  /** Nearest-rank percentile of a sorted array; NaN when empty. */
  static double pct(double[] sorted, int p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  // ---- slowloris ----

  static final class Conn {
    SocketChannel ch;
    long opened;
    long closed = -1;
    int sent;
    StringBuilder answer = new StringBuilder();
  }

  static void attack(InetSocketAddress address, String target, int n, int seconds) throws Exception {
    // A head that never ends: a request line, Host, then one header value that grows forever
    // (at a byte a second it stays far under any header-size limit for the length of a run).
    byte[] head = ("POST /v1/chat/completions HTTP/1.1\r\nHost: " + target + "\r\nX-Slow: ").getBytes(StandardCharsets.US_ASCII);
    List<Conn> conns = new ArrayList<>();
    int failed = 0;
    for (int i = 0; i < n; i++) {
      Conn c = new Conn();
      try {
        c.ch = SocketChannel.open();
        c.ch.connect(address);
        c.ch.configureBlocking(false);
        c.opened = System.nanoTime();
        conns.add(c);
      } catch (Exception e) {
        failed++;
      }
    }
    System.out.println("opened " + conns.size() + " connect_failures=" + failed);
    System.out.flush();
    long start = System.nanoTime();
    long deadline = start + seconds * 1_000_000_000L;
    ByteBuffer buf = ByteBuffer.allocate(4096);
    int open = conns.size();
    long nextWrite = start;
    while (open > 0 && System.nanoTime() < deadline) {
      boolean write = System.nanoTime() >= nextWrite;
      if (write) {
        nextWrite += 1_000_000_000L;
      }
      for (Conn c : conns) {
        if (c.closed >= 0) {
          continue;
        }
        boolean gone = false;
        try {
          buf.clear();
          int r;
          while ((r = c.ch.read(buf)) > 0) { // whatever the server answered (a 408?) before it closes
            if (c.answer.length() < 200) {
              c.answer.append(new String(buf.array(), 0, r, StandardCharsets.ISO_8859_1));
            }
            buf.clear();
          }
          if (r < 0) {
            gone = true;
          } else if (write) {
            byte b = c.sent < head.length ? head[c.sent] : (byte) 'a';
            c.ch.write(ByteBuffer.wrap(new byte[] {b}));
            c.sent++;
          }
        } catch (Exception e) { // reset
          gone = true;
        }
        if (gone) {
          c.closed = System.nanoTime();
          open--;
          try {
            c.ch.close();
          } catch (Exception ignored) {
            // closing
          }
        }
      }
      Thread.sleep(50);
    }
    int closedByServer = 0;
    int answered408 = 0;
    List<Double> lifetimes = new ArrayList<>();
    for (Conn c : conns) {
      String first = c.answer.length() == 0 ? "-" : c.answer.toString().split("\r\n", 2)[0];
      if (first.startsWith("HTTP/1.1 408")) {
        answered408++;
      }
      if (c.closed >= 0) {
        closedByServer++;
        double life = (c.closed - c.opened) / 1e9;
        lifetimes.add(life);
        System.out.printf("conn lifetime_s=%.2f sent=%d answer=%s%n", life, c.sent, first.replace(' ', '_'));
      } else {
        System.out.printf("conn lifetime_s=open sent=%d answer=%s%n", c.sent, first.replace(' ', '_'));
        c.ch.close();
      }
    }
    double[] l = lifetimes.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    System.out.printf("attack connections=%d connect_failures=%d closed_by_server=%d answered_408=%d lifetime_min=%.1f lifetime_p50=%.1f lifetime_max=%.1f%n",
        conns.size(), failed, closedByServer, answered408,
        l.length == 0 ? Double.NaN : l[0], pct(l, 50), l.length == 0 ? Double.NaN : l[l.length - 1]);
  }
}
