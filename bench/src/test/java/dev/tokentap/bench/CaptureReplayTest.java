package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.meter.Route;
import dev.tokentap.proxy.Tokentap;
import dev.tokentap.proxy.config.SettingsLoader;
import dev.tokentap.proxy.record.CaptureRecord;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Done-means 4 of the bench issue, through real sockets: a known mix of requests goes through a
 * proxy with capture on (Poisson arrivals at 20/s, 200 requests, four kinds of prompt: two shared
 * system prompts longer than prefix-chars, one repeated short prompt, unique prompts); the bench
 * replays the capture at its own timing through a second capturing proxy; the second capture is
 * the server-side view of the replay and is compared with the first.
 *
 * <p>Tolerances: input and output tokens per request exactly (the emulator counts tokens by a
 * documented rule the synthetic prompts are built for), so every quantile is equal; arrival rate
 * (requests − 1) / span within 5% (the schedule is exact; the slack is dispatcher and proxy
 * jitter over a ~10 s span); prefix groups identical as groups of (input, output) lengths.
 */
class CaptureReplayTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int REQUESTS = 200;
  private static final String[] SYSTEM = {
    "You are Captain Marmalade, a pirate who explains astronomy with telescopes and parrots. ".repeat(8),
    "You are a meticulous tax accountant named Quillfeather who cites every ledger entry. ".repeat(8),
  };
  private static final String REPEATED = "Summarise the weather in Thimbleton for a tangerine farmer.";
  private static final String[] USER_WORDS = {"zephyr", "walrus", "kumquat", "obsidian", "lantern", "quasar", "mango"};

  /** The known mix: kind = index mod 4; lengths vary by index. */
  private static final Workload MIX = new Workload() {
    @Override
    public BenchRequest request(long index) {
      Random r = new Random(index * 7919 + 13);
      int kind = (int) (index % 4);
      ObjectNode body = JSON.createObjectNode();
      body.put("model", "capture-model");
      var messages = body.putArray("messages");
      if (kind < 2) {
        messages.addObject().put("role", "system").put("content", SYSTEM[kind]);
      }
      String user = kind == 2 ? REPEATED : words(r, 10 + r.nextInt(1500));
      messages.addObject().put("role", "user").put("content", user);
      int maxTokens = 1 + r.nextInt(48);
      body.put("max_tokens", maxTokens);
      body.put("ignore_eos", true);
      body.put("stream", true);
      body.putObject("stream_options").put("include_usage", true);
      return new BenchRequest("/v1/chat/completions", Route.CHAT, "capture-model", Workloads.bytes(body), -1, maxTokens);
    }

    @Override
    public String describe() {
      return "capture mix";
    }
  };

  private static String words(Random r, int chars) {
    StringBuilder sb = new StringBuilder();
    while (sb.length() < chars) {
      sb.append(USER_WORDS[r.nextInt(USER_WORDS.length)]).append(' ');
    }
    return sb.substring(0, chars);
  }

  private static Tokentap proxy(URI upstream, Path capture) throws Exception {
    return proxy(upstream, capture, false);
  }

  /** A capturing proxy in front of {@code upstream}; with {@code includeText} each record carries the body the upstream received. */
  static Tokentap proxy(URI upstream, Path capture, boolean includeText) throws Exception {
    Map<String, Object> o = new HashMap<>();
    o.put("tokentap.capture.include-text", includeText);
    o.put("tokentap.proxy.listen", "127.0.0.1:0");
    o.put("tokentap.admin.listen", "127.0.0.1:0");
    o.put("tokentap.proxy.upstream", upstream.toString());
    o.put("tokentap.proxy.io-threads", 2);
    o.put("tokentap.access-log.enabled", false);
    o.put("tokentap.proxy.shutdown-grace-period", "1s");
    o.put("tokentap.capture.enabled", true);
    o.put("tokentap.capture.file", capture.toString());
    return Tokentap.start(SettingsLoader.load(SettingsLoader.resolve(null, o)));
  }

  static URI base(Tokentap t) {
    return URI.create("http://127.0.0.1:" + t.proxyAddress().getPort());
  }

  private static List<CaptureRecord> read(Path file) throws Exception {
    return Files.readAllLines(file).stream().map(CaptureRecord::parse).sorted(Comparator.comparingLong(CaptureRecord::offsetMicros)).toList();
  }

  @Test
  void replayReproducesLengthsRateAndPrefixGroups(@TempDir Path dir) throws Exception {
    Path first = dir.resolve("production.jsonl");
    Path second = dir.resolve("replay.jsonl");
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()))) {
      // 1. Production traffic through a capturing proxy: two requests with an API key, then the mix.
      try (Tokentap production = proxy(emulator.baseUri(), first)) {
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < 2; i++) {
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base(production) + "/v1/chat/completions"))
              .header("authorization", "Bearer sk-live-do-not-store")
              .POST(HttpRequest.BodyPublishers.ofByteArray(MIX.request(3).body())).build(), HttpResponse.BodyHandlers.ofString());
          assertThat(r.statusCode()).isEqualTo(200);
        }
        try (Bench client = new Bench(base(production), SloSpec.NONE, new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
          BenchReport sent = client.run(new BenchRunner.Options(MIX, LoadPlan.parse("poisson:20", 0), REQUESTS, null, 0, 11));
          assertThat(sent.completed).isEqualTo(REQUESTS);
        }
      }
      List<CaptureRecord> captured = read(first);
      assertThat(captured).hasSize(REQUESTS + 2);
      assertThat(captured).allSatisfy(c -> {
        assertThat(c.outcome()).isEqualTo("ok");
        assertThat(c.model()).isEqualTo("capture-model");
        assertThat(c.prefixHash()).isNotNull();
      });

      // No text and no key in the capture.
      String text = Files.readString(first);
      assertThat(text).doesNotContain("Marmalade", "Quillfeather", "Thimbleton", "tangerine", "sk-live-do-not-store", "Bearer");
      for (String w : USER_WORDS) {
        assertThat(text).doesNotContain(w);
      }

      // 2. The bench replays the capture at its own timing through a second capturing proxy.
      TraceWorkload trace = (TraceWorkload) Workloads.parse("trace:" + first, "unused", 3);
      BenchReport replayed;
      try (Tokentap staging = proxy(emulator.baseUri(), second);
          Bench bench = new Bench(base(staging), SloSpec.NONE, new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
        replayed = bench.run(new BenchRunner.Options(trace, LoadPlan.parse("trace", 0), trace.size(), null, 0, 3));
      }
      assertThat(replayed.completed).isEqualTo(captured.size());
      List<CaptureRecord> replay = read(second);
      assertThat(replay).hasSize(captured.size());

      // Lengths: per request exact (request i of the replay is record i of the capture).
      for (BenchSample s : replayed.measured()) {
        CaptureRecord c = captured.get((int) s.index());
        assertThat(s.record().inputTokens()).as("input tokens of request %d", s.index()).isEqualTo(c.inputTokens());
        assertThat(s.record().outputTokens()).as("output tokens of request %d", s.index()).isEqualTo(c.outputTokens());
      }
      // ... and so as the server saw them, every quantile of both distributions.
      assertThat(sorted(replay, CaptureRecord::inputTokens)).isEqualTo(sorted(captured, CaptureRecord::inputTokens));
      assertThat(sorted(replay, CaptureRecord::outputTokens)).isEqualTo(sorted(captured, CaptureRecord::outputTokens));
      long[] in = sorted(captured, CaptureRecord::inputTokens);
      assertThat(in[in.length - 1]).as("varied input lengths").isGreaterThan(3 * in[0]);

      // Arrival rate within 5% of the capture's.
      double capturedRate = rate(captured);
      assertThat(capturedRate).isCloseTo(trace.capturedRate(), within(1e-9));
      System.out.printf("capture: %d requests at %.3f req/s, input %d-%d tokens; replay as the server saw it: %.3f req/s (%+.2f%%)%n",
          captured.size(), capturedRate, in[0], in[in.length - 1], rate(replay), (rate(replay) / capturedRate - 1) * 100);
      assertThat(rate(replay)).isCloseTo(capturedRate, within(0.05 * capturedRate));

      // Prefix groups: the same groups, each with the same requests (as (input, output) lengths).
      Map<List<Long>, Long> groups = groupSignatures(captured);
      assertThat(groupSignatures(replay)).isEqualTo(groups);
      long shared = captured.stream().collect(Collectors.groupingBy(CaptureRecord::prefixHash, Collectors.counting()))
          .values().stream().filter(n -> n > 1).count();
      // Two system-prompt groups, the repeated prompt, and mix request 3 with the two keyed copies of it.
      assertThat(shared).isEqualTo(4);
    }
  }

  private static long[] sorted(List<CaptureRecord> records, java.util.function.ToLongFunction<CaptureRecord> f) {
    return records.stream().mapToLong(f).sorted().toArray();
  }

  private static double rate(List<CaptureRecord> records) {
    long span = records.get(records.size() - 1).offsetMicros() - records.get(0).offsetMicros();
    return (records.size() - 1) / (span / 1e6);
  }

  /** Each group as the sorted list of its members' (input, output) lengths, counted. */
  private static Map<List<Long>, Long> groupSignatures(List<CaptureRecord> records) {
    Map<String, List<Long>> byGroup = new HashMap<>();
    for (CaptureRecord r : records) {
      byGroup.computeIfAbsent(r.prefixHash(), k -> new ArrayList<>()).add(r.inputTokens() * 1_000_000 + r.outputTokens());
    }
    return byGroup.values().stream().map(l -> l.stream().sorted().toList()).collect(Collectors.groupingBy(l -> l, Collectors.counting()));
  }
}
