package dev.tokentap.meter;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The token-bearing rule, usage and error detection of {@link OpenAiDialect}, one chunk a row. */
class OpenAiDialectTest {

  private static final byte NONE = 0;
  private static final byte REASONING = EventFacts.TOKEN;
  private static final byte VISIBLE = EventFacts.TOKEN | EventFacts.VISIBLE;

  static Stream<Arguments> chunks() {
    return Stream.of(
        Arguments.of(
            "role with empty content",
            "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}",
            NONE),
        Arguments.of(
            "role with null content",
            "{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":null},\"index\":0}]}",
            NONE),
        Arguments.of(
            "content", "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}", VISIBLE),
        Arguments.of(
            "content escaped newline",
            "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\\n\"}}]}",
            VISIBLE),
        Arguments.of(
            "json.dumps spacing",
            "{\"choices\": [{\"index\": 0, \"delta\": {\"content\": \"x\"}}]}",
            VISIBLE),
        Arguments.of(
            "padding before braces",
            "{\"choices\":[ {\"index\":0,\"delta\":{\"content\":\"x\"}   }   ]   }",
            VISIBLE),
        Arguments.of(
            "choices first, index last",
            "{\"choices\":[{\"finish_reason\":null,\"delta\":{\"content\":\"x\"},\"index\":0}],\"id\":\"a\"}",
            VISIBLE),
        Arguments.of(
            "unknown nested fields",
            "{\"x\":{\"y\":[1,{\"z\":\"content\"}]},\"choices\":[{\"index\":0,\"logprobs\":{\"content\":[{\"token\":\"a\"}]},\"delta\":{\"extra\":{\"content\":\"no\"},\"content\":\"\"}}]}",
            NONE),
        Arguments.of(
            "reasoning_content",
            "{\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"hm\",\"content\":null}}]}",
            REASONING),
        Arguments.of(
            "reasoning (vLLM >= 0.11)",
            "{\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"hm\"}}]}",
            REASONING),
        Arguments.of(
            "reasoning and content together",
            "{\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"hm\",\"content\":\"x\"}}]}",
            VISIBLE),
        Arguments.of(
            "refusal", "{\"choices\":[{\"index\":0,\"delta\":{\"refusal\":\"no\"}}]}", VISIBLE),
        Arguments.of(
            "null refusal",
            "{\"choices\":[{\"index\":0,\"delta\":{\"refusal\":null,\"content\":\"\"}}]}",
            NONE),
        Arguments.of(
            "tool header",
            "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}",
            VISIBLE),
        Arguments.of(
            "tool arguments",
            "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\"}}]}}]}",
            VISIBLE),
        Arguments.of(
            "tool call with nothing",
            "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\"}}]}}]}",
            NONE),
        Arguments.of(
            "tool_calls null (SGLang)",
            "{\"choices\":[{\"index\":0,\"delta\":{\"role\":null,\"content\":null,\"reasoning_content\":null,\"tool_calls\":null}}]}",
            NONE),
        Arguments.of(
            "legacy function_call",
            "{\"choices\":[{\"index\":0,\"delta\":{\"function_call\":{\"arguments\":\"{\"}}}]}",
            VISIBLE),
        Arguments.of(
            "completions text",
            "{\"choices\":[{\"text\":\"Hi\",\"index\":0,\"logprobs\":null,\"finish_reason\":null}]}",
            VISIBLE),
        Arguments.of(
            "completions empty text",
            "{\"choices\":[{\"text\":\"\",\"index\":0,\"finish_reason\":\"stop\"}]}",
            NONE),
        Arguments.of(
            "finish only",
            "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}",
            NONE),
        Arguments.of(
            "content not a string",
            "{\"choices\":[{\"index\":0,\"delta\":{\"content\":[{\"type\":\"text\"}]}}]}",
            NONE));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("chunks")
  void tokenBearingRule(String name, String json, byte flags) {
    EventFacts facts = read(json);
    assertThat(facts.parsed).isTrue();
    assertThat(facts.choiceCount).isEqualTo(1);
    assertThat(facts.choiceIndex[0]).isZero();
    assertThat(facts.choiceFlags[0]).isEqualTo(flags);
    assertThat(facts.error).isFalse();
  }

  @Test
  void errors() {
    assertThat(
            read("{\"error\":{\"message\":\"x\",\"type\":\"server_error\",\"param\":null,\"code\":null}}")
                .error)
        .isTrue();
    assertThat(
            read("{\"error\": {\"message\": \"x\", \"type\": \"InternalServerError\", \"code\":"
                    + " 500}}")
                .error)
        .isTrue();
    assertThat(
            read("{\"error\":\"Request failed during generation\",\"error_type\":\"generation\"}")
                .error)
        .isTrue();
    assertThat(read("{\"object\":\"error\",\"message\":\"x\",\"code\":400}").error).isTrue();
    assertThat(read("{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"abort\"}]}").error)
        .isTrue();
    assertThat(read("{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"error\"}]}").error)
        .isTrue();
    assertThat(read("{\"error\":null,\"choices\":[]}").error).isFalse();
    assertThat(read("{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"\"}]}").error)
        .isFalse();

    EventFacts typed = new EventFacts();
    byte[] data = "{\"type\":\"error\"}".getBytes(UTF_8);
    new OpenAiDialect().readEvent("error".getBytes(UTF_8), 5, data, data.length, typed);
    assertThat(typed.error).isTrue();
  }

  @Test
  void usageFields() {
    EventFacts openAi =
        read(
            "{\"choices\":[],\"usage\":{\"prompt_tokens\":14,\"completion_tokens\":30,\"total_tokens\":44,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":4},\"completion_tokens_details\":{\"reasoning_tokens\":7}}}");
    assertThat(openAi.usageOnly()).isTrue();
    assertThat(openAi.promptTokens).isEqualTo(14);
    assertThat(openAi.completionTokens).isEqualTo(30);
    assertThat(openAi.cachedTokens).isEqualTo(4);
    assertThat(openAi.reasoningTokens).isEqualTo(7);

    EventFacts sglang =
        read(
            "{\"choices\":[],\"usage\":{\"prompt_tokens\":14,\"total_tokens\":36,\"completion_tokens\":22,"
                + "\"prompt_tokens_details\":null,\"reasoning_tokens\":9}}");
    assertThat(sglang.cachedTokens).isEqualTo(EventFacts.ABSENT);
    assertThat(sglang.reasoningTokens).isEqualTo(9);

    EventFacts usageFirst = read("{\"usage\":{\"completion_tokens\":4},\"choices\":[]}");
    assertThat(usageFirst.usageOnly()).isTrue();
    assertThat(read("{\"choices\":[],\"usage\":null}").usagePresent).isFalse();
    assertThat(read("{\"usage\":{\"completion_tokens\":1}}").usageOnly())
        .isTrue(); // choices absent
    assertThat(
            read("{\"choices\":[{\"index\":0,\"delta\":{}}],\"usage\":{\"completion_tokens\":1}}")
                .usageOnly())
        .isFalse();
  }

  @Test
  void doneAndBlankData() {
    EventFacts done = new EventFacts();
    byte[] data = " [DONE] ".getBytes(UTF_8);
    new OpenAiDialect().readEvent(new byte[0], 0, data, data.length, done);
    assertThat(done.terminator).isTrue();
    assertThat(read("").parsed).isTrue();
    assertThat(read("[DONE]x").parsed).isFalse();
  }

  @Test
  void choiceIndexesAndSeveralChoicesInOneChunk() {
    EventFacts facts =
        read(
            "{\"choices\":[{\"index\":2,\"delta\":{\"content\":\"a\"}},{\"delta\":{\"content\":\"\"},\"index\":5}]}");
    assertThat(facts.choiceCount).isEqualTo(2);
    assertThat(facts.choiceIndex[0]).isEqualTo(2);
    assertThat(facts.choiceIndex[1]).isEqualTo(5);
    assertThat(facts.choiceFlags[1]).isEqualTo(NONE);
  }

  @Test
  void ollamaZeroUsageOnEveryChunkIsNoCount() {
    String zero = ",\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}";
    String body =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"a\"}}]"
            + zero
            + "}\n\n"
            + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"}}]"
            + zero
            + "}\n\n"
            + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]"
            + zero
            + "}\n\n"
            + "data: [DONE]\n\n";
    MeterResult result = feed(body, Route.CHAT);
    assertThat(result.tokenSource()).isEqualTo(TokenSource.EVENTS);
    assertThat(result.outputTokens()).isEqualTo(2);
    assertThat(result.inputTokens()).isEqualTo(-1);
  }

  @Test
  void runningUsageCountsWhenTheFinalChunkIsMissing() {
    String body =
        new String(dev.tokentap.testkit.Fixtures.stream("vllm-chat-continuous-usage.sse"), UTF_8);
    int usageOnly = body.indexOf("\"choices\":[]");
    int start = body.lastIndexOf("\n\n", usageOnly) + 2;
    String withoutFinal =
        body.substring(0, start) + body.substring(body.indexOf("\n\n", usageOnly) + 2);
    MeterResult result = feed(withoutFinal, Route.CHAT);
    assertThat(result.tokenSource()).isEqualTo(TokenSource.USAGE);
    assertThat(result.outputTokens()).isEqualTo(26);
    assertThat(result.inputTokens()).isEqualTo(46);
  }

  @Test
  void tgiCompletionsUsagePerPromptIsSummed() {
    // Two prompts merged in one stream; each prompt's last chunk carries its own usage.
    String body =
        "data: {\"choices\":[{\"index\":0,\"text\":\"a\",\"finish_reason\":\"\"}]}\n\n"
            + "data: {\"choices\":[{\"index\":1,\"text\":\"b\",\"finish_reason\":\"\"}]}\n\n"
            + "data: {\"choices\":[{\"index\":0,\"text\":\"c\",\"finish_reason\":\"length\"}],"
            + "\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2,\"total_tokens\":6}}\n\n"
            + "data: {\"choices\":[{\"index\":1,\"text\":\"d\",\"finish_reason\":\"length\"}],"
            + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n"
            + "data: [DONE]\n\n";
    MeterResult result = feed(body, Route.COMPLETIONS);
    assertThat(result.outputTokens()).isEqualTo(4);
    assertThat(result.tokenSource()).isEqualTo(TokenSource.USAGE);
    assertThat(result.choices()).isEqualTo(2);
    assertThat(result.tokenEvents()).isEqualTo(4);
  }

  private static MeterResult feed(String body, Route route) {
    byte[] bytes = body.getBytes(UTF_8);
    return Feeder.feed(
        Feeder.meter(route, false, TokenGapListener.NONE), bytes, Feeder.whole(bytes.length));
  }

  private static EventFacts read(String json) {
    EventFacts facts = new EventFacts();
    byte[] data = json.getBytes(UTF_8);
    new OpenAiDialect().readEvent(new byte[0], 0, data, data.length, facts);
    return facts;
  }
}
