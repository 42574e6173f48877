package dev.tokentap.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The similarity's definition (docs/shadow.md): ROUGE-L F1 over lower-cased words, first K words. */
class SimilarityTest {

  @Test
  void wordsAreRunsOfLettersAndDigitsLowerCased() {
    assertThat(Similarity.words("The model, runs; 42 times!", 10)).containsExactly("the", "model", "runs", "42", "times");
    assertThat(Similarity.words("  ", 10)).isEmpty();
    assertThat(Similarity.words("a b c d", 2)).containsExactly("a", "b");
  }

  @Test
  void identicalIsOneDisjointIsZero() {
    assertThat(score("the cat sat", "The cat sat.")).isEqualTo(1.0);
    assertThat(score("the cat sat", "a dog ran")).isEqualTo(0.0);
    assertThat(score("", "")).isEqualTo(1.0);
    assertThat(score("", "something")).isEqualTo(0.0);
  }

  @Test
  void f1OfTheLongestCommonSubsequence() {
    // LCS of (a b c d e) and (a x c e) is (a c e): 2·3 / (5 + 4)
    assertThat(score("a b c d e", "a x c e")).isCloseTo(6.0 / 9, within(1e-12));
    // order matters: (a b c) against (c b a) shares one word in order
    assertThat(score("a b c", "c b a")).isCloseTo(2.0 / 6, within(1e-12));
    // a prefix: 2·3 / (3 + 6)
    assertThat(score("one two three", "one two three four five six")).isCloseTo(6.0 / 9, within(1e-12));
    assertThat(Similarity.longestCommonSubsequence(List.of("a", "b", "a"), List.of("b", "a", "b", "a"))).isEqualTo(3);
  }

  @Test
  void symmetric() {
    assertThat(score("x y z w", "y w q")).isEqualTo(score("y w q", "x y z w"));
  }

  private static double score(String a, String b) {
    return Similarity.rougeL(Similarity.words(a, 100), Similarity.words(b, 100));
  }
}
