package dev.tokentap.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** The baseline rule: a difference exceeds the noise when |z| > 3, judged from 10 pairs a side. */
class PairStatsTest {

  @Test
  void twoProportionZ() {
    // 80 of 100 against 95 of 100: pooled 0.875, se = sqrt(0.875·0.125·0.02) = 0.04677, z = -3.207
    ObjectNode n = judge(0.80, 0.95, Math.sqrt(0.875 * 0.125 * 0.02), 100, 100);
    assertThat(n.get("z").asDouble()).isCloseTo(-3.207, within(1e-3));
    assertThat(n.get("exceeds_noise").asBoolean()).isTrue();
    assertThat(n.get("difference").asDouble()).isCloseTo(-0.15, within(1e-9));
    // 90 of 100 against 95 of 100: z = -1.37, within the noise
    assertThat(judge(0.90, 0.95, Math.sqrt(0.925 * 0.075 * 0.02), 100, 100).get("exceeds_noise").asBoolean()).isFalse();
  }

  @Test
  void tooFewPairsAreNotJudged() {
    ObjectNode n = judge(0.0, 1.0, 0.1, 9, 100);
    assertThat(n.get("exceeds_noise").isNull()).isTrue();
    assertThat(n.get("difference").asDouble()).isEqualTo(-1.0);
  }

  @Test
  void aDifferenceWithoutSpreadExceedsIt() {
    assertThat(judge(0.5, 1.0, 0, 50, 50).get("exceeds_noise").asBoolean()).isTrue();
    assertThat(judge(1.0, 1.0, 0, 50, 50).get("exceeds_noise").asBoolean()).isFalse();
  }

  private static ObjectNode judge(double candidate, double baseline, double se, long nc, long nb) {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    PairStats.judge(n, candidate, baseline, se, nc, nb);
    return n;
  }
}
