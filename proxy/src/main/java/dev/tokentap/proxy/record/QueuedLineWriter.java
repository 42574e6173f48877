package dev.tokentap.proxy.record;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamWriteFeature;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
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
 */
abstract class QueuedLineWriter implements RequestListener, AutoCloseable {
  static final long BATCH_MILLIS = 10;
  static final long IDLE_MILLIS = 1000;
  /**
   * Generators for the lines: each writes into the writer's buffered stream and leaves it open and
   * unflushed, so a batch of lines is one write to the destination.
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

  /** Formats and writes one line; on the writer thread. */
  abstract void write(FinishedRequest request) throws IOException;

  /** Flushes what was written; called when the queue runs empty after a write, and at close. */
  abstract void flush() throws IOException;

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
      boolean unflushed = false;
      while (true) {
        FinishedRequest r = queue.poll();
        if (r == null) {
          if (unflushed) {
            flushBatch();
            unflushed = false;
          }
          if (System.nanoTime() - lastLine < TimeUnit.MILLISECONDS.toNanos(IDLE_MILLIS)) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(BATCH_MILLIS));
            continue;
          }
          r = queue.take(); // idle: block, and the next enqueue wakes this thread
        }
        lastLine = System.nanoTime();
        if (r == POISON) {
          flush();
          return;
        }
        try {
          write(r);
          unflushed = true;
        } catch (IOException | RuntimeException e) {
          dropped.increment();
          LoggerFactory.getLogger(getClass()).warn("{}: cannot write a line", name, e);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      LoggerFactory.getLogger(getClass()).warn("{}: cannot flush", name, e);
    }
  }

  /** A batch that cannot be flushed (a full disk) counts as dropped; the writer keeps going. */
  private void flushBatch() {
    try {
      flush();
    } catch (IOException | RuntimeException e) {
      dropped.increment();
      LoggerFactory.getLogger(getClass()).warn("{}: cannot flush", name, e);
    }
  }

  @Override
  public void close() throws InterruptedException, IOException {
    // Lines already queued are written first; the writer stops at the marker.
    queue.offer(POISON, 2, TimeUnit.SECONDS);
    writer.join(TimeUnit.SECONDS.toMillis(2));
    try {
      closeOutput();
    } catch (IOException e) { // lines still buffered that the destination refuses (a full disk)
      dropped.increment();
      LoggerFactory.getLogger(getClass()).warn("{}: cannot write the last lines", name, e);
    }
  }
}
