package dev.tokentap.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.DoubleFunction;

/**
 * The numbers of one run, computed from its samples with vLLM {@code bench serve}'s formulas and
 * written with its JSON keys (docs/bench.md). Warm-up samples are left out of everything.
 *
 * <ul>
 *   <li>duration: earliest {@code t_start} to latest {@code t_end} of the measured requests;
 *   <li>completed: outcome {@code ok}; cancelled: abandoned by the bench; failed: the rest;
 *   <li>TTFT, TPOT, E2E: one value per completed request (TPOT only with N ≥ 2); ITL: every gap of
 *       every completed request, pooled;
 *   <li>good: {@code ok} and every SLO met; {@code request_goodput = good / duration}; {@code
 *       slo_attainment = good / (measured − cancelled) requests} (errors count as not good).
 * </ul>
 */
public final class BenchReport {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public final int requests;
  public final int completed;
  /** Abandoned by the bench ({@code --cancel}): neither completed nor failed. */
  public final int cancelled;
  public final int failed;
  public final int good;
  public final double durationSeconds;
  public final long totalInputTokens;
  public final long totalOutputTokens;
  public final double requestThroughput;
  public final double outputThroughput;
  public final double totalTokenThroughput;
  /** Good requests per second; NaN without SLOs. */
  public final double requestGoodput;
  /** Fraction of measured requests, less the cancelled, that were good; NaN without SLOs. */
  public final double sloAttainment;
  /** Fraction meeting each SLO on its own (ttft, tpot, e2e); completed requests only can meet one. */
  public final Map<String, Double> attainmentByMetric;
  public final Stats ttftMs;
  public final Stats tpotMs;
  public final Stats itlMs;
  public final Stats e2elMs;
  public final Stats queueMs;
  public final Stats scheduleLagMs;
  public final Map<String, Integer> errors;
  /**
   * Open loop: measured requests handed to the client per second, {@code (n − 1) / (last hand-off −
   * first hand-off)}; how well the generator kept the schedule's rate. NaN below two requests.
   * Conversations: arrivals (first turns) only.
   */
  public final double achievedRequestRate;
  /**
   * Open loop: the rate the schedule itself asked for over the measured requests, {@code (n − 1) /
   * (last intended − first intended)}. A Poisson schedule's own rate differs from the target by
   * chance (about {@code 1/√n}); {@code achievedRequestRate / scheduledRequestRate} is the
   * generator's accuracy alone. NaN below two requests and for closed loops. Conversations:
   * arrivals (first turns) only.
   */
  public final double scheduledRequestRate;
  /** Sweep line over [t_start, t_end): requests begun (intended) and not finished. */
  public final int maxConcurrentRequests;
  /** Whether the generator kept up: its own schedule lag, JVM hiccups and GC. */
  public final GeneratorCheck generator;

  private final String workload;
  private final LoadPlan load;
  private final SloSpec slo;
  private final int maxInFlight;
  private final List<BenchSample> measured;
  private final RunTimeline timeline;
  private final RequestTotals totals;
  private final List<TimeSlices.Slice> slices;
  /** Null for one target, no cancellations and no slices. */
  private final BenchSetup setup;
  /** Requests sent first and left out of every number. */
  public final int warmupRequests;

  public BenchReport(BenchRunner.Run run, String workload, LoadPlan load, SloSpec slo) {
    this(run, workload, load, slo, null);
  }

  /** With {@code setup}'s targets, cancellations and slices broken out; null for one target and neither. */
  public BenchReport(BenchRunner.Run run, String workload, LoadPlan load, SloSpec slo, BenchSetup setup) {
    this(run.samples().stream().filter(s -> !s.warmup()).toList(), (int) run.samples().stream().filter(BenchSample::warmup).count(),
        run.maxInFlight(), workload, load, slo, setup, ttftP50Ms -> GeneratorCheck.of(run, load, ttftP50Ms));
  }

  /**
   * From measured samples alone (the shards of a run, {@link ShardMerge}), with the generator's
   * self-check made by {@code generator} from the run's TTFT p50.
   */
  BenchReport(List<BenchSample> measured, int warmupRequests, int maxInFlight, String workload, LoadPlan load, SloSpec slo,
      BenchSetup setup, DoubleFunction<GeneratorCheck> generator) {
    this.workload = workload;
    this.load = load;
    this.slo = slo;
    this.setup = setup;
    this.maxInFlight = maxInFlight;
    this.measured = List.copyOf(measured);
    this.requests = measured.size();
    this.warmupRequests = warmupRequests;
    this.timeline = RunTimeline.of(measured);
    this.totals = RequestTotals.of(measured, slo);
    this.slices = setup == null || setup.sliceWidth() == null ? List.of() : TimeSlices.of(measured, setup.sliceWidth(), slo);
    List<Double> queue = new ArrayList<>();
    List<Double> lag = new ArrayList<>();
    for (BenchSample s : measured) {
      queue.add(s.queueSeconds() * 1e3);
      if (s.turn() == 0) { // a conversation's later turns have no intended time
        lag.add(s.scheduleLagSeconds() * 1e3);
      }
    }
    this.completed = totals.completed;
    this.cancelled = totals.cancelled;
    this.failed = totals.failed;
    this.good = totals.good;
    this.durationSeconds = requests == 0 ? 0 : (totals.lastEndNanos - totals.firstStartNanos) / 1e9;
    this.totalInputTokens = totals.inputTokens;
    this.totalOutputTokens = totals.outputTokens;
    this.requestThroughput = rate(completed);
    this.outputThroughput = rate(totalOutputTokens);
    this.totalTokenThroughput = rate(totalInputTokens + totalOutputTokens);
    boolean slos = !slo.isEmpty();
    int judged = totals.judged();
    this.requestGoodput = slos ? rate(good) : Double.NaN;
    this.sloAttainment = slos && judged > 0 ? (double) good / judged : Double.NaN;
    Map<String, Double> byMetric = new TreeMap<>();
    if (judged > 0) {
      if (slo.ttft() != null) {
        byMetric.put("ttft", (double) totals.metTtft / judged);
      }
      if (slo.tpot() != null) {
        byMetric.put("tpot", (double) totals.metTpot / judged);
      }
      if (slo.e2e() != null) {
        byMetric.put("e2e", (double) totals.metE2e / judged);
      }
    }
    this.attainmentByMetric = Map.copyOf(byMetric);
    this.ttftMs = totals.ttftMs;
    this.tpotMs = totals.tpotMs;
    this.itlMs = totals.itlMs;
    this.e2elMs = totals.e2elMs;
    this.queueMs = Stats.of(unbox(queue));
    this.scheduleLagMs = Stats.of(unbox(lag));
    this.errors = totals.errors;
    this.maxConcurrentRequests = RunTimeline.maxConcurrent(measured);
    // A conversation's later turns are not scheduled: open-loop rates count the arrivals only.
    List<BenchSample> arrivals = load.closedLoop() ? measured : measured.stream().filter(s -> s.turn() == 0).toList();
    long firstSend = arrivals.stream().mapToLong(BenchSample::sendNanos).min().orElse(0);
    long lastSend = arrivals.stream().mapToLong(BenchSample::sendNanos).max().orElse(0);
    this.generator = generator.apply(ttftMs.p50());
    this.achievedRequestRate = arrivals.size() < 2 || lastSend == firstSend ? Double.NaN
        : (arrivals.size() - 1) / ((lastSend - firstSend) / 1e9);
    // Open-loop starts are the intended times.
    long firstIntended = arrivals.stream().mapToLong(BenchSample::startNanos).min().orElse(0);
    long lastIntended = arrivals.stream().mapToLong(BenchSample::startNanos).max().orElse(0);
    this.scheduledRequestRate = load.closedLoop() || arrivals.size() < 2 || lastIntended == firstIntended ? Double.NaN
        : (arrivals.size() - 1) / ((lastIntended - firstIntended) / 1e9);
  }

  /**
   * The SLO with the lowest attainment, the one that binds first as load grows; {@code none} when
   * every request met every SLO, empty without SLOs.
   */
  public String bindingConstraint() {
    return attainmentByMetric.entrySet().stream()
        .min(Map.Entry.comparingByValue())
        .map(e -> e.getValue() < 1 ? e.getKey() : "none")
        .orElse("");
  }

  /** The load as {@code --load} spells it. */
  public String loadDescription() {
    return load.describe();
  }

  public String workload() {
    return workload;
  }

  public SloSpec slo() {
    return slo;
  }

  public LoadPlan load() {
    return load;
  }

  public List<BenchSample> measured() {
    return measured;
  }

  private double rate(double count) {
    return durationSeconds > 0 ? count / durationSeconds : Double.NaN;
  }

  private static double[] unbox(List<Double> list) {
    return list.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /**
   * The open-loop rate asked for: the load's, or for a trace replay the schedule's own, {@code (n −
   * 1) / (last intended start − first)} over the measured requests.
   */
  double targetRequestRate() {
    if (load.arrivals() != ArrivalSchedule.Kind.TRACE) {
      return load.rate();
    }
    long first = measured.stream().mapToLong(BenchSample::startNanos).min().orElse(0);
    long last = measured.stream().mapToLong(BenchSample::startNanos).max().orElse(0);
    return requests < 2 || last == first ? Double.NaN : (requests - 1) / ((last - first) / 1e9);
  }

  /** The result JSON: vLLM {@code bench serve}'s keys, then tokentap's ({@link ResultJson}). */
  public ObjectNode toJson() {
    return ResultJson.of(this);
  }

  /** {@code result.json} and {@code requests.jsonl} (one line per measured request) under {@code dir}. */
  public void write(Path dir) throws IOException {
    write(dir, null);
  }

  /** As {@link #write(Path)}, with {@code extra} keys merged into {@code result.json}. */
  public void write(Path dir, ObjectNode extra) throws IOException {
    Files.createDirectories(dir);
    ObjectNode json = toJson();
    if (extra != null) {
      json.setAll(extra);
    }
    JSON.writeValue(dir.resolve("result.json").toFile(), json);
    try (Writer w = Files.newBufferedWriter(dir.resolve("requests.jsonl"))) {
      writeRequests(w, 0);
    }
  }

  /** One JSON line per measured request; {@code step} (when above 0) names the load step it belongs to. */
  public void writeRequests(Writer w, int step) throws IOException {
    RequestsJsonl.write(w, measured, step);
  }

  /** The run second by second: vLLM's {@code max_output_tokens_per_s} and the report's time series. */
  public RunTimeline timeline() {
    return timeline;
  }

  int maxInFlight() {
    return maxInFlight;
  }

  /** Each target's share of the measured requests, in the order the targets were given. */
  List<RequestTotals> perTarget() {
    int n = setup == null ? 1 : setup.targets().size();
    List<RequestTotals> parts = new ArrayList<>(n);
    for (int t = 0; t < n; t++) {
      int target = t;
      parts.add(RequestTotals.of(measured.stream().filter(s -> s.target() == target).toList(), slo));
    }
    return parts;
  }

  /** The run's time slices ({@code --slice}); empty without. */
  List<TimeSlices.Slice> slices() {
    return slices;
  }

  /** The session's targets, cancellations and slices; null when it had one target and neither. */
  BenchSetup setup() {
    return setup;
  }

  /** The human-readable summary ({@link ConsoleSummary}). */
  public void printTable(PrintWriter out) {
    ConsoleSummary.print(this, out);
  }
}
