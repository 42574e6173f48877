package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokentap.emulator.EmulatedRequest;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.proxy.Tokentap;
import dev.tokentap.proxy.record.CaptureRecord;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --workload mooncake:PATH} through real sockets: the bench replays a Mooncake trace at its
 * timestamps through a proxy that captures each body as it is sent on to the emulator, and the
 * emulator reports what it counted. Prompts share exactly the blocks whose hash ids they share,
 * every length is the trace's, and each request is due at its timestamp. (Arrival order at the
 * proxy is not checked: on a loaded machine requests 100 ms apart can pass each other.)
 */
class MooncakeTraceTest {
  private static final int BLOCK_CHARS = MooncakeWorkload.BLOCK_TOKENS * 4;

  /** Each line's (input, output) is unique, so a received body names its line. */
  private static final String TRACE = """
      {"timestamp": 0, "input_length": 1400, "output_length": 3, "hash_ids": [1, 2, 3]}
      {"timestamp": 200, "input_length": 1300, "output_length": 4, "hash_ids": [1, 2, 4]}
      {"timestamp": 400, "input_length": 900, "output_length": 5, "hash_ids": [5, 6]}
      {"timestamp": 600, "input_length": 1401, "output_length": 6, "hash_ids": [1, 2, 3]}
      {"timestamp": 800, "input_length": 300, "output_length": 7, "hash_ids": [1]}

      {"timestamp": 1000, "input_length": 50, "output_length": 8}
      {"timestamp": 1200, "input_length": 2000, "output_length": 9, "hash_ids": [7, 8]}
      {"timestamp": 1400, "input_length": 1000, "output_length": 10, "hash_ids": [5, 9]}
      {"timestamp": 1600, "input_length": 700, "output_length": 11, "hash_ids": [2, 1]}
      """;

  private static MooncakeWorkload trace(Path dir, String text) throws Exception {
    Path f = dir.resolve("mooncake.jsonl");
    Files.writeString(f, text);
    return (MooncakeWorkload) Workloads.parse("mooncake:" + f, "m", 5);
  }

  @Test
  void theEmulatorReceivesTheTracesLengthsAndItsPrefixBlocksAtItsTimestamps(@TempDir Path dir) throws Exception {
    MooncakeWorkload w = trace(dir, TRACE);
    List<JsonNode> lines = TRACE.lines().filter(l -> !l.isBlank()).map(MooncakeTraceTest::json).toList();
    Path capture = dir.resolve("capture.jsonl");
    List<EmulatedRequest> served = new CopyOnWriteArrayList<>();
    BenchReport report;
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()))) {
      emulator.addListener(served::add);
      try (Tokentap proxy = CaptureReplayTest.proxy(emulator.baseUri(), capture, true);
          Bench bench = new Bench(CaptureReplayTest.base(proxy), SloSpec.NONE, new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
        // The first lap of the trace warms the bench, proxy and emulator up; the second is measured.
        report = bench.run(new BenchRunner.Options(w, LoadPlan.parse("trace:2", 0), lines.size(), null, lines.size(), 1));
      }
    }
    assertThat(report.completed).isEqualTo(lines.size());
    // Lengths as given: the emulator counted every line's input and generated its output, in both laps.
    List<String> lengths = lines.stream().map(l -> l.path("input_length").asInt() + "/" + l.path("output_length").asInt()).toList();
    List<String> twice = new ArrayList<>(lengths);
    twice.addAll(lengths);
    assertThat(served).extracting(r -> r.promptTokens() + "/" + r.completionTokens()).containsExactlyInAnyOrderElementsOf(twice);

    // The bodies the emulator received, by line (both laps: a line's blocks are the same text in each).
    Map<Integer, String> prompt = new HashMap<>();
    List<CaptureRecord> records = Files.readAllLines(capture).stream().map(CaptureRecord::parse)
        .toList();
    assertThat(records).hasSize(2 * lines.size());
    for (CaptureRecord c : records) {
      JsonNode body = c.body();
      int line = lineOf(lines, body.path("max_tokens").asInt());
      prompt.put(line, body.path("messages").path(0).path("content").asText());
    }
    assertThat(prompt.keySet()).hasSize(lines.size());
    // Each measured request (the second lap: index 9 + k is line k) was due at its line's timestamp, at twice the pace.
    long firstStart = report.measured().stream().mapToLong(BenchSample::startNanos).min().orElseThrow();
    for (BenchSample sample : report.measured()) {
      JsonNode line = lines.get((int) sample.index() - lines.size());
      assertThat(sample.startNanos() - firstStart).isEqualTo(line.path("timestamp").asLong() * 1_000_000 / 2);
      assertThat(sample.record().outputTokens()).isEqualTo(line.path("output_length").asLong());
    }

    for (int i = 0; i < lines.size(); i++) {
      for (int j = i + 1; j < lines.size(); j++) {
        long[] a = ids(lines.get(i));
        long[] b = ids(lines.get(j));
        int sharedIds = 0;
        while (sharedIds < Math.min(a.length, b.length) && a[sharedIds] == b[sharedIds]) {
          sharedIds++;
        }
        String pi = prompt.get(i);
        String pj = prompt.get(j);
        int common = commonPrefix(pi, pj);
        int shortest = Math.min(pi.length(), pj.length());
        // The blocks of the shared ids are identical text (as far as both prompts go), the next block differs.
        assertThat(common).as("lines %d and %d share %d blocks", i, j, sharedIds)
            .isGreaterThanOrEqualTo(Math.min(sharedIds * BLOCK_CHARS, shortest));
        if (sharedIds * BLOCK_CHARS < shortest) {
          assertThat(common / BLOCK_CHARS).as("lines %d and %d differ from block %d", i, j, sharedIds).isEqualTo(sharedIds);
        }
      }
    }
    // Lines 0 and 3 have the same ids and almost the same length: one is the other plus a character.
    assertThat(prompt.get(3)).startsWith(prompt.get(0));

    // The schedule is the timestamps, twice as fast: its own rate is exactly (n − 1) / (1.6 s / 2).
    assertThat(report.scheduledRequestRate).isCloseTo((lines.size() - 1) / 0.8, within(1e-6));
    assertThat(w.arrivals().offsetNanos(8)).isEqualTo(1_600_000_000L);
    assertThat(w.describe()).isEqualTo("mooncake(mooncake.jsonl, 9 requests)");
  }

  @Test
  void aBadLineIsNamedWithWhatIsExpected(@TempDir Path dir) {
    assertThatThrownBy(() -> trace(dir, "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 2}\n{\"timestamp\": 5, \"output_length\": 2}\n"))
        .hasMessageContaining("mooncake.jsonl line 2: input_length missing (expected: a Mooncake trace line");
    assertThatThrownBy(() -> trace(dir, "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 2, \"hash_ids\": [1, \"x\"]}\n"))
        .hasMessageContaining("line 1: hash_ids[1] \"x\" is not an integer");
    assertThatThrownBy(() -> trace(dir, "{\"timestamp\": -1, \"input_length\": 10, \"output_length\": 2}\n"))
        .hasMessageContaining("line 1: timestamp -1 is not a whole number in [0, ");
    assertThatThrownBy(() -> trace(dir, "\n")).hasMessageContaining("no requests");
  }

  private static int lineOf(List<JsonNode> lines, int outputLength) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).path("output_length").asInt() == outputLength) {
        return i;
      }
    }
    throw new AssertionError("no line asks for " + outputLength + " tokens");
  }

  private static long[] ids(JsonNode line) {
    long[] out = new long[line.path("hash_ids").size()];
    for (int k = 0; k < out.length; k++) {
      out[k] = line.path("hash_ids").get(k).asLong();
    }
    return out;
  }

  private static int commonPrefix(String a, String b) {
    int n = 0;
    while (n < Math.min(a.length(), b.length()) && a.charAt(n) == b.charAt(n)) {
      n++;
    }
    return n;
  }

  private static JsonNode json(String line) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
