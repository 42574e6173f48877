package dev.tokentap.proxy.record;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
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
  private final Counter records;
  private OutputStream out;
  /** Bytes in the current file, counted so rotation needs no stat per batch. */
  private long fileBytes;

  /** Opens (creates or appends to) the file; a file that cannot be opened is a settings error. */
  public TraceCapture(Settings.Capture settings, MeterRegistry registry) {
    super(settings.queueSize(), Counter.builder("tokentap.capture.dropped")
        .description("Trace-capture records dropped because the writer fell behind or could not write")
        .register(registry), "tokentap-capture");
    this.settings = settings;
    try {
      this.out = open(settings.file());
      this.fileBytes = Files.size(settings.file());
    } catch (IOException e) {
      throw new SettingsException("tokentap.capture.file: \"" + settings.file() + "\" (expected: a file tokentap can create or append to; "
          + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
    }
    this.records = Counter.builder("tokentap.capture.records")
        .description("Trace-capture records written")
        .register(registry);
    start();
  }

  @Override
  boolean accepts(FinishedRequest request) {
    return request.role() == Role.PRIMARY;
  }

  @Override
  void format(FinishedRequest request, OutputStream to) throws IOException {
    JsonGenerator g = JSON.createGenerator(to, JsonEncoding.UTF8);
    CaptureRecord.of(request, startNanos).write(g);
    g.writeRaw('\n');
    g.close();
  }

  /** The file is rotated before the line that finds it at its size or past it. */
  @Override
  boolean writeBefore(int pendingBytes) {
    return fileBytes + pendingBytes >= settings.maxFileSize();
  }

  @Override
  void writeOut(byte[] bytes, int length) throws IOException {
    if (fileBytes >= settings.maxFileSize()) {
      rotate();
    }
    out.write(bytes, 0, length);
    fileBytes += length;
  }

  @Override
  void written(int lines) {
    records.increment(lines);
  }

  /** file → file.1 → … → file.(max-files − 1), the oldest deleted; then a fresh file. */
  private void rotate() throws IOException {
    out.close(); // should a step below fail, fileBytes still says to rotate, and the next batch tries again
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
    fileBytes = Files.size(file);
  }

  private static Path sibling(Path file, int i) {
    return file.resolveSibling(file.getFileName() + "." + i);
  }

  private static OutputStream open(Path file) throws IOException {
    return Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
  }

  @Override
  void closeOutput() throws IOException {
    out.close();
  }
}
