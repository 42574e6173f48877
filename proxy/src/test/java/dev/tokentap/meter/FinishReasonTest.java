package dev.tokentap.meter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.testkit.Fixtures;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The finish reason each dialect reports, from the recorded streams, whole, byte by byte and in random pieces. */
class FinishReasonTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "openai-chat-usage.sse, OPENAI, STOP",
    "openai-chat-tool-calls.sse, OPENAI, TOOL_CALLS",
    "openai-chat-multi-choice.sse, OPENAI, STOP",
    "openai-completions.sse, OPENAI, STOP",
    "vllm-reasoning.sse, OPENAI, STOP",
    "tgi-chat-usage.sse, OPENAI, LENGTH",
    "llamacpp-chat.sse, OPENAI, STOP",
    "anthropic-messages.sse, ANTHROPIC, STOP",
    "openai-responses.sse, OPENAI_RESPONSES, STOP",
    "openai-responses-error.sse, OPENAI_RESPONSES, ERROR",
    "ollama-chat.ndjson, OLLAMA, STOP",
  })
  void streamsReportTheirFinishReason(String fixture, Api api, FinishReason expected) {
    byte[] body = Fixtures.stream(fixture);
    String contentType = fixture.endsWith(".ndjson") ? "application/x-ndjson" : "text/event-stream";
    java.util.Random random = new java.util.Random(7L);
    // The finish reason is read by the same event path StreamMeterFixtureTest splits at every offset.
    for (int[] cuts : java.util.List.of(Feeder.whole(body.length), Feeder.byteByByte(body.length), Feeder.random(body.length, random),
        Feeder.random(body.length, random))) {
      StreamMeter meter = new StreamMeter(api, false, TokenGapListener.NONE, 1 << 20);
      assertThat(Feeder.feed(meter, contentType, body, cuts).finishReason()).as(Feeder.describe(cuts)).isEqualTo(expected);
    }
  }

  @Test
  void aStreamCutBeforeItsFinishHasNone() {
    byte[] body = Fixtures.stream("openai-chat-usage.sse");
    String text = new String(body, StandardCharsets.UTF_8);
    int cut = text.indexOf("\"finish_reason\":\"stop\"");
    StreamMeter meter = new StreamMeter(Api.OPENAI, false, TokenGapListener.NONE, 1 << 20);
    assertThat(Feeder.feed(meter, "text/event-stream", body, new int[] {0, cut - 200}).finishReason()).isNull();
  }

  @Test
  void nonStreamingBodies() {
    assertThat(body(Api.OPENAI, "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"x\"},\"finish_reason\":\"length\"}],"
        + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}")).isEqualTo(FinishReason.LENGTH);
    assertThat(body(Api.ANTHROPIC, "{\"type\":\"message\",\"content\":[],\"stop_reason\":\"max_tokens\","
        + "\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}")).isEqualTo(FinishReason.LENGTH);
    assertThat(body(Api.OPENAI_RESPONSES, "{\"object\":\"response\",\"status\":\"incomplete\","
        + "\"incomplete_details\":{\"reason\":\"max_output_tokens\"},\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}"))
        .isEqualTo(FinishReason.LENGTH);
    assertThat(body(Api.OLLAMA, "{\"message\":{\"content\":\"x\"},\"done\":true,\"done_reason\":\"length\",\"eval_count\":2}"))
        .isEqualTo(FinishReason.LENGTH);
  }

  @Test
  void spellingsFoldIntoOneSet() {
    assertThat(FinishReason.of("end_turn")).isEqualTo(FinishReason.STOP);
    assertThat(FinishReason.of("max_tokens")).isEqualTo(FinishReason.LENGTH);
    assertThat(FinishReason.of("tool_use")).isEqualTo(FinishReason.TOOL_CALLS);
    assertThat(FinishReason.of("content_filter")).isEqualTo(FinishReason.CONTENT_FILTER);
    assertThat(FinishReason.of("abort")).isEqualTo(FinishReason.ERROR);
    assertThat(FinishReason.of("pause_turn")).isEqualTo(FinishReason.OTHER);
    assertThat(FinishReason.of(null)).isNull();
  }

  private static FinishReason body(Api api, String json) {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    StreamMeter meter = new StreamMeter(api, false, TokenGapListener.NONE, 1 << 20);
    return Feeder.feed(meter, "application/json", bytes, Feeder.whole(bytes.length)).finishReason();
  }
}
