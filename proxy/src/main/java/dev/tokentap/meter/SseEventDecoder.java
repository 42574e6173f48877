package dev.tokentap.meter;

import static java.util.Objects.requireNonNull;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Splits the raw bytes of a {@code text/event-stream} body into events, following the WHATWG <a
 * href="https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation">
 * event stream interpretation</a> (research/wire-formats.md §1).
 *
 * <pre>
 * reads ─▶ feed(bytes) ─▶ lines (CR|LF|CRLF) ─▶ fields ─▶ blank line ─▶ Listener.onEvent
 * </pre>
 *
 * <p>It works on bytes and never decodes text: CR and LF never occur inside a multi-byte UTF-8
 * sequence, so a line cut between two reads is joined before anyone looks at it, and the listener
 * gets complete data to hand to a UTF-8 JSON parser. Lines and data are kept in reused, growable
 * buffers; nothing is allocated per byte or, once the buffers have grown, per event.
 *
 * <p>A proxy holds one decoder per open stream, thousands of them, so a decoder keeps no buffer it
 * does not need between reads: an event's data is gathered in a buffer shared by the decoders fed
 * on the same thread, and moves to an array of the decoder's own only when a read ends inside an
 * event (the next read goes on in that array, which is kept for the next such event). The line
 * buffer, too, is made only for a line cut between reads.
 *
 * <p>It also tracks absolute byte offsets so the relay can remove whole events from the stream
 * ({@link #completeUpTo()}, and the {@code start}/{@code end} passed to the listener).
 *
 * <p>Not thread-safe: one decoder per response, fed from one thread.
 */
public final class SseEventDecoder {

  /**
   * Receives dispatched events. The arrays are the decoder's own and valid only during the call.
   */
  public interface Listener {
    /**
     * One event.
     *
     * @param type the event type bytes; {@code typeLength == 0} means the default {@code message}
     * @param data the data buffer with the final LF removed (several {@code data:} lines joined
     *     with LF)
     * @param start absolute offset of the event's first field line (comments before it excluded)
     * @param end absolute offset just past the blank line that dispatched it
     */
    void onEvent(byte[] type, int typeLength, byte[] data, int dataLength, long start, long end);

    /**
     * The LF at {@code offset} completed a CRLF whose CR (the last byte of the previous read)
     * dispatched an event: that event's bytes really end at {@code offset + 1}.
     */
    default void onLineFeedAfterDispatch(long offset) {}
  }

  private static final byte CR = '\r';
  private static final byte LF = '\n';
  private static final int NOT_IN_EVENT = -1;

  /** Reads 8 bytes at a time to find line ends (SWAR); little-endian so byte 0 is the low byte. */
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private static final long LFS = 0x0A0A0A0A0A0A0A0AL;
  private static final long CRS = 0x0D0D0D0D0D0D0D0DL;
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;
  /** {@code word - BELOW_CR} borrows into the high bit of the lowest byte below 0x0E (CR + 1). */
  private static final long BELOW_CR = 0x0E0E0E0E0E0E0E0EL;
  private static final byte[] DATA = {'d', 'a', 't', 'a'};
  private static final byte[] EVENT = {'e', 'v', 'e', 'n', 't'};
  private static final byte[] ID = {'i', 'd'};
  private static final byte[] RETRY = {'r', 'e', 't', 'r', 'y'};

  private final Listener listener;
  private final int maxEventBytes;

  private static final byte[] EMPTY = new byte[0];

  /** Data gathered while {@link #feed} runs, per thread; a larger buffer an event needed is kept, up to this size. */
  private static final int MAX_SHARED_DATA = 64 * 1024;

  private static final ThreadLocal<SharedData> SHARED_DATA = ThreadLocal.withInitial(SharedData::new);

  private static final class SharedData {
    byte[] bytes = new byte[1024];
    /** A decoder's feed is using it (a listener that feeds another decoder gets none). */
    boolean inUse;
  }

  private byte[] line = EMPTY;
  private int lineLength;
  /** The thread's shared buffer while {@link #feed} runs, or this decoder's own while a read ended inside an event. */
  private byte[] data = EMPTY;
  private int dataLength;
  private SharedData shared;
  /** The thread of the last {@link #feed} and its shared data (see {@link #sharedData()}). */
  private Thread sharedThread;
  private SharedData sharedOfThread;
  /** This decoder's own data buffer: made the first time a read ended inside an event, kept for the next. */
  private byte[] ownData = EMPTY;
  private byte[] type = EMPTY;
  private int typeLength;
  private byte[] lastEventId = EMPTY;
  private int lastEventIdLength;
  private long retryMillis = -1;

  /** Some bytes of the pending line or event did not fit in {@link #maxEventBytes}. */
  private boolean truncated;

  private boolean eventTruncated;

  private long offset;
  private long lineStart;
  private long eventStart = NOT_IN_EVENT;
  private boolean firstLine = true;

  /** The previous read ended in a CR: an LF at the start of the next read belongs to it. */
  private boolean pendingCr;

  private boolean pendingCrDispatched;

  /**
   * @param maxEventBytes the most bytes kept of one line and of one event's data; beyond that the
   *     event is still dispatched, cut short, and {@link #eventTruncated()} says so
   */
  public SseEventDecoder(Listener listener, int maxEventBytes) {
    requireNonNull(listener, "listener");
    if (maxEventBytes < 1) {
      throw new IllegalArgumentException("maxEventBytes: " + maxEventBytes + " (expected: > 0)");
    }
    this.listener = listener;
    this.maxEventBytes = maxEventBytes;
  }

  /** Feeds the next bytes of the body; events they complete are dispatched before it returns. */
  public void feed(byte[] bytes, int from, int length) {
    if (dataLength == 0) {
      SharedData candidate = sharedData();
      if (!candidate.inUse) {
        candidate.inUse = true;
        shared = candidate;
        data = candidate.bytes;
      } else {
        data = ownData;
      }
    }
    try {
      decode(bytes, from, length);
    } finally {
      if (shared != null) {
        returnSharedData();
      } else {
        ownData = data; // fed in its own buffer (perhaps grown) all along
      }
    }
  }

  /**
   * The shared data of the feeding thread. A stream is fed from one event loop, so the thread is
   * nearly always the one of the last read, and comparing it is much cheaper than a {@code
   * ThreadLocal} lookup (a tenth of the meter's cost per event, in the profile of its benchmark).
   */
  private SharedData sharedData() {
    Thread current = Thread.currentThread();
    if (current != sharedThread) {
      sharedOfThread = SHARED_DATA.get();
      sharedThread = current;
    }
    return sharedOfThread;
  }

  /** At the end of a read: an unfinished event's data moves to this decoder's own buffer. */
  private void returnSharedData() {
    if (dataLength > 0) {
      if (data == shared.bytes) {
        ownData = ensure(ownData, dataLength);
        System.arraycopy(data, 0, ownData, 0, dataLength);
      } else {
        ownData = data; // grown past the shared buffer during this read: this decoder's now
      }
      data = ownData;
    } else {
      if (data != shared.bytes && data.length <= MAX_SHARED_DATA) {
        shared.bytes = data; // an event needed more: the next one may too
      }
      data = EMPTY;
    }
    shared.inUse = false;
    shared = null;
  }

  private void decode(byte[] bytes, int from, int length) {
    int end = from + length;
    int i = from;
    if (pendingCr && i < end) {
      pendingCr = false;
      if (bytes[i] == LF) {
        // The second half of a CRLF split across reads: one line end, not an extra blank line.
        i++;
        lineStart = offset + 1;
        if (pendingCrDispatched) {
          listener.onLineFeedAfterDispatch(offset);
        }
      }
    }
    long base = offset - from; // absolute offset of bytes[from] is offset; of bytes[j], base + j
    int segment = i;
    while ((i = indexOfLineEnd(bytes, i, end)) < end) {
      byte b = bytes[i];
      int terminator = 1;
      boolean crAtEnd = false;
      if (b == CR) {
        if (i + 1 < end) {
          terminator = bytes[i + 1] == LF ? 2 : 1;
        } else {
          crAtEnd = true;
        }
      }
      long lineEnd = base + i + terminator;
      boolean dispatched = completeLine(bytes, segment, i - segment, lineEnd);
      lineStart = lineEnd;
      if (crAtEnd) {
        pendingCr = true;
        pendingCrDispatched = dispatched;
      }
      i += terminator;
      segment = i;
    }
    if (segment < end) {
      appendLine(bytes, segment, end - segment);
    }
    offset = base + end;
  }

  /**
   * The body ended: an event without its closing blank line is discarded, as the spec says. The
   * decoder may be fed again afterwards as if a new stream started (without a BOM check).
   */
  public void finish() {
    lineLength = 0;
    dataLength = 0;
    data = EMPTY;
    typeLength = 0;
    truncated = false;
    eventTruncated = false;
    eventStart = NOT_IN_EVENT;
    pendingCr = false;
    lineStart = offset;
  }

  /** Bytes fed so far: the absolute offset of the next byte. */
  public long offset() {
    return offset;
  }

  /**
   * The absolute offset up to which every byte belongs to a dispatched event, a comment or a blank
   * line. Bytes after it are an incomplete line, or lines of an event not yet dispatched.
   */
  public long completeUpTo() {
    return eventStart != NOT_IN_EVENT ? eventStart : lineStart;
  }

  /** During {@link Listener#onEvent}: the event's data was cut at {@code maxEventBytes}. */
  public boolean eventTruncated() {
    return eventTruncated;
  }

  /** The last event ID as the spec defines it (never reset by dispatch), UTF-8 decoded. */
  public String lastEventId() {
    return new String(lastEventId, 0, lastEventIdLength, StandardCharsets.UTF_8);
  }

  /** The last valid {@code retry:} value in milliseconds, or {@code -1}. */
  public long retryMillis() {
    return retryMillis;
  }

  /** Returns whether the line dispatched an event. */
  private boolean completeLine(byte[] bytes, int from, int length, long lineEnd) {
    byte[] source = bytes;
    int start = from;
    int size = length;
    if (lineLength > 0 || truncated) {
      appendLine(bytes, from, length);
      source = line;
      start = 0;
      size = lineLength;
    }
    long absoluteStart = lineStart;
    if (firstLine) {
      firstLine = false;
      if (size >= 3
          && source[start] == (byte) 0xEF
          && source[start + 1] == (byte) 0xBB
          && source[start + 2] == (byte) 0xBF) {
        // One leading U+FEFF is dropped; its bytes are kept out of the first event's range too.
        start += 3;
        size -= 3;
        absoluteStart += 3;
      }
    }
    boolean lineTruncated = truncated;
    lineLength = 0;
    truncated = false;
    return processLine(source, start, size, lineTruncated, absoluteStart, lineEnd);
  }

  private boolean processLine(
      byte[] bytes, int from, int length, boolean lineTruncated, long absoluteStart, long lineEnd) {
    if (length == 0) {
      return dispatch(lineEnd);
    }
    if (bytes[from] == ':') {
      return false; // comment (keep-alive)
    }
    if (eventStart == NOT_IN_EVENT) {
      eventStart = absoluteStart;
    }
    int end = from + length;
    int colon = from;
    while (colon < end && bytes[colon] != ':') {
      colon++;
    }
    int nameLength = colon - from;
    int value = colon < end ? colon + 1 : end;
    if (value < end && bytes[value] == ' ') {
      value++; // exactly one leading space is part of the syntax, the rest is data
    }
    int valueLength = end - value;
    if (is(bytes, from, nameLength, DATA)) {
      appendData(bytes, value, valueLength);
      appendData(LF);
      if (lineTruncated) {
        eventTruncated = true;
      }
    } else if (is(bytes, from, nameLength, EVENT)) {
      type = store(type, bytes, value, valueLength);
      typeLength = Math.min(valueLength, maxEventBytes);
    } else if (is(bytes, from, nameLength, ID)) {
      if (!contains(bytes, value, valueLength, (byte) 0)) {
        lastEventId = store(lastEventId, bytes, value, valueLength);
        lastEventIdLength = Math.min(valueLength, maxEventBytes);
      }
    } else if (is(bytes, from, nameLength, RETRY)) {
      setRetry(bytes, value, valueLength);
    }
    return false; // unknown fields are ignored; field names are case-sensitive
  }

  private boolean dispatch(long lineEnd) {
    long start = eventStart;
    eventStart = NOT_IN_EVENT;
    if (dataLength == 0) {
      // No data line: nothing is dispatched and the type is forgotten.
      typeLength = 0;
      eventTruncated = false;
      return false;
    }
    int length = dataLength - 1; // every data line appended an LF; the last one is removed
    try {
      listener.onEvent(type, typeLength, data, length, start, lineEnd);
    } finally {
      dataLength = 0;
      typeLength = 0;
      eventTruncated = false;
    }
    return true;
  }

  private void appendLine(byte[] bytes, int from, int length) {
    int room = maxEventBytes - lineLength;
    int take = Math.min(room, length);
    if (take < length) {
      truncated = true;
    }
    if (take <= 0) {
      return;
    }
    line = ensure(line, lineLength + take);
    System.arraycopy(bytes, from, line, lineLength, take);
    lineLength += take;
  }

  private void appendData(byte[] bytes, int from, int length) {
    int take = Math.min(maxEventBytes - dataLength, length);
    if (take < length) {
      eventTruncated = true;
    }
    if (take <= 0) {
      return;
    }
    data = ensure(data, dataLength + take);
    System.arraycopy(bytes, from, data, dataLength, take);
    dataLength += take;
  }

  private void appendData(byte b) {
    // The LF after each data line is always kept, so the event is dispatched even when cut.
    data = ensure(data, dataLength + 1);
    data[dataLength++] = b;
  }

  private void setRetry(byte[] bytes, int from, int length) {
    if (length == 0 || length > 18) {
      return;
    }
    long value = 0;
    for (int i = from; i < from + length; i++) {
      int digit = bytes[i] - '0';
      if (digit < 0 || digit > 9) {
        return; // only all-ASCII-digit values are used
      }
      value = value * 10 + digit;
    }
    retryMillis = value;
  }

  private byte[] store(byte[] target, byte[] bytes, int from, int length) {
    int take = Math.min(length, maxEventBytes);
    byte[] out = ensure(target, take);
    System.arraycopy(bytes, from, out, 0, take);
    return out;
  }

  private static byte[] ensure(byte[] buffer, int size) {
    if (size <= buffer.length) {
      return buffer;
    }
    int grown = Math.max(size, Math.max(16, buffer.length * 2));
    return Arrays.copyOf(buffer, grown);
  }

  /**
   * The index of the first CR or LF in {@code bytes[from, end)}, or {@code end}. A chunk is a few
   * hundred bytes with two line ends, so the scan is most of the framing work: it tests 8 bytes per
   * step. A word is first tested for any byte below 0x0E ("has a byte less than", one subtraction):
   * that never misses a CR or LF, and JSON data has no raw control bytes, so a word that passes
   * almost always holds a line end. Only then is it tested exactly, with the "has a zero byte"
   * trick on {@code word ^ 0x0A…} and {@code word ^ 0x0D…}. Both tricks may flag bytes above a real
   * match, never below one, so the lowest flag is exact.
   */
  static int indexOfLineEnd(byte[] bytes, int from, int end) {
    int i = from;
    for (; i + Long.BYTES <= end; i += Long.BYTES) {
      long word = (long) LONGS.get(bytes, i);
      if (((word - BELOW_CR) & ~word & HIGHS) == 0) {
        continue; // no byte below 0x0E in these eight: the common case, one test
      }
      long lf = word ^ LFS;
      long cr = word ^ CRS;
      long found = (((lf - ONES) & ~lf) | ((cr - ONES) & ~cr)) & HIGHS;
      if (found != 0) {
        return i + (Long.numberOfTrailingZeros(found) >>> 3);
      }
    }
    for (; i < end; i++) {
      if (bytes[i] == LF || bytes[i] == CR) {
        return i;
      }
    }
    return end;
  }

  private static boolean contains(byte[] bytes, int from, int length, byte b) {
    for (int i = from; i < from + length; i++) {
      if (bytes[i] == b) {
        return true;
      }
    }
    return false;
  }

  private static boolean is(byte[] bytes, int from, int length, byte[] name) {
    if (length != name.length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (bytes[from + i] != name[i]) {
        return false;
      }
    }
    return true;
  }
}
