package dev.tokentap.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * {@code POST /v1/chat/completions}, framed as vLLM frames it (wire-formats §2-3).
 *
 * <pre>
 * data: {"id":"chatcmpl-…","object":"chat.completion.chunk","created":…,"model":"…","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}
 * data: {…"choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}]}
 * …
 * data: {…"choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop","stop_reason":null}]}
 * data: {…"choices":[],"usage":{"prompt_tokens":14,"total_tokens":44,"completion_tokens":30}}   (include_usage only)
 * data: [DONE]
 * </pre>
 *
 * The role chunk goes out once per choice, immediately before that choice's first token chunk. The
 * last chunk of a choice carries its finish reason: for {@code length} with the last token's text,
 * for {@code stop} with the end-of-sequence token's empty text. With {@code continuous_usage_stats}
 * every chunk carries the running usage of its choice. Each event is followed by a blank line.
 */
final class ChatCompletionFraming implements ApiFraming {

  static final ChatCompletionFraming INSTANCE = new ChatCompletionFraming();

  private static final String CHUNK = "chat.completion.chunk";
  private static final String ROLE_DELTA =
      ",\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]";

  @Override
  public String route() {
    return "chat";
  }

  @Override
  public GenerationRequest parse(JsonNode body, EmulatorSettings settings) {
    JsonNode messages = body.get("messages");
    if (messages == null || !messages.isArray() || messages.isEmpty()) {
      throw new InvalidRequestException(
          "messages: " + messages + " (expected: a non-empty array of messages)");
    }
    StringBuilder prompt = new StringBuilder();
    int contentTokens = 0;
    for (JsonNode message : messages) {
      if (!message.isObject()) {
        throw new InvalidRequestException(
            "messages: " + message + " (expected: an object with role and content)");
      }
      String role = OpenAiJson.optionalText(message, "role");
      if (role == null) {
        throw new InvalidRequestException("messages[].role: missing (expected: a string)");
      }
      String content = contentText(message.get("content"));
      prompt.append(role).append('\n').append(content).append('\n');
      contentTokens += PromptTokenEstimator.messageContent(content);
    }
    // OpenAI's newer name wins over the deprecated max_tokens, as in vLLM.
    OpenAiJson.CommonFields f = OpenAiJson.commonFields(body, "max_completion_tokens", settings);
    return new GenerationRequest(
        route(),
        f.model(),
        prompt.toString(),
        PromptTokenEstimator.chat(messages.size(), contentTokens),
        f.maxTokens(),
        f.ignoreEos(),
        f.seed(),
        f.n(),
        f.stream(),
        f.includeUsage(),
        f.continuousUsage(),
        OutputFormat.of(body));
  }

  /** A message's text: a string, or the text parts of a content array; absent or null is "". */
  static String contentText(JsonNode content) {
    if (content == null || content.isNull()) {
      return "";
    }
    if (content.isTextual()) {
      return content.textValue();
    }
    if (content.isArray()) {
      StringBuilder sb = new StringBuilder();
      for (JsonNode part : content) {
        JsonNode text = part.get("text");
        if (text != null && text.isTextual()) {
          sb.append(text.textValue());
        }
      }
      return sb.toString();
    }
    throw new InvalidRequestException(
        "messages[].content: " + content + " (expected: a string or an array of parts)");
  }

  @Override
  public ResponseContext newResponse(GenerationRequest request) {
    return new ResponseContext(
        request,
        OpenAiJson.newId("chatcmpl-"),
        System.currentTimeMillis() / 1000,
        OpenAiJson.quote(request.model()));
  }

  /**
   * A text chunk, or for a choice that calls a function, a tool-call chunk as vLLM and OpenAI stream
   * it: the first names the function (with an id), each carries a piece of the arguments' JSON.
   */
  @Override
  public void appendChunk(
      ResponseContext r,
      int choice,
      boolean first,
      CharSequence text,
      int choiceTokens,
      String finishReason,
      StringBuilder out) {
    String toolName = r.state().toolName(choice);
    StringBuilder delta = new StringBuilder(text.length() + 64);
    if (toolName == null) {
      delta.append("{\"content\":");
      OpenAiJson.appendString(delta, text);
      delta.append('}');
    } else {
      delta.append("{\"tool_calls\":[{\"index\":0,");
      if (first) {
        delta.append("\"id\":\"").append(toolCallId(r, choice)).append("\",\"type\":\"function\",");
      }
      delta.append("\"function\":{");
      if (first) {
        delta.append("\"name\":").append(OpenAiJson.quote(toolName)).append(',');
      }
      delta.append("\"arguments\":");
      OpenAiJson.appendString(delta, text);
      delta.append("}}]}");
    }
    appendChoiceChunk(r, choice, first, delta, choiceTokens, finishReason, out);
  }

  private static String toolCallId(ResponseContext r, int choice) {
    return "chatcmpl-tool-" + r.id().substring("chatcmpl-".length(), "chatcmpl-".length() + 16) + choice;
  }

  private static void appendChoiceChunk(
      ResponseContext r,
      int choice,
      boolean first,
      CharSequence delta,
      int choiceTokens,
      String finishReason,
      StringBuilder out) {
    boolean continuous = r.request().continuousUsage();
    int prompt = r.request().promptTokens();
    if (first) {
      OpenAiJson.appendChunkHead(out, r, CHUNK);
      out.append("{\"index\":").append(choice).append(ROLE_DELTA);
      if (continuous) {
        out.append(",\"usage\":");
        OpenAiJson.appendUsage(out, prompt, 0);
      }
      out.append("}\n\n");
    }
    OpenAiJson.appendChunkHead(out, r, CHUNK);
    out.append("{\"index\":").append(choice).append(",\"delta\":").append(delta);
    out.append(",\"logprobs\":null,\"finish_reason\":");
    if (finishReason == null) {
      out.append("null}]");
    } else {
      out.append('"').append(finishReason).append("\",\"stop_reason\":null}]");
    }
    if (continuous) {
      out.append(",\"usage\":");
      OpenAiJson.appendUsage(out, prompt, choiceTokens);
    }
    out.append("}\n\n");
  }

  @Override
  public void appendStreamEnd(ResponseContext r, Usage usage, StringBuilder out) {
    OpenAiJson.appendStreamEnd(out, r, CHUNK, usage);
  }

  @Override
  public void appendStreamError(ResponseContext r, String message, StringBuilder out) {
    OpenAiJson.appendStreamError(out, message);
  }

  @Override
  public String completeBody(
      ResponseContext r,
      List<? extends CharSequence> texts,
      List<String> finishReasons,
      Usage usage) {
    StringBuilder out = new StringBuilder(256);
    out.append("{\"id\":\"")
        .append(r.id())
        .append("\",\"object\":\"chat.completion\",\"created\":")
        .append(r.created())
        .append(",\"model\":")
        .append(r.modelJson())
        .append(",\"choices\":[");
    for (int i = 0; i < texts.size(); i++) {
      out.append(i == 0 ? "" : ",")
          .append("{\"index\":")
          .append(i)
          .append(",\"message\":{\"role\":\"assistant\",\"content\":");
      String tool = r.state().toolName(i);
      if (tool == null) {
        OpenAiJson.appendString(out, texts.get(i));
      } else {
        out.append("null,\"tool_calls\":[{\"id\":\"").append(toolCallId(r, i))
            .append("\",\"type\":\"function\",\"function\":{\"name\":").append(OpenAiJson.quote(tool))
            .append(",\"arguments\":");
        OpenAiJson.appendString(out, texts.get(i));
        out.append("}}]");
      }
      out.append("},\"logprobs\":null,\"finish_reason\":\"")
          .append(finishReasons.get(i))
          .append("\",\"stop_reason\":null}");
    }
    out.append("],\"usage\":");
    OpenAiJson.appendUsage(out, usage.promptTokens(), usage.completionTokens());
    return out.append('}').toString();
  }
}
