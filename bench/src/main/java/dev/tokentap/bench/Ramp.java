package dev.tokentap.bench;

import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code --load ramp:LOAD:GROWTH@[WARMUP+]HOLD}: a generated stage list. {@code LOAD} is any {@code
 * --load} form with its level written {@code FROM..TO} ({@code poisson:10..100}, {@code
 * concurrency:1..64}, {@code gamma:2..20:0.5}); {@code GROWTH} is {@code +STEP} (linear: FROM,
 * FROM+STEP, …) or {@code xFACTOR} (exponential: FROM, FROM×FACTOR, …). Levels go up to TO, which is
 * the last one only when the steps land on it. Every level is held for {@code HOLD} after its
 * warm-up, exactly as the stages {@code stages:LOAD@[WARMUP+]HOLD,…} would be, and runs through
 * {@link Stages#run} (the knee, steps.csv and the report are the stages').
 *
 * <p>Linear levels are summed in decimal, so {@code 0.1..0.5:+0.1} is 0.1, 0.2, … 0.5 exactly;
 * exponential rates keep six significant digits. Concurrency is whole: a linear concurrency ramp
 * takes whole FROM and STEP; an exponential one rounds each level and drops repeats ({@code
 * 1..16:x1.5} is 1, 2, 3, 5, 8, 11).
 */
public final class Ramp {
  public static final String PREFIX = "ramp:";
  /** More would hold the server for hours; a longer plan is written as two runs. */
  static final int MAX_STEPS = 100;

  private static final String EXPECTED = "expected: ramp:LOAD:+STEP@[WARMUP+]HOLD or ramp:LOAD:xFACTOR@[WARMUP+]HOLD,"
      + " LOAD with its level as FROM..TO, e.g. ramp:poisson:10..100:+10@30s or ramp:concurrency:1..64:x2@10s+30s";

  private Ramp() {}

  public static boolean isRamp(String loadSpec) {
    return loadSpec.trim().startsWith(PREFIX);
  }

  /**
   * @param defaultWarmup warm-up of each step when the spec names none; null for none
   */
  public static List<Stages.Stage> parse(String spec, int maxConcurrency, Duration defaultWarmup) {
    String body = spec.trim().substring(PREFIX.length());
    int at = body.lastIndexOf('@');
    if (at < 0) {
      throw bad(spec, "no @HOLD");
    }
    String head = body.substring(0, at).trim();
    String holdPart = body.substring(at + 1).trim();
    int colon = head.lastIndexOf(':');
    if (colon < 0) {
      throw bad(spec, "no :+STEP or :xFACTOR");
    }
    String growth = head.substring(colon + 1).trim();
    String[] parts = head.substring(0, colon).split(":");
    if (parts.length < 2 || !parts[1].contains("..")) {
      throw bad(spec, "the load's level is not a range FROM..TO");
    }
    String[] range = parts[1].split("\\.\\.", -1);
    BigDecimal from = number(spec, "FROM", range[0]);
    BigDecimal to = range.length == 2 ? number(spec, "TO", range[1]) : null;
    if (to == null) {
      throw bad(spec, "range '" + parts[1] + "'");
    }
    if (from.signum() <= 0 || to.compareTo(from) < 0) {
      throw bad(spec, "range " + parts[1] + " (expected: 0 < FROM <= TO)");
    }
    if (parts[0].trim().equals("concurrency") && !isWhole(from)) {
      throw bad(spec, "concurrency " + from.toPlainString() + " (expected: a whole number)");
    }
    parts[1] = from.toPlainString();
    LoadPlan base;
    try {
      base = LoadPlan.parse(String.join(":", parts), maxConcurrency);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--load " + spec + ": " + e.getMessage() + " (" + EXPECTED + ")", e);
    }
    List<Double> levels = levels(spec, base.closedLoop(), from, to, growth);
    List<Stages.Stage> stages = new ArrayList<>(levels.size());
    for (double level : levels) {
      stages.add(Stages.stage(spec, base.at(level), holdPart, defaultWarmup));
    }
    return List.copyOf(stages);
  }

  private static List<Double> levels(String spec, boolean whole, BigDecimal from, BigDecimal to, String growth) {
    Set<Double> levels = new LinkedHashSet<>();
    if (growth.startsWith("+")) {
      BigDecimal step = number(spec, "STEP", growth.substring(1));
      if (step.signum() <= 0) {
        throw bad(spec, "step " + growth + " (expected: > 0)");
      }
      if (whole && !isWhole(step)) {
        throw bad(spec, "concurrency step " + growth + " (expected: a whole number)");
      }
      for (BigDecimal level = from; level.compareTo(to) <= 0; level = level.add(step)) {
        levels.add(level.doubleValue());
        checkCount(spec, levels.size());
      }
    } else if (growth.startsWith("x") || growth.startsWith("X")) {
      double factor = number(spec, "FACTOR", growth.substring(1)).doubleValue();
      if (!(factor > 1)) {
        throw bad(spec, "factor " + growth + " (expected: > 1)");
      }
      double top = to.doubleValue() * (1 + 1e-9);
      for (double level = from.doubleValue(); level <= top; level *= factor) {
        levels.add(whole ? Math.round(level) : new BigDecimal(level).round(new MathContext(6)).doubleValue());
        checkCount(spec, levels.size());
      }
    } else {
      throw bad(spec, "growth '" + growth + "' (expected: +STEP for linear or xFACTOR for exponential)");
    }
    return List.copyOf(levels);
  }

  private static void checkCount(String spec, int count) {
    if (count > MAX_STEPS) {
      throw bad(spec, "more than " + MAX_STEPS + " steps; use a larger STEP or FACTOR");
    }
  }

  private static boolean isWhole(BigDecimal n) {
    return n.stripTrailingZeros().scale() <= 0;
  }

  private static BigDecimal number(String spec, String what, String text) {
    try {
      return new BigDecimal(text.trim());
    } catch (NumberFormatException e) {
      throw bad(spec, what + " '" + text.trim() + "' is not a number");
    }
  }

  private static IllegalArgumentException bad(String spec, String problem) {
    return new IllegalArgumentException("--load " + spec + ": " + problem + " (" + EXPECTED + ")");
  }
}
