package dev.tokentap.shadow;

import dev.tokentap.meter.FinishReason;
import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.Route;
import dev.tokentap.proxy.record.FinishedRequest;
import java.util.function.Predicate;

/**
 * The last {@code capacity} finished requests of one side (production, or one shadow target), kept
 * as plain numbers for the side-by-side summary: a fixed ring, so memory is bounded whatever the
 * rate. Writers are the event loops that finish requests; the admin loop reads a snapshot.
 */
final class RecentRequests {
  /** What the summary needs of one request; no text, no headers. */
  record Entry(
      long endNanos,
      Route route,
      String model,
      double ttftSeconds,
      double tpotSeconds,
      double e2eSeconds,
      long outputTokens,
      Outcome outcome,
      String slo,
      FinishReason finishReason) {

    static Entry of(FinishedRequest r) {
      return new Entry(
          r.endNanos(),
          r.route(),
          r.model(),
          r.ttftSeconds(),
          r.tpotSeconds(),
          r.e2eSeconds(),
          r.outputTokens(),
          r.outcome(),
          r.slo(),
          r.meter() == null ? null : r.meter().finishReason());
    }
  }

  /** The entries of a window, oldest first, and whether older ones in it were overwritten. */
  record Snapshot(java.util.List<Entry> entries, boolean truncated) {}

  private final Entry[] ring;
  private long written;

  RecentRequests(int capacity) {
    this.ring = new Entry[capacity];
  }

  synchronized void add(FinishedRequest request) {
    ring[(int) (written++ % ring.length)] = Entry.of(request);
  }

  /**
   * The entries that ended at or after {@code sinceNanos} and pass {@code filter}; {@code
   * truncated} when the ring had already overwritten entries that ended inside the window.
   */
  Snapshot since(long sinceNanos, Predicate<Entry> filter) {
    Entry[] copy;
    long count;
    synchronized (this) {
      count = written;
      copy = ring.clone();
    }
    int held = (int) Math.min(count, copy.length);
    java.util.List<Entry> out = new java.util.ArrayList<>(held);
    boolean truncated = false;
    for (long i = count - held; i < count; i++) {
      Entry e = copy[(int) (i % copy.length)];
      if (e.endNanos() - sinceNanos < 0) {
        continue;
      }
      if (i == count - held && count > copy.length) {
        truncated = true; // the oldest held entry is inside the window: older ones may have been too
      }
      if (filter.test(e)) {
        out.add(e);
      }
    }
    return new Snapshot(out, truncated);
  }
}
