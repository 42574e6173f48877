package dev.tokentap.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a bench run shows while it runs: its meters on {@code /metrics} ({@code --metrics}), scraped
 * with a real HTTP client during the run, and the progress line ({@code --progress}); and a ramp
 * run end to end.
 */
class BenchLiveTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern METRICS_URL = Pattern.compile("bench metrics: (http://\\S+/metrics)");
  private static Emulator emulator;

  @BeforeAll
  static void startEmulator() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
  }

  @AfterAll
  static void stopEmulator() {
    emulator.close();
  }

  /** One scrape: the step gauge, the target rate, and bench requests finished (Σ tokentap_requests_total{role="bench"}). */
  record Scrape(int step, double targetRate, double requests, String text) {}

  @Test
  void metricsAreServedDuringTheRunAndTheProgressLineShowsTheStep(@TempDir Path dir) throws Exception {
    // Constant arrivals are i / rate exactly: 40 requests in the first 2 s stage, 80 in the second.
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> Main.run(new String[] {
        "bench", "--target", emulator.baseUri().toString(), "--model", "m", "--workload", "synthetic:input=16,output=8",
        "--load", "stages:constant:20@2s,40@2s", "--stage-warmup", "0", "--metrics", "127.0.0.1:0", "--progress", "250ms", "--out", dir.toString()},
        new PrintWriter(out, true), new PrintWriter(err, true)));
    URI metrics = null;
    while (metrics == null && !run.isDone()) {
      Matcher m = METRICS_URL.matcher(err.toString());
      if (m.find()) {
        metrics = URI.create(m.group(1));
      } else {
        Thread.sleep(20);
      }
    }
    assertThat(metrics).as(err.toString()).isNotNull();
    HttpClient http = HttpClient.newHttpClient();
    List<Scrape> scrapes = new ArrayList<>();
    while (!run.isDone()) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        scrapes.add(parse(r.body()));
      } catch (IOException e) {
        break; // the run ended and closed the listener between the check and the scrape
      }
      Thread.sleep(100);
    }
    assertThat(run.get(60, TimeUnit.SECONDS)).as(err.toString()).isZero();

    JsonNode steps = JSON.readTree(dir.resolve("stages.json").toFile()).path("steps");
    int firstStep = steps.path(0).path("num_prompts").asInt();
    int total = firstStep + steps.path(1).path("num_prompts").asInt();
    assertThat(firstStep).isEqualTo(40);
    assertThat(total).isEqualTo(120);

    assertThat(scrapes).isNotEmpty();
    Scrape first = scrapes.get(0);
    // The proxy's series, role="bench", and the bench's own meters.
    assertThat(first.text()).contains("tokentap_requests_in_flight{role=\"bench\",target=\"bench\"}",
        "# TYPE tokentap_bench_step gauge", "tokentap_bench_target_concurrency", "tokentap_bench_schedule_lag_seconds_bucket",
        "jvm_memory_used_bytes");
    Scrape last = scrapes.get(scrapes.size() - 1);
    assertThat(last.text()).contains("tokentap_time_to_first_token_seconds_count{model=\"m\",role=\"bench\",route=\"chat\",target=\"bench\"}",
        "tokentap_request_duration_seconds_bucket{model=\"m\",outcome=\"ok\",role=\"bench\"");
    // Counts only grow, and agree with the result: stage 1 had drained before stage 2 began.
    for (int i = 1; i < scrapes.size(); i++) {
      assertThat(scrapes.get(i).requests()).isGreaterThanOrEqualTo(scrapes.get(i - 1).requests());
      assertThat(scrapes.get(i).step()).isGreaterThanOrEqualTo(scrapes.get(i - 1).step());
    }
    assertThat(scrapes).allSatisfy(s -> assertThat(s.requests()).isLessThanOrEqualTo(total));
    assertThat(scrapes).anySatisfy(s -> assertThat(s.requests()).isPositive());
    assertThat(scrapes).filteredOn(s -> s.step() == 2).isNotEmpty()
        .allSatisfy(s -> assertThat(s.requests()).isGreaterThanOrEqualTo(firstStep))
        .anySatisfy(s -> assertThat(s.targetRate()).isEqualTo(40));

    // Plain lines (stderr is no terminal here), one per 250 ms, each with every field.
    String progress = err.toString();
    assertThat(progress).doesNotContain("\r");
    Pattern line = Pattern.compile("step (\\d)/2 constant:(\\d+) \\| \\d+\\.\\ds/2\\.0s, total 0:0\\d/0:04 \\| done (\\d+), errors 0"
        + " \\| achieved \\d+\\.\\d req/s \\| in flight \\d+ \\| TTFT (p50 \\S+ p99 \\S+|p50 - p99 -) \\| TPOT (p50 \\S+ p99 \\S+|p50 - p99 -)");
    List<String> lines = progress.lines().filter(l -> l.startsWith("step ")).toList();
    assertThat(lines).allSatisfy(l -> assertThat(l).matches(line));
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("step 1/2 constant:20 |").contains("TTFT p50 ").doesNotContain("TTFT p50 -"));
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("step 2/2 constant:40 |"));
    assertThat(lines).allSatisfy(l -> {
      Matcher m = line.matcher(l);
      assertThat(m.matches()).isTrue();
      assertThat(Integer.parseInt(m.group(3))).isLessThanOrEqualTo(m.group(1).equals("1") ? 40 : 80);
    });
  }

  private static Scrape parse(String text) {
    int step = -1;
    double rate = -1;
    double requests = 0;
    for (String l : text.lines().toList()) {
      if (l.startsWith("tokentap_bench_step ")) {
        step = (int) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
      } else if (l.startsWith("tokentap_bench_target_rate ")) {
        rate = Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
      } else if (l.startsWith("tokentap_requests_total{") && l.contains("role=\"bench\"")) {
        requests += Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
      }
    }
    return new Scrape(step, rate, requests, text);
  }

  @Test
  void aRampRunsAsStagesThroughTheCommand(@TempDir Path dir) throws Exception {
    MainTest.Run r = MainTest.run("bench", "--target", emulator.baseUri().toString(), "--model", "m", "--workload", "synthetic:input=16,output=2",
        "--load", "ramp:constant:20..40:x2@100ms+500ms", "--slo", "e2e=60s", "--progress", "off", "--out", dir.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("stage 1/2: constant:20", "stage 2/2: constant:40", "highest passing rate: 40");
    assertThat(r.err()).doesNotContain("step 1/2");
    JsonNode steps = JSON.readTree(dir.resolve("stages.json").toFile()).path("steps");
    assertThat(steps).hasSize(2);
    // 500 ms at 20/s and 40/s after the warm-up.
    assertThat(steps.path(0).path("num_prompts").asInt()).isEqualTo(10);
    assertThat(steps.path(1).path("num_prompts").asInt()).isEqualTo(20);
    assertThat(Files.readAllLines(dir.resolve("steps.csv"))).hasSize(3);
    assertThat(Files.readString(dir.resolve("report.html"))).contains("<svg ");
  }

  @Test
  void badLiveAndRampFlagsAreReported() throws Exception {
    String target = emulator.baseUri().toString();
    MainTest.Run badMetrics = MainTest.run("bench", "--target", target, "--model", "m", "--load", "concurrency:1", "--metrics", "here");
    assertThat(badMetrics.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(badMetrics.err()).contains("--metrics here", "expected: [HOST:]PORT");
    MainTest.Run badProgress = MainTest.run("bench", "--target", target, "--model", "m", "--load", "concurrency:1", "--progress", "often");
    assertThat(badProgress.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(badProgress.err()).contains("--progress", "'often'");
    MainTest.Run badRamp = MainTest.run("bench", "--target", target, "--model", "m", "--load", "ramp:poisson:1..10:x1@1s");
    assertThat(badRamp.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(badRamp.err()).contains("--load ramp:poisson:1..10:x1@1s: factor x1 (expected: > 1)");
    MainTest.Run rampAndRequests = MainTest.run("bench", "--target", target, "--model", "m", "--load", "ramp:poisson:1..2:+1@1s", "--requests", "3");
    assertThat(rampAndRequests.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(rampAndRequests.err()).contains("sets each stage's hold and warm-up");
    try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      MainTest.Run inUse = MainTest.run("bench", "--target", target, "--model", "m", "--load", "concurrency:1", "--requests", "1",
          "--metrics", "127.0.0.1:" + taken.getLocalPort());
      assertThat(inUse.status()).isEqualTo(Main.IO_ERROR);
      assertThat(inUse.err()).contains("cannot listen on 127.0.0.1:" + taken.getLocalPort() + " (--metrics)");
    }
  }
}
