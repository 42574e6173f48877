package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.Map;

/**
 * A conversation workload ({@code sharegpt:PATH:turns=all}) as user sessions: every turn of
 * conversation {@code i} carries the same session id in a header ({@code --session-header}, vLLM's
 * {@code X-Session-ID} by default, so a server or router can keep a session's turns together), and
 * each later turn is sent only after the user's {@link ThinkTime think time} has passed since the
 * previous answer ended.
 *
 * <p>The id of session {@code i} is {@code <16 hex digits of the run's seed, mixed>-<i>}: distinct
 * for every conversation of a run (shards included, as they take distinct items), the same in two
 * runs of one seed, like the requests themselves. A think time is a function of the seed, the
 * session and the turn, so two runs wait alike.
 */
public final class Sessions implements Workload {
  public static final String DEFAULT_HEADER = "X-Session-ID";

  private final Workload conversations;
  private final String header;
  private final ThinkTime think;
  private final long seed;
  private final String runId;

  /**
   * {@code workload} as sessions when it is made of conversations; any other workload as it is,
   * which takes no think time.
   *
   * @param header the session id's header; null for none
   */
  public static Workload of(Workload workload, String header, ThinkTime think, long seed) {
    if (workload.multiTurn()) {
      return new Sessions(workload, header, think, seed);
    }
    if (!think.none()) {
      throw new IllegalArgumentException("--think " + think.describe() + " is the time between a conversation's turns: it needs a "
          + "multi-turn workload (sharegpt:PATH:turns=all), not " + workload.describe());
    }
    return workload;
  }

  /** @param header the session id's header; null for none */
  public Sessions(Workload conversations, String header, ThinkTime think, long seed) {
    this.conversations = requireNonNull(conversations, "conversations");
    if (header != null && !header.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
      throw new IllegalArgumentException("--session-header " + header + " (expected: an HTTP header name such as X-Session-ID, or none)");
    }
    this.header = header;
    this.think = requireNonNull(think, "think");
    this.seed = seed;
    this.runId = String.format("%016x", SyntheticWorkload.requestRandom(seed, -1).nextLong());
  }

  /** {@code --session-header}'s value: a header name, or {@code none}. */
  public static String header(String value) {
    return value == null ? DEFAULT_HEADER : value.trim().equalsIgnoreCase("none") ? null : value.trim();
  }

  /** The session id of conversation {@code i}. */
  public String id(long i) {
    return runId + "-" + i;
  }

  @Override
  public BenchRequest request(long index) {
    return turn(conversations.request(index), index, 0);
  }

  private BenchRequest turn(BenchRequest r, long session, int turn) {
    Map<String, String> headers = new HashMap<>(r.headers());
    if (header != null) {
      headers.put(header, id(session));
    }
    return new BenchRequest(r.path(), r.route(), r.model(), r.body(), r.expectedInputTokens(), r.expectedOutputTokens(),
        r.followUp() == null ? null : () -> turn(r.next(), session, turn + 1), headers,
        turn == 0 ? 0 : think.sampleNanos(seed, session, turn));
  }

  @Override
  public boolean multiTurn() {
    return true;
  }

  @Override
  public String describe() {
    return conversations.describe() + ", sessions (" + (header == null ? "no header" : header) + ", think " + think.describe() + ")";
  }
}
