package dev.tokentap.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A length drawn from a weighted histogram: each entry is a value, or an inclusive range
 * {@code [LO, HI]} sampled uniformly (like {@code uniform:MIN:MAX}), chosen with probability
 * weight / total weight. Weights need not sum to 1 (AIPerf's {@code --sequence-distribution} takes
 * percentages; a histogram's counts work as they are).
 *
 * <p>Inline: {@code empirical:128=5:512=3:1024-2048=2} (colons, so the spec fits inside {@code
 * synthetic:input=…,output=…}). File: {@code hist:PATH}, CSV rows {@code LEN,WEIGHT} or {@code
 * LO,HI,WEIGHT}; blank lines and {@code #} comments are skipped, and so is a first row whose
 * first cell is not a number (a header such as {@code length,weight}).
 *
 * <p>Sampling takes one {@code nextDouble} (and one {@code nextInt} for a range) from the caller's
 * generator, so a request's length is a function of the generator's seed only.
 */
public final class EmpiricalLength implements LengthDistribution {
  static final String EXPECTED = "expected: empirical:LEN=WEIGHT[:LEN=WEIGHT…] with LEN = N or LO-HI,"
      + " or hist:PATH with CSV rows LEN,WEIGHT or LO,HI,WEIGHT; lengths >= 1, weights >= 0, some weight > 0";

  private final String spec;
  private final int[] lo;
  private final int[] hi;
  /** Running sum of the weights: entry k is picked when {@code u × total} falls in [cum[k−1], cum[k]). */
  private final double[] cumulative;

  private EmpiricalLength(String spec, List<int[]> ranges, List<Double> weights) {
    this.spec = spec;
    // Entries of weight 0 are dropped: they can never be drawn, and would otherwise count in min().
    List<Integer> kept = new ArrayList<>();
    for (int k = 0; k < weights.size(); k++) {
      if (weights.get(k) > 0) {
        kept.add(k);
      }
    }
    if (kept.isEmpty()) {
      throw new IllegalArgumentException("length " + spec + ": every weight is 0 (" + EXPECTED + ")");
    }
    lo = new int[kept.size()];
    hi = new int[kept.size()];
    cumulative = new double[kept.size()];
    double sum = 0;
    for (int j = 0; j < kept.size(); j++) {
      int k = kept.get(j);
      lo[j] = ranges.get(k)[0];
      hi[j] = ranges.get(k)[1];
      sum += weights.get(k);
      cumulative[j] = sum;
    }
  }

  /** {@code empirical:LEN=WEIGHT:…}; {@code spec} is the whole spec, for messages. */
  static EmpiricalLength inline(String spec, String[] parts) {
    if (parts.length < 2) {
      throw new IllegalArgumentException("length " + spec + " (" + EXPECTED + ")");
    }
    List<int[]> ranges = new ArrayList<>();
    List<Double> weights = new ArrayList<>();
    for (int i = 1; i < parts.length; i++) {
      int eq = parts[i].indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException("length " + spec + ": entry '" + parts[i] + "' has no weight (" + EXPECTED + ")");
      }
      ranges.add(range(spec, parts[i].substring(0, eq)));
      weights.add(weight(spec, parts[i].substring(eq + 1)));
    }
    return new EmpiricalLength(spec, ranges, weights);
  }

  /** {@code hist:PATH}: a CSV file as described above; errors name the file and the line. */
  static EmpiricalLength file(String spec, String path) {
    Path file = Path.of(path);
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("length " + spec + ": cannot read " + file + " (" + e.getMessage() + ")");
    }
    List<int[]> ranges = new ArrayList<>();
    List<Double> weights = new ArrayList<>();
    boolean first = true;
    for (int n = 1; n <= lines.size(); n++) {
      String line = lines.get(n - 1).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] cells = line.split(",", -1);
      if (first && !cells[0].isBlank() && !Character.isDigit(cells[0].strip().charAt(0))) {
        first = false;
        continue; // header
      }
      first = false;
      String where = spec + " line " + n;
      switch (cells.length) {
        case 2 -> ranges.add(range(where, cells[0]));
        case 3 -> ranges.add(range(where, cells[0] + "-" + cells[1]));
        default -> throw new IllegalArgumentException("length " + where + ": '" + line + "' (" + EXPECTED + ")");
      }
      weights.add(weight(where, cells[cells.length - 1]));
    }
    if (weights.isEmpty()) {
      throw new IllegalArgumentException("length " + spec + ": no rows (" + EXPECTED + ")");
    }
    return new EmpiricalLength(spec, ranges, weights);
  }

  /** {@code N} or {@code LO-HI}, as {lo, hi}. */
  private static int[] range(String where, String text) {
    String s = text.strip();
    int dash = s.indexOf('-', 1);
    try {
      int a = Integer.parseInt((dash < 0 ? s : s.substring(0, dash)).strip());
      int b = dash < 0 ? a : Integer.parseInt(s.substring(dash + 1).strip());
      if (a < 1 || b < a) {
        throw new IllegalArgumentException("length " + where + ": '" + s + "' (expected: N >= 1 or LO-HI with 1 <= LO <= HI)");
      }
      return new int[] {a, b};
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("length " + where + ": '" + s + "' is not a length (" + EXPECTED + ")");
    }
  }

  private static double weight(String where, String text) {
    try {
      double w = Double.parseDouble(text.strip());
      if (!(w >= 0) || Double.isInfinite(w)) {
        throw new IllegalArgumentException("length " + where + ": weight '" + text.strip() + "' (expected: a finite number >= 0)");
      }
      return w;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("length " + where + ": weight '" + text.strip() + "' is not a number (" + EXPECTED + ")");
    }
  }

  @Override
  public int sample(Random random) {
    double u = random.nextDouble() * cumulative[cumulative.length - 1];
    int k = Arrays.binarySearch(cumulative, u);
    // An exact hit on a boundary belongs to the next entry; a miss gives the insertion point.
    k = k >= 0 ? k + 1 : -k - 1;
    k = Math.min(k, cumulative.length - 1);
    return lo[k] == hi[k] ? lo[k] : lo[k] + random.nextInt(hi[k] - lo[k] + 1);
  }

  @Override
  public int min() {
    return Arrays.stream(lo).min().orElseThrow();
  }

  /** Probability of entry {@code k} in the order given (weight-0 entries left out). */
  double probability(int k) {
    double total = cumulative[cumulative.length - 1];
    return (cumulative[k] - (k == 0 ? 0 : cumulative[k - 1])) / total;
  }

  int entries() {
    return cumulative.length;
  }

  @Override
  public String toString() {
    return spec;
  }
}
