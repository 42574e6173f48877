package dev.tokentap.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** Deterministic output and the documented prompt-token rule. */
class OutputPlanTest {

  @Test
  void sameInputsSameOutput() {
    OutputPlan a = of(1, 42L, "prompt", 0, 100, false, 20);
    OutputPlan b = of(1, 42L, "prompt", 0, 100, false, 20);
    assertThat(a.length()).isEqualTo(b.length());
    assertThat(text(a)).isEqualTo(text(b));
  }

  @Test
  void eachInputChangesTheOutput() {
    String base = text(of(1, 42L, "prompt", 0, 50, true, 20));
    assertThat(text(of(2, 42L, "prompt", 0, 50, true, 20))).isNotEqualTo(base);
    assertThat(text(of(1, 43L, "prompt", 0, 50, true, 20))).isNotEqualTo(base);
    assertThat(text(of(1, null, "prompt", 0, 50, true, 20))).isNotEqualTo(base);
    assertThat(text(of(1, 42L, "prompt!", 0, 50, true, 20))).isNotEqualTo(base);
    assertThat(text(of(1, 42L, "prompt", 1, 50, true, 20))).isNotEqualTo(base);
  }

  @Test
  void ignoreEosRunsToMaxTokensWithLength() {
    OutputPlan p = of(0, null, "x", 0, 77, true, 5);
    assertThat(p.length()).isEqualTo(77);
    assertThat(p.finishReason()).isEqualTo("length");
    assertThat(p.tokenText(76)).startsWith(" ").hasSizeGreaterThan(1);
  }

  @Test
  void endOfSequenceIsTheLastTokenWithoutText() {
    OutputPlan p = of(0, null, "x", 0, 10_000, false, 5);
    assertThat(p.finishReason()).isEqualTo("stop");
    assertThat(p.tokenText(p.length() - 1)).isEmpty();
    for (int i = 0; i < p.length() - 1; i++) {
      assertThat(p.tokenText(i)).isNotEmpty();
    }
  }

  @Test
  void lengthsAreGeometricWithTheConfiguredMeanCappedAtMaxTokens() {
    double sum = 0;
    int n = 20_000;
    for (int i = 0; i < n; i++) {
      OutputPlan p = of(0, null, "prompt " + i, 0, 100_000, false, 128);
      assertThat(p.length()).isPositive();
      sum += p.length();
    }
    assertThat(sum / n).isCloseTo(128, Offset.offset(128 * 0.05));
    assertThat(of(0, null, "p", 0, 3, false, 1000).length()).isLessThanOrEqualTo(3);
    assertThat(OutputPlan.geometric(0, 1)).isEqualTo(1);
  }

  @Test
  void promptTokensFollowTheDocumentedRule() {
    assertThat(PromptTokenEstimator.text("")).isEqualTo(1);
    assertThat(PromptTokenEstimator.text("abcd")).isEqualTo(1);
    assertThat(PromptTokenEstimator.text("abcde")).isEqualTo(2);
    assertThat(PromptTokenEstimator.text("😀😀😀😀😀"))
        .isEqualTo(2); // code points, not UTF-16 units
    // two messages: ceil(11/4)=3 and ceil(2/4)=1, plus 4 each, plus 2
    int content =
        PromptTokenEstimator.messageContent("hello world")
            + PromptTokenEstimator.messageContent("hi");
    assertThat(PromptTokenEstimator.chat(2, content)).isEqualTo(3 + 1 + 8 + 2);
  }

  private static String text(OutputPlan p) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < p.length(); i++) {
      sb.append(p.tokenText(i));
    }
    return sb.toString();
  }

  /** A plain-text plan of a divergence-0 emulator. */
  private static OutputPlan of(long seed, Long requestSeed, String prompt, int choice, int maxTokens, boolean ignoreEos, double mean) {
    return OutputPlan.of(seed, requestSeed, prompt, choice, maxTokens, ignoreEos, mean, 0, OutputFormat.TEXT);
  }
}
