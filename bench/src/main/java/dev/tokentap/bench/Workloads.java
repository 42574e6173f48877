package dev.tokentap.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Parses {@code --workload}:
 *
 * <ul>
 *   <li>{@code synthetic} or {@code synthetic:input=LEN,output=LEN[,prefix=TOKENS[,groups=N]]} with
 *       {@link LengthDistribution} forms ({@value #DEFAULT_INPUT} and {@value #DEFAULT_OUTPUT} by
 *       default; nothing to download) and optional shared prefix groups ({@link SyntheticWorkload});
 *   <li>{@code jsonl:PATH}: one OpenAI request body per line;
 *   <li>{@code sharegpt:PATH[:turns=first|all]}: a ShareGPT JSON array, the first turn of each
 *       conversation (default) or every turn, each with its history ({@link Conversation});
 *   <li>{@code trace:PATH}: a capture written by the proxy ({@code tokentap.capture}), replayed with
 *       synthetic prompts of the captured lengths ({@link TraceWorkload});
 *   <li>{@code mooncake:PATH}: a Mooncake trace (timestamps, lengths, prefix blocks by hash id,
 *       {@link MooncakeWorkload}).
 * </ul>
 */
public final class Workloads {
  public static final String DEFAULT_INPUT = "uniform:128:512";
  public static final String DEFAULT_OUTPUT = "uniform:32:128";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String EXPECTED =
      "expected: synthetic[:input=LEN,output=LEN], jsonl:PATH, sharegpt:PATH, trace:PATH or mooncake:PATH";

  private Workloads() {}

  public static Workload parse(String spec, String model, long seed) throws IOException {
    return parse(spec, model, false, seed);
  }

  /**
   * @param modelGiven {@code model} was named by the user: a trace replays every request with it
   *     instead of the captured model names
   */
  public static Workload parse(String spec, String model, boolean modelGiven, long seed) throws IOException {
    int colon = spec.indexOf(':');
    String kind = colon < 0 ? spec : spec.substring(0, colon);
    String rest = colon < 0 ? "" : spec.substring(colon + 1);
    switch (kind) {
      case "synthetic" -> {
        return synthetic(spec, rest, model, seed);
      }
      case "jsonl", "sharegpt", "trace", "mooncake" -> {
        boolean allTurns = false;
        int turnsAt = rest.lastIndexOf(":turns=");
        if (kind.equals("sharegpt") && turnsAt >= 0) {
          allTurns = switch (rest.substring(turnsAt + ":turns=".length())) {
            case "first" -> false;
            case "all" -> true;
            default -> throw new IllegalArgumentException("--workload " + spec + ": turns must be first or all");
          };
          rest = rest.substring(0, turnsAt);
        }
        if (rest.isBlank()) {
          throw new IllegalArgumentException("--workload " + spec + " (" + EXPECTED + ")");
        }
        Path file = Path.of(rest);
        if (!Files.isReadable(file)) {
          throw new IllegalArgumentException("--workload " + spec + ": cannot read " + file);
        }
        return switch (kind) {
          case "jsonl" -> FileWorkload.jsonl(file, model);
          case "sharegpt" -> FileWorkload.shareGpt(file, model, allTurns);
          case "mooncake" -> MooncakeWorkload.read(file, model, seed);
          default -> TraceWorkload.read(file, model, modelGiven, seed);
        };
      }
      default -> throw new IllegalArgumentException("--workload " + spec + " (" + EXPECTED + ")");
    }
  }

  /** {@code input=LEN,output=LEN,prefix=TOKENS,groups=N}, every key optional. */
  private static SyntheticWorkload synthetic(String spec, String rest, String model, long seed) {
    String input = DEFAULT_INPUT;
    String output = DEFAULT_OUTPUT;
    int prefix = 0;
    int groups = 1;
    try {
      if (!rest.isBlank()) {
        for (String kv : rest.split(",")) {
          int eq = kv.indexOf('=');
          String key = eq < 0 ? kv : kv.substring(0, eq).trim();
          String value = eq < 0 ? "" : kv.substring(eq + 1).trim();
          switch (key) {
            case "input" -> input = value;
            case "output" -> output = value;
            case "prefix" -> prefix = count("prefix", value, 0);
            case "groups" -> groups = count("groups", value, 1);
            default -> throw new IllegalArgumentException(
                "unknown key '" + key + "' (expected: input=LEN,output=LEN[,prefix=TOKENS[,groups=N]])");
          }
        }
      }
      return new SyntheticWorkload(model, LengthDistribution.parse(input), LengthDistribution.parse(output), prefix, groups, seed);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--workload " + spec + ": " + e.getMessage(), e);
    }
  }

  private static int count(String key, String value, int min) {
    try {
      int n = Integer.parseInt(value);
      if (n >= min) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(key + "=" + value + " (expected: an integer >= " + min + ")");
  }

  /** The emulator's text rule: {@code ceil(codePoints / 4)}, at least 1. */
  static int estimateTokens(String text) {
    return Math.max(1, (text.codePointCount(0, text.length()) + 3) / 4);
  }

  static byte[] bytes(ObjectNode body) {
    try {
      return JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
