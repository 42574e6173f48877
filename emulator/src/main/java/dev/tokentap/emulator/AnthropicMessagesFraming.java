package dev.tokentap.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * {@code POST /v1/messages}, the Anthropic Messages API, framed as api.anthropic.com frames it
 * (wire-formats §7, fixtures {@code anthropic-messages*.sse}).
 *
 * <pre>
 * event: message_start        {"type":"message_start","message":{…,"usage":{"input_tokens":N,…,"output_tokens":1,…}}}
 * event: content_block_start  {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}   (with the first token)
 * event: ping                 {"type": "ping"}
 * event: content_block_delta  {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the"}}
 * …
 * event: content_block_stop   {"type":"content_block_stop","index":0}
 * event: message_delta        {"type":"message_delta","delta":{"stop_reason":"end_turn",…},"usage":{…,"output_tokens":M}}
 * event: message_stop         {"type":"message_stop"}
 * </pre>
 *
 * {@code message_start}'s output_tokens is the real API's placeholder 1; {@code message_delta}'s is
 * the cumulative count. The real server's trailing-space padding inside the JSON is left out. The
 * {@code anthropic-version} and {@code x-api-key} headers are accepted whatever they say. Errors
 * use Anthropic's shape {@code {"type":"error","error":{"type":…,"message":…}}}.
 */
final class AnthropicMessagesFraming implements ApiFraming {

  static final AnthropicMessagesFraming INSTANCE = new AnthropicMessagesFraming();

  @Override
  public String route() {
    return "messages";
  }

  @Override
  public GenerationRequest parse(JsonNode body, EmulatorSettings settings) {
    JsonNode messages = body.get("messages");
    if (messages == null || !messages.isArray() || messages.isEmpty()) {
      throw new InvalidRequestException("messages: Field required (a non-empty array)");
    }
    Integer maxTokens = OpenAiJson.optionalInt(body, "max_tokens", 1, Integer.MAX_VALUE);
    if (maxTokens == null) {
      throw new InvalidRequestException("max_tokens: Field required");
    }
    StringBuilder prompt = new StringBuilder();
    int count = messages.size();
    int contentTokens = 0;
    // The system prompt counts as one more message: the model sees it framed like one.
    JsonNode system = body.get("system");
    if (system != null && !system.isNull()) {
      String text = ChatCompletionFraming.contentText(system);
      prompt.append("system\n").append(text).append('\n');
      count++;
      contentTokens += PromptTokenEstimator.messageContent(text);
    }
    for (JsonNode message : messages) {
      String role = message.isObject() ? OpenAiJson.optionalText(message, "role") : null;
      if (role == null) {
        throw new InvalidRequestException("messages: " + message + " (expected: role and content)");
      }
      String text = ChatCompletionFraming.contentText(message.get("content"));
      prompt.append(role).append('\n').append(text).append('\n');
      contentTokens += PromptTokenEstimator.messageContent(text);
    }
    String model = OpenAiJson.optionalText(body, "model");
    return new GenerationRequest(
        route(),
        model == null ? settings.servedModelName() : model,
        prompt.toString(),
        PromptTokenEstimator.chat(count, contentTokens),
        maxTokens,
        OpenAiJson.optionalBoolean(body, "ignore_eos"),
        OpenAiJson.optionalLong(body, "seed"),
        1,
        OpenAiJson.optionalBoolean(body, "stream"),
        false,
        false,
        OutputFormat.TEXT);
  }

  @Override
  public ResponseContext newResponse(GenerationRequest request) {
    return new ResponseContext(
        request,
        "msg_" + OpenAiJson.newId("").substring(0, 24),
        System.currentTimeMillis() / 1000,
        OpenAiJson.quote(request.model()));
  }

  @Override
  public void appendStreamStart(ResponseContext r, StringBuilder out) {
    out.append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":");
    appendMessage(out, r, null, null, 1);
    out.append("}\n\n");
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
    open(r, out);
    if (text.length() > 0) { // the end-of-sequence token has no text, and no delta
      out.append(
          "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
              + "\"delta\":{\"type\":\"text_delta\",\"text\":");
      OpenAiJson.appendString(out, text);
      out.append("}}\n\n");
    }
    if (finishReason != null) {
      r.state().finishReason = finishReason;
    }
  }

  /** The text block opens with the first token; the real API pings right after it. */
  private static void open(ResponseContext r, StringBuilder out) {
    if (r.state().opened) {
      return;
    }
    r.state().opened = true;
    out.append(
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
            + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
            + "event: ping\ndata: {\"type\": \"ping\"}\n\n");
  }

  @Override
  public void appendStreamEnd(ResponseContext r, Usage usage, StringBuilder out) {
    open(r, out);
    out.append(
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
                + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{"
                + "\"stop_reason\":\"")
        .append(stopReason(r.state().finishReason))
        .append("\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":")
        .append(usage.promptTokens())
        .append(
            ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":")
        .append(usage.completionTokens())
        .append("}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
  }

  @Override
  public void appendStreamError(ResponseContext r, String message, StringBuilder out) {
    // As the real API sends it (Python's spacing), and without message_stop after it.
    out.append(
        "event: error\ndata: {\"type\": \"error\", \"error\": "
            + "{\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n");
  }

  @Override
  public String errorBody(int status, String openAiType, String codeJson, String message) {
    String type =
        switch (status) {
          case 400 -> "invalid_request_error";
          case 401 -> "authentication_error";
          case 402 -> "billing_error";
          case 403 -> "permission_error";
          case 404 -> "not_found_error";
          case 413 -> "request_too_large";
          case 429 -> "rate_limit_error";
          case 504 -> "timeout_error";
          case 529 -> "overloaded_error";
          default -> status >= 500 ? "api_error" : "invalid_request_error";
        };
    StringBuilder sb = new StringBuilder(64 + message.length());
    sb.append("{\"type\":\"error\",\"error\":{\"type\":\"").append(type).append("\",\"message\":");
    OpenAiJson.appendString(sb, message);
    return sb.append("}}").toString();
  }

  @Override
  public String completeBody(
      ResponseContext r,
      List<? extends CharSequence> texts,
      List<String> finishReasons,
      Usage usage) {
    StringBuilder out = new StringBuilder(512);
    appendMessage(out, r, texts.get(0), stopReason(finishReasons.get(0)), usage.completionTokens());
    return out.toString();
  }

  private static String stopReason(String finishReason) {
    return "length".equals(finishReason) ? "max_tokens" : "end_turn";
  }

  /** The message object; {@code text} null is the empty content of {@code message_start}. */
  private static void appendMessage(
      StringBuilder out,
      ResponseContext r,
      CharSequence text,
      String stopReason,
      int outputTokens) {
    out.append("{\"model\":")
        .append(r.modelJson())
        .append(",\"id\":\"")
        .append(r.id())
        .append("\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[");
    if (text != null) {
      out.append("{\"type\":\"text\",\"text\":");
      OpenAiJson.appendString(out, text);
      out.append('}');
    }
    out.append("],\"stop_reason\":")
        .append(stopReason == null ? "null" : "\"" + stopReason + "\"")
        .append(",\"stop_sequence\":null,\"usage\":{\"input_tokens\":")
        .append(r.request().promptTokens())
        .append(
            ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"cache_creation\":"
                + "{\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":0},"
                + "\"output_tokens\":")
        .append(outputTokens)
        .append(",\"service_tier\":\"standard\"}}");
  }
}
