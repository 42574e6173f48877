package dev.tokentap.emulator;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Locale;

/**
 * A failure the emulator injects into one response, chosen by the request header {@code
 * x-emulator-fault} or by {@code tokentap.emulator.fault} for every request.
 *
 * <table>
 *   <caption>Syntax</caption>
 *   <tr><td>{@code none}</td><td>no fault (also the empty string)</td></tr>
 *   <tr><td>{@code status=CODE}</td><td>answer at once with HTTP CODE (400..599) and an error body in
 *       the API's shape (OpenAI, Anthropic, Ollama); 429 adds {@code Retry-After: 1}</td></tr>
 *   <tr><td>{@code error-after=N}</td><td>after N output tokens, the API's mid-stream error: vLLM's
 *       error event then {@code [DONE]}; Responses {@code error} then {@code response.failed};
 *       Anthropic {@code event: error} ({@code overloaded_error}); an Ollama {@code {"error"}} line
 *       (non-streaming: HTTP 500)</td></tr>
 *   <tr><td>{@code reset-after=N}</td><td>after N output tokens, close the connection with a TCP RST</td></tr>
 *   <tr><td>{@code close-after=N}</td><td>after N output tokens, close the connection cleanly but
 *       without the chunked terminator (a truncated stream)</td></tr>
 *   <tr><td>{@code stall-after=N:DURATION}</td><td>after N output tokens the sequence makes no progress
 *       for DURATION (HOCON duration: {@code 500ms}, {@code 2s}), then continues</td></tr>
 * </table>
 *
 * <p>N counts output tokens of the whole response (all choices); {@code 0} means "at the first
 * engine output", after the response headers of a stream were sent. A response shorter than N
 * tokens completes without the fault. A stalled sequence keeps its seat and KV-cache reservation,
 * as a hung request in a real engine would.
 */
record FaultSpec(Kind kind, int status, int afterTokens, Duration stall) {

  static final FaultSpec NONE = new FaultSpec(Kind.NONE, 0, -1, Duration.ZERO);

  static final String SYNTAX =
      "none | status=CODE | error-after=N | reset-after=N | close-after=N | stall-after=N:DURATION";

  enum Kind {
    NONE,
    STATUS,
    ERROR_AFTER,
    RESET_AFTER,
    CLOSE_AFTER,
    STALL_AFTER
  }

  /** Parses {@code spec}; null or blank is {@link #NONE}. */
  static FaultSpec parse(String spec) {
    if (spec == null || spec.isBlank() || spec.trim().equalsIgnoreCase("none")) {
      return NONE;
    }
    String s = spec.trim();
    int eq = s.indexOf('=');
    if (eq < 0) {
      throw invalid(spec);
    }
    String name = s.substring(0, eq).trim().toLowerCase(Locale.ROOT);
    String arg = s.substring(eq + 1).trim();
    switch (name) {
      case "status":
        {
          int code = number(arg, spec);
          if (code < 400 || code > 599) {
            throw invalid(spec);
          }
          return new FaultSpec(Kind.STATUS, code, -1, Duration.ZERO);
        }
      case "error-after":
        return new FaultSpec(Kind.ERROR_AFTER, 0, number(arg, spec), Duration.ZERO);
      case "reset-after":
        return new FaultSpec(Kind.RESET_AFTER, 0, number(arg, spec), Duration.ZERO);
      case "close-after":
        return new FaultSpec(Kind.CLOSE_AFTER, 0, number(arg, spec), Duration.ZERO);
      case "stall-after":
        {
          int colon = arg.indexOf(':');
          if (colon < 0) {
            throw invalid(spec);
          }
          return new FaultSpec(
              Kind.STALL_AFTER,
              0,
              number(arg.substring(0, colon), spec),
              duration(arg.substring(colon + 1), spec));
        }
      default:
        throw invalid(spec);
    }
  }

  boolean isNone() {
    return kind == Kind.NONE;
  }

  /** Whether this fault ends the response once {@link #afterTokens()} tokens were sent. */
  boolean endsStream() {
    return kind == Kind.ERROR_AFTER || kind == Kind.RESET_AFTER || kind == Kind.CLOSE_AFTER;
  }

  private static int number(String text, String spec) {
    try {
      int n = Integer.parseInt(text.trim());
      if (n < 0) {
        throw invalid(spec);
      }
      return n;
    } catch (NumberFormatException e) {
      throw invalid(spec);
    }
  }

  private static Duration duration(String text, String spec) {
    // The same duration syntax as the configuration file, so "2s" means the same everywhere.
    try {
      Duration d = ConfigFactory.parseString("d = \"" + text.trim() + "\"").getDuration("d");
      if (d.isNegative()) {
        throw invalid(spec);
      }
      return d;
    } catch (ConfigException e) {
      throw invalid(spec);
    }
  }

  private static IllegalArgumentException invalid(String spec) {
    return new IllegalArgumentException(spec + " (expected: " + SYNTAX + ")");
  }
}
