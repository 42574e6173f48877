package dev.tokentap.bench;

import dev.tokentap.proxy.config.SloRule;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * {@code --slo ttft=500ms,tpot=50ms,e2e=20s}: thresholds a good request meets (all of them,
 * DistServe's definition). Judged by the proxy's own {@code SloPolicy}, so bench and proxy agree on
 * what "met" means.
 */
public record SloSpec(Duration ttft, Duration tpot, Duration e2e) {
  public static final SloSpec NONE = new SloSpec(null, null, null);

  public boolean isEmpty() {
    return ttft == null && tpot == null && e2e == null;
  }

  public List<SloRule> rules() {
    return isEmpty() ? List.of() : List.of(new SloRule("*", "*", ttft, tpot, e2e));
  }

  public static SloSpec parse(String spec) {
    if (spec == null || spec.isBlank()) {
      return NONE;
    }
    Duration ttft = null;
    Duration tpot = null;
    Duration e2e = null;
    for (String kv : spec.split(",")) {
      int eq = kv.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException("--slo " + spec + ": '" + kv + "' (expected: ttft=500ms,tpot=50ms,e2e=20s)");
      }
      String key = kv.substring(0, eq).trim();
      Duration d = duration("--slo " + spec, kv.substring(eq + 1).trim());
      switch (key) {
        case "ttft" -> ttft = d;
        case "tpot" -> tpot = d;
        case "e2e", "e2el" -> e2e = d;
        default -> throw new IllegalArgumentException("--slo " + spec + ": unknown key '" + key + "' (expected: ttft, tpot, e2e)");
      }
    }
    return new SloSpec(ttft, tpot, e2e);
  }

  /** {@code 250us}, {@code 500ms}, {@code 20s}, {@code 2m}, {@code 1h}. */
  public static Duration duration(String context, String s) {
    String v = s.toLowerCase(Locale.ROOT);
    try {
      Duration d;
      if (v.endsWith("us")) {
        d = Duration.ofNanos(Math.round(Double.parseDouble(v.substring(0, v.length() - 2)) * 1e3));
      } else if (v.endsWith("ms")) {
        d = Duration.ofNanos(Math.round(Double.parseDouble(v.substring(0, v.length() - 2)) * 1e6));
      } else if (v.endsWith("s")) {
        d = Duration.ofNanos(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1e9));
      } else if (v.endsWith("h")) {
        d = Duration.ofNanos(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 3600e9));
      } else if (v.endsWith("m")) {
        d = Duration.ofNanos(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 60e9));
      } else {
        throw new NumberFormatException();
      }
      if (d.isNegative() || d.isZero()) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(context + ": '" + s + "' (expected: a positive duration such as 500ms, 20s, 2m)");
    }
  }

  public String describe() {
    StringBuilder sb = new StringBuilder();
    append(sb, "ttft", ttft);
    append(sb, "tpot", tpot);
    append(sb, "e2e", e2e);
    return sb.length() == 0 ? "none" : sb.toString();
  }

  private static void append(StringBuilder sb, String k, Duration d) {
    if (d != null) {
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append(k).append('=').append(LoadPlan.number(d.toNanos() / 1e6)).append("ms");
    }
  }
}
