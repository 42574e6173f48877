package dev.tokentap.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStreamEvent;
import com.openai.models.responses.ResponseUsage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The official Anthropic and OpenAI Java SDKs talk to the emulator as to the real services: proof
 * that {@code /v1/messages} and {@code /v1/responses} speak the real protocols, events the SDKs
 * validate included.
 */
class SdkCompatibilityTest {

  private static Emulator emulator;
  private static AnthropicClient anthropic;
  private static OpenAIClient openai;
  private static final Recorder finished = new Recorder();

  @BeforeAll
  static void start() throws Exception {
    emulator =
        Emulator.start(
            EmulatorSettings.defaults()
                .withPort(0)
                .withProfile(EngineProfile.fast())
                .withMeanOutputTokens(8)
                .withSeed(7));
    emulator.addListener(finished);
    String base = emulator.baseUri().toString().replaceAll("/$", "");
    anthropic =
        AnthropicOkHttpClient.builder()
            .baseUrl(base)
            .apiKey("sk-ant-emulated")
            .maxRetries(0)
            .timeout(Duration.ofSeconds(10))
            .build();
    openai =
        OpenAIOkHttpClient.builder()
            .baseUrl(base + "/v1")
            .apiKey("sk-emulated")
            .maxRetries(0)
            .timeout(Duration.ofSeconds(10))
            .build();
  }

  @AfterAll
  static void stop() {
    anthropic.close();
    openai.close();
    emulator.close();
  }

  private static MessageCreateParams.Builder anthropicParams(long maxTokens) {
    return MessageCreateParams.builder()
        .model("claude-emulated")
        .maxTokens(maxTokens)
        .addUserMessage("Tell me about the emulator");
  }

  @Test
  void anthropicSdkStreamsAMessageWithTextAndUsage() throws Exception {
    MessageAccumulator acc = MessageAccumulator.create();
    List<String> deltas = new ArrayList<>();
    try (StreamResponse<RawMessageStreamEvent> stream =
        anthropic
            .messages()
            .createStreaming(
                anthropicParams(8)
                    .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true))
                    .build())) {
      stream.stream()
          .forEach(
              e -> {
                acc.accumulate(e);
                e.contentBlockDelta()
                    .flatMap(d -> d.delta().text())
                    .ifPresent(t -> deltas.add(t.text()));
              });
    }

    Message m = acc.message();
    assertThat(deltas).hasSize(8);
    assertThat(m.content().get(0).text().orElseThrow().text()).isEqualTo(String.join("", deltas));
    assertThat(m.usage().outputTokens()).isEqualTo(8);
    assertThat(m.usage().inputTokens()).isEqualTo(7 + 4 + 2); // ceil(26 / 4) + 4 + 2
    assertThat(m.stopReason()).contains(StopReason.MAX_TOKENS);
    assertThat(m.model().asString()).isEqualTo("claude-emulated");
    assertThat(finished.next(Duration.ofSeconds(2)).completionTokens()).isEqualTo(8);
  }

  @Test
  void anthropicSdkReadsANonStreamedMessageAndTypedErrors() throws Exception {
    Message m = anthropic.messages().create(anthropicParams(1000).build());
    assertThat(m.stopReason()).contains(StopReason.END_TURN);
    assertThat(m.usage().outputTokens())
        .isEqualTo(finished.next(Duration.ofSeconds(2)).completionTokens());

    MessageCreateParams overloaded =
        anthropicParams(5)
            .putAdditionalHeader(GenerationRequestReader.FAULT_HEADER, "status=529")
            .build();
    assertThatThrownBy(() -> anthropic.messages().create(overloaded))
        .isInstanceOf(AnthropicServiceException.class)
        .satisfies(e -> assertThat(((AnthropicServiceException) e).statusCode()).isEqualTo(529));
    finished.next(Duration.ofSeconds(2));
  }

  @Test
  void openAiSdkStreamsAResponsesCallWithTextAndUsage() throws Exception {
    ResponseCreateParams params =
        ResponseCreateParams.builder()
            .model("gpt-emulated")
            .input("Tell me about the emulator")
            .maxOutputTokens(1000)
            .build();
    StringBuilder text = new StringBuilder();
    AtomicReference<Response> completed = new AtomicReference<>();
    List<Long> sequence = new ArrayList<>();
    try (com.openai.core.http.StreamResponse<ResponseStreamEvent> stream =
        openai.responses().createStreaming(params)) {
      stream.stream()
          .forEach(
              e -> {
                e.outputTextDelta()
                    .ifPresent(
                        d -> {
                          text.append(d.delta());
                          sequence.add(d.sequenceNumber());
                        });
                e.completed().ifPresent(c -> completed.set(c.response()));
              });
    }

    Response r = completed.get();
    assertThat(r).as("response.completed").isNotNull();
    assertThat(outputText(r)).isEqualTo(text.toString());
    ResponseUsage usage = r.usage().orElseThrow();
    int tokens = finished.next(Duration.ofSeconds(2)).completionTokens();
    assertThat(usage.outputTokens()).isEqualTo(tokens);
    assertThat(sequence).hasSize(tokens - 1); // the end-of-sequence token has no delta
    assertThat(usage.inputTokens()).isEqualTo(7 + 4 + 2);
    assertThat(usage.totalTokens()).isEqualTo(usage.inputTokens() + tokens);
    assertThat(usage.outputTokensDetails().reasoningTokens()).isZero();
  }

  @Test
  void openAiSdkReadsANonStreamedResponse() throws Exception {
    Response r =
        openai
            .responses()
            .create(
                ResponseCreateParams.builder()
                    .model("gpt-emulated")
                    .input("Tell me about the emulator")
                    .maxOutputTokens(1000)
                    .build());
    assertThat(outputText(r)).isNotEmpty();
    assertThat(r.usage().orElseThrow().outputTokens())
        .isEqualTo(finished.next(Duration.ofSeconds(2)).completionTokens());
  }

  /** The text of the response's output message, through the SDK's typed accessors. */
  private static String outputText(Response r) {
    StringBuilder sb = new StringBuilder();
    r.output()
        .forEach(
            item ->
                item.message()
                    .ifPresent(
                        m ->
                            m.content()
                                .forEach(c -> c.outputText().ifPresent(t -> sb.append(t.text())))));
    return sb.toString();
  }
}
