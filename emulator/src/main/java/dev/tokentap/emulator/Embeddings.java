package dev.tokentap.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * {@code POST /v1/embeddings} as vLLM serves it: reading the request and writing the response.
 *
 * <pre>
 * request:  {"model":"…","input":"text" | ["text",…] | [id,…] | [[id,…],…],
 *            "encoding_format":"float" (default) | "base64", "dimensions":D}
 * response: {"id":"embd-…","object":"list","created":…,"model":"…",
 *            "data":[{"index":0,"object":"embedding","embedding":[0.0123,…]},…],
 *            "usage":{"prompt_tokens":N,"total_tokens":N,"completion_tokens":0}}
 * </pre>
 *
 * Each input is one prefill-only sequence in the engine (vLLM runs each as its own request). Prompt
 * tokens follow {@link PromptTokenEstimator#text} for a string and the array's length for token
 * ids.
 * A vector is a pure function of the configured seed and the input (a string, or the token-id
 * array's JSON text): standard normal components from a SplitMix64 stream, scaled to unit length.
 * {@code dimensions} below the configured size truncates that vector and normalises it again, as a
 * Matryoshka model does; above it is refused. {@code base64} is the float32 little-endian bytes of
 * the vector, as vLLM (numpy) encodes them.
 */
final class Embeddings {

  static final String ROUTE = "embeddings";

  private static final String INPUT_EXPECTED =
      " (expected: a string, an array of strings, an array of token ids, or an array of token-id"
          + " arrays)";
  private static final long VECTOR_SALT = 0xE3BE_DD1E_C70E_5EEDL;
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private Embeddings() {}

  /**
   * One embedding request.
   *
   * @param model the requested model, or the served model when it named none
   * @param inputs each input's seed text: the string, or the token-id array's JSON text
   * @param inputTokens each input's prompt tokens
   * @param base64 whether {@code encoding_format} is {@code base64}
   * @param dimensions length of each vector
   */
  record Request(
      String model, List<String> inputs, int[] inputTokens, boolean base64, int dimensions) {

    int promptTokens() {
      long sum = 0;
      for (int t : inputTokens) {
        sum += t;
      }
      return (int) Math.min(sum, Integer.MAX_VALUE);
    }
  }

  /**
   * Reads the request body.
   *
   * @throws InvalidRequestException naming what is wrong
   */
  static Request parse(JsonNode body, EmulatorSettings settings) {
    String model = OpenAiJson.optionalText(body, "model");
    JsonNode input = body.get("input");
    List<String> inputs = new ArrayList<>();
    List<Integer> tokens = new ArrayList<>();
    if (input != null && input.isTextual()) {
      addText(input.textValue(), inputs, tokens);
    } else if (input != null && input.isArray() && !input.isEmpty()) {
      JsonNode first = input.get(0);
      if (first.isTextual()) {
        for (JsonNode e : input) {
          if (!e.isTextual()) {
            throw new InvalidRequestException("input: " + abbreviate(input) + INPUT_EXPECTED);
          }
          addText(e.textValue(), inputs, tokens);
        }
      } else if (first.isIntegralNumber()) {
        addTokenIds(input, input, inputs, tokens);
      } else if (first.isArray()) {
        for (JsonNode e : input) {
          if (!e.isArray()) {
            throw new InvalidRequestException("input: " + abbreviate(input) + INPUT_EXPECTED);
          }
          addTokenIds(e, input, inputs, tokens);
        }
      } else {
        throw new InvalidRequestException("input: " + abbreviate(input) + INPUT_EXPECTED);
      }
    } else {
      throw new InvalidRequestException(
          "input: " + (input == null ? "null" : abbreviate(input)) + INPUT_EXPECTED);
    }

    String format = OpenAiJson.optionalText(body, "encoding_format");
    if (format != null && !format.equals("float") && !format.equals("base64")) {
      throw new InvalidRequestException(
          "encoding_format: " + OpenAiJson.quote(format) + " (expected: \"float\" or \"base64\")");
    }
    Integer dimensions =
        OpenAiJson.optionalInt(body, "dimensions", 1, settings.embeddingDimensions());

    int[] inputTokens = new int[tokens.size()];
    long kvCache = settings.profile().kvCacheTokens();
    for (int i = 0; i < inputTokens.length; i++) {
      inputTokens[i] = tokens.get(i);
      // An input the engine could never admit would block its queue forever: refuse it now.
      if (inputTokens[i] > kvCache) {
        throw new InvalidRequestException(
            "input["
                + i
                + "] has "
                + inputTokens[i]
                + " tokens but the engine has "
                + kvCache
                + " KV-cache tokens. Please reduce the length of the input.");
      }
    }
    return new Request(
        model == null ? settings.servedModelName() : model,
        List.copyOf(inputs),
        inputTokens,
        "base64".equals(format),
        dimensions == null ? settings.embeddingDimensions() : dimensions);
  }

  private static void addText(String text, List<String> inputs, List<Integer> tokens) {
    inputs.add(text);
    tokens.add(PromptTokenEstimator.text(text));
  }

  private static void addTokenIds(
      JsonNode ids, JsonNode input, List<String> inputs, List<Integer> tokens) {
    if (ids.isEmpty()) {
      throw new InvalidRequestException("input: " + abbreviate(input) + INPUT_EXPECTED);
    }
    for (JsonNode id : ids) {
      if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
        throw new InvalidRequestException(
            "input: " + abbreviate(input) + " (token ids are integers >= 0)");
      }
    }
    inputs.add(ids.toString());
    tokens.add(ids.size());
  }

  private static String abbreviate(JsonNode node) {
    String s = node.toString();
    return s.length() <= 200 ? s : s.substring(0, 200) + "…";
  }

  /**
   * The unit vector of {@code input}: the first {@code dimensions} components of its standard
   * normal stream, scaled to length 1.
   */
  static float[] vector(long configuredSeed, String input, int dimensions) {
    long base =
        OutputPlan.mix(OutputPlan.mix(configuredSeed) ^ OutputPlan.fnv1a(input) ^ VECTOR_SALT);
    double[] v = new double[dimensions];
    double sumSquares = 0;
    for (int i = 0; i < dimensions; i++) {
      // Box–Muller over two uniform draws; u1 in (0, 1] keeps the logarithm finite.
      double u1 = ((OutputPlan.mix(base + (2L * i + 1) * GOLDEN) >>> 11) + 1) * 0x1.0p-53;
      double u2 = (OutputPlan.mix(base + (2L * i + 2) * GOLDEN) >>> 11) * 0x1.0p-53;
      v[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      sumSquares += v[i] * v[i];
    }
    float[] out = new float[dimensions];
    if (sumSquares == 0) {
      out[0] = 1; // all components 0 by chance (never in practice): still a unit vector
      return out;
    }
    double norm = Math.sqrt(sumSquares);
    for (int i = 0; i < dimensions; i++) {
      out[i] = (float) (v[i] / norm);
    }
    return out;
  }

  /** The response body: one vector per input, in input order. */
  static String responseBody(Request r, long configuredSeed) {
    int perVector = r.base64() ? r.dimensions() * 16 / 3 + 64 : r.dimensions() * 12 + 64;
    StringBuilder out = new StringBuilder(128 + r.inputs().size() * perVector);
    out.append("{\"id\":\"")
        .append(OpenAiJson.newId("embd-"))
        .append("\",\"object\":\"list\",\"created\":")
        .append(System.currentTimeMillis() / 1000)
        .append(",\"model\":");
    OpenAiJson.appendString(out, r.model());
    out.append(",\"data\":[");
    for (int i = 0; i < r.inputs().size(); i++) {
      float[] v = vector(configuredSeed, r.inputs().get(i), r.dimensions());
      out.append(i == 0 ? "" : ",")
          .append("{\"index\":")
          .append(i)
          .append(",\"object\":\"embedding\",\"embedding\":");
      if (r.base64()) {
        out.append('"').append(base64(v)).append('"');
      } else {
        out.append('[');
        for (int d = 0; d < v.length; d++) {
          out.append(d == 0 ? "" : ",").append(v[d]);
        }
        out.append(']');
      }
      out.append('}');
    }
    out.append("],\"usage\":");
    OpenAiJson.appendUsage(out, r.promptTokens(), 0);
    return out.append('}').toString();
  }

  /** The float32 little-endian bytes of {@code v}, base64-encoded. */
  static String base64(float[] v) {
    ByteBuffer bytes = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      bytes.putFloat(f);
    }
    return Base64.getEncoder().encodeToString(bytes.array());
  }
}
