package dev.tokentap.shadow;

import dev.tokentap.meter.Api;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A sampled production request whose output is compared with the first copy to each target:
 * production's {@link SideOutput} and one per target that got a copy. Sides end on their own event
 * loops; the last one to end (or {@link #seal} after them) scores the pair for each target, once.
 *
 * <pre>
 *  client loop:  sample ─ offer to targets (copy 1 queued: expect(target)) ─ seal
 *  any loop:     side ended ─▶ all ended and sealed? ─▶ scores per target ─▶ onScored
 * </pre>
 */
final class OutputPair {
  /** Receives each target's scores, with the two sides (read them before returning). */
  interface Listener {
    void onScored(OutputPair pair, String target, PairScores scores, SideOutput shadow);
  }

  private final boolean deterministic;
  private final boolean jsonAsked;
  private final int maxTokens;
  private final Api api;
  private final SideOutput production;
  private final Map<String, SideOutput> shadows = new LinkedHashMap<>();
  private final String requestId;
  private final Listener onScored;
  private final Runnable onDone;
  private int unfinished = 1; // production
  private boolean sealed;
  private boolean done;

  /** @param requestId the client's x-request-id, or null; kept only for an opted-in samples file */
  OutputPair(Api api, String requestId, boolean deterministic, boolean jsonAsked, int maxTokens, Listener onScored, Runnable onDone) {
    this.api = api;
    this.requestId = requestId;
    this.deterministic = deterministic;
    this.jsonAsked = jsonAsked;
    this.maxTokens = maxTokens;
    this.onScored = onScored;
    this.onDone = onDone;
    this.production = new SideOutput(api, maxTokens, this::sideEnded);
  }

  SideOutput production() {
    return production;
  }

  String requestId() {
    return requestId;
  }

  /** The side of {@code target}'s first copy, which will end ({@link SideOutput#notSent} if it never leaves). */
  synchronized SideOutput expect(String target) {
    SideOutput side = new SideOutput(api, maxTokens, this::sideEnded);
    shadows.put(target, side);
    unfinished++;
    return side;
  }

  /** Every target was offered the request; returns false when none took a copy (no pair). */
  synchronized boolean seal() {
    sealed = true;
    if (shadows.isEmpty()) {
      done = true;
      onDone.run();
      return false;
    }
    finishIfComplete();
    return true;
  }

  private synchronized void sideEnded() {
    unfinished--;
    finishIfComplete();
  }

  private void finishIfComplete() {
    if (done || !sealed || unfinished > 0) {
      return;
    }
    done = true;
    for (Map.Entry<String, SideOutput> e : shadows.entrySet()) {
      PairScores scores = e.getValue().wasNotSent()
          ? PairScores.notCompared("not_sent")
          : PairScores.of(production, e.getValue(), deterministic, jsonAsked, maxTokens);
      onScored.onScored(this, e.getKey(), scores, e.getValue());
    }
    onDone.run();
  }
}
