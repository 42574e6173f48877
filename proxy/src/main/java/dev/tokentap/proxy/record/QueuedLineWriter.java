package dev.tokentap.proxy.record;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamWriteFeature;
import io.micrometer.core.instrument.Counter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.LoggerFactory;

/**
 * One line per finished request, written off the event loops: they only enqueue, and one daemon
 * thread formats and writes. A full queue drops the request and counts it instead of stalling the
 * relay; so does a line that cannot be written (a full disk must not stop the proxy, nor the
 * writer thread). The access log and trace capture are its two kinds.
 *
 * <p>Under load the writer takes lines in batches: when the queue runs empty it flushes and looks
 * again {@value #BATCH_MILLIS} ms later, instead of blocking, so an event loop's enqueue never has
 * a sleeping thread to wake (a futex call and a context switch per request, which at low load
 * cost as much as formatting the line). Only after {@value #IDLE_MILLIS} ms without a line does it
 * block until the next one. A line reaches its destination at most {@value #BATCH_MILLIS} ms
 * after its request finished, plus the time to write the lines before it.
 *
 * <p>Lines are formatted whole and gathered in one batch of up to {@value #BATCH_BYTES} bytes,
 * written to the destination in one call (a longer line is written alone): no line is ever split
 * between two writes, where other output to the same stream could come between. A batch the
 * destination refuses (a full disk) is dropped whole, every line of it counted, and never written
 * later. The warning says so at most once a minute, with the lines dropped since the last one.
 */
abstract class QueuedLineWriter implements RequestListener, AutoCloseable {
  static final long BATCH_MILLIS = 10;
  static final long IDLE_MILLIS = 1000;
  /** The most bytes written in one call; also the buffer kept between batches. */
  static final int BATCH_BYTES = 64 * 1024;
  private static final long WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
  /**
   * Generators for the lines: each writes into the writer's line buffer and leaves it open and
   * unflushed.
   */
  static final JsonFactory JSON = JsonFactory.builder()
      .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
      .disable(StreamWriteFeature.FLUSH_PASSED_TO_STREAM)
      .build();
  private static final FinishedRequest POISON = new FinishedRequest(null, null, null, null, null, 0, 0, 0, 0, 0, 0, null, null, 0, 0, null, 0);

  private final BlockingQueue<FinishedRequest> queue;
  private final Counter dropped;
  private final String name;
  private final Thread writer;
  private Bytes line = new Bytes(1024);
  private Bytes batch = new Bytes(BATCH_BYTES);
  private int batchLines;
  private long lastWarnNanos = System.nanoTime() - WARN_EVERY_NANOS; // the first drop warns at once
  private long droppedSinceWarning;

  /** @param name the writer thread's name, also used in the warning a failed write logs */
  QueuedLineWriter(int queueSize, Counter dropped, String name) {
    this.queue = new ArrayBlockingQueue<>(queueSize);
    this.dropped = dropped;
    this.name = name;
    this.writer = new Thread(this::drain, name);
    writer.setDaemon(true);
  }

  /** Starts the writer thread; called by a subclass once its own fields are set. */
  final void start() {
    writer.start();
  }

  /** Whether this writer keeps {@code request} at all (checked on the event loop, so cheap). */
  boolean accepts(FinishedRequest request) {
    return true;
  }

  /** Formats one line, its newline included, into {@code to}; on the writer thread. */
  abstract void format(FinishedRequest request, OutputStream to) throws IOException;

  /** Writes whole lines to the destination and flushes them; on the writer thread. */
  abstract void writeOut(byte[] bytes, int length) throws IOException;

  /**
   * Whether the lines gathered so far ({@code pendingBytes}) must be written before the next one is
   * added: a destination that rotates by size says so when they would take it past its size.
   */
  boolean writeBefore(int pendingBytes) {
    return false;
  }

  /** {@code lines} reached the destination. */
  void written(int lines) {}

  /** Releases the destination after the last line; on the closing thread. */
  abstract void closeOutput() throws IOException;

  @Override
  public final void onFinished(FinishedRequest request) {
    if (accepts(request) && !queue.offer(request)) {
      dropped.increment();
    }
  }

  private void drain() {
    try {
      long lastLine = System.nanoTime();
      while (true) {
        FinishedRequest r = queue.poll();
        if (r == null) {
          writeBatch();
          if (System.nanoTime() - lastLine < TimeUnit.MILLISECONDS.toNanos(IDLE_MILLIS)) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(BATCH_MILLIS));
            continue;
          }
          r = queue.take(); // idle: block, and the next enqueue wakes this thread
        }
        lastLine = System.nanoTime();
        if (r == POISON) {
          writeBatch();
          return;
        }
        add(r);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Formats {@code r} and adds it to the batch, writing the batch first when the line would not fit. */
  private void add(FinishedRequest r) {
    line.reset();
    try {
      format(r, line);
    } catch (IOException | RuntimeException e) {
      drop(1, "cannot format a line", e);
      return;
    }
    if (batchLines > 0 && (batch.size() + line.size() > BATCH_BYTES || writeBefore(batch.size()))) {
      writeBatch();
    }
    batch.write(line.array(), 0, line.size());
    batchLines++;
    if (batch.size() >= BATCH_BYTES) {
      writeBatch(); // a line as long as a batch goes alone
    }
    if (line.array().length > BATCH_BYTES) {
      line = new Bytes(1024); // a long line's buffer is not kept
    }
  }

  /** Writes the batch; refused, its lines are dropped and counted, never written later. */
  private void writeBatch() {
    if (batchLines == 0) {
      return;
    }
    int lines = batchLines;
    try {
      writeOut(batch.array(), batch.size());
      written(lines);
    } catch (IOException | RuntimeException e) {
      drop(lines, "cannot write", e);
    } finally {
      batchLines = 0;
      if (batch.array().length > BATCH_BYTES) {
        batch = new Bytes(BATCH_BYTES);
      } else {
        batch.reset();
      }
    }
  }

  private void drop(int lines, String what, Exception e) {
    dropped.increment(lines);
    droppedSinceWarning += lines;
    long now = System.nanoTime();
    if (now - lastWarnNanos >= WARN_EVERY_NANOS) {
      LoggerFactory.getLogger(getClass()).warn("{}: {}; {} line(s) dropped since the last warning (next warning in a minute at the earliest)",
          name, what, droppedSinceWarning, e);
      lastWarnNanos = now;
      droppedSinceWarning = 0;
    }
  }

  @Override
  public void close() throws InterruptedException, IOException {
    // Lines already queued are written first; the writer stops at the marker.
    queue.offer(POISON, 2, TimeUnit.SECONDS);
    writer.join(TimeUnit.SECONDS.toMillis(2));
    try {
      closeOutput();
    } catch (IOException e) { // every written line was flushed: only the close itself failed
      LoggerFactory.getLogger(getClass()).warn("{}: cannot close the destination", name, e);
    }
  }

  /** A ByteArrayOutputStream whose bytes are read in place. */
  private static final class Bytes extends ByteArrayOutputStream {
    Bytes(int size) {
      super(size);
    }

    byte[] array() {
      return buf;
    }
  }
}
