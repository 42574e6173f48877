package dev.tokentap.meter;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.testkit.Fixtures;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The rules of each non-OpenAI dialect beyond the fixtures (wire-formats.md §6–11, §13): reasoning
 * and TTFO, cached input, tokens per event, truncation, errors, non-streaming bodies and embeddings.
 */
class DialectsTest {
  private static final String SSE = "text/event-stream";
  private static final String NDJSON = "application/x-ndjson";
  private static final String JSON = "application/json";

  /** Feeds each piece as its own read at time 10·(k+1), then completes (or breaks) at 1000. */
  static MeterResult feed(Api api, String contentType, boolean complete, String... pieces) {
    return feed(api, contentType, complete, TokenGapListener.NONE, pieces);
  }

  static MeterResult feed(
      Api api, String contentType, boolean complete, TokenGapListener gaps, String... pieces) {
    StreamMeter meter = new StreamMeter(api, false, gaps, 1 << 20);
    meter.onResponseHead(200, contentType, 5);
    for (int k = 0; k < pieces.length; k++) {
      byte[] bytes = pieces[k].getBytes(UTF_8);
      meter.onBody(bytes, 0, bytes.length, 10L * (k + 1));
    }
    if (complete) {
      meter.onComplete(1000);
    } else {
      meter.onBroken(Outcome.UPSTREAM_ABORT, 1000);
    }
    return meter.result();
  }

  /** Records every tokens-per-event report. */
  static final class PerEvent implements TokenGapListener {
    final List<Long> tokens = new ArrayList<>();

    @Override
    public void interTokenGap(long gapNanos) {}

    @Override
    public void tokensPerEvent(long count) {
      tokens.add(count);
    }
  }

  // ------------------------------------------------------------------ reasoning and TTFO

  @Test
  void responsesReasoningDeltasStartTtftAndOutputDeltasStartTtfo() {
    MeterResult r =
        feed(
            Api.OPENAI_RESPONSES,
            SSE,
            true,
            "event: response.reasoning_text.delta\ndata: {\"delta\":\"hm\",\"type\":\"response.reasoning_text.delta\"}\n\n",
            "event: response.reasoning_summary_text.delta\ndata: {\"type\":\"response.reasoning_summary_text.delta\",\"delta\":\"so\"}\n\n",
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n",
            "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":9,\"input_tokens_details\":{\"cached_tokens\":4},\"output_tokens\":7,\"output_tokens_details\":{\"reasoning_tokens\":5}}}}\n\n");
    assertThat(r.tokenEvents()).isEqualTo(3);
    assertThat(r.firstTokenNanos()).isEqualTo(10);
    assertThat(r.firstOutputNanos()).isEqualTo(30);
    assertThat(r.outputTokens()).isEqualTo(7);
    assertThat(r.reasoningTokens()).isEqualTo(5);
    assertThat(r.cachedInputTokens()).isEqualTo(4);
    assertThat(r.inputTokens()).isEqualTo(9);
    assertThat(r.outcome()).isEqualTo(Outcome.OK);
  }

  @Test
  void responsesEventsWithTypeLastAndNoEventLineAreReadToo() {
    // vLLM sorts keys alphabetically, so "type" comes after "delta" (vllm PR #38227).
    MeterResult r =
        feed(
            Api.OPENAI_RESPONSES,
            SSE,
            true,
            "data: {\"delta\":\"a\",\"item_id\":\"x\",\"type\":\"response.function_call_arguments.delta\"}\n\n"
                + "data: {\"response\":{\"usage\":{\"output_tokens\":3}},\"type\":\"response.incomplete\"}\n\n");
    assertThat(r.tokenEvents()).isEqualTo(1);
    assertThat(r.firstOutputNanos()).isEqualTo(10);
    assertThat(r.outputTokens()).isEqualTo(3);
    assertThat(r.terminated()).isTrue();
    assertThat(r.outcome()).as("response.incomplete is a cut-short answer, not a failure").isEqualTo(Outcome.OK);
    assertThat(r.errorEvent()).isFalse();
    assertThat(r.finishReason()).as("no incomplete_details.reason").isEqualTo(FinishReason.OTHER);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"max_output_tokens, LENGTH", "content_filter, CONTENT_FILTER"})
  void responsesIncompleteIsAnOkAnswerWithItsReason(String reason, FinishReason expected) {
    String incomplete = "event: response.incomplete\ndata: {\"type\":\"response.incomplete\",\"response\":"
        + "{\"status\":\"incomplete\",\"error\":null,\"incomplete_details\":{\"reason\":\"" + reason + "\"},"
        + "\"usage\":{\"input_tokens\":4,\"output_tokens\":2}}}\n\n";
    MeterResult r = feed(Api.OPENAI_RESPONSES, SSE, true,
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"a\"}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"b\"}\n\n",
        incomplete);
    assertThat(r.outcome()).isEqualTo(Outcome.OK);
    assertThat(r.terminated()).isTrue();
    assertThat(r.errorEvent()).isFalse();
    assertThat(r.finishReason()).isEqualTo(expected);
    assertThat(r.outputTokens()).isEqualTo(2);
    assertThat(r.tokenSource()).isEqualTo(TokenSource.USAGE);

    // Non-streaming: the Response object with "status":"incomplete", in either field order.
    String details = "\"incomplete_details\":{\"reason\":\"" + reason + "\"}";
    for (String body : List.of(
        "{\"object\":\"response\",\"status\":\"incomplete\",\"error\":null," + details + ",\"usage\":{\"input_tokens\":4,\"output_tokens\":2}}",
        "{\"object\":\"response\"," + details + ",\"error\":null,\"usage\":{\"input_tokens\":4,\"output_tokens\":2},\"status\":\"incomplete\"}")) {
      MeterResult b = feed(Api.OPENAI_RESPONSES, JSON, true, body);
      assertThat(b.outcome()).as(body).isEqualTo(Outcome.OK);
      assertThat(b.finishReason()).as(body).isEqualTo(expected);
      assertThat(b.outputTokens()).as(body).isEqualTo(2);
    }
  }

  @Test
  void responsesFailedIsStillAnError() {
    MeterResult r = feed(Api.OPENAI_RESPONSES, SSE, true,
        "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\"}}}\n\n");
    assertThat(r.outcome()).isEqualTo(Outcome.ERROR);
    assertThat(r.finishReason()).isEqualTo(FinishReason.ERROR);
    MeterResult b = feed(Api.OPENAI_RESPONSES, JSON, true, "{\"object\":\"response\",\"status\":\"failed\",\"error\":{\"code\":\"x\"}}");
    assertThat(b.outcome()).isEqualTo(Outcome.ERROR);
  }

  @Test
  void responsesFlatErrorEventOfTheOpenApiSchemaIsAnError() {
    MeterResult r =
        feed(
            Api.OPENAI_RESPONSES,
            SSE,
            true,
            "event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"x\",\"param\":null}\n\n");
    assertThat(r.errorEvent()).isTrue();
    assertThat(r.outcome()).isEqualTo(Outcome.ERROR);
  }

  @Test
  void anthropicThinkingIsReasoningAndSignatureAndEmptyDeltasCarryNothing() {
    MeterResult r =
        feed(
            Api.ANTHROPIC,
            SSE,
            true,
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":90,\"cache_creation_input_tokens\":5,\"output_tokens\":1}}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"\"}}\n\n"
                + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Let me\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"abc\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\n\n"
                + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\"}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":4}}\n\n"
                + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":12,\"output_tokens_details\":{\"thinking_tokens\":6}}}\n\n"
                + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    assertThat(r.tokenEvents()).isEqualTo(2);
    assertThat(r.firstTokenNanos()).isEqualTo(20);
    assertThat(r.firstOutputNanos()).isEqualTo(40);
    assertThat(r.outputTokens()).as("the last message_delta, not a sum").isEqualTo(12);
    assertThat(r.reasoningTokens()).isEqualTo(6);
    assertThat(r.inputTokens()).as("uncached + cache read + cache write").isEqualTo(105);
    assertThat(r.cachedInputTokens()).isEqualTo(90);
    assertThat(r.outcome()).isEqualTo(Outcome.OK);
  }

  @Test
  void ollamaThinkingIsReasoningAndToolCallsAreOutput() {
    MeterResult r =
        feed(
            Api.OLLAMA,
            NDJSON,
            true,
            "{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"Hm\"},\"done\":false}\n",
            "{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":{}}}]},\"done\":false}\n",
            "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"eval_count\":9,\"prompt_eval_count\":3}\n");
    assertThat(r.tokenEvents()).isEqualTo(2);
    assertThat(r.firstTokenNanos()).isEqualTo(10);
    assertThat(r.firstOutputNanos()).isEqualTo(20);
    assertThat(r.outputTokens()).isEqualTo(9);
    assertThat(r.inputTokens()).isEqualTo(3);
  }

  @Test
  void ollamaGenerateUsesResponseAndThinkingAndTheDoneLineMayCarryText() {
    MeterResult r =
        feed(
            Api.OLLAMA,
            NDJSON,
            true,
            "{\"response\":\"\",\"thinking\":\"a\",\"done\":false}\r\n\n",
            "{\"response\":\"b\",\"done\":false}\n{\"response\":\"c\",\"done\":true,\"eval_count\":4}");
    assertThat(r.events()).as("blank lines are not events; a last line without LF is").isEqualTo(3);
    assertThat(r.tokenEvents()).isEqualTo(3);
    assertThat(r.firstOutputNanos()).isEqualTo(20);
    assertThat(r.outputTokens()).isEqualTo(4);
    assertThat(r.outcome()).isEqualTo(Outcome.OK);
  }

  // ------------------------------------------------------------------ tokens per event

  @Test
  void vllmContinuousUsageGivesTokensPerChunkAddingUpToN() {
    PerEvent perEvent = new PerEvent();
    byte[] body = Fixtures.stream("vllm-chat-continuous-usage.sse");
    MeterResult r =
        feed(Api.OPENAI, SSE, true, perEvent, new String(body, UTF_8));
    assertThat(perEvent.tokens).hasSize(26).containsOnly(1L);
    assertThat(perEvent.tokens.stream().mapToLong(Long::longValue).sum()).isEqualTo(r.outputTokens());
  }

  @Test
  void llamaCppPerTokenTimingsGiveTokensPerChunkAndPromptProgressIsNoToken() {
    PerEvent perEvent = new PerEvent();
    MeterResult r =
        feed(
            Api.OPENAI,
            SSE,
            true,
            perEvent,
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}],\"prompt_progress\":{\"total\":40,\"cache\":0,\"processed\":20,\"time_ms\":5}}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":null}}],\"prompt_progress\":{\"total\":40,\"cache\":0,\"processed\":40,\"time_ms\":9},\"timings\":{\"predicted_n\":0}}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}],\"timings\":{\"predicted_n\":1,\"predicted_ms\":20.5}}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there, you\"}}],\"timings\":{\"predicted_n\":4,\"predicted_ms\":30.1}}\n\n",
            "data: {\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"delta\":{}}],\"timings\":{\"predicted_n\":5,\"predicted_ms\":40.7}}\n\n",
            "data: [DONE]\n\n");
    assertThat(r.firstTokenNanos()).as("prefill progress is not a token").isEqualTo(30);
    assertThat(r.tokenEvents()).isEqualTo(2);
    assertThat(perEvent.tokens).containsExactly(1L, 3L, 1L);
    assertThat(r.outputTokens()).as("predicted_n, without usage").isEqualTo(5);
    assertThat(r.tokenSource()).isEqualTo(TokenSource.USAGE);
  }

  @Test
  void tritonNumOutputTokensAreTokensPerEventAndTheirSumIsN() {
    PerEvent perEvent = new PerEvent();
    MeterResult r =
        feed(
            Api.TRITON,
            SSE,
            true,
            perEvent,
            "data: {\"model_name\":\"m\",\"text_output\":\"a\",\"num_output_tokens\":[2],\"num_input_tokens\":[7]}\n\n",
            "data: {\"model_name\":\"m\",\"text_output\":\"bc\",\"num_output_tokens\":3}\n\n");
    assertThat(perEvent.tokens).containsExactly(2L, 3L);
    assertThat(r.outputTokens()).isEqualTo(5);
    assertThat(r.tokenSource()).isEqualTo(TokenSource.USAGE);
    assertThat(r.inputTokens()).isEqualTo(7);
    assertThat(r.terminated()).isTrue();
  }

  @Test
  void tritonClosingResponseWithoutTextOrTokensIsNoToken() {
    MeterResult r =
        feed(
            Api.TRITON,
            SSE,
            true,
            "data: {\"text_output\":\"a\"}\n\n",
            "data: {\"text_output\":[\"b\"],\"model_version\":\"1\"}\n\n",
            "data: {\"text_output\":\"\",\"finish_reason\":\"stop\"}\n\n");
    assertThat(r.tokenEvents()).isEqualTo(2);
    assertThat(r.outputTokens()).isEqualTo(2);
    assertThat(r.tokenSource()).isEqualTo(TokenSource.EVENTS);
    assertThat(r.events()).isEqualTo(3);
  }

  // ------------------------------------------------------------------ truncation and errors

  /** Each fixture cut just before the event that ends it: the stream was cut short. */
  @ParameterizedTest
  @CsvSource({
    "openai-responses.sse, OPENAI_RESPONSES, event: response.completed",
    "anthropic-messages.sse, ANTHROPIC, event: message_stop",
    "ollama-chat.ndjson, OLLAMA, '{\"model\":\"llama3\",\"created_at\":\"2024-07-23T06:54:12.807585Z\"'",
    "tgi-generate-stream.sse, TGI, 'data: {\"index\":10'"
  })
  void aStreamEndingBeforeItsTerminatorIsAnUpstreamAbort(String fixture, Api api, String last) {
    String body = new String(Fixtures.stream(fixture), UTF_8);
    String cut = body.substring(0, body.indexOf(last));
    String type = fixture.endsWith(".ndjson") ? NDJSON : SSE;
    assertThat(feed(api, type, true, cut).outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
    assertThat(feed(api, type, true, body).outcome()).isEqualTo(Outcome.OK);
  }

  @Test
  void tritonEndsAtEofSoOnlyABrokenConnectionIsATruncation() {
    String body = new String(Fixtures.stream("triton-generate-stream.sse"), UTF_8);
    String half = body.substring(0, body.length() / 2);
    assertThat(feed(Api.TRITON, SSE, true, half).outcome()).isEqualTo(Outcome.OK);
    MeterResult broken = feed(Api.TRITON, SSE, false, half);
    assertThat(broken.outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
    assertThat(broken.terminated()).isFalse();
  }

  @Test
  void ndjsonErrorLineAfterOutputIsAnErrorAndACutLastLineIsDiscarded() {
    MeterResult error =
        feed(
            Api.OLLAMA,
            NDJSON,
            true,
            "{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"error\":\"model runner crashed\"}\n");
    assertThat(error.outcome()).isEqualTo(Outcome.ERROR);
    assertThat(error.tokenEvents()).isEqualTo(1);

    MeterResult cut =
        feed(Api.OLLAMA, NDJSON, false, "{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"mess");
    assertThat(cut.events()).isEqualTo(1);
    assertThat(cut.tokenSource()).isEqualTo(TokenSource.EVENTS);
    assertThat(cut.outcome()).isEqualTo(Outcome.UPSTREAM_ABORT);
  }

  @Test
  void tgiErrorEventAndNoDetailsFallsBackToTheLastIndex() {
    MeterResult error =
        feed(
            Api.TGI,
            SSE,
            true,
            "data:{\"index\":1,\"token\":{\"id\":1,\"text\":\"a\",\"special\":false}}\n\n"
                + "data:{\"error\":\"Request failed during generation: x\",\"error_type\":\"generation\"}\n\n");
    assertThat(error.outcome()).isEqualTo(Outcome.ERROR);

    MeterResult noDetails =
        feed(
            Api.TGI,
            SSE,
            true,
            ":\n\ndata: {\"index\":1,\"token\":{\"id\":1,\"text\":\"\",\"special\":false},\"generated_text\":null,\"details\":null}\n\n",
            "data: {\"index\":2,\"token\":{\"id\":2,\"text\":\"</s>\",\"special\":true},\"generated_text\":\"x\",\"details\":null}\n\n");
    assertThat(noDetails.tokenEvents()).as("every token event, even with empty text").isEqualTo(2);
    assertThat(noDetails.firstOutputNanos()).as("a special token is not visible").isEqualTo(10);
    assertThat(noDetails.outputTokens()).isEqualTo(2);
    assertThat(noDetails.terminated()).isTrue();
    assertThat(noDetails.outcome()).isEqualTo(Outcome.OK);
  }

  // ------------------------------------------------------------------ non-streaming bodies

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "OPENAI           | {\"choices\":[{\"message\":{\"content\":\"x\",\"reasoning_content\":\"y\"}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"prompt_tokens_details\":{\"cached_tokens\":2},\"completion_tokens_details\":{\"reasoning_tokens\":3}}} | 7 | 5 | 2 | 3",
        "OPENAI_RESPONSES | {\"object\":\"response\",\"status\":\"completed\",\"error\":null,\"output\":[],\"usage\":{\"input_tokens\":11,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":8,\"output_tokens_details\":{\"reasoning_tokens\":4}}} | 8 | 11 | 0 | 4",
        "ANTHROPIC        | {\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],\"usage\":{\"input_tokens\":3,\"cache_read_input_tokens\":20,\"output_tokens\":6}} | 6 | 23 | 20 | -1",
        "OLLAMA           | {\"model\":\"llama3\",\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"done\":true,\"prompt_eval_count\":16,\"eval_count\":11} | 11 | 16 | -1 | -1",
        "TGI              | {\"generated_text\":\"hi\",\"details\":{\"finish_reason\":\"length\",\"generated_tokens\":10,\"input_length\":3}} | 10 | 3 | -1 | -1",
        "TRITON           | {\"model_name\":\"m\",\"text_output\":\"hi\",\"num_output_tokens\":[4],\"num_input_tokens\":[2]} | 4 | 2 | -1 | -1"
      })
  void nonStreamingBodiesGiveE2eAndUsageButNoTtft(
      Api api, String body, long output, long input, long cached, long reasoning) {
    MeterResult r = feed(api, JSON, true, body);
    assertThat(r.tokenSource()).isEqualTo(TokenSource.USAGE);
    assertThat(r.outputTokens()).isEqualTo(output);
    assertThat(r.inputTokens()).isEqualTo(input);
    assertThat(r.cachedInputTokens()).isEqualTo(cached);
    assertThat(r.reasoningTokens()).isEqualTo(reasoning);
    assertThat(r.firstTokenNanos()).isEqualTo(MeterResult.NEVER);
    assertThat(r.firstOutputNanos()).isEqualTo(MeterResult.NEVER);
    assertThat(r.tpot()).isEmpty();
    assertThat(r.e2eSeconds(0)).hasValue(1000 / 1e9);
    assertThat(r.outcome()).isEqualTo(Outcome.OK);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":[0.1,-0.2]}],\"model\":\"e\",\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}",
        "{\"model\":\"e\",\"embeddings\":[[0.1,-0.2]],\"total_duration\":1,\"prompt_eval_count\":8}"
      })
  void embeddingsGiveLatencyAndInputTokens(String body) {
    MeterResult r = feed(Api.EMBEDDINGS, JSON, true, body);
    assertThat(r.inputTokens()).isEqualTo(8);
    assertThat(r.outputTokens()).isZero();
    assertThat(r.tokenSource()).isEqualTo(TokenSource.NONE);
    assertThat(r.firstTokenNanos()).isEqualTo(MeterResult.NEVER);
    assertThat(r.e2eSeconds(0)).hasValue(1000 / 1e9);
    assertThat(r.outcome()).isEqualTo(Outcome.OK);
  }

  @Test
  void errorBodiesOfEachDialectAreErrors() {
    for (Api api : Arrays.asList(Api.OPENAI_RESPONSES, Api.ANTHROPIC, Api.OLLAMA, Api.TGI, Api.TRITON)) {
      MeterResult r = feed(api, JSON, true, "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}");
      assertThat(r.errorEvent()).as(api.name()).isTrue();
      assertThat(r.outcome()).as(api.name()).isEqualTo(Outcome.ERROR);
    }
  }

  @Test
  void ndjsonFramingIsChosenByContentTypeNeverBySniffing() {
    byte[] body = Fixtures.stream("ollama-chat.ndjson");
    MeterResult asJson = feed(Api.OLLAMA, "application/octet-stream", true, new String(body, UTF_8));
    assertThat(asJson.events()).isZero();
    assertThat(asJson.tokenSource()).isEqualTo(TokenSource.NONE);
    MeterResult asNdjson = feed(Api.OLLAMA, "application/x-ndjson; charset=utf-8", true, new String(body, UTF_8));
    assertThat(asNdjson.events()).isEqualTo(11);
  }
}
