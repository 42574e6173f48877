package dev.tokentap.emulator;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reading the request fields the OpenAI-style APIs share, and writing their JSON by hand: chunks
 * are built on every step for every sequence, so they are appended to one builder instead of going
 * through an object mapper.
 */
final class OpenAiJson {

  static final String DONE = "data: [DONE]\n\n";
  static final int MAX_N = 128;

  private OpenAiJson() {}

  /** The fields both OpenAI APIs share, read from {@code body}. */
  record CommonFields(
      String model,
      Integer maxTokens,
      boolean ignoreEos,
      Long seed,
      int n,
      boolean stream,
      boolean includeUsage,
      boolean continuousUsage) {}

  static CommonFields commonFields(
      JsonNode body, String maxTokensField, EmulatorSettings settings) {
    String model = optionalText(body, "model");
    Integer maxTokens = optionalInt(body, maxTokensField, 1, Integer.MAX_VALUE);
    if (maxTokens == null) {
      maxTokens = optionalInt(body, "max_tokens", 1, Integer.MAX_VALUE);
    }
    Integer n = optionalInt(body, "n", 1, MAX_N);
    Long seed = optionalLong(body, "seed");
    boolean stream = optionalBoolean(body, "stream");
    boolean includeUsage = false;
    boolean continuousUsage = false;
    JsonNode options = body.get("stream_options");
    if (options != null && !options.isNull()) {
      if (!options.isObject()) {
        throw new InvalidRequestException("stream_options: " + options + " (expected: an object)");
      }
      includeUsage = optionalBoolean(options, "include_usage");
      // Current vLLM sends running usage only together with the final usage chunk.
      continuousUsage = includeUsage && optionalBoolean(options, "continuous_usage_stats");
    }
    return new CommonFields(
        model == null ? settings.servedModelName() : model,
        maxTokens == null ? settings.defaultMaxTokens() : maxTokens,
        optionalBoolean(body, "ignore_eos"),
        seed,
        n == null ? 1 : n,
        stream,
        includeUsage,
        continuousUsage);
  }

  static String optionalText(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new InvalidRequestException(field + ": " + v + " (expected: a string)");
    }
    return v.textValue();
  }

  static Integer optionalInt(JsonNode body, String field, int min, int max) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < min || v.intValue() > max) {
      throw new InvalidRequestException(
          field
              + ": "
              + v
              + " (expected: an integer "
              + (max == Integer.MAX_VALUE ? ">= " + min : min + ".." + max)
              + ")");
    }
    return v.intValue();
  }

  static Long optionalLong(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new InvalidRequestException(field + ": " + v + " (expected: an integer)");
    }
    return v.longValue();
  }

  static boolean optionalBoolean(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return false;
    }
    if (!v.isBoolean()) {
      throw new InvalidRequestException(field + ": " + v + " (expected: true or false)");
    }
    return v.booleanValue();
  }

  /** An id like vLLM's: the prefix and 32 random hex digits. */
  static String newId(String prefix) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return prefix + String.format("%016x%016x", r.nextLong(), r.nextLong());
  }

  /** {@code s} as a JSON string literal, quotes included. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2);
    appendString(sb, s);
    return sb.toString();
  }

  static void appendString(StringBuilder out, CharSequence s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == '"' || c == '\\') {
        // Rare (vocabulary words never need it): let Jackson escape the whole string.
        out.append(JsonStringEncoder.getInstance().quoteAsString(s.subSequence(i, s.length())));
        break;
      }
      out.append(c);
    }
    out.append('"');
  }

  /** vLLM's usage key order: prompt, total, completion. */
  static void appendUsage(StringBuilder out, int promptTokens, int completionTokens) {
    out.append("{\"prompt_tokens\":")
        .append(promptTokens)
        .append(",\"total_tokens\":")
        .append(promptTokens + completionTokens)
        .append(",\"completion_tokens\":")
        .append(completionTokens)
        .append('}');
  }

  /** The opening of a chunk, up to and including {@code "choices":[}. */
  static void appendChunkHead(StringBuilder out, ApiFraming.ResponseContext r, String object) {
    out.append("data: {\"id\":\"")
        .append(r.id())
        .append("\",\"object\":\"")
        .append(object)
        .append("\",\"created\":")
        .append(r.created())
        .append(",\"model\":")
        .append(r.modelJson())
        .append(",\"choices\":[");
  }

  /** The usage chunk ({@code choices:[]}) if asked for, then {@code [DONE]}. */
  static void appendStreamEnd(
      StringBuilder out, ApiFraming.ResponseContext r, String object, ApiFraming.Usage usage) {
    if (r.request().includeUsage()) {
      appendChunkHead(out, r, object);
      out.append("],\"usage\":");
      appendUsage(out, usage.promptTokens(), usage.completionTokens());
      out.append("}\n\n");
    }
    out.append(DONE);
  }

  /** vLLM's mid-stream error event (it always follows with {@code [DONE]}). */
  static void appendStreamError(StringBuilder out, String message) {
    out.append("data: ")
        .append(errorJson(message, "InternalServerError", "500"))
        .append("\n\n")
        .append(DONE);
  }

  /** {@code {"error":{"message":..,"type":..,"param":null,"code":..}}}; code is raw JSON. */
  static String errorJson(String message, String type, String codeJson) {
    StringBuilder sb = new StringBuilder(96 + message.length());
    sb.append("{\"error\":{\"message\":");
    appendString(sb, message);
    sb.append(",\"type\":");
    appendString(sb, type);
    sb.append(",\"param\":null,\"code\":").append(codeJson).append("}}");
    return sb.toString();
  }
}
