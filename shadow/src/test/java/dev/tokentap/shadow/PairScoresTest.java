package dev.tokentap.shadow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Api;
import dev.tokentap.meter.FinishReason;
import dev.tokentap.meter.MeterResult;
import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.Route;
import dev.tokentap.meter.TokenSource;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.Role;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Tool-call, JSON, refusal and error checks on crafted responses, fed to each side as its meter
 * would show them (SSE event data, or a non-streamed body in pieces).
 */
class PairScoresTest {
  static final String WEATHER = "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}}]}";

  @Test
  void toolCallsAgreeOnNamesAndKeysNotValues() {
    SideOutput a = streamed(WEATHER, args("{\\\"city\\\":"), args("\\\"Paris\\\"}"));
    SideOutput b = streamed(WEATHER, args("{\\\"city\\\":\\\"Rome\\\"}"));
    PairScores s = PairScores.of(finish(a, 10, "tool_calls"), finish(b, 10, "tool_calls"), true, false, 64);
    assertThat(s.result()).isEqualTo("compared");
    assertThat(s.toolCallsAgree()).isTrue();
    assertThat(s.exactMatch()).isFalse(); // other values
    assertThat(s.production().toolCall()).isTrue();
    assertThat(s.production().empty()).isFalse();
  }

  @Test
  void toolCallsDisagreeOnOtherKeysOtherNamesOrBrokenArguments() {
    SideOutput a = finish(streamed(WEATHER, args("{\\\"city\\\":\\\"Paris\\\"}")), 8, "tool_calls");
    assertThat(PairScores.of(a, finish(streamed(WEATHER, args("{\\\"town\\\":\\\"Paris\\\"}")), 8, "tool_calls"), false, false, 64).toolCallsAgree()).isFalse();
    assertThat(PairScores.of(a, finish(streamed(WEATHER.replace("get_weather", "search")), 8, "tool_calls"), false, false, 64).toolCallsAgree()).isFalse();
    assertThat(PairScores.of(a, finish(streamed(WEATHER, args("{\\\"city\\\":\\\"Par")), 8, "length"), false, false, 64).toolCallsAgree()).isFalse();
    SideOutput text = finish(streamed(content("It is sunny.")), 4, "stop");
    PairScores s = PairScores.of(a, text, false, false, 64);
    assertThat(s.toolCallsAgree()).isFalse();
    assertThat(s.finishReasonAgrees()).isFalse();
    assertThat(PairScores.of(text, text, false, false, 64).toolCallsAgree()).isNull(); // neither called one
  }

  @Test
  void jsonValidityOfANonStreamedBodyReadInPieces() {
    byte[] valid = "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"{\\\"answer\\\":\\\"yes\\\"}\"},\"finish_reason\":\"stop\"}]}".getBytes(StandardCharsets.UTF_8);
    byte[] broken = "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"{\\\"answer\\\":\\\"ye\"},\"finish_reason\":\"stop\"}]}".getBytes(StandardCharsets.UTF_8);
    PairScores s = PairScores.of(finish(body(valid), 5, "stop"), finish(body(broken), 5, "stop"), false, true, 64);
    assertThat(s.production().jsonValid()).isTrue();
    assertThat(s.shadow().jsonValid()).isFalse();
    assertThat(s.checks()).contains(new PairScores.Check("json", false));
  }

  @Test
  void refusalEmptyAndErrors() {
    SideOutput refusal = finish(streamed(content("I'm sorry, but I can't help with that.")), 9, "stop");
    SideOutput answer = finish(streamed(content("Here is the plan.")), 4, "stop");
    PairScores s = PairScores.of(answer, refusal, false, false, 64);
    assertThat(s.shadow().refusal()).isTrue();
    assertThat(s.production().refusal()).isFalse();
    assertThat(s.outputRatio()).isEqualTo(9 / 4.0);
    assertThat(PairScores.of(answer, finish(streamed(content("")), 1, "stop"), false, false, 64).shadow().empty()).isTrue();

    SideOutput failed = new SideOutput(Api.OPENAI, 64, () -> {});
    failed.onFinished(finished(Outcome.UPSTREAM_ABORT, 2, null));
    assertThat(PairScores.of(answer, failed, false, false, 64).result()).isEqualTo("shadow_error");
    assertThat(PairScores.of(failed, answer, false, false, 64).result()).isEqualTo("production_error");
    assertThat(PairScores.of(failed, failed, false, false, 64).result()).isEqualTo("both_error");
    assertThat(PairScores.of(answer, failed, false, false, 64).checks()).isEmpty();
  }

  @Test
  void exactMatchOnlyForDeterministicRequests() {
    SideOutput a = finish(streamed(content("same words")), 2, "stop");
    SideOutput b = finish(streamed(content("same words")), 2, "stop");
    assertThat(PairScores.of(a, b, true, false, 64).checks()).contains(new PairScores.Check("exact_match", true));
    assertThat(PairScores.of(a, b, false, false, 64).checks()).extracting(PairScores.Check::name).doesNotContain("exact_match");
    assertThat(PairScores.of(a, b, false, false, 64).similarity()).isEqualTo(1.0);
  }

  @Test
  void keptTextIsBounded() {
    SideOutput side = new SideOutput(Api.OPENAI, 2, () -> {});
    feed(side, content("x".repeat(1000)));
    finish(side, 1, "length");
    assertThat(side.text()).hasSize(2 * SideOutput.CHARS_PER_TOKEN);
  }

  static String content(String text) {
    return "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"}}]}";
  }

  static String args(String json) {
    return "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"" + json + "\"}}]}}]}";
  }

  static SideOutput streamed(String... events) {
    SideOutput side = new SideOutput(Api.OPENAI, 64, () -> {});
    for (String e : events) {
      feed(side, e);
    }
    feed(side, "[DONE]");
    return side;
  }

  static void feed(SideOutput side, String event) {
    byte[] data = event.getBytes(StandardCharsets.UTF_8);
    side.onEvent(new byte[0], 0, data, data.length);
  }

  static SideOutput body(byte[] json) {
    SideOutput side = new SideOutput(Api.OPENAI, 64, () -> {});
    for (int i = 0; i < json.length; i += 7) {
      side.onJsonBody(json, i, Math.min(7, json.length - i));
    }
    return side;
  }

  static SideOutput finish(SideOutput side, long outputTokens, String finishReason) {
    side.onFinished(finished(Outcome.OK, outputTokens, FinishReason.of(finishReason)));
    return side;
  }

  static FinishedRequest finished(Outcome outcome, long outputTokens, FinishReason reason) {
    MeterResult m = new MeterResult(200, 0, 1, 1, 2, 3, 1, (int) outputTokens, 1, outputTokens, TokenSource.USAGE, 5, 0, 0, outcome == Outcome.ERROR,
        true, outcome, Double.NaN, 100, reason);
    return new FinishedRequest(Role.PRIMARY, "primary", Route.CHAT, "m", "POST", 0, 0, 0, 0, 3, 200, outcome, "none", 10, 100, m, 1);
  }
}
