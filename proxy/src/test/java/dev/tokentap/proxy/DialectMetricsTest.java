package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.testkit.Fixtures;
import dev.tokentap.testkit.ScriptedUpstream;
import dev.tokentap.testkit.ScriptedUpstream.Script;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /metrics} after one request per dialect, served from the fixtures by a scripted upstream:
 * every route label is there, and so are the meters this issue added (TTFO, tokens per event, the
 * reasoning and cached-input token types), with the common labels.
 */
class DialectMetricsTest {
  static ScriptedUpstream upstream;
  static ProxyHarness proxy;
  static final List<FinishedRequest> records = new ArrayList<>();
  static String text;

  record Sample(Map<String, String> labels, double value) {}

  static List<Sample> samples(String name) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      Matcher m = MetricsEndpointTest.LINE.matcher(line);
      if (line.startsWith("#") || !m.matches() || !m.group(1).equals(name)) {
        continue;
      }
      Map<String, String> labels = new TreeMap<>();
      if (m.group(3) != null) {
        Matcher l = MetricsEndpointTest.LABEL.matcher(m.group(3));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      out.add(new Sample(labels, Double.parseDouble(m.group(4))));
    }
    return out;
  }

  static double sum(String name, String label, String value) {
    return samples(name).stream().filter(s -> value.equals(s.labels().get(label))).mapToDouble(Sample::value).sum();
  }

  static void send(String path, String contentType, byte[] body, String request) throws Exception {
    upstream.script(r -> new Script(200, contentType, List.of(body), 0, ScriptedUpstream.Ending.COMPLETE));
    proxy.post(path, request);
    records.add(proxy.next());
  }

  @BeforeAll
  static void trafficThenScrape() throws Exception {
    upstream = new ScriptedUpstream(r -> null);
    proxy = new ProxyHarness(upstream.baseUrl());
    String chat = "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[]}";
    String sse = "text/event-stream";
    send("/v1/chat/completions", sse, Fixtures.stream("vllm-chat-continuous-usage.sse"), chat);
    send("/v1/chat/completions", sse, Fixtures.stream("vllm-reasoning.sse"), chat);
    send("/v1/chat/completions", sse, Fixtures.stream("llamacpp-chat.sse"), chat);
    send("/v1/responses", sse, Fixtures.stream("openai-responses.sse"), chat);
    send("/v1/messages", sse, Fixtures.stream("anthropic-messages.sse"), chat);
    send("/api/chat", "application/x-ndjson", Fixtures.stream("ollama-chat.ndjson"), chat);
    send("/generate_stream", sse, Fixtures.stream("tgi-generate-stream.sse"), "{\"inputs\":\"hi\"}");
    send("/v2/models/vllm_model/generate_stream", sse,
        "data: {\"text_output\":\"a\",\"num_output_tokens\":2}\n\ndata: {\"text_output\":\"b\",\"num_output_tokens\":3}\n\n".getBytes(), "{}");
    send("/v1/embeddings", "application/json",
        "{\"object\":\"list\",\"data\":[],\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}".getBytes(), "{\"model\":\"e\",\"input\":\"hi\"}");
    send("/v1/models", "application/json", "{\"data\":[]}".getBytes(), "{}");
    text = proxy.metrics();
  }

  @AfterAll
  static void stop() {
    proxy.close();
    upstream.close();
  }

  @Test
  void everyRouteLabelIsExposed() {
    assertThat(samples("tokentap_requests_total")).extracting(s -> s.labels().get("route"))
        .contains("chat", "responses", "messages", "generate", "embeddings", "other");
    assertThat(sum("tokentap_requests_total", "route", "generate")).isEqualTo(2);
    assertThat(sum("tokentap_requests_total", "outcome", "ok")).isEqualTo(records.size());
  }

  @Test
  void timeToFirstOutputTokenIsAHistogramWithTheCommonLabelsAndTtftBuckets() {
    List<String> common = List.of("model", "route", "target", "role");
    assertThat(samples("tokentap_time_to_first_output_token_seconds_bucket")).isNotEmpty()
        .allSatisfy(s -> assertThat(s.labels().keySet()).containsAll(common).contains("le"))
        .extracting(s -> s.labels().get("le")).contains("1.0E-4", "2560.0");
    // every streamed request had visible output; the embeddings and /v1/models ones had no TTFO
    assertThat(samples("tokentap_time_to_first_output_token_seconds_count").stream().mapToDouble(Sample::value).sum())
        .isEqualTo(records.size() - 2);
    double ttfoSum = records.stream().mapToDouble(FinishedRequest::ttfoSeconds).filter(d -> !Double.isNaN(d)).sum();
    assertThat(samples("tokentap_time_to_first_output_token_seconds_sum").stream().mapToDouble(Sample::value).sum())
        .isCloseTo(ttfoSum, org.assertj.core.api.Assertions.within(1e-6));
  }

  @Test
  void tokensPerEventIsAHistogramWhereTheServerSaysHowManyTokensAnEventCarries() {
    List<String> common = List.of("model", "route", "target", "role");
    assertThat(samples("tokentap_tokens_per_event_bucket")).isNotEmpty()
        .allSatisfy(s -> assertThat(s.labels().keySet()).containsAll(common).contains("le"));
    // vLLM continuous usage: 26 one-token chunks; TGI index: 9 rises of 1; Triton: 2 + 3
    assertThat(sum("tokentap_tokens_per_event_count", "route", "chat")).isEqualTo(26);
    assertThat(sum("tokentap_tokens_per_event_sum", "route", "chat")).isEqualTo(26);
    assertThat(sum("tokentap_tokens_per_event_sum", "route", "generate")).isEqualTo(9 + 5);
    assertThat(sum("tokentap_tokens_per_event_count", "route", "responses")).isZero();
  }

  @Test
  void tokenTypesIncludeReasoningAndCachedInputWhereReported() {
    assertThat(samples("tokentap_tokens_total")).extracting(s -> s.labels().get("type"))
        .contains("input", "output", "reasoning", "cached_input");
    assertThat(sum("tokentap_tokens_total", "route", "embeddings")).as("8 input tokens, no output").isEqualTo(8);
    double output = samples("tokentap_tokens_total").stream()
        .filter(s -> "output".equals(s.labels().get("type"))).mapToDouble(Sample::value).sum();
    // 26 + 19 + 10 (chat) + 15 + 10 + 11 + 10 + 5
    assertThat(output).isEqualTo(106);
  }
}
