package dev.tokentap.meter;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * Splits an {@code application/x-ndjson} body (Ollama's native API) into lines, one JSON object
 * each (https://github.com/ndjson/ndjson-spec: lines end in LF, a CR before it is JSON whitespace).
 * Blank lines are skipped. The relay chooses this framing by {@code Content-Type}, never by looking
 * at the bytes (research/wire-formats.md §13.1).
 *
 * <p>Like {@link SseEventDecoder} it works on bytes and keeps a partial line across reads in one
 * reused, growable buffer; a line is handed over only when its LF arrives, as an event with no
 * type. A line without its LF at the end of a complete body is handed over too (a writer need not
 * end the last line), but not when the body broke: that line may be cut.
 *
 * <p>Not thread-safe: one decoder per response, fed from one thread.
 */
final class NdjsonLineDecoder {
  private static final byte LF = '\n';
  private static final byte[] NO_TYPE = new byte[0];

  private final SseEventDecoder.Listener listener;
  private final int maxLineBytes;

  private byte[] line = new byte[512];
  private int lineLength;
  private boolean truncated;
  private boolean lineTruncated;
  private long offset;
  private long lineStart;

  NdjsonLineDecoder(SseEventDecoder.Listener listener, int maxLineBytes) {
    this.listener = requireNonNull(listener, "listener");
    this.maxLineBytes = maxLineBytes;
  }

  void feed(byte[] bytes, int from, int length) {
    int end = from + length;
    int segment = from;
    long base = offset - from; // absolute offset of bytes[j] is base + j
    for (int i = from; i < end; i++) {
      if (bytes[i] == LF) {
        // Lines are copied into one buffer: the listener reads data from index 0.
        append(bytes, segment, i - segment);
        dispatch(base + i + 1);
        segment = i + 1;
      }
    }
    if (segment < end) {
      append(bytes, segment, end - segment);
    }
    offset = base + end;
  }

  /** The body ended; {@code complete}: cleanly, so an unterminated last line is a line. */
  void finish(boolean complete) {
    if (complete && (lineLength > 0 || truncated)) {
      dispatch(offset);
    }
    lineLength = 0;
    truncated = false;
    lineStart = offset;
  }

  /** Bytes fed so far: the absolute offset of the next byte. */
  long offset() {
    return offset;
  }

  /** The absolute offset up to which every byte belongs to a complete line. */
  long completeUpTo() {
    return lineStart;
  }

  /** During {@link SseEventDecoder.Listener#onEvent}: the line was cut at the size limit. */
  boolean eventTruncated() {
    return lineTruncated;
  }

  private void dispatch(long lineEnd) {
    long start = lineStart;
    int length = lineLength;
    lineStart = lineEnd;
    lineTruncated = truncated;
    lineLength = 0;
    truncated = false;
    try {
      if (lineTruncated || !Bytes.isBlank(line, 0, length)) {
        listener.onEvent(NO_TYPE, 0, line, length, start, lineEnd);
      }
    } finally {
      lineTruncated = false;
    }
  }

  private void append(byte[] bytes, int from, int length) {
    int take = Math.min(maxLineBytes - lineLength, length);
    if (take < length) {
      truncated = true;
    }
    if (take <= 0) {
      return;
    }
    if (lineLength + take > line.length) {
      line = Arrays.copyOf(line, Math.max(lineLength + take, line.length * 2));
    }
    System.arraycopy(bytes, from, line, lineLength, take);
    lineLength += take;
  }
}
