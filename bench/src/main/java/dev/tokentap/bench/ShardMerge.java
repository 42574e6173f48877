package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.meter.Route;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code tokentap bench-merge}: the {@link Shard}s of one run, each a directory its bench wrote
 * with {@code --out}, as one run. The report is computed from every shard's per-request records
 * ({@code requests.jsonl}) by the same code as a single process's, so its percentiles are exact,
 * never averages of the shards' percentiles.
 *
 * <ul>
 *   <li>The shards' records are put on one timeline by the wall-clock time of each shard's first
 *       start ({@code shard.first_start_unix_us}): exact within a shard, as good as the machines'
 *       clocks agree between them (NTP: about a millisecond), which moves {@code duration} and the
 *       rates by that much and no per-request number at all.
 *   <li>The load is the whole run's; {@code warmup_requests} and {@code max_in_flight} are the
 *       shards' sums; the generator's lag and socket lateness are pooled from the records, GC times
 *       summed; hiccups stay in each shard's own {@code generator}, under {@code shards}, and a
 *       shard whose generator was the bottleneck makes the merged run's a bottleneck too.
 *   <li>Shards of different runs (another count, seed, load, workload, request count or
 *       duration), or judged by different SLOs, a shard given twice and a missing shard are refused.
 * </ul>
 */
public final class ShardMerge {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** What every shard of one run has in common, as {@link Shard#toJson} writes it. */
  private static final List<String> RUN_KEYS = List.of("count", "run_seed", "load", "workload", "requests", "duration_s");

  private final List<Part> parts;

  private ShardMerge(List<Part> parts) {
    this.parts = parts;
  }

  /** One shard's directory, its {@code result.json} and its {@code shard} object. */
  private record Part(Path dir, JsonNode result, JsonNode shard) {
    int index() {
      return shard.path("index").asInt();
    }
  }

  /**
   * The merged run as one step.
   *
   * @param sloTarget the attainment a run with SLOs must reach to pass (as {@code --slo-target})
   */
  public StepResults results(double sloTarget) throws IOException {
    Part first = parts.get(0);
    JsonNode run = first.shard();
    int count = run.path("count").asInt();
    LoadPlan load = loadOf(run);
    SloSpec slo = "none".equals(first.result().path("slo").asText("none")) ? SloSpec.NONE : SloSpec.parse(first.result().path("slo").asText());
    String model = first.result().path("model_id").asText(null);
    Route route = routeOf(first.result().path("endpoint_type").asText(""));
    long origin = parts.stream().mapToLong(p -> p.shard().path("first_start_unix_us").asLong()).min().orElseThrow();
    boolean ceiling = !load.closedLoop() && load.concurrency() > 0;
    List<BenchSample> samples = new ArrayList<>();
    List<double[]> lags = new ArrayList<>();
    List<double[]> lateness = new ArrayList<>();
    List<String> bottlenecks = new ArrayList<>();
    int warmup = 0;
    int maxInFlight = 0;
    long gcPause = 0;
    long gcCount = 0;
    for (Part p : parts) {
      long firstStartMicros = p.shard().path("first_start_unix_us").asLong();
      int shardIndex = p.index();
      List<BenchSample> own = RequestsJsonl.read(p.dir().resolve("requests.jsonl"), route, model, (firstStartMicros - origin) * 1_000,
          firstStartMicros / 1e3, local -> local * count + shardIndex);
      samples.addAll(own);
      // Per shard: a request's predecessor under a ceiling is its own process's.
      lags.add(GeneratorCheck.generatorLagMs(own, load.closedLoop(), ceiling));
      lateness.add(SocketLateness.latenessMs(own, load.closedLoop(), ceiling));
      warmup += p.result().path("warmup_requests").asInt();
      maxInFlight += p.result().path("max_in_flight").asInt();
      JsonNode generator = p.result().path("generator");
      gcPause += generator.path("gc_pause_ms").asLong();
      gcCount += generator.path("gc_count").asLong();
      if (generator.path("bottleneck").asBoolean()) {
        bottlenecks.add("shard " + shardIndex + " (" + p.dir() + "): the generator was the bottleneck: "
            + String.join("; ", strings(generator.path("warnings"))));
      }
    }
    long pause = gcPause;
    long collections = gcCount;
    BenchReport report = new BenchReport(samples, warmup, maxInFlight, run.path("workload").asText(), load, slo, null,
        ttftP50Ms -> GeneratorCheck.evaluate(concat(lags), new double[0], pause, collections,
            SocketLateness.judge(concat(lateness), ttftP50Ms)).withWarnings(bottlenecks));
    double target = slo.isEmpty() ? Double.NaN : sloTarget;
    boolean passed = !slo.isEmpty() && report.requests > 0 && report.sloAttainment >= sloTarget;
    return new StepResults("run", load.closedLoop() ? "concurrency" : "rate", target, List.of(new LoadStep(1, load.level(), passed, report)));
  }

  /** What {@code result.json} gets besides the merged report: every shard's directory, counts and own generator check. */
  public ObjectNode extra() {
    ObjectNode extra = JSON.createObjectNode();
    ArrayNode shards = extra.putArray("shards");
    for (Part p : parts) {
      ObjectNode s = shards.addObject();
      s.put("index", p.index());
      s.put("dir", p.dir().toString());
      s.put("num_prompts", p.result().path("num_prompts").asInt());
      s.put("seed", p.shard().path("seed").asLong());
      s.put("load", p.result().path("load").asText());
      s.set("generator", p.result().path("generator"));
    }
    return extra;
  }

  /** The merged run's provenance: every shard's targets, the run's seed, the earliest start, and the merge's command line. */
  public RunInfo info(String commandLine) {
    Set<String> targets = new LinkedHashSet<>();
    Instant started = null;
    for (Part p : parts) {
      targets.addAll(strings(p.result().path("targets")));
      JsonNode at = p.result().path("started_at");
      if (at.isTextual()) {
        Instant t = Instant.parse(at.asText());
        started = started == null || t.isBefore(started) ? t : started;
      }
    }
    return new RunInfo(List.copyOf(targets), parts.get(0).shard().path("run_seed").asLong(), commandLine,
        started == null ? Instant.now() : started);
  }

  /** Reads and checks the shards' directories. */
  public static ShardMerge read(List<Path> dirs) throws IOException {
    requireNonNull(dirs, "dirs");
    if (dirs.isEmpty()) {
      throw new IllegalArgumentException("bench-merge: no shard directories (expected: the --out directories of tokentap bench --shard I/N)");
    }
    Map<Integer, Part> byIndex = new TreeMap<>();
    Part first = null;
    for (Path dir : dirs) {
      Path file = dir.resolve("result.json");
      if (!Files.isReadable(file) || !Files.isReadable(dir.resolve("requests.jsonl"))) {
        throw new IllegalArgumentException(dir + ": no result.json and requests.jsonl (expected: the --out directory of one tokentap bench --shard I/N run)");
      }
      JsonNode result = JSON.readTree(file.toFile());
      JsonNode shard = result.path("shard");
      if (!shard.isObject()) {
        throw new IllegalArgumentException(file + " has no \"shard\": it is not from a run with --shard I/N (a sweep or stage list cannot be sharded)");
      }
      Part part = new Part(dir, result, shard);
      if (first == null) {
        first = part;
      }
      for (String key : RUN_KEYS) {
        if (!shard.path(key).equals(first.shard().path(key))) {
          throw new IllegalArgumentException("the shards are of different runs: " + key + " is " + first.shard().path(key) + " in " + first.dir()
              + " but " + shard.path(key) + " in " + dir + " (expected: the shards of one run, same --shard N, --seed, --load, --workload, --requests, --duration)");
        }
      }
      if (!result.path("slo").equals(first.result().path("slo"))) {
        throw new IllegalArgumentException("the shards were judged by different SLOs: " + first.result().path("slo") + " in " + first.dir()
            + " but " + result.path("slo") + " in " + dir + " (expected: the same --slo for every shard)");
      }
      Part twice = byIndex.put(part.index(), part);
      if (twice != null) {
        throw new IllegalArgumentException("shard " + part.index() + " given twice: " + twice.dir() + " and " + dir);
      }
    }
    int count = first.shard().path("count").asInt();
    List<Integer> missing = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      if (!byIndex.containsKey(i)) {
        missing.add(i);
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("shards " + missing + " of 0.." + (count - 1) + " missing (expected: every shard's directory of the run)");
    }
    return new ShardMerge(List.copyOf(byIndex.values()));
  }

  /** The whole run's load, as the shards' {@code load} key spells it ({@link LoadPlan#describe}). */
  private static LoadPlan loadOf(JsonNode shard) {
    String text = shard.path("load").asText();
    int ceilingAt = text.indexOf(" (max-concurrency ");
    int ceiling = ceilingAt < 0 ? 0 : Integer.parseInt(text.substring(ceilingAt + " (max-concurrency ".length(), text.length() - 1));
    String spec = ceilingAt < 0 ? text : text.substring(0, ceilingAt);
    // A trace's speed is described as trace:2x.
    return LoadPlan.parse(spec.startsWith("trace:") && spec.endsWith("x") ? spec.substring(0, spec.length() - 1) : spec, ceiling);
  }

  private static Route routeOf(String backend) {
    for (Route r : Route.values()) {
      if (ResultJson.backend(r).equals(backend)) {
        return r;
      }
    }
    return Route.OTHER;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static double[] concat(List<double[]> arrays) {
    return arrays.stream().flatMapToDouble(java.util.Arrays::stream).toArray();
  }
}
