package dev.tokentap.emulator;

import static java.util.Objects.requireNonNull;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The emulator's own account of each finished generation request, one JSON line each ({@code
 * tokentap emulate --request-log FILE}), so that what a client measured can be checked against
 * what the server did:
 *
 * <pre>{@code
 * {"route":"chat","stream":true,"finish_reason":"stop","prompt_tokens":16,"completion_tokens":8,
 *  "arrival_unix_ms":1764755000123.456,"ttft_ms":80.112,"e2e_ms":164.190}
 * }</pre>
 *
 * {@code ttft_ms} runs from the moment the whole request had been read to the moment the first
 * output token was handed to the socket, {@code e2e_ms} to the last one (null without output).
 * Lines are written and flushed by the event loops as requests finish, under a lock: a diagnostic
 * for runs of a few thousand requests a second at most.
 */
public final class RequestLog implements Consumer<EmulatedRequest>, AutoCloseable {

  private final BufferedWriter out;
  // nanoTime and the wall clock, read together once, to give each arrival a wall-clock time.
  private final long originNanos = System.nanoTime();
  private final double originUnixMillis = System.currentTimeMillis();

  private RequestLog(BufferedWriter out) {
    this.out = out;
  }

  /** Creates or truncates {@code file}. */
  public static RequestLog open(Path file) throws IOException {
    requireNonNull(file, "file");
    return new RequestLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8));
  }

  @Override
  public void accept(EmulatedRequest r) {
    String line =
        String.format(
            Locale.ROOT,
            "{\"route\":\"%s\",\"stream\":%s,\"finish_reason\":\"%s\",\"prompt_tokens\":%d,"
                + "\"completion_tokens\":%d,\"arrival_unix_ms\":%.3f,\"ttft_ms\":%s,\"e2e_ms\":%s}",
            r.route(),
            r.stream(),
            r.finishReason(),
            r.promptTokens(),
            r.completionTokens(),
            originUnixMillis + (r.arrivalNanos() - originNanos) / 1e6,
            millisSince(r.arrivalNanos(), r.firstTokenNanos()),
            millisSince(r.arrivalNanos(), r.lastTokenNanos()));
    synchronized (out) {
      try {
        out.write(line);
        out.newLine();
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static String millisSince(long fromNanos, long toNanos) {
    return toNanos < 0 ? "null" : String.format(Locale.ROOT, "%.3f", (toNanos - fromNanos) / 1e6);
  }

  @Override
  public void close() throws IOException {
    synchronized (out) {
      out.close();
    }
  }
}
