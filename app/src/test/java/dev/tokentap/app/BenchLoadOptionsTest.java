package dev.tokentap.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tokentap bench --target A --target B --target-policy P --cancel R@D --slice W} end to end
 * against two emulators, in-process through {@link Main#run}; the behaviour of each option is pinned
 * in the bench module's socket tests, this checks that the command line reaches it.
 */
class BenchLoadOptionsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Emulator first;
  private static Emulator second;

  @BeforeAll
  static void start() throws Exception {
    // 20 tokens at 5 ms a step: every request outlasts the 30 ms cancellation delay.
    EngineProfile profile = EngineProfile.fast().withBaseStep(Duration.ofMillis(5));
    first = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(profile));
    second = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(profile));
  }

  @AfterAll
  static void stop() {
    first.close();
    second.close();
  }

  @Test
  void twoTargetsCancellationsAndSlicesFromTheCommandLine(@TempDir Path dir) throws Exception {
    MainTest.Run r = MainTest.run("bench", "--target", first.baseUri() + "/v1", "--target", second.baseUri().toString(),
        "--target-policy", "round-robin", "--cancel", "0.25@30ms", "--slice", "200ms", "--workload", "synthetic:input=32,output=20",
        "--load", "concurrency:2", "--requests", "24", "--warmup", "0", "--seed", "3", "--progress", "100ms", "--out", dir.toString());
    assertThat(r.status()).as(r.err()).isZero();
    // The progress line counts cancellations apart from errors.
    assertThat(r.err()).contains("errors 0, cancelled ");
    assertThat(r.out()).contains("Cancelled:", "Per target (round-robin):", "wrote result.json, requests.jsonl, steps.csv, slices.csv, report.html");
    JsonNode json = JSON.readTree(dir.resolve("result.json").toFile());
    assertThat(json.path("targets")).hasSize(2);
    assertThat(json.path("per_target").get(0).path("requests").asInt()).isEqualTo(12);
    assertThat(json.path("per_target").get(1).path("requests").asInt()).isEqualTo(12);
    assertThat(json.path("cancel").path("delay_ms").asInt()).isEqualTo(30);
    int cancelled = json.path("cancelled").asInt();
    assertThat(cancelled).isPositive();
    assertThat(json.path("completed").asInt() + json.path("failed").asInt() + cancelled).isEqualTo(24);
    assertThat(json.path("slices").size()).isPositive();
    assertThat(Files.readAllLines(dir.resolve("slices.csv"))).hasSize(json.path("slices").size() + 1);
    List<String> steps = Files.readAllLines(dir.resolve("steps.csv"));
    int column = Arrays.asList(steps.get(0).split(",")).indexOf("cancelled");
    assertThat(steps.get(1).split(",")[column]).isEqualTo(Integer.toString(cancelled));
    assertThat(Files.readString(dir.resolve("report.html"))).contains("id=\"per-target\"", "id=\"slices\"", ">cancelled<");
  }

  @Test
  void aCommaListIsSeveralTargets() {
    MainTest.Run r = MainTest.run("bench", "--target", first.baseUri() + "," + second.baseUri(), "--target-policy", "least-in-flight",
        "--model", "m", "--workload", "synthetic:input=16,output=2", "--load", "concurrency:2", "--requests", "6", "--warmup", "0");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("Per target (least-in-flight):", first.baseUri() + " ", second.baseUri() + " ");
  }

  @Test
  void badValuesNameTheOptionAndWhatIsExpected() {
    String target = first.baseUri().toString();
    assertBad("--target-policy random (expected: round-robin or least-in-flight)", "--target", target, "--target-policy", "random");
    assertBad("--cancel 2@1s: ratio '2' (expected: 0 < RATIO <= 1", "--target", target, "--cancel", "2@1s");
    assertBad("--cancel 0.1 (expected: RATIO@DELAY", "--target", target, "--cancel", "0.1");
    assertBad("--slice: '0s' (expected: a positive duration", "--target", target, "--slice", "0s");
    assertBad("a target is given twice", "--target", target, "--target", target + "/v1");
  }

  private static void assertBad(String message, String... args) {
    String[] all = new String[args.length + 5];
    all[0] = "bench";
    System.arraycopy(args, 0, all, 1, args.length);
    System.arraycopy(new String[] {"--model", "m", "--load", "concurrency:1"}, 0, all, args.length + 1, 4);
    MainTest.Run r = MainTest.run(all);
    assertThat(r.status()).as(r.err()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains(message);
  }
}
