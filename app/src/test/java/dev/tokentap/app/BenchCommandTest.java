package dev.tokentap.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.proxy.Tokentap;
import dev.tokentap.proxy.config.SettingsLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tokentap bench} end to end against the fast emulator, in-process through {@link Main#run}. */
class BenchCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Emulator emulator;

  @BeforeAll
  static void startEmulator() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
  }

  @AfterAll
  static void stopEmulator() {
    emulator.close();
  }

  private static String target() {
    return emulator.baseUri().toString();
  }

  @Test
  void closedLoopRunPrintsATableAndWritesJson(@TempDir Path dir) throws Exception {
    MainTest.Run r = MainTest.run("bench", "--target", target() + "/v1", "--workload", "synthetic:input=64,output=uniform:4:16",
        "--load", "concurrency:3", "--requests", "30", "--warmup", "3", "--slo", "ttft=5s,tpot=1s,e2e=20s",
        "--out", dir.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("tokentap bench", "Request throughput (req/s):", "TTFT", "TPOT", "ITL", "E2E", "SLO attainment:");
    JsonNode json = JSON.readTree(dir.resolve("result.json").toFile());
    assertThat(json.path("num_prompts").asInt()).isEqualTo(30);
    assertThat(json.path("completed").asInt()).isEqualTo(30);
    assertThat(json.path("failed").asInt()).isZero();
    assertThat(json.path("max_concurrency").asInt()).isEqualTo(3);
    assertThat(json.path("request_throughput").asDouble()).isPositive();
    assertThat(json.path("slo_attainment").asDouble()).isEqualTo(1.0);
    assertThat(json.path("request_goodput").asDouble()).isEqualTo(json.path("request_throughput").asDouble());
    assertThat(json.has("p99_ttft_ms") && json.has("mean_tpot_ms") && json.has("median_itl_ms") && json.has("p90_e2el_ms")).isTrue();
    assertThat(Files.readAllLines(dir.resolve("requests.jsonl"))).hasSize(30);
    // One step: a header and one row, and the report.
    assertThat(Files.readAllLines(dir.resolve("steps.csv"))).hasSize(2);
    assertThat(Files.readString(dir.resolve("report.html"))).contains("<svg ");
    assertThat(r.out()).contains("wrote result.json, requests.jsonl, steps.csv, report.html in " + dir);
  }

  @Test
  void stagesSizeCapacityAndPublishTheKneeToTheProxy(@TempDir Path dir) throws Exception {
    // A real tokentap's admin listener takes the knee (PUT /admin/capacity) and exports it.
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("tokentap.proxy.listen", "127.0.0.1:0");
    overrides.put("tokentap.admin.listen", "127.0.0.1:0");
    overrides.put("tokentap.proxy.upstream", target());
    overrides.put("tokentap.access-log.enabled", false);
    try (Tokentap proxy = Tokentap.start(SettingsLoader.load(SettingsLoader.resolve(null, overrides)))) {
      String adminUrl = "http://127.0.0.1:" + proxy.adminAddress().getPort();
      MainTest.Run r = MainTest.run("bench", "--target", target(), "--model", "m", "--workload", "synthetic:input=16,output=4",
          "--load", "stages:concurrency:1@300ms,2@100ms+300ms", "--slo", "e2e=60s", "--peak", "40rps", "--headroom", "0.5",
          "--publish-capacity", adminUrl, "--capacity-target", "production", "--out", dir.toString());
      assertThat(r.status()).as(r.err()).isZero();
      assertThat(r.out()).contains("stage 1/2: concurrency:1", "stage 2/2: concurrency:2", "highest passing concurrency: 2",
          "============ capacity ============",
          "give the proxy the knee: curl -X PUT '" + adminUrl + "/admin/capacity?target=production&in-flight=2'",
          "published capacity:");
      assertThat(proxy.registry().scrape()).contains("tokentap_capacity_in_flight{target=\"production\"} 2.0");
      JsonNode json = JSON.readTree(dir.resolve("stages.json").toFile());
      assertThat(json.path("steps")).hasSize(2);
      JsonNode capacity = json.path("capacity");
      double kneeRps = json.path("steps").path(1).path("request_throughput").asDouble();
      assertThat(capacity.path("knee_request_throughput").asDouble()).isEqualTo(kneeRps);
      assertThat(capacity.path("replicas").asInt()).isEqualTo((int) Math.ceil(40 * 1.5 / kneeRps));
      assertThat(capacity.path("in_flight_per_replica_threshold").asInt()).isEqualTo(1);
      assertThat(json.path("published_capacity").path("in_flight").asInt()).isEqualTo(2);
      assertThat(Files.readAllLines(dir.resolve("steps.csv"))).hasSize(3);
    }
  }

  // Sweeps here warm each step up for 1 s: the 5 s default is for a fresh process's first
  // requests, which these tests do not measure.
  @Test
  void aConcurrencySweepPrintsTheCurlLineWithoutPeak() {
    MainTest.Run r = MainTest.run("bench", "--target", target(), "--model", "m", "--workload", "synthetic:input=16,output=2",
        "--load", "concurrency:1", "--requests", "4", "--slo", "e2e=60s", "--sweep", "--sweep-max-steps", "2",
        "--warmup", "1s");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("curl -X PUT 'http://<admin>/admin/capacity?target=<name>&in-flight=2'");
  }

  @Test
  void badStageAndCapacityFlagsAreReported() {
    MainTest.Run stagesAndRequests = MainTest.run("bench", "--target", target(), "--model", "m",
        "--load", "stages:concurrency:1@1s", "--requests", "5");
    assertThat(stagesAndRequests.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(stagesAndRequests.err()).contains("sets each stage's hold and warm-up");
    MainTest.Run peakAlone = MainTest.run("bench", "--target", target(), "--model", "m", "--load", "concurrency:1", "--peak", "4rps");
    assertThat(peakAlone.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(peakAlone.err()).contains("--peak sizes from a knee");
    MainTest.Run badPeak = MainTest.run("bench", "--target", target(), "--model", "m", "--load", "concurrency:1", "--peak", "lots");
    assertThat(badPeak.err()).contains("--peak lots");
    MainTest.Run noTarget = MainTest.run("bench", "--target", target(), "--model", "m", "--load", "concurrency:1",
        "--slo", "e2e=1s", "--sweep", "--publish-capacity", "http://127.0.0.1:1");
    assertThat(noTarget.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(noTarget.err()).contains("--publish-capacity needs --capacity-target");
  }

  @Test
  void openLoopWithACeilingAndTheModelFromTheServer(@TempDir Path dir) throws Exception {
    MainTest.Run r = MainTest.run("bench", "--target", target(), "--workload", "synthetic:input=32,output=8",
        "--load", "poisson:100", "--max-concurrency", "4", "--requests", "40", "--warmup", "0", "--out", dir.toString());
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode json = JSON.readTree(dir.resolve("result.json").toFile());
    assertThat(json.path("arrivals").asText()).isEqualTo("poisson");
    assertThat(json.path("request_rate").asDouble()).isEqualTo(100);
    assertThat(json.path("max_in_flight").asInt()).isLessThanOrEqualTo(4);
    assertThat(json.path("completed").asInt()).isEqualTo(40);
    assertThat(json.has("p99_schedule_lag_ms")).isTrue();
    JsonNode generator = json.path("generator");
    assertThat(generator.has("schedule_lag_p99_ms") && generator.has("schedule_lag_max_ms") && generator.has("hiccup_p99_ms")).isTrue();
    assertThat(generator.path("bottleneck").isBoolean()).isTrue();
    // The loud warning is printed exactly when the check says so.
    assertThat(r.out().contains("WARNING: the load generator")).isEqualTo(generator.path("bottleneck").asBoolean());
    // vLLM writes request_goodput null without SLOs.
    assertThat(json.get("request_goodput").isNull()).isTrue();
  }

  @Test
  void sweepThatNeverFailsDoublesUpToTheStepBudget(@TempDir Path dir) throws Exception {
    MainTest.Run r = MainTest.run("bench", "--target", target(), "--model", "m", "--workload", "synthetic:input=16,output=2",
        "--load", "concurrency:1", "--requests", "8", "--slo", "e2e=60s", "--sweep", "--sweep-max-steps", "3",
        "--warmup", "1s", "--out", dir.toString());
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode json = JSON.readTree(dir.resolve("sweep.json").toFile());
    assertThat(json.path("max_passing_concurrency").asDouble()).isEqualTo(4);
    assertThat(json.has("first_failing_concurrency")).isFalse();
    assertThat(json.path("steps")).hasSize(3);
    assertThat(r.out()).contains("highest passing concurrency: 4", "first failing concurrency:   none found");
  }

  @Test
  void sweepThatAlwaysFailsNamesTheBindingConstraint(@TempDir Path dir) throws Exception {
    MainTest.Run r = MainTest.run("bench", "--target", target(), "--model", "m", "--workload", "synthetic:input=16,output=4",
        "--load", "constant:8", "--requests", "6", "--slo", "ttft=1us,e2e=60s", "--sweep",
        "--sweep-max-steps", "3", "--warmup", "1s", "--out", dir.toString());
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode json = JSON.readTree(dir.resolve("sweep.json").toFile());
    assertThat(json.has("max_passing_rate")).isFalse();
    assertThat(json.path("first_failing_rate").asDouble()).isEqualTo(2);
    assertThat(json.path("binding_constraint").asText()).isEqualTo("ttft");
  }

  @Test
  void wholeShareGptConversationsReachTheEmulatorWithGrowingHistories(@TempDir Path dir) throws Exception {
    Path dataset = dir.resolve("sharegpt.json");
    Files.writeString(dataset, """
        [{"conversations":[{"from":"system","value":"%s"},
          {"from":"human","value":"%s"},{"from":"gpt","value":"%s"},
          {"from":"human","value":"%s"},{"from":"gpt","value":"%s"},
          {"from":"human","value":"%s"},{"from":"gpt","value":"%s"}]}]
        """.formatted("s".repeat(8), "h".repeat(40), "g".repeat(20), "i".repeat(8), "j".repeat(12), "k".repeat(4), "l".repeat(4)));
    MainTest.Run r = MainTest.run("bench", "--target", target(), "--model", "m", "--workload", "sharegpt:" + dataset + ":turns=all",
        "--load", "concurrency:1", "--requests", "6", "--think", "50ms", "--session-header", "X-Conversation", "--out", dir.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("sharegpt(sharegpt.json, 1 conversations, 3 turns, all turns), sessions (X-Conversation, think 0.05s)");
    // The emulator counts ceil(chars / 4) + 4 per message, + 2: each turn adds the previous reply
    // and its own message to the history. One slot: the conversation twice, turn after turn.
    int[] expected = {(2 + 4) + (10 + 4) + 2, 22 + (5 + 4) + (2 + 4), 37 + (3 + 4) + (1 + 4)};
    var lines = Files.readAllLines(dir.resolve("requests.jsonl"));
    assertThat(lines).hasSize(6);
    for (String line : lines) {
      JsonNode n = JSON.readTree(line);
      int turn = n.path("turn").asInt(0);
      assertThat(n.path("outcome").asText()).isEqualTo("ok");
      assertThat(n.path("input_tokens").asInt()).as(line).isEqualTo(expected[turn]);
    }
    assertThat(lines.stream().filter(l -> l.contains("\"turn\":2")).count()).isEqualTo(2);
  }

  @Test
  void aDefaultRunWarmsUpAndItsResultSaysWhatRanWhereAndWithWhat(@TempDir Path dir) throws Exception {
    MainTest.Run r = MainTest.run("bench", "--target", target(), "--model", "m", "--workload", "synthetic:input=16,output=4",
        "--load", "constant:50", "--requests", "10", "--seed", "9", "--progress", "off", "--out", dir.toString());
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode json = JSON.readTree(dir.resolve("result.json").toFile());
    // Five seconds of the schedule at 50/s are warm-up.
    assertThat(json.path("warmup_requests").asInt()).isBetween(240, 260);
    assertThat(json.path("num_prompts").asInt()).isEqualTo(10);
    assertThat(json.path("command_line").asText()).isEqualTo("tokentap bench --target " + target()
        + " --model m --workload synthetic:input=16,output=4 --load constant:50 --requests 10 --seed 9 --progress off --out " + dir);
    assertThat(json.path("targets").get(0).asText()).isEqualTo(target());
    assertThat(json.path("seed").asLong()).isEqualTo(9);
    assertThat(json.path("model_id").asText()).isEqualTo("m");
    assertThat(json.path("load").asText()).isEqualTo("constant:50");
    assertThat(json.get("request_rate").isIntegralNumber()).isTrue();
    assertThat(json.path("tokentap_version").asText()).isNotEqualTo("unknown");
    assertThat(json.has("git_commit") && json.has("jvm") && json.has("cores") && json.has("started_at")).isTrue();
    // The loud line exactly when the self-check flags the run.
    assertThat(r.out().contains("WARNING: generator late")).isEqualTo(json.path("generator_late").asBoolean());
    assertThat(r.out()).contains("Lateness at the socket:");
    assertThat(Files.readString(dir.resolve("report.html"))).contains("id=\"headline\"", "tokentap bench --target");

    MainTest.Run none = MainTest.run("bench", "--target", target(), "--model", "m", "--workload", "synthetic:input=16,output=4",
        "--load", "concurrency:2", "--requests", "6", "--warmup", "0", "--progress", "off", "--out", dir.toString());
    assertThat(none.status()).as(none.err()).isZero();
    assertThat(JSON.readTree(dir.resolve("result.json").toFile()).path("warmup_requests").asInt()).isZero();
    assertThat(none.out()).contains("6 (after 0 warm-up)");
  }

  @Test
  void badWarmupsAreReportedAndTheHelpExplainsIt() {
    for (String bad : List.of("-1", "long", "2x")) {
      MainTest.Run r = MainTest.run("bench", "--target", target(), "--model", "m", "--load", "concurrency:1", "--warmup", bad);
      assertThat(r.status()).as(bad).isEqualTo(Main.CONFIG_ERROR);
      assertThat(r.err()).as(bad).contains("--warmup");
    }
    assertThat(MainTest.run("bench", "--target", target(), "--model", "m", "--load", "concurrency:1", "--warmup", "-1").err())
        .contains("--warmup: -1 (expected: >= 0)");
    MainTest.Run help = MainTest.run("bench", "--help");
    assertThat(help.out().replaceAll("\\s+", " ")).contains("--warmup=<warmup> sent first and left out of the results", "0 for none (default: 5s;");
  }

  @Test
  void badLoadExitsNonZeroWithAMessage() {
    MainTest.Run r = MainTest.run("bench", "--target", target(), "--model", "m", "--load", "fast:10");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("--load fast:10", "expected: concurrency:N");
  }

  @Test
  void badThinkTimesAndSessionHeadersAreReported() {
    MainTest.Run think = MainTest.run("bench", "--target", target(), "--model", "m", "--load", "concurrency:1", "--think", "soon");
    assertThat(think.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(think.err()).contains("--think soon (expected: a time such as 2s, uniform:MIN:MAX such as uniform:1s:3s, or 0 for none)");
    MainTest.Run noTurns = MainTest.run("bench", "--target", target(), "--model", "m", "--load", "concurrency:1", "--think", "1s");
    assertThat(noTurns.err()).contains("--think 1s is the time between a conversation's turns");
  }

  @Test
  void badTargetSloAndWorkloadAreReported() {
    MainTest.Run target = MainTest.run("bench", "--target", "ftp://x", "--model", "m", "--load", "concurrency:1");
    assertThat(target.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(target.err()).contains("--target ftp://x");
    MainTest.Run slo = MainTest.run("bench", "--target", target(), "--model", "m", "--load", "concurrency:1", "--slo", "ttft=soon");
    assertThat(slo.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(slo.err()).contains("'soon'");
    MainTest.Run workload = MainTest.run("bench", "--target", target(), "--model", "m", "--load", "concurrency:1", "--workload", "jsonl:/nonexistent.jsonl");
    assertThat(workload.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(workload.err()).contains("cannot read");
    MainTest.Run sweep = MainTest.run("bench", "--target", target(), "--model", "m", "--load", "concurrency:1", "--sweep");
    assertThat(sweep.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(sweep.err()).contains("--sweep needs --slo");
  }

  @Test
  void aRunWithNoCompletedRequestExitsNonZeroAndSaysWhy(@TempDir Path dir) throws Exception {
    int down;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      down = s.getLocalPort(); // closed again below: connections to it are refused
    }
    MainTest.Run r = MainTest.run("bench", "--target", "http://127.0.0.1:" + down, "--model", "m", "--load", "concurrency:1",
        "--requests", "3", "--warmup", "0", "--progress", "off", "--out", dir.toString());
    assertThat(r.status()).as(r.err()).isEqualTo(Main.RUN_FAILED);
    assertThat(r.err()).contains("the run failed: no request completed: all 3 failed");
    assertThat(r.out()).contains("Failed:", "wrote result.json").doesNotContain("NaN");
    assertThat(JSON.readTree(dir.resolve("result.json").toFile()).path("failed").asInt()).isEqualTo(3);
  }

  @Test
  void maxFailureRatioIsChecked() {
    MainTest.Run r = MainTest.run("bench", "--target", target(), "--model", "m", "--load", "concurrency:1", "--max-failure-ratio", "1.5");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("--max-failure-ratio: 1.5");
  }

  @Test
  void missingRequiredFlagIsAUsageError() {
    MainTest.Run r = MainTest.run("bench", "--load", "concurrency:1");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--target");
  }

  @Test
  void replaysACaptureAtTwiceItsPace(@TempDir Path dir) throws Exception {
    Path capture = dir.resolve("capture.jsonl");
    StringBuilder lines = new StringBuilder();
    long inputs = 0;
    long outputs = 0;
    for (int i = 0; i < 10; i++) {
      int in = 20 + 13 * i;
      int out = 1 + i % 4;
      inputs += in;
      outputs += out;
      lines.append("{\"offset_us\":").append(i * 100_000).append(",\"model\":\"m\",\"route\":\"chat\",\"status\":200,\"outcome\":\"ok\",")
          .append("\"input_tokens\":").append(in).append(",\"output_tokens\":").append(out).append("}\n");
    }
    Files.writeString(capture, lines);
    MainTest.Run r = MainTest.run("bench", "--target", target(), "--workload", "trace:" + capture, "--load", "trace:2",
        "--requests", "10", "--warmup", "0", "--out", dir.resolve("out").toString());
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode json = JSON.readTree(dir.resolve("out").resolve("result.json").toFile());
    assertThat(json.path("arrivals").asText()).isEqualTo("trace");
    assertThat(json.path("trace_speed").asDouble()).isEqualTo(2.0);
    // The schedule itself: 10 arrivals over 0.45 s.
    assertThat(json.path("request_rate").asDouble()).isCloseTo(20.0, org.assertj.core.api.Assertions.within(1e-6));
    assertThat(json.path("completed").asInt()).isEqualTo(10);
    assertThat(json.path("total_input_tokens").asLong()).isEqualTo(inputs);
    assertThat(json.path("total_output_tokens").asLong()).isEqualTo(outputs);

    MainTest.Run wrong = MainTest.run("bench", "--target", target(), "--model", "m", "--load", "trace", "--requests", "3");
    assertThat(wrong.status()).isEqualTo(3);
    assertThat(wrong.err()).contains("--load trace:1x replays a trace's arrival times: it needs --workload trace:PATH or mooncake:PATH");
  }
}
