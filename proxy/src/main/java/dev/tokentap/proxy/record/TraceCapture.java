package dev.tokentap.proxy.record;

import com.fasterxml.jackson.core.JsonEncoding;
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

/**
 * Trace capture: one {@link CaptureRecord} line per finished production request (role {@code
 * primary}; shadow copies and bench requests are not traffic to replay), appended to {@code
 * tokentap.capture.file} and rotated by size.
 *
 * <p>Like the access log, it is written off the event loops ({@link QueuedLineWriter}); the
 * writer thread also hashes the prompt head. Lines dropped because the writer fell behind or could
 * not write count in {@code tokentap_capture_dropped_total}, written ones in {@code
 * tokentap_capture_records_total}.
 */
public final class TraceCapture extends QueuedLineWriter {
  private final Settings.Capture settings;
  private final long startNanos = System.nanoTime();
  private final Counter written;
  private CountingStream out;

  /** Opens (creates or appends to) the file; a file that cannot be opened is a settings error. */
  public TraceCapture(Settings.Capture settings, MeterRegistry registry) {
    super(settings.queueSize(), Counter.builder("tokentap.capture.dropped")
        .description("Trace-capture records dropped because the writer fell behind or could not write")
        .register(registry), "tokentap-capture");
    this.settings = settings;
    try {
      this.out = open(settings.file());
    } catch (IOException e) {
      throw new SettingsException("tokentap.capture.file: \"" + settings.file() + "\" (expected: a file tokentap can create or append to; "
          + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
    }
    this.written = Counter.builder("tokentap.capture.records")
        .description("Trace-capture records written")
        .register(registry);
    start();
  }

  @Override
  boolean accepts(FinishedRequest request) {
    return request.role() == Role.PRIMARY;
  }

  @Override
  void write(FinishedRequest request) throws IOException {
    writeLine(CaptureRecord.of(request, startNanos));
    written.increment();
  }

  @Override
  void flush() throws IOException {
    out.flush();
  }

  private void writeLine(CaptureRecord record) throws IOException {
    if (out.count >= settings.maxFileSize()) {
      rotate();
    }
    JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8);
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
  void closeOutput() throws IOException {
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
