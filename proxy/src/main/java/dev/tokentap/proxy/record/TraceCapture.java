package dev.tokentap.proxy.record;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * Trace capture: one {@link CaptureRecord} line per finished production request (role {@code
 * primary}; shadow copies and bench requests are not traffic to replay), appended to {@code
 * tokentap.capture.file} and rotated by size.
 *
 * <p>Like the access log, event loops only enqueue; one daemon thread hashes the prompt head,
 * formats and writes. A full queue drops the line and counts it ({@code
 * tokentap_capture_dropped_total}); written lines count in {@code tokentap_capture_records_total}.
 */
public final class TraceCapture implements RequestListener, AutoCloseable {
  private static final JsonFactory JSON = new JsonFactory();
  private static final FinishedRequest POISON = new FinishedRequest(null, null, null, null, null, 0, 0, 0, 0, 0, 0, null, null, 0, 0, null, 0);

  private final Settings.Capture settings;
  private final BlockingQueue<FinishedRequest> queue;
  private final long startNanos = System.nanoTime();
  private final Counter written;
  private final Counter dropped;
  private final Thread writer;
  private CountingStream out;

  /** Opens (creates or appends to) the file; a file that cannot be opened is a settings error. */
  public TraceCapture(Settings.Capture settings, MeterRegistry registry) {
    this.settings = settings;
    this.queue = new ArrayBlockingQueue<>(settings.queueSize());
    try {
      this.out = open(settings.file());
    } catch (IOException e) {
      throw new SettingsException("tokentap.capture.file: \"" + settings.file() + "\" (expected: a file tokentap can create or append to; "
          + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
    }
    this.written = Counter.builder("tokentap.capture.records")
        .description("Trace-capture records written")
        .register(registry);
    this.dropped = Counter.builder("tokentap.capture.dropped")
        .description("Trace-capture records dropped because the writer fell behind")
        .register(registry);
    this.writer = new Thread(this::drain, "tokentap-capture");
    writer.setDaemon(true);
    writer.start();
  }

  @Override
  public void onFinished(FinishedRequest request) {
    if (request.role() != Role.PRIMARY) {
      return;
    }
    if (!queue.offer(request)) {
      dropped.increment();
    }
  }

  private void drain() {
    try {
      while (true) {
        FinishedRequest r = queue.take();
        if (r == POISON) {
          out.flush();
          return;
        }
        try {
          write(CaptureRecord.of(r, startNanos));
          written.increment();
          if (queue.isEmpty()) {
            out.flush();
          }
        } catch (IOException | RuntimeException e) {
          // A full disk must not stop the proxy; the record is lost and counted.
          dropped.increment();
          LoggerFactory.getLogger(TraceCapture.class).warn("trace capture: cannot write {}", settings.file(), e);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      LoggerFactory.getLogger(TraceCapture.class).warn("trace capture: cannot flush {}", settings.file(), e);
    }
  }

  private void write(CaptureRecord record) throws IOException {
    if (out.count >= settings.maxFileSize()) {
      rotate();
    }
    JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8);
    g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
    record.write(g);
    g.writeRaw('\n');
    g.close();
  }

  /** file → file.1 → … → file.(max-files − 1), the oldest deleted; then a fresh file. */
  private void rotate() throws IOException {
    out.close();
    Path file = settings.file();
    int keep = settings.maxFiles() - 1;
    if (keep == 0) {
      Files.deleteIfExists(file);
    } else {
      Files.deleteIfExists(sibling(file, keep));
      for (int i = keep - 1; i >= 1; i--) {
        if (Files.exists(sibling(file, i))) {
          Files.move(sibling(file, i), sibling(file, i + 1), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      Files.move(file, sibling(file, 1), StandardCopyOption.REPLACE_EXISTING);
    }
    out = open(file);
  }

  private static Path sibling(Path file, int i) {
    return file.resolveSibling(file.getFileName() + "." + i);
  }

  private static CountingStream open(Path file) throws IOException {
    OutputStream s = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    return new CountingStream(new BufferedOutputStream(s, 64 * 1024), Files.size(file));
  }

  @Override
  public void close() throws InterruptedException, IOException {
    // Records already queued are written first; the writer stops at the marker.
    queue.offer(POISON, 2, TimeUnit.SECONDS);
    writer.join(TimeUnit.SECONDS.toMillis(2));
    out.close();
  }

  /** Counts bytes written so rotation needs no stat per line. */
  private static final class CountingStream extends java.io.FilterOutputStream {
    long count;

    CountingStream(OutputStream out, long count) {
      super(out);
      this.count = count;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }
}
