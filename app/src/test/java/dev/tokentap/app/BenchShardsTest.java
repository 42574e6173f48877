package dev.tokentap.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.bench.Stats;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tokentap bench --shard I/N} and {@code tokentap bench-merge}, in-process through {@link
 * Main#run} against the fast emulator: four shards of a Poisson run, run at once, merged, against
 * one process running the whole schedule at the same time.
 */
class BenchShardsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int RATE = 40;
  private static final int SECONDS = 3;
  private static final int SHARDS = 4;
  private static Emulator emulator;
  @TempDir static Path dir;
  private static JsonNode whole;
  private static JsonNode merged;
  private static List<Path> shardDirs;

  @BeforeAll
  static void runWholeShardsAndMerge() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
    // The whole run and the four shards at the same time (the fast emulator serves both loads with room to spare).
    shardDirs = IntStream.range(0, SHARDS).mapToObj(i -> dir.resolve("shard-" + i)).toList();
    List<CompletableFuture<MainTest.Run>> runs = new ArrayList<>();
    // A thread each: all five must run at once, whatever the common pool's size.
    ExecutorService threads = Executors.newFixedThreadPool(1 + SHARDS);
    runs.add(CompletableFuture.supplyAsync(() -> MainTest.run(bench(dir.resolve("whole")).toArray(String[]::new)), threads));
    for (int i = 0; i < SHARDS; i++) {
      List<String> args = bench(shardDirs.get(i));
      args.addAll(List.of("--shard", i + "/" + SHARDS));
      runs.add(CompletableFuture.supplyAsync(() -> MainTest.run(args.toArray(String[]::new)), threads));
    }
    threads.shutdown();
    for (CompletableFuture<MainTest.Run> r : runs) {
      assertThat(r.join().status()).as(r.join().err()).isZero();
    }
    whole = JSON.readTree(dir.resolve("whole/result.json").toFile());
    List<String> mergeArgs = new ArrayList<>(List.of("bench-merge", "--out", dir.resolve("merged").toString()));
    shardDirs.forEach(d -> mergeArgs.add(d.toString()));
    MainTest.Run m = MainTest.run(mergeArgs.toArray(String[]::new));
    assertThat(m.status()).as(m.err()).isZero();
    assertThat(m.out()).contains("merged 4 shards; wrote result.json, requests.jsonl, steps.csv, report.html in " + dir.resolve("merged"));
    merged = JSON.readTree(dir.resolve("merged/result.json").toFile());
  }

  @AfterAll
  static void stopEmulator() {
    emulator.close();
  }

  private static List<String> bench(Path out) {
    return new ArrayList<>(List.of("bench", "--target", emulator.baseUri().toString(), "--model", "m", "--workload", "synthetic:input=16,output=4",
        "--load", "poisson:" + RATE, "--warmup", "500ms", "--duration", SECONDS + "s", "--seed", "7", "--slo", "ttft=5s", "--progress", "off",
        "--out", out.toString()));
  }

  @Test
  void eachShardRunsAQuarterOfTheRateWithItsOwnSeed() throws Exception {
    Set<Long> seeds = new HashSet<>();
    for (int i = 0; i < SHARDS; i++) {
      JsonNode r = JSON.readTree(shardDirs.get(i).resolve("result.json").toFile());
      assertThat(r.path("load").asText()).isEqualTo("poisson:10");
      JsonNode shard = r.path("shard");
      assertThat(shard.path("index").asInt()).isEqualTo(i);
      assertThat(shard.path("count").asInt()).isEqualTo(SHARDS);
      assertThat(shard.path("run_seed").asLong()).isEqualTo(7);
      assertThat(shard.path("load").asText()).isEqualTo("poisson:40");
      seeds.add(shard.path("seed").asLong());
    }
    assertThat(seeds).hasSize(SHARDS);
  }

  @Test
  void theMergedRunMatchesOneProcessRunningTheWholeSchedule() throws Exception {
    assertThat(merged.path("load").asText()).isEqualTo("poisson:40");
    assertThat(merged.path("request_rate").asDouble()).isEqualTo(RATE);
    assertThat(merged.has("shard")).isFalse();
    assertThat(merged.path("shards")).hasSize(SHARDS);
    // Arrivals in the window are Poisson(R × T) = Poisson(120) in both: 4 standard deviations.
    double expected = RATE * SECONDS;
    double band = 4 * Math.sqrt(expected);
    int n = merged.path("num_prompts").asInt();
    assertThat((double) n).isCloseTo(expected, within(band));
    assertThat((double) whole.path("num_prompts").asInt()).isCloseTo(expected, within(band));
    int sum = shardDirs.stream().mapToInt(d -> read(d.resolve("result.json")).path("num_prompts").asInt()).sum();
    assertThat(n).isEqualTo(sum);
    assertThat(merged.path("completed").asInt()).isEqualTo(n);
    assertThat(merged.path("slo_attainment").asDouble()).isEqualTo(1.0);
    // The schedule's own rate over n arrivals: sd about R / √n.
    for (JsonNode r : List.of(merged, whole)) {
      assertThat(r.path("scheduled_request_rate").asDouble()).isCloseTo(RATE, within(4 * RATE / Math.sqrt(n)));
    }
    // The superposition is Poisson: the merged gaps' coefficient of variation is about 1 (sd about 1/√n).
    double[] starts = Files.readAllLines(dir.resolve("merged/requests.jsonl")).stream()
        .mapToDouble(l -> read(l).path("start_ms").asDouble()).sorted().toArray();
    assertThat(starts).hasSize(n);
    // The shards ran at once and are put on one timeline: their arrivals span the window, as one process's
    // do (plus the shards' start-up offsets, milliseconds in one JVM; generous for a loaded machine).
    assertThat((starts[n - 1] - starts[0]) / 1e3).isBetween(SECONDS - 0.5, SECONDS + 1.0);
    double[] gaps = IntStream.range(1, n).mapToDouble(i -> starts[i] - starts[i - 1]).toArray();
    Stats g = Stats.of(gaps);
    assertThat(g.std() / g.mean()).isCloseTo(1, within(4 / Math.sqrt(n)));
  }

  @Test
  void theMergedPercentilesAreThoseOfTheUnionOfTheRecords() throws Exception {
    List<Double> ttft = new ArrayList<>();
    List<Double> tpot = new ArrayList<>();
    List<Double> e2el = new ArrayList<>();
    List<Double> itl = new ArrayList<>();
    for (Path d : shardDirs) {
      for (String line : Files.readAllLines(d.resolve("requests.jsonl"))) {
        JsonNode r = read(line);
        assertThat(r.path("outcome").asText()).isEqualTo("ok");
        ttft.add(r.path("ttft_ms").asDouble());
        e2el.add(r.path("e2el_ms").asDouble());
        if (r.has("tpot_ms")) {
          tpot.add(r.path("tpot_ms").asDouble());
        }
        r.path("itl_ms").forEach(v -> itl.add(v.asDouble()));
      }
    }
    assertExactly("ttft", ttft);
    assertExactly("tpot", tpot);
    assertExactly("e2el", e2el);
    assertExactly("itl", itl);
    assertThat(Files.readAllLines(dir.resolve("merged/requests.jsonl"))).hasSize(ttft.size());
    assertThat(Files.readString(dir.resolve("merged/report.html"))).contains("<svg ");
  }

  @Test
  void shardsOfDifferentRunsMissingOrTwiceAreRefused() throws Exception {
    Path other = dir.resolve("other-seed");
    Files.createDirectories(other);
    Files.copy(shardDirs.get(3).resolve("requests.jsonl"), other.resolve("requests.jsonl"));
    ObjectNode result = (ObjectNode) read(shardDirs.get(3).resolve("result.json"));
    ((ObjectNode) result.path("shard")).put("run_seed", 8);
    JSON.writeValue(other.resolve("result.json").toFile(), result);
    MainTest.Run seed = MainTest.run("bench-merge", shardDirs.get(0).toString(), shardDirs.get(1).toString(),
        shardDirs.get(2).toString(), other.toString());
    assertThat(seed.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(seed.err()).contains("the shards are of different runs: run_seed is 7 in " + shardDirs.get(0) + " but 8 in " + other);

    Path otherSlo = dir.resolve("other-slo");
    Files.createDirectories(otherSlo);
    Files.copy(shardDirs.get(3).resolve("requests.jsonl"), otherSlo.resolve("requests.jsonl"));
    ObjectNode sloResult = (ObjectNode) read(shardDirs.get(3).resolve("result.json"));
    sloResult.put("slo", "ttft=1ms");
    JSON.writeValue(otherSlo.resolve("result.json").toFile(), sloResult);
    MainTest.Run slo = MainTest.run("bench-merge", shardDirs.get(0).toString(), shardDirs.get(1).toString(),
        shardDirs.get(2).toString(), otherSlo.toString());
    assertThat(slo.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(slo.err()).contains("the shards were judged by different SLOs: \"ttft=5000ms\" in " + shardDirs.get(0));

    MainTest.Run missing = MainTest.run("bench-merge", shardDirs.get(0).toString(), shardDirs.get(2).toString());
    assertThat(missing.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(missing.err()).contains("shards [1, 3] of 0..3 missing");

    MainTest.Run twice = MainTest.run("bench-merge", shardDirs.get(0).toString(), shardDirs.get(0).toString());
    assertThat(twice.err()).contains("shard 0 given twice");

    MainTest.Run notAShard = MainTest.run("bench-merge", dir.resolve("whole").toString());
    assertThat(notAShard.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(notAShard.err()).contains("has no \"shard\": it is not from a run with --shard I/N");

    MainTest.Run badShard = MainTest.run("bench", "--target", emulator.baseUri().toString(), "--model", "m", "--load", "poisson:1",
        "--shard", "4/4");
    assertThat(badShard.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(badShard.err()).contains("--shard 4/4 (expected: I/N with 0 <= I < N");
  }

  @Test
  void aTraceSplitsItsItemsAtTheirTimesAndMergesAtItsOwnRate(@TempDir Path tmp) throws Exception {
    // 20 requests 25 ms apart: shard 0 replays the even ones, shard 1 the odd ones, each at its time.
    StringBuilder trace = new StringBuilder();
    for (int i = 0; i < 20; i++) {
      trace.append("{\"timestamp\": ").append(25 * i).append(", \"input_length\": 40, \"output_length\": 2, \"hash_ids\": [1]}\n");
    }
    Path file = tmp.resolve("mooncake.jsonl");
    Files.writeString(file, trace.toString());
    ExecutorService threads = Executors.newFixedThreadPool(2);
    List<CompletableFuture<MainTest.Run>> runs = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      String[] args = {"bench", "--target", emulator.baseUri().toString(), "--model", "m", "--workload", "mooncake:" + file,
          "--load", "trace", "--requests", "20", "--warmup", "0", "--progress", "off", "--shard", i + "/2", "--out", tmp.resolve("s" + i).toString()};
      runs.add(CompletableFuture.supplyAsync(() -> MainTest.run(args), threads));
    }
    threads.shutdown();
    for (CompletableFuture<MainTest.Run> r : runs) {
      // A cold shard may be flagged late (exit 0 still): only failures would fail the run.
      assertThat(r.join().status()).as(r.join().err()).isZero();
    }
    MainTest.Run m = MainTest.run("bench-merge", "--out", tmp.resolve("merged").toString(), tmp.resolve("s0").toString(), tmp.resolve("s1").toString());
    assertThat(m.status()).as(m.err()).isZero();
    JsonNode r = read(tmp.resolve("merged/result.json"));
    assertThat(r.path("load").asText()).isEqualTo("trace:1x");
    assertThat(r.path("num_prompts").asInt()).isEqualTo(20);
    // Each shard's items keep their times: every other one, 9 gaps in 450 ms.
    for (String shard : List.of("s0", "s1")) {
      JsonNode part = read(tmp.resolve(shard + "/result.json"));
      assertThat(part.path("num_prompts").asInt()).isEqualTo(10);
      assertThat(part.path("scheduled_request_rate").asDouble()).isCloseTo(20, within(1e-6));
    }
    // Together the trace's rate, 40/s, as far as the two shards started together (in-process, a few ms).
    assertThat(r.path("scheduled_request_rate").asDouble()).isBetween(20.0, 80.0);
  }

  private static void assertExactly(String metric, List<Double> values) {
    Stats s = Stats.of(values.stream().mapToDouble(Double::doubleValue).toArray());
    assertThat(merged.path("p50_" + metric + "_ms").asDouble()).as("p50 " + metric).isEqualTo(s.p50());
    assertThat(merged.path("p90_" + metric + "_ms").asDouble()).as("p90 " + metric).isEqualTo(s.p90());
    assertThat(merged.path("p99_" + metric + "_ms").asDouble()).as("p99 " + metric).isEqualTo(s.p99());
    assertThat(merged.path("mean_" + metric + "_ms").asDouble()).as("mean " + metric).isEqualTo(s.mean());
  }

  private static JsonNode read(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static JsonNode read(String line) {
    try {
      return JSON.readTree(line);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
