package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.meter.Route;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Workload specs and file parsers, including bad input. */
class WorkloadsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void syntheticPromptsHaveTheEstimatedLengthAndAskForExactOutput() throws Exception {
    Workload w = Workloads.parse("synthetic:input=fixed:300,output=uniform:5:9", "m", 3);
    for (int i = 0; i < 20; i++) {
      BenchRequest r = w.request(i);
      JsonNode body = JSON.readTree(r.body());
      assertThat(r.route()).isEqualTo(Route.CHAT);
      assertThat(r.path()).isEqualTo("/v1/chat/completions");
      assertThat(body.path("model").asText()).isEqualTo("m");
      assertThat(body.path("stream").asBoolean()).isTrue();
      assertThat(body.path("stream_options").path("include_usage").asBoolean()).isTrue();
      assertThat(body.path("ignore_eos").asBoolean()).isTrue();
      assertThat(body.path("max_tokens").asInt()).isBetween(5, 9).isEqualTo(r.expectedOutputTokens());
      String content = body.path("messages").path(0).path("content").asText();
      // Emulator's chat rule: ceil(chars / 4) + 4 per message + 2 = 300.
      assertThat((content.length() + 3) / 4 + 6).isEqualTo(300);
    }
    // Deterministic per index.
    assertThat(w.request(5).body()).isEqualTo(w.request(5).body());
  }

  @Test
  void defaultSyntheticNeedsNoFile() throws Exception {
    assertThat(Workloads.parse("synthetic", "m", 0).describe()).contains("synthetic", "Uniform");
  }

  @Test
  void jsonlBodiesAreMadeStreamingAndCycle(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("w.jsonl");
    Files.writeString(f, """
        {"messages":[{"role":"user","content":"hi"}],"max_tokens":4}

        {"model":"other","prompt":"once upon","max_tokens":3,"stream_options":{"include_usage":false}}
        """);
    Workload w = Workloads.parse("jsonl:" + f, "m", 0);
    BenchRequest chat = w.request(0);
    BenchRequest completion = w.request(1);
    assertThat(chat.route()).isEqualTo(Route.CHAT);
    assertThat(JSON.readTree(chat.body()).path("model").asText()).isEqualTo("m");
    assertThat(JSON.readTree(chat.body()).path("stream_options").path("include_usage").asBoolean()).isTrue();
    assertThat(completion.route()).isEqualTo(Route.COMPLETIONS);
    assertThat(completion.path()).isEqualTo("/v1/completions");
    assertThat(completion.model()).isEqualTo("other");
    assertThat(JSON.readTree(completion.body()).path("stream").asBoolean()).isTrue();
    assertThat(w.request(2).body()).isEqualTo(chat.body());
  }

  @Test
  void jsonlErrorsNameTheLine(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bad.jsonl");
    Files.writeString(f, "{\"messages\":[]}\n{not json\n");
    assertThatThrownBy(() -> Workloads.parse("jsonl:" + f, "m", 0)).hasMessageContaining("line 2: not JSON");
    Files.writeString(f, "[1,2]\n");
    assertThatThrownBy(() -> Workloads.parse("jsonl:" + f, "m", 0)).hasMessageContaining("line 1: expected a JSON object");
    Files.writeString(f, "{\"input\":\"x\"}\n");
    assertThatThrownBy(() -> Workloads.parse("jsonl:" + f, "m", 0)).hasMessageContaining("line 1: expected \"messages\"");
    Files.writeString(f, "\n\n");
    assertThatThrownBy(() -> Workloads.parse("jsonl:" + f, "m", 0)).hasMessageContaining("no requests");
  }

  @Test
  void shareGptUsesTheFirstTurnAndTheReplyLength(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("sharegpt.json");
    Files.writeString(f, """
        [{"id":"a","conversations":[{"from":"human","value":"What is a knee?"},{"from":"gpt","value":"%s"},
                                     {"from":"human","value":"ignored"}]},
         {"id":"b","conversations":[{"from":"gpt","value":"starts with the model"}]},
         {"id":"c","conversations":[{"from":"human","value":"Hello"},{"from":"gpt","value":"Hi"}]}]
        """.formatted("x".repeat(40)));
    FileWorkload w = (FileWorkload) Workloads.parse("sharegpt:" + f, "m", 0);
    assertThat(w.size()).isEqualTo(2);
    JsonNode first = JSON.readTree(w.request(0).body());
    assertThat(first.path("messages").size()).isEqualTo(1);
    assertThat(first.path("messages").path(0).path("content").asText()).isEqualTo("What is a knee?");
    assertThat(first.path("max_tokens").asInt()).isEqualTo(10);
    assertThat(JSON.readTree(w.request(1).body()).path("max_tokens").asInt()).isEqualTo(1);
  }

  /** A conversation with a system prompt, three replied human turns and an unanswered last one. */
  private static final String THREE_TURNS = """
      {"id":"a","conversations":[
        {"from":"system","value":"Be brief."},
        {"from":"human","value":"What is a knee?"},{"from":"gpt","value":"%s"},
        {"from":"human","value":"And TTFT?"},{"from":"gpt","value":"%s"},
        {"from":"human","value":"Thanks"},{"from":"gpt","value":"ok"},
        {"from":"human","value":"no reply to this one"}]}
      """.formatted("x".repeat(40), "y".repeat(41));

  @Test
  void shareGptAllTurnsCarriesTheGrowingHistory(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("sharegpt.json");
    Files.writeString(f, "[" + THREE_TURNS + """
        ,{"id":"b","conversations":[{"from":"human","value":"Hello"},{"from":"gpt","value":"Hi there"}]}]
        """);
    FileWorkload w = (FileWorkload) Workloads.parse("sharegpt:" + f + ":turns=all", "m", 0);
    assertThat(w.size()).isEqualTo(2);
    assertThat(w.describe()).isEqualTo("sharegpt(sharegpt.json, 2 conversations, 4 turns, all turns)");

    BenchRequest turn0 = w.request(0);
    JsonNode body = JSON.readTree(turn0.body());
    assertThat(turn0.route()).isEqualTo(Route.CHAT);
    assertThat(body.path("stream").asBoolean()).isTrue();
    assertThat(body.path("stream_options").path("include_usage").asBoolean()).isTrue();
    assertThat(messages(body)).containsExactly("system:Be brief.", "user:What is a knee?");
    assertThat(body.path("max_tokens").asInt()).isEqualTo(10).isEqualTo(turn0.expectedOutputTokens());
    // The emulator's rule: ceil(chars / 4) + 4 per message, + 2.
    assertThat(turn0.expectedInputTokens()).isEqualTo((3 + 4) + (4 + 4) + 2);

    BenchRequest turn1 = turn0.next();
    body = JSON.readTree(turn1.body());
    assertThat(messages(body)).containsExactly(
        "system:Be brief.", "user:What is a knee?", "assistant:" + "x".repeat(40), "user:And TTFT?");
    assertThat(body.path("max_tokens").asInt()).isEqualTo(11).isEqualTo(turn1.expectedOutputTokens());
    assertThat(turn1.expectedInputTokens()).isEqualTo((3 + 4) + (4 + 4) + (10 + 4) + (3 + 4) + 2);

    BenchRequest turn2 = turn1.next();
    body = JSON.readTree(turn2.body());
    assertThat(messages(body)).containsExactly("system:Be brief.", "user:What is a knee?", "assistant:" + "x".repeat(40),
        "user:And TTFT?", "assistant:" + "y".repeat(41), "user:Thanks");
    assertThat(body.path("max_tokens").asInt()).isEqualTo(1);
    // The unanswered human turn is not sent: nothing gives its reply's length.
    assertThat(turn2.next()).isNull();
    assertThat(turn2.followUp()).isNull();

    // The next conversation has one turn; then the file cycles, from the first turn again.
    BenchRequest single = w.request(1);
    assertThat(messages(JSON.readTree(single.body()))).containsExactly("user:Hello");
    assertThat(single.next()).isNull();
    assertThat(w.request(2).body()).isEqualTo(turn0.body());
    // Built on demand, the same every time.
    assertThat(w.request(0).next().body()).isEqualTo(turn1.body());
  }

  @Test
  void shareGptFirstTurnKeepsASystemPromptAndStopsThere(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("sharegpt.json");
    Files.writeString(f, "[" + THREE_TURNS + "]");
    for (String spec : new String[] {"sharegpt:" + f, "sharegpt:" + f + ":turns=first"}) {
      FileWorkload w = (FileWorkload) Workloads.parse(spec, "m", 0);
      assertThat(w.describe()).isEqualTo("sharegpt(sharegpt.json, 1 conversations, first turn)");
      BenchRequest r = w.request(0);
      assertThat(messages(JSON.readTree(r.body()))).containsExactly("system:Be brief.", "user:What is a knee?");
      assertThat(r.expectedOutputTokens()).isEqualTo(10);
      assertThat(r.next()).isNull();
    }
  }

  @Test
  void shareGptAllTurnsSkipsAndCountsMalformedConversations(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("sharegpt.json");
    Files.writeString(f, """
        [{"conversations":[{"from":"gpt","value":"starts with the model"},{"from":"human","value":"x"}]},
         {"conversations":[{"from":"human","value":"a"},{"from":"human","value":"b"},{"from":"gpt","value":"c"}]},
         {"conversations":[{"from":"human","value":"a"},{"from":"gpt","value":"b"},{"from":"gpt","value":"c"}]},
         {"conversations":[{"from":"human","value":"a"},{"from":"system","value":"b"},{"from":"gpt","value":"c"}]},
         {"conversations":[{"from":"human","value":"a"},{"from":"bard","value":"b"}]},
         {"conversations":[{"from":"human","value":"a"},{"from":"gpt","value":7}]},
         {"conversations":[{"from":"human","value":"only a question"}]},
         {"conversations":"not an array"},
         {"id":"no conversations"},
         {"conversations":[{"from":"human","value":"fine"},{"from":"gpt","value":"yes"},
                           {"from":"human","value":"later turns are read too"},{"from":"gpt","value":7}]},
         {"conversations":[{"from":"human","value":"fine"},{"from":"gpt","value":"yes"},
                           {"from":"system","value":"mid-conversation system turns are kept"},
                           {"from":"human","value":"ok"},{"from":"gpt","value":"ok"}]}]
        """);
    FileWorkload w = (FileWorkload) Workloads.parse("sharegpt:" + f + ":turns=all", "m", 0);
    assertThat(w.describe()).isEqualTo("sharegpt(sharegpt.json, 1 conversations, 2 turns, all turns, 10 skipped)");
    assertThat(messages(JSON.readTree(w.request(0).next().body())))
        .containsExactly("user:fine", "assistant:yes", "system:mid-conversation system turns are kept", "user:ok");
    // The first-turn mode reads only up to the first reply: what follows it does not matter.
    assertThat(Workloads.parse("sharegpt:" + f, "m", 0).describe())
        .isEqualTo("sharegpt(sharegpt.json, 3 conversations, first turn, 8 skipped)");

    Files.writeString(f, "[{\"conversations\":[{\"from\":\"human\",\"value\":\"x\"}]}]");
    assertThatThrownBy(() -> Workloads.parse("sharegpt:" + f + ":turns=all", "m", 0))
        .hasMessageContaining("no usable conversations (1 skipped");
    assertThatThrownBy(() -> Workloads.parse("sharegpt:" + f + ":turns=2", "m", 0))
        .hasMessageContaining("turns must be first or all");
    assertThatThrownBy(() -> Workloads.parse("sharegpt:" + dir.resolve("missing.json") + ":turns=all", "m", 0))
        .hasMessageContaining("cannot read " + dir.resolve("missing.json"));
  }

  /** {@code role:content} of each message. */
  private static java.util.List<String> messages(JsonNode body) {
    java.util.List<String> out = new java.util.ArrayList<>();
    body.path("messages").forEach(m -> out.add(m.path("role").asText() + ":" + m.path("content").asText()));
    return out;
  }

  @Test
  void shareGptErrors(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("s.json");
    Files.writeString(f, "{\"conversations\":[]}");
    assertThatThrownBy(() -> Workloads.parse("sharegpt:" + f, "m", 0)).hasMessageContaining("expected a ShareGPT JSON array");
    Files.writeString(f, "[{\"conversations\":[{\"from\":\"gpt\",\"value\":\"x\"}]}]");
    assertThatThrownBy(() -> Workloads.parse("sharegpt:" + f, "m", 0)).hasMessageContaining("no usable conversations (1 skipped");
    Files.writeString(f, "[{");
    assertThatThrownBy(() -> Workloads.parse("sharegpt:" + f, "m", 0)).hasMessageContaining("not JSON");
  }

  @Test
  void badSpecs(@TempDir Path dir) {
    assertThatThrownBy(() -> Workloads.parse("burstgpt:x", "m", 0))
        .hasMessageContaining("expected: synthetic[:input=LEN,output=LEN], jsonl:PATH, sharegpt:PATH, trace:PATH or mooncake:PATH");
    assertThatThrownBy(() -> Workloads.parse("mooncake:" + dir.resolve("missing.jsonl"), "m", 0)).hasMessageContaining("cannot read");
    assertThatThrownBy(() -> Workloads.parse("jsonl:", "m", 0)).hasMessageContaining("expected: synthetic");
    assertThatThrownBy(() -> Workloads.parse("jsonl:" + dir.resolve("missing.jsonl"), "m", 0)).hasMessageContaining("cannot read");
    assertThatThrownBy(() -> Workloads.parse("synthetic:prompt=5", "m", 0)).hasMessageContaining("unknown key 'prompt'");
    assertThatThrownBy(() -> Workloads.parse("synthetic:input=uniform:9", "m", 0)).hasMessageContaining("length uniform:9");
  }
}
