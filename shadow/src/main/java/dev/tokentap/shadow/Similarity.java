package dev.tokentap.shadow;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The text similarity of a compared pair: ROUGE-L F1 over words (Lin 2004, "ROUGE: A Package for
 * Automatic Evaluation of Summaries", §3.1 with β = 1).
 *
 * <p>Words are the maximal runs of letters and digits, lower-cased; punctuation and spacing do not
 * count. Only the first {@code max-tokens} words of each side are read. With L the length of the
 * longest common subsequence of the two word lists a and b, the score is {@code 2L / (|a| + |b|)}:
 * 1 for the same words in the same order, 0 when no word is shared, and in between it rewards
 * shared words in the same order, wherever they stand. Two empty answers score 1, one empty answer
 * 0.
 */
final class Similarity {
  private Similarity() {}

  /** The first {@code maxWords} words of {@code text}. */
  static List<String> words(CharSequence text, int maxWords) {
    List<String> words = new ArrayList<>();
    int start = -1;
    for (int i = 0; i <= text.length() && words.size() < maxWords; i++) {
      boolean inWord = i < text.length() && Character.isLetterOrDigit(text.charAt(i));
      if (inWord && start < 0) {
        start = i;
      } else if (!inWord && start >= 0) {
        words.add(text.subSequence(start, i).toString().toLowerCase(Locale.ROOT));
        start = -1;
      }
    }
    return words;
  }

  /** ROUGE-L F1 of two word lists, in [0, 1]. */
  static double rougeL(List<String> a, List<String> b) {
    if (a.isEmpty() && b.isEmpty()) {
      return 1;
    }
    if (a.isEmpty() || b.isEmpty()) {
      return 0;
    }
    return 2.0 * longestCommonSubsequence(a, b) / (a.size() + b.size());
  }

  /** Dynamic programming in two rows: O(|a|·|b|) time, O(|b|) memory. */
  static int longestCommonSubsequence(List<String> a, List<String> b) {
    int[] previous = new int[b.size() + 1];
    int[] current = new int[b.size() + 1];
    for (String wordA : a) {
      for (int j = 1; j <= b.size(); j++) {
        current[j] = wordA.equals(b.get(j - 1)) ? previous[j - 1] + 1 : Math.max(previous[j], current[j - 1]);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.size()];
  }
}
