package dev.tokentap.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * {@code --shard I/N}: shard {@code I} (0-based, as Kubernetes' {@code JOB_COMPLETION_INDEX}) of a
 * run split {@code N} ways, so that N bench processes together offer the load one process would.
 *
 * <ul>
 *   <li>Open loop at rate R: each shard runs the same kind of arrivals at R / N with its own seed,
 *       derived from the run's seed and I. The superposition of N independent Poisson processes of
 *       rate R / N is a Poisson process of rate R; constant arrivals keep their rate and each shard
 *       is shifted by I / R, so together they tick at R. (Gamma arrivals other than burstiness 1
 *       keep their rate but not their shape when summed.) A {@code --max-concurrency} ceiling is
 *       split like a closed loop's concurrency.
 *   <li>Closed loop at concurrency C: as evenly as possible, the first {@code C mod N} shards
 *       taking one more; every shard needs at least one slot.
 *   <li>{@code --requests} and a warm-up by count split the same way; a duration and a warm-up by
 *       time are every shard's.
 *   <li>Workload items: shard I sends items {@code I, I + N, I + 2N, …} of the whole run's
 *       workload (its seed unchanged), so the shards together send what one process would. With
 *       {@code --load trace[:SPEED]} each item keeps its time in the trace, so the shards' arrivals
 *       together are the trace's.
 * </ul>
 *
 * Each shard's {@code result.json} carries {@link #toJson what identifies the whole run} and when
 * its first request started on the wall clock, for {@link ShardMerge}.
 */
public record Shard(int index, int count) {
  /** The whole run: {@code --shard} not given. */
  public static final Shard WHOLE = new Shard(0, 1);

  private static final String EXPECTED = "expected: I/N with 0 <= I < N, 0-based like Kubernetes' JOB_COMPLETION_INDEX, e.g. 0/4";

  public Shard {
    if (count < 1 || index < 0 || index >= count) {
      throw new IllegalArgumentException("--shard " + index + "/" + count + " (" + EXPECTED + ")");
    }
  }

  /** {@code I/N}; null is the whole run. */
  public static Shard parse(String value) {
    if (value == null) {
      return WHOLE;
    }
    String[] p = value.trim().split("/", -1);
    try {
      if (p.length == 2) {
        return new Shard(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()));
      }
    } catch (NumberFormatException e) {
      // reported below
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--shard " + value + " (" + EXPECTED + ")", e);
    }
    throw new IllegalArgumentException("--shard " + value + " (" + EXPECTED + ")");
  }

  public boolean sharded() {
    return count > 1;
  }

  /** This shard's part of {@code whole}: its load, request count, warm-up count, items and seed. */
  public BenchRunner.Options options(BenchRunner.Options whole) {
    if (!sharded()) {
      return whole;
    }
    long requests = whole.requests() == Long.MAX_VALUE ? Long.MAX_VALUE : part(whole.requests(), "--requests");
    return new BenchRunner.Options(items(whole.workload()), load(whole.load()), requests, whole.duration(),
        (int) part(whole.warmup(), null), seed(whole.seed()), whole.warmupDuration(), offsetNanos(whole.load()));
  }

  /** This shard's share of {@code total} things: {@code total / N}, one more for the first {@code total mod N}. */
  long part(long total, String option) {
    long share = total / count + (index < total % count ? 1 : 0);
    if (share < 1 && option != null) {
      throw new IllegalArgumentException("--shard " + index + "/" + count + " with " + option + " " + total
          + ": shard " + index + " would get none (expected: " + option + " >= " + count + ", the number of shards)");
    }
    return share;
  }

  LoadPlan load(LoadPlan whole) {
    if (whole.closedLoop()) {
      return LoadPlan.closed((int) part(whole.concurrency(), "concurrency"));
    }
    int ceiling = whole.concurrency() == 0 ? 0 : (int) part(whole.concurrency(), "--max-concurrency");
    // A trace's shard keeps the speed: its items keep their own times.
    double rate = whole.arrivals() == ArrivalSchedule.Kind.TRACE ? whole.rate() : whole.rate() / count;
    return LoadPlan.open(whole.arrivals(), rate, whole.burstiness(), ceiling);
  }

  /** Constant arrivals: shard I is shifted by I / R so the shards interleave; nothing for the others. */
  long offsetNanos(LoadPlan whole) {
    return !whole.closedLoop() && whole.arrivals() == ArrivalSchedule.Kind.CONSTANT ? (long) (index / whole.rate() * 1e9) : 0;
  }

  /** The arrival seed of this shard: the run's for a whole run, else a mix of it and the index (SplitMix64's finaliser). */
  long seed(long runSeed) {
    if (!sharded()) {
      return runSeed;
    }
    long z = runSeed + 0x9E3779B97F4A7C15L * (index + 1);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Items {@code I, I + N, …} of {@code whole}; of a trace, with their arrival times in it. */
  Workload items(Workload whole) {
    return whole instanceof TimedWorkload timed ? new TimedItems(timed, this) : new Items(whole, this);
  }

  /** A shard's items of a workload. */
  private static class Items implements Workload {
    final Workload whole;
    final Shard shard;

    Items(Workload whole, Shard shard) {
      this.whole = whole;
      this.shard = shard;
    }

    @Override
    public BenchRequest request(long i) {
      return whole.request(shard.index() + i * shard.count());
    }

    @Override
    public String describe() {
      return whole.describe();
    }

    @Override
    public boolean multiTurn() {
      return whole.multiTurn();
    }
  }

  /** A shard's items of a trace, each at its time in the trace. */
  private static final class TimedItems extends Items implements TimedWorkload {
    private final TraceArrivals arrivals;

    TimedItems(TimedWorkload whole, Shard shard) {
      super(whole, shard);
      this.arrivals = whole.arrivals().every(shard.index(), shard.count());
    }

    @Override
    public TraceArrivals arrivals() {
      return arrivals;
    }
  }

  /**
   * The {@code shard} object of a shard's {@code result.json}: its index and count, the whole run's
   * seed, load, workload and request count (which every shard of one run shares), and the wall-clock
   * time of its first measured start in microseconds, which puts the shards' records on one timeline.
   */
  public ObjectNode toJson(BenchRunner.Options whole, BenchReport report) {
    long now = System.nanoTime();
    Instant wall = Instant.now();
    long firstStart = report.measured().stream().mapToLong(BenchSample::startNanos).min().orElse(now);
    long wallMicros = wall.getEpochSecond() * 1_000_000 + wall.getNano() / 1_000;
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("index", index);
    o.put("count", count);
    o.put("run_seed", whole.seed());
    o.put("seed", seed(whole.seed()));
    o.put("load", whole.load().describe());
    o.put("workload", whole.workload().describe());
    if (whole.requests() == Long.MAX_VALUE) {
      o.putNull("requests");
    } else {
      o.put("requests", whole.requests());
    }
    o.put("duration_s", whole.duration() == null ? null : whole.duration().toNanos() / 1e9);
    o.put("first_start_unix_us", wallMicros - (now - firstStart) / 1_000);
    return o;
  }
}
