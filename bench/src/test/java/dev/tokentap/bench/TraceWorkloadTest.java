package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.proxy.record.CaptureRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a capture back: lengths, prefix groups, arrival offsets, original bodies, bad lines. */
class TraceWorkloadTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  // Written out of arrival order (lines are written as requests finish).
  private static final String CAPTURE = """
      {"offset_us":3000000,"model":"llama","route":"chat","status":200,"outcome":"ok","input_tokens":200,"output_tokens":7,"prefix_hash":"00000000000000aa","prefix_chars":64,"prefix_whole":false}
      {"offset_us":1000000,"model":"llama","route":"chat","status":200,"outcome":"ok","input_tokens":90,"output_tokens":12,"prefix_hash":"00000000000000aa","prefix_chars":64,"prefix_whole":false}
      {"offset_us":2000000,"model":"other","route":"completions","status":200,"outcome":"ok","input_tokens":40,"output_tokens":3,"prefix_hash":"00000000000000bb","prefix_chars":20,"prefix_whole":true}

      {"offset_us":5000000,"model":"llama","route":"chat","status":500,"outcome":"error","input_tokens":30,"output_tokens":0}
      """;

  private static TraceWorkload read(Path dir, String text) throws Exception {
    Path f = dir.resolve("capture.jsonl");
    Files.writeString(f, text);
    return (TraceWorkload) Workloads.parse("trace:" + f, "fallback", 5);
  }

  private static String content(BenchRequest r) throws Exception {
    return JSON.readTree(r.body()).path("messages").path(0).path("content").asText();
  }

  @Test
  void requestsHaveTheCapturedLengthsInArrivalOrder(@TempDir Path dir) throws Exception {
    TraceWorkload w = read(dir, CAPTURE);
    assertThat(w.size()).isEqualTo(4);
    int[][] expected = {{90, 12}, {40, 3}, {200, 7}, {30, 1}};
    for (int i = 0; i < 4; i++) {
      BenchRequest r = w.request(i);
      JsonNode body = JSON.readTree(r.body());
      assertThat(r.path()).isEqualTo("/v1/chat/completions");
      assertThat(body.path("stream").asBoolean()).isTrue();
      assertThat(body.path("ignore_eos").asBoolean()).isTrue();
      assertThat(body.path("max_tokens").asInt()).isEqualTo(expected[i][1]);
      // The emulator's chat rule, ceil(chars / 4) + 4 + 2, gives back the captured input tokens.
      assertThat((content(r).length() + 3) / 4 + 6).isEqualTo(expected[i][0]);
    }
    // The captured model, unless it was folded into "other" (then --model or the target's first).
    assertThat(w.request(0).model()).isEqualTo("llama");
    assertThat(w.request(1).model()).isEqualTo("fallback");
    // Cycles: the next lap has the same lengths and group prefix, and words of its own after it
    // (so a second lap is not one long prefix-cache hit). Request i is the same each time.
    assertThat(content(w.request(4))).hasSameSizeAs(content(w.request(0))).startsWith(content(w.request(0)).substring(0, 64));
    assertThat(w.request(5).body()).isEqualTo(w.request(5).body());
  }

  @Test
  void aGroupSharesItsPrefixAndAWholePromptGroupRepeatsItsPrompt(@TempDir Path dir) throws Exception {
    TraceWorkload w = read(dir, CAPTURE + """
        {"offset_us":6000000,"model":"llama","input_tokens":40,"output_tokens":9,"prefix_hash":"00000000000000bb","prefix_chars":20,"prefix_whole":true}
        """);
    String a1 = content(w.request(0));
    String a2 = content(w.request(2));
    assertThat(a1.substring(0, 64)).isEqualTo(a2.substring(0, 64));
    assertThat(a1.substring(64)).isNotEqualTo(a2.substring(64, a1.length()));
    // Same captured prompt (the hash covered all of it): the same replayed prompt.
    assertThat(content(w.request(4))).isEqualTo(content(w.request(1)));
    // Another group, or none: another text.
    assertThat(content(w.request(1)).substring(0, 20)).isNotEqualTo(a1.substring(0, 20));
    assertThat(content(w.request(3))).doesNotStartWith(a1.substring(0, 20));
  }

  @Test
  void scheduleKeepsTheCapturedGapsAtAGivenSpeedAndCycles(@TempDir Path dir) throws Exception {
    TraceWorkload w = read(dir, CAPTURE);
    assertThat(w.capturedRate()).isEqualTo(3 / 4.0);
    ArrivalSchedule once = w.schedule(1, 4, Long.MAX_VALUE);
    assertThat(new long[] {once.offsetNanos(0), once.offsetNanos(1), once.offsetNanos(2), once.offsetNanos(3)})
        .containsExactly(0, 1_000_000_000L, 2_000_000_000L, 4_000_000_000L);
    ArrivalSchedule twice = w.schedule(2, 6, Long.MAX_VALUE);
    // Second lap one mean gap (4 s / 3) after the last arrival, all halved.
    assertThat(twice.offsetNanos(3)).isEqualTo(2_000_000_000L);
    assertThat(twice.offsetNanos(4)).isEqualTo((4_000_000_000L + 4_000_000_000L / 3) / 2);
    assertThat(w.schedule(1, Long.MAX_VALUE, 2_500_000_000L).size()).isEqualTo(3);
  }

  @Test
  void includeTextRecordsReplayTheirBody(@TempDir Path dir) throws Exception {
    TraceWorkload w = read(dir, """
        {"offset_us":0,"model":"llama","input_tokens":10,"output_tokens":4,"body":{"model":"llama","messages":[{"role":"user","content":"the original words"}],"max_tokens":4}}
        """);
    JsonNode body = JSON.readTree(w.request(0).body());
    assertThat(content(w.request(0))).isEqualTo("the original words");
    assertThat(body.path("stream").asBoolean()).isTrue();
    assertThat(body.path("stream_options").path("include_usage").asBoolean()).isTrue();
    Path f = dir.resolve("capture.jsonl");
    TraceWorkload renamed = (TraceWorkload) Workloads.parse("trace:" + f, "staging-model", true, 5);
    assertThat(JSON.readTree(renamed.request(0).body()).path("model").asText()).isEqualTo("staging-model");
  }

  @Test
  void badLinesAreNamedByNumber(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> read(dir, "{\"offset_us\":1}\n\n{\"offset_us\":2,\"output_tokens\":\"many\"}\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith("capture.jsonl line 3: \"output_tokens\": \"many\" (expected: an integer >= 0)");
    assertThatThrownBy(() -> read(dir, "{\"offset_us\":1}\nnot json\n")).hasMessageContaining("capture.jsonl line 2: not JSON");
    assertThatThrownBy(() -> read(dir, "\n")).hasMessageContaining("no records");
    assertThatThrownBy(() -> Workloads.parse("trace:" + dir.resolve("missing.jsonl"), "m", 0)).hasMessageContaining("cannot read");
  }

  @Test
  void traceLoadParsesAndNeedsATraceWorkload(@TempDir Path dir) throws Exception {
    LoadPlan plan = LoadPlan.parse("trace", 0);
    assertThat(plan.arrivals()).isEqualTo(ArrivalSchedule.Kind.TRACE);
    assertThat(plan.rate()).isEqualTo(1);
    assertThat(LoadPlan.parse("trace:2.5", 8).rate()).isEqualTo(2.5);
    assertThat(LoadPlan.parse("trace:2.5", 8).describe()).isEqualTo("trace:2.5x (max-concurrency 8)");
    assertThatThrownBy(() -> LoadPlan.parse("trace:0", 0)).hasMessageContaining("trace speed: 0.0 (expected: > 0");
    assertThatThrownBy(() -> LoadPlan.parse("trace:fast", 0)).hasMessageContaining("trace[:SPEED]");
    Workload synthetic = Workloads.parse("synthetic", "m", 0);
    assertThatThrownBy(() -> new BenchRunner.Options(synthetic, plan, 10, null, 0, 0))
        .hasMessageContaining("it needs --workload trace:PATH");
    // With another load the trace supplies only the requests.
    new BenchRunner.Options(read(dir, CAPTURE), LoadPlan.parse("poisson:50", 0), 10, null, 0, 0);
  }

  @Test
  void prefixHashIsStable() {
    assertThat(CaptureRecord.prefixHash("You are a helpful assistant.")).hasSize(16).isEqualTo(CaptureRecord.prefixHash("You are a helpful assistant."));
    assertThat(CaptureRecord.prefixHash("a")).isNotEqualTo(CaptureRecord.prefixHash("b"));
  }
}
