package dev.tokentap.shadow;

import static dev.tokentap.shadow.ShadowHarness.await;
import static dev.tokentap.shadow.ShadowSummaryTest.summary;
import static dev.tokentap.shadow.ShadowSummaryTest.target;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Comparing the models through real sockets: a proxy in front of a divergence-0 emulator mirrors
 * every request to three emulators with the same seed and divergence 0 (the baseline), 0.2 and 1,
 * and compares every pair. With N pairs, the exact-match rate of divergence d is 1 − d within four
 * binomial standard deviations; identical answers score similarity 1 and length ratio 1, so the mean
 * similarity lies between the exact-match rate and it plus what the differing answers share (under
 * 0.7 each: other words share about a seventh, a refusal almost none, another length at most the
 * shorter's share), and the share of ratios within 5 % of 1 is at least the exact-match rate.
 */
class ShadowCompareTest {
  static final int N = 120;

  @Test
  void measuredAgreementFollowsTheConfiguredDivergence(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    EmulatorSettings base = EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()).withMeanOutputTokens(16);
    ByteArrayOutputStream logs = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    List<String> answers = new ArrayList<>();
    try (Emulator prod = Emulator.start(base);
        Emulator same = Emulator.start(base);
        Emulator d20 = Emulator.start(base.withDivergence(0.2));
        Emulator d100 = Emulator.start(base.withDivergence(1));
        ShadowHarness h = new ShadowHarness(prod.baseUri().toString(),
            "[" + targetConf("same", same, "baseline = true") + "," + targetConf("d20", d20, "") + "," + targetConf("d100", d100, "") + "]",
            "tokentap.shadow.compare { sample = 1, max-tokens = 64 }\ntokentap.capture { enabled = true, file = \"" + dir.resolve("capture.jsonl") + "\" }")) {
      System.setErr(new PrintStream(new TeeStream(stderr, logs), true));
      for (int i = 0; i < N; i++) {
        HttpResponse<byte[]> res = h.post("/v1/chat/completions", body("question number " + i));
        assertThat(res.statusCode()).isEqualTo(200);
        answers.add(new String(res.body(), StandardCharsets.UTF_8));
      }
      await("every pair scored", Duration.ofSeconds(60), () -> pairs(h, "same", "compared") + pairs(h, "d20", "compared") + pairs(h, "d100", "compared") == 3 * N);
      JsonNode summary = summary(h, "");
      assertThat(summary.get("compare_pairs_pending").asInt()).isZero();

      JsonNode baseline = target(summary, "same").get("compare");
      assertThat(baseline.get("baseline").asBoolean()).isTrue();
      assertThat(baseline.get("pairs").get("compared").asInt()).isEqualTo(N);
      assertThat(baseline.get("exact_match_rate").asDouble()).isEqualTo(1.0);
      assertThat(baseline.get("similarity_mean").asDouble()).isEqualTo(1.0);
      assertThat(baseline.get("output_ratio_geomean").asDouble()).isEqualTo(1.0);
      assertThat(baseline.get("finish_reason_agreement").asDouble()).isEqualTo(1.0);
      assertThat(target(summary, "same").has("compare_vs_baseline")).isFalse();

      for (String name : List.of("d20", "d100")) {
        double d = name.equals("d20") ? 0.2 : 1.0;
        JsonNode node = target(summary, name);
        JsonNode c = node.get("compare");
        double exact = c.get("exact_match_rate").asDouble();
        double sd = Math.sqrt(d * (1 - d) / N);
        assertThat(exact).as(name + " exact match").isBetween(1 - d - 4 * sd, 1 - d + 4 * sd);
        double similarity = c.get("similarity_mean").asDouble();
        assertThat(similarity).as(name + " similarity").isBetween(exact, exact + 0.7 * (1 - exact));
        double withinFivePercent = ratioShareNearOne(h, name);
        assertThat(withinFivePercent).as(name + " length ratio near 1").isBetween(exact, 1.0);
        if (d == 1) {
          assertThat(withinFivePercent).isLessThan(0.6); // a third keep their length (other words), few others by chance
        }
        JsonNode versus = node.get("compare_vs_baseline");
        assertThat(versus.get("baseline_target").asText()).isEqualTo("same");
        assertThat(versus.get("exact_match_rate").get("baseline").asDouble()).isEqualTo(1.0);
        assertThat(versus.get("exact_match_rate").get("difference").asDouble()).isCloseTo(exact - 1, org.assertj.core.data.Offset.offset(1e-3));
        assertThat(versus.get("exact_match_rate").get("exceeds_noise").asBoolean()).as(name).isTrue();
        assertThat(versus.get("similarity_mean").get("exceeds_noise").asBoolean()).as(name).isTrue();
      }

      // No answer's text reaches the metrics, the summary, the logs or the trace capture: no run of
      // three of its words.
      h.close(); // flushes the capture file
      String capture = String.join("\n", java.nio.file.Files.readAllLines(dir.resolve("capture.jsonl")));
      assertThat(capture).contains("\"output_tokens\"");
      String exposed = h.scrape() + summary + logs.toString(StandardCharsets.UTF_8) + capture;
      for (String answer : answers) {
        for (String phrase : phrases(answer)) {
          assertThat(exposed).doesNotContain(phrase);
        }
      }
    } finally {
      System.setErr(stderr);
    }
  }

  @Test
  void pendingPairsNeverExceedTheLimitWithASlowTarget() throws Exception {
    EmulatorSettings base = EmulatorSettings.defaults().withPort(0).withMeanOutputTokens(1_000_000);
    int requests = 40;
    int maxPending = 5;
    try (Emulator prod = Emulator.start(base.withProfile(EngineProfile.fast()));
        Emulator slow = Emulator.start(base.withProfile(EngineProfile.fast().withBaseStep(Duration.ofMillis(40))));
        ShadowHarness h = new ShadowHarness(prod.baseUri().toString(), "[" + targetConf("slow", slow, "") + "]",
            "tokentap.shadow.compare { sample = 1, max-pending = " + maxPending + " }")) {
      for (int i = 0; i < requests; i++) {
        assertThat(h.post("/v1/chat/completions", body("slow question " + i)).statusCode()).isEqualTo(200);
        assertThat(summary(h, "").get("compare_pairs_pending").asInt()).isLessThanOrEqualTo(maxPending);
      }
      await("every pair ended", Duration.ofSeconds(60), () -> pairs(h, "slow", "compared") + pairs(h, "slow", "dropped") == requests);
      JsonNode summary = summary(h, "");
      assertThat(summary.get("compare_pairs_pending_max").asInt()).isEqualTo(maxPending);
      assertThat(summary.get("compare_pairs_pending").asInt()).isZero();
      assertThat(pairs(h, "slow", "dropped")).isPositive();
      assertThat(target(summary, "slow").get("compare").get("pairs").get("dropped").asInt()).isEqualTo((int) pairs(h, "slow", "dropped"));
    }
  }

  @Test
  void anOptedInSamplesFileHoldsTheFirstDifferingPairs(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    EmulatorSettings base = EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()).withMeanOutputTokens(16);
    java.nio.file.Path file = dir.resolve("pairs.jsonl");
    try (Emulator prod = Emulator.start(base);
        Emulator other = Emulator.start(base.withDivergence(1))) {
      try (ShadowHarness h = new ShadowHarness(prod.baseUri().toString(), "[" + targetConf("other", other, "") + "]",
          "tokentap.shadow.compare { sample = 1, samples { file = \"" + file + "\", max-pairs = 3 } }")) {
        for (int i = 0; i < 8; i++) {
          assertThat(h.post("/v1/chat/completions", body("sampled question " + i), "x-request-id", "req-" + i).statusCode()).isEqualTo(200);
        }
        await("every pair scored", Duration.ofSeconds(30), () -> pairs(h, "other", "compared") == 8);
        h.close(); // writes what was queued
      }
      List<String> lines = java.nio.file.Files.readAllLines(file);
      assertThat(lines).hasSize(3);
      for (String line : lines) {
        JsonNode pair = ShadowSummaryTest.JSON.readTree(line);
        assertThat(pair.get("target").asText()).isEqualTo("other");
        assertThat(pair.get("request_id").asText()).startsWith("req-");
        assertThat(pair.get("exact_match").asBoolean()).isFalse();
        assertThat(pair.get("similarity").asDouble()).isBetween(0.0, 1.0);
        assertThat(pair.get("production").get("text").asText()).isNotEqualTo(pair.get("shadow").get("text").asText());
        assertThat(pair.get("production").get("output_tokens").asLong()).isPositive();
      }
    }
  }

  static String targetConf(String name, Emulator emulator, String extra) {
    return "{ name = " + name + ", upstream = \"" + emulator.baseUri() + "\", factor = 1, spread-window = 0s, " + extra + " }";
  }

  static String body(String question) {
    return "{\"model\":\"m1\",\"stream\":true,\"max_tokens\":40,\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"" + question + "\"}]}";
  }

  /** tokentap_shadow_pairs_total{target,result}. */
  static double pairs(ShadowHarness h, String target, String result) {
    Matcher m = Pattern.compile("(?m)^tokentap_shadow_pairs_total\\{result=\"" + result + "\",target=\"" + target + "\"} (\\S+)$").matcher(h.scrape());
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  /** Share of compared pairs whose output ratio is in (95 %, 105 %], from the histogram's buckets. */
  static double ratioShareNearOne(ShadowHarness h, String target) {
    String scrape = h.scrape();
    return (bucket(scrape, target, "105.0") - bucket(scrape, target, "95.0")) / bucket(scrape, target, "+Inf");
  }

  private static double bucket(String scrape, String target, String le) {
    for (String line : scrape.split("\n")) {
      if (line.startsWith("tokentap_shadow_output_ratio_percent_bucket{") && line.contains("target=\"" + target + "\"") && line.contains("le=\"" + le + "\"")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no bucket le=" + le + " of " + target + " in\n" + scrape.lines().filter(l -> l.contains("output_ratio")).toList());
  }

  /** Every run of three consecutive words of the answer's streamed content. */
  static List<String> phrases(String sse) {
    StringBuilder text = new StringBuilder();
    Matcher m = Pattern.compile("\"content\":\"([^\"]*)\"").matcher(sse);
    while (m.find()) {
      text.append(m.group(1));
    }
    String[] words = text.toString().trim().split("\\s+");
    List<String> phrases = new ArrayList<>();
    for (int i = 0; i + 2 < words.length; i++) {
      phrases.add(words[i] + " " + words[i + 1] + " " + words[i + 2]);
    }
    return phrases;
  }

  /** Writes to two streams: the test's output still shows, and the copy is searched. */
  private static final class TeeStream extends java.io.OutputStream {
    private final java.io.OutputStream a;
    private final java.io.OutputStream b;

    TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int x) throws java.io.IOException {
      a.write(x);
      b.write(x);
    }

    @Override
    public void write(byte[] bytes, int off, int len) throws java.io.IOException {
      a.write(bytes, off, len);
      b.write(bytes, off, len);
    }
  }
}
