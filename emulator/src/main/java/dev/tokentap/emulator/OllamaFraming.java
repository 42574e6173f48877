package dev.tokentap.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;

/**
 * Ollama's native {@code POST /api/chat} and {@code POST /api/generate}, as Ollama frames them
 * (wire-formats §8, fixture {@code ollama-chat.ndjson}): NDJSON, one object per line.
 *
 * <pre>
 * {"model":"m","created_at":"2026-…Z","message":{"role":"assistant","content":" the"},"done":false}
 * …
 * {"model":"m","created_at":"…","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,
 *  "total_duration":…,"load_duration":…,"prompt_eval_count":14,"prompt_eval_duration":…,"eval_count":11,"eval_duration":…}
 * </pre>
 *
 * {@code /api/generate} has {@code "response":" the"} in place of {@code message} (its {@code
 * context} token ids are left out). {@code stream} defaults to true, as in Ollama; {@code
 * options.num_predict} is the output limit and {@code options.seed} the seed. {@code eval_count}
 * counts every token, the end token included, so a stream has one line per visible token plus the
 * done line. Durations are nanoseconds measured on the emulator: prompt eval from arrival to the
 * first token (queueing included: the emulator does not tell them apart), eval from the first to
 * the last token, load the small rest of the total. Errors are {@code {"error":"…"}}: the body of
 * an HTTP error before output, one last NDJSON line after it.
 */
final class OllamaFraming implements ApiFraming {

  static final OllamaFraming CHAT = new OllamaFraming(true);
  static final OllamaFraming GENERATE = new OllamaFraming(false);

  /** What {@code GET /api/version} answers: a version recent enough for every client. */
  static final String VERSION_JSON = "{\"version\":\"0.12.0\"}";

  private final boolean chat;

  private OllamaFraming(boolean chat) {
    this.chat = chat;
  }

  @Override
  public String route() {
    return chat ? "ollama_chat" : "ollama_generate";
  }

  @Override
  public String streamContentType() {
    return "application/x-ndjson";
  }

  @Override
  public GenerationRequest parse(JsonNode body, EmulatorSettings settings) {
    StringBuilder prompt = new StringBuilder();
    String system = OpenAiJson.optionalText(body, "system");
    int promptTokens;
    if (chat) {
      JsonNode messages = body.get("messages");
      if (messages == null || !messages.isArray()) {
        throw new InvalidRequestException("messages: " + messages + " (expected: an array)");
      }
      int count = 0;
      int contentTokens = 0;
      for (JsonNode message : messages) {
        String role = message.isObject() ? OpenAiJson.optionalText(message, "role") : null;
        String content = message.isObject() ? OpenAiJson.optionalText(message, "content") : null;
        if (role == null) {
          throw new InvalidRequestException("messages: " + message + " (expected: role, content)");
        }
        content = content == null ? "" : content;
        prompt.append(role).append('\n').append(content).append('\n');
        count++;
        contentTokens += PromptTokenEstimator.messageContent(content);
      }
      promptTokens = PromptTokenEstimator.chat(count, contentTokens);
    } else {
      String text = OpenAiJson.optionalText(body, "prompt");
      text = (system == null ? "" : system + "\n") + (text == null ? "" : text);
      prompt.append(text);
      promptTokens = PromptTokenEstimator.text(text);
    }
    JsonNode options = body.get("options");
    if (options != null && !options.isNull() && !options.isObject()) {
      throw new InvalidRequestException("options: " + options + " (expected: an object)");
    }
    Integer max = null;
    Long seed = null;
    if (options != null && options.isObject()) {
      // -1 (and -2, "fill the context") mean no limit: the configured default applies.
      max = OpenAiJson.optionalInt(options, "num_predict", -2, Integer.MAX_VALUE);
      max = max == null || max <= 0 ? null : max;
      seed = OpenAiJson.optionalLong(options, "seed");
    }
    JsonNode stream = body.get("stream");
    String model = OpenAiJson.optionalText(body, "model");
    return new GenerationRequest(
        route(),
        model == null ? settings.servedModelName() : model,
        prompt.toString(),
        promptTokens,
        max == null ? settings.defaultMaxTokens() : max,
        OpenAiJson.optionalBoolean(body, "ignore_eos"),
        seed,
        1,
        stream == null || stream.isNull() || OpenAiJson.optionalBoolean(body, "stream"),
        false,
        false,
        OutputFormat.TEXT);
  }

  @Override
  public ResponseContext newResponse(GenerationRequest request) {
    return new ResponseContext(
        request, "", System.currentTimeMillis() / 1000, OpenAiJson.quote(request.model()));
  }

  @Override
  public void appendChunk(
      ResponseContext r,
      int choice,
      boolean first,
      CharSequence text,
      int choiceTokens,
      String finishReason,
      StringBuilder out) {
    if (finishReason != null) {
      r.state().finishReason = finishReason;
    }
    if (text.length() > 0) { // the end token's empty text goes out on the done line
      head(out, r, text).append(",\"done\":false}\n");
    }
  }

  @Override
  public void appendStreamEnd(ResponseContext r, Usage usage, StringBuilder out) {
    doneLine(out, r, "", r.state().finishReason, usage);
    out.append('\n');
  }

  @Override
  public void appendStreamError(ResponseContext r, String message, StringBuilder out) {
    out.append(errorBody(500, null, null, message)).append('\n');
  }

  @Override
  public String errorBody(int status, String openAiType, String codeJson, String message) {
    StringBuilder sb = new StringBuilder(16 + message.length()).append("{\"error\":");
    OpenAiJson.appendString(sb, message);
    return sb.append('}').toString();
  }

  @Override
  public String completeBody(
      ResponseContext r,
      List<? extends CharSequence> texts,
      List<String> finishReasons,
      Usage usage) {
    StringBuilder out = new StringBuilder(512);
    doneLine(out, r, texts.get(0), finishReasons.get(0), usage);
    return out.toString();
  }

  /** {@code {"model":…,"created_at":…,"message":{…}} or "response":…}, left open. */
  private StringBuilder head(StringBuilder out, ResponseContext r, CharSequence text) {
    out.append("{\"model\":")
        .append(r.modelJson())
        .append(",\"created_at\":\"")
        .append(Instant.now()) // the server's clock per line, as Ollama stamps it
        .append('"');
    if (chat) {
      out.append(",\"message\":{\"role\":\"assistant\",\"content\":");
      OpenAiJson.appendString(out, text);
      out.append('}');
    } else {
      out.append(",\"response\":");
      OpenAiJson.appendString(out, text);
    }
    return out;
  }

  private void doneLine(
      StringBuilder out, ResponseContext r, CharSequence text, String reason, Usage usage) {
    long end = System.nanoTime();
    long total = usage.arrivalNanos() < 0 ? 0 : end - usage.arrivalNanos();
    long promptEval =
        usage.firstTokenNanos() < 0 ? total : usage.firstTokenNanos() - usage.arrivalNanos();
    long eval = usage.firstTokenNanos() < 0 ? 0 : usage.lastTokenNanos() - usage.firstTokenNanos();
    head(out, r, text)
        .append(",\"done_reason\":\"")
        .append(reason == null ? "stop" : reason)
        .append("\",\"done\":true,\"total_duration\":")
        .append(total)
        .append(",\"load_duration\":")
        .append(Math.max(0, total - promptEval - eval))
        .append(",\"prompt_eval_count\":")
        .append(usage.promptTokens())
        .append(",\"prompt_eval_duration\":")
        .append(promptEval)
        .append(",\"eval_count\":")
        .append(usage.completionTokens())
        .append(",\"eval_duration\":")
        .append(eval)
        .append('}');
  }

  /** {@code GET /api/tags}: the served model, in Ollama's listing shape. */
  static String tagsJson(String servedModelName, long startedEpochSeconds) {
    String name = OpenAiJson.quote(servedModelName);
    return "{\"models\":[{\"name\":"
        + name
        + ",\"model\":"
        + name
        + ",\"modified_at\":\""
        + Instant.ofEpochSecond(startedEpochSeconds)
        + "\",\"size\":0,\"digest\":\"\",\"details\":{\"parent_model\":\"\",\"format\":\"emulated\","
        + "\"family\":\"tokentap\",\"families\":[\"tokentap\"],\"parameter_size\":\"8B\","
        + "\"quantization_level\":\"BF16\"}}]}";
  }
}
