package dev.tokentap.shadow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Api;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Where each API puts its text and tool calls, on crafted events and bodies. */
class OutputEventsTest {

  @Test
  void anthropicStreamTextAndToolUse() {
    SideOutput out = feed(Api.ANTHROPIC,
        "{\"type\":\"message_start\",\"message\":{\"content\":[]}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Let me check\"}}",
        "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"name\":\"get_weather\",\"input\":{}}}",
        "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\"}}",
        "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Paris\\\"}\"}}");
    assertThat(out.text()).isEqualTo("Let me check");
    assertThat(out.toolCalls()).singleElement().satisfies(c -> {
      assertThat(c.name()).isEqualTo("get_weather");
      assertThat(c.arguments().toString()).isEqualTo("{\"city\":\"Paris\"}");
    });
  }

  @Test
  void anthropicBody() {
    SideOutput out = body(Api.ANTHROPIC,
        "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"Sure.\"},{\"type\":\"tool_use\",\"name\":\"search\",\"input\":{\"q\":\"x\"}}]}");
    assertThat(out.text()).isEqualTo("Sure.");
    assertThat(out.toolCalls().get(0).arguments().toString()).isEqualTo("{\"q\":\"x\"}");
  }

  @Test
  void responsesStreamAndBody() {
    SideOutput streamed = feed(Api.OPENAI_RESPONSES,
        "{\"type\":\"response.output_text.delta\",\"delta\":\"Hello\"}",
        "{\"type\":\"response.output_item.added\",\"item\":{\"type\":\"function_call\",\"name\":\"lookup\"}}",
        "{\"type\":\"response.function_call_arguments.delta\",\"delta\":\"{}\"}",
        "{\"type\":\"response.completed\",\"response\":{\"object\":\"response\",\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hello\"}]}]}}");
    assertThat(streamed.text()).isEqualTo("Hello"); // the completed event's copy is not read twice
    assertThat(streamed.toolCalls()).singleElement().satisfies(c -> assertThat(c.name()).isEqualTo("lookup"));
    SideOutput whole = body(Api.OPENAI_RESPONSES,
        "{\"object\":\"response\",\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hi there\"}]}]}");
    assertThat(whole.text()).isEqualTo("Hi there");
  }

  @Test
  void ollamaChatAndGenerate() {
    SideOutput chat = feed(Api.OLLAMA,
        "{\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}",
        "{\"message\":{\"role\":\"assistant\",\"content\":\"lo\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":{\"a\":1}}}]},\"done\":true}");
    assertThat(chat.text()).isEqualTo("Hello");
    assertThat(chat.toolCalls().get(0).arguments().toString()).isEqualTo("{\"a\":1}");
    assertThat(feed(Api.OLLAMA, "{\"response\":\"gen\",\"done\":true}").text()).isEqualTo("gen");
  }

  @Test
  void openAiChoicesOtherThanTheFirstAreNotRead() {
    String second = "{\"choices\":[{\"index\":1,\"delta\":{\"content\":\"second\"}}]}";
    assertThat(feed(Api.OPENAI, second, "{\"choices\":[{\"index\":0,\"text\":\"first\"}]}").text()).isEqualTo("first");
  }

  private static SideOutput feed(Api api, String... events) {
    SideOutput out = new SideOutput(api, 64, () -> {});
    for (String e : events) {
      byte[] data = e.getBytes(StandardCharsets.UTF_8);
      out.onEvent(new byte[0], 0, data, data.length);
    }
    return out;
  }

  private static SideOutput body(Api api, String json) {
    SideOutput out = new SideOutput(api, 64, () -> {});
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    out.onJsonBody(bytes, 0, bytes.length);
    out.onFinished(PairScoresTest.finished(dev.tokentap.meter.Outcome.OK, 3, null));
    return out;
  }
}
