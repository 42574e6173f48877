package dev.tokentap.bench;

import java.util.Random;

/**
 * A token-length distribution for synthetic requests, written {@code 128} (fixed), {@code
 * uniform:64:256} (inclusive bounds), {@code normal:128:32} (mean, standard deviation; rounded and
 * clamped to at least 1), or a weighted histogram, {@code empirical:128=5:512=3:1024-2048=2} inline
 * or {@code hist:PATH} from a CSV file ({@link EmpiricalLength}).
 */
public sealed interface LengthDistribution
    permits LengthDistribution.Fixed, LengthDistribution.Uniform, LengthDistribution.Normal, EmpiricalLength {
  String EXPECTED = "expected: N, fixed:N, uniform:MIN:MAX, normal:MEAN:SD, empirical:LEN=WEIGHT:… or hist:PATH";

  int sample(Random random);

  /** The smallest length {@link #sample} can return. */
  int min();

  /** Parses the forms above; the message names the spec and what is expected. */
  static LengthDistribution parse(String spec) {
    String trimmed = spec.trim();
    if (trimmed.startsWith("hist:")) {
      // Everything after the first colon is the path, which may hold colons of its own.
      String path = trimmed.substring("hist:".length()).trim();
      if (path.isEmpty()) {
        throw new IllegalArgumentException("length " + spec + " (expected: hist:PATH)");
      }
      return EmpiricalLength.file(spec, path);
    }
    String[] p = trimmed.split(":");
    try {
      switch (p[0]) {
        case "empirical" -> {
          return EmpiricalLength.inline(spec, p);
        }
        case "uniform" -> {
          expectParts(spec, p, 3);
          int lo = positive(spec, p[1]);
          int hi = positive(spec, p[2]);
          if (hi < lo) {
            throw new IllegalArgumentException("length " + spec + " (expected: uniform:MIN:MAX with MIN <= MAX)");
          }
          return new Uniform(lo, hi);
        }
        case "normal" -> {
          expectParts(spec, p, 3);
          double mean = Double.parseDouble(p[1]);
          double sd = Double.parseDouble(p[2]);
          if (!(mean >= 1) || !(sd >= 0)) {
            throw new IllegalArgumentException("length " + spec + " (expected: normal:MEAN:SD with MEAN >= 1, SD >= 0)");
          }
          return new Normal(mean, sd);
        }
        case "fixed" -> {
          expectParts(spec, p, 2);
          return new Fixed(positive(spec, p[1]));
        }
        default -> {
          expectParts(spec, p, 1);
          return new Fixed(positive(spec, p[0]));
        }
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("length " + spec + " (" + EXPECTED + ")");
    }
  }

  private static void expectParts(String spec, String[] p, int n) {
    if (p.length != n) {
      throw new IllegalArgumentException("length " + spec + " (" + EXPECTED + ")");
    }
  }

  private static int positive(String spec, String s) {
    int n = Integer.parseInt(s.trim());
    if (n < 1) {
      throw new IllegalArgumentException("length " + spec + " (expected: token counts >= 1)");
    }
    return n;
  }

  record Fixed(int tokens) implements LengthDistribution {
    @Override
    public int sample(Random random) {
      return tokens;
    }

    @Override
    public int min() {
      return tokens;
    }
  }

  record Uniform(int min, int max) implements LengthDistribution {
    @Override
    public int sample(Random random) {
      return min + random.nextInt(max - min + 1);
    }
  }

  record Normal(double mean, double sd) implements LengthDistribution {
    @Override
    public int sample(Random random) {
      return (int) Math.max(1, Math.round(mean + sd * random.nextGaussian()));
    }

    @Override
    public int min() {
      return 1;
    }
  }
}
