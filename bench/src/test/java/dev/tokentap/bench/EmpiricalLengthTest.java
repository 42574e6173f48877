package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Histogram lengths: frequencies follow the weights, ranges are uniform, files and bad specs. */
class EmpiricalLengthTest {
  private static final int SAMPLES = 100_000;

  /** Samples the way SyntheticWorkload does: a fresh generator per request index. */
  private static int[] counts(LengthDistribution d, int maxLength) {
    int[] counts = new int[maxLength + 1];
    for (int i = 0; i < SAMPLES; i++) {
      counts[d.sample(SyntheticWorkload.requestRandom(7, i))]++;
    }
    return counts;
  }

  /**
   * A binomial count of {@code SAMPLES} draws at probability p has standard deviation
   * sqrt(p(1 − p)/n) as a frequency; 5 of them is a bound the sampler misses by chance less than
   * once in a million per check (and the draws are seeded, so a pass is repeatable anyway).
   */
  private static void assertFrequency(int count, double p) {
    double sd = Math.sqrt(p * (1 - p) / SAMPLES);
    assertThat((double) count / SAMPLES).as("frequency, expected %s ± %s", p, 5 * sd).isBetween(p - 5 * sd, p + 5 * sd);
  }

  @Test
  void pointFrequenciesFollowTheWeights() {
    LengthDistribution d = LengthDistribution.parse("empirical:128=0.5:512=0.3:2048=0.2");
    int[] counts = counts(d, 2048);
    assertFrequency(counts[128], 0.5);
    assertFrequency(counts[512], 0.3);
    assertFrequency(counts[2048], 0.2);
    assertThat(counts[128] + counts[512] + counts[2048]).isEqualTo(SAMPLES);
    assertThat(d.min()).isEqualTo(128);
  }

  @Test
  void weightsAreRelativeAndZeroWeightsAreNeverDrawn() {
    // Percentages, counts or fractions: only the ratios matter.
    LengthDistribution d = LengthDistribution.parse("empirical:10=70:20=0:30=20:40=10");
    int[] counts = counts(d, 40);
    assertFrequency(counts[10], 0.7);
    assertThat(counts[20]).isZero();
    assertFrequency(counts[30], 0.2);
    assertFrequency(counts[40], 0.1);
    assertThat(LengthDistribution.parse("empirical:5=0:9=1").min()).isEqualTo(9);
  }

  @Test
  void aRangeIsInclusiveAndSampledUniformly() {
    // [100, 109] with 3/4 of the weight: each of its 10 values gets 0.075; 7 gets the rest.
    LengthDistribution d = LengthDistribution.parse("empirical:100-109=3:7=1");
    int[] counts = counts(d, 109);
    assertFrequency(counts[7], 0.25);
    for (int v = 100; v <= 109; v++) {
      assertFrequency(counts[v], 0.075);
    }
    assertThat(counts[99]).isZero();
    assertThat(d.min()).isEqualTo(7);
  }

  @Test
  void aCsvFileGivesTheSameDistributionAsTheInlineForm(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("lengths.csv");
    Files.writeString(f, """
        length,weight
        # prompt lengths from last week's capture
        7,1

        100,109,3
        """);
    LengthDistribution file = LengthDistribution.parse("hist:" + f);
    LengthDistribution inline = LengthDistribution.parse("empirical:7=1:100-109=3");
    for (int i = 0; i < 1000; i++) {
      assertThat(file.sample(new Random(i))).isEqualTo(inline.sample(new Random(i)));
    }
    assertThat(file.toString()).isEqualTo("hist:" + f);
  }

  @Test
  void badInlineSpecs() {
    assertThatThrownBy(() -> LengthDistribution.parse("empirical")).hasMessageContaining("length empirical (expected: empirical:LEN=WEIGHT");
    assertThatThrownBy(() -> LengthDistribution.parse("empirical:128")).hasMessageContaining("entry '128' has no weight");
    assertThatThrownBy(() -> LengthDistribution.parse("empirical:abc=1")).hasMessageContaining("'abc' is not a length");
    assertThatThrownBy(() -> LengthDistribution.parse("empirical:0=1")).hasMessageContaining("'0' (expected: N >= 1 or LO-HI with 1 <= LO <= HI)");
    assertThatThrownBy(() -> LengthDistribution.parse("empirical:20-10=1")).hasMessageContaining("'20-10'");
    assertThatThrownBy(() -> LengthDistribution.parse("empirical:10=-1")).hasMessageContaining("weight '-1' (expected: a finite number >= 0)");
    assertThatThrownBy(() -> LengthDistribution.parse("empirical:10=x")).hasMessageContaining("weight 'x' is not a number");
    assertThatThrownBy(() -> LengthDistribution.parse("empirical:10=NaN")).hasMessageContaining("weight 'NaN'");
    assertThatThrownBy(() -> LengthDistribution.parse("empirical:10=0:20=0")).hasMessageContaining("every weight is 0");
  }

  @Test
  void badFiles(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> LengthDistribution.parse("hist:")).hasMessageContaining("expected: hist:PATH");
    assertThatThrownBy(() -> LengthDistribution.parse("hist:" + dir.resolve("missing.csv"))).hasMessageContaining("cannot read");
    Path f = dir.resolve("h.csv");
    Files.writeString(f, "length,weight\n10,1\n20;2\n");
    assertThatThrownBy(() -> LengthDistribution.parse("hist:" + f)).hasMessageContaining("h.csv line 3: '20;2'");
    Files.writeString(f, "10,1,2,3\n");
    assertThatThrownBy(() -> LengthDistribution.parse("hist:" + f)).hasMessageContaining("line 1: '10,1,2,3'");
    Files.writeString(f, "10,1\n5,6,x\n");
    assertThatThrownBy(() -> LengthDistribution.parse("hist:" + f)).hasMessageContaining("line 2: weight 'x'");
    Files.writeString(f, "# nothing yet\nlength,weight\n");
    assertThatThrownBy(() -> LengthDistribution.parse("hist:" + f)).hasMessageContaining("no rows");
  }
}
