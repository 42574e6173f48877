package dev.tokentap.emulator;

import java.util.ArrayList;
import java.util.List;

/**
 * The output of one choice, fixed when the request arrives: how many tokens, why it ends, and the
 * text of each token. A pure function of (configured seed, request {@code seed} or its absence,
 * prompt text, choice index), so a request repeated against any emulator with the same seed streams
 * the same words.
 *
 * <p>Length: {@code max_tokens} when {@code ignore_eos}; otherwise {@code min(max_tokens, L)} with
 * {@code L >= 1} geometric of mean {@code meanOutputTokens}. When {@code L} wins, the last token is
 * the end-of-sequence token: counted in usage, finish reason {@code stop}, empty text, as vLLM
 * sends it. Token {@code i}'s text is a word from a fixed vocabulary, with a leading space.
 */
final class OutputPlan {

  private static final long NO_REQUEST_SEED = 0x5EED5EED5EED5EEDL;

  private final long base;
  private final int length;
  private final boolean endsWithEos;

  private OutputPlan(long base, int length, boolean endsWithEos) {
    this.base = base;
    this.length = length;
    this.endsWithEos = endsWithEos;
  }

  static OutputPlan of(
      long configuredSeed,
      Long requestSeed,
      String promptText,
      int choice,
      int maxTokens,
      boolean ignoreEos,
      double meanOutputTokens) {
    long base =
        mix(
            mix(configuredSeed)
                ^ mix(requestSeed == null ? NO_REQUEST_SEED : requestSeed ^ 0x9E37L)
                ^ fnv1a(promptText)
                ^ mix(choice + 1L));
    if (ignoreEos) {
      return new OutputPlan(base, maxTokens, false);
    }
    int eosLength = geometric(mix(base ^ 0xE05L), meanOutputTokens);
    return eosLength <= maxTokens
        ? new OutputPlan(base, eosLength, true)
        : new OutputPlan(base, maxTokens, false);
  }

  /** Output tokens of this choice, the end-of-sequence token included. */
  int length() {
    return length;
  }

  String finishReason() {
    return endsWithEos ? "stop" : "length";
  }

  /** Text of token {@code i} (0-based): a vocabulary word, or "" for the end-of-sequence token. */
  String tokenText(int i) {
    if (endsWithEos && i == length - 1) {
      return "";
    }
    long h = mix(base + (i + 1) * 0x9E3779B97F4A7C15L);
    return VOCABULARY.get((int) Long.remainderUnsigned(h, VOCABULARY.size()));
  }

  /** Geometric on {1, 2, ...} with the given mean, by inversion of one uniform draw. */
  static int geometric(long randomBits, double mean) {
    if (mean <= 1) {
      return 1;
    }
    double u = (randomBits >>> 11) * 0x1.0p-53; // uniform in [0, 1)
    double l = 1 + Math.floor(Math.log1p(-u) / Math.log1p(-1 / mean));
    return l >= Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) l;
  }

  /** SplitMix64's finaliser: a good 64-bit mixer. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** 64-bit FNV-1a over the UTF-16 code units. */
  static long fnv1a(String s) {
    long h = 0xCBF29CE484222325L;
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= 0x100000001B3L;
    }
    return h;
  }

  // Plain ASCII words: nothing to escape in JSON, one token each by any tokenizer's count.
  private static final String WORDS =
      """
      the model token of and to a in is that for it as with on be at by this an are from or
      can which each one all more when than its into time first new only some so also after
      two over most any how about where then these well between request response stream server
      client batch step cache memory latency throughput queue sequence prompt output input
      engine kernel layer attention weight vector matrix signal metric value result answer
      question system network data rate load path point number order state event error limit
      budget window context length size width depth level range scale shape form field record
      table graph node edge link route proxy meter clock timer harbor sample trace span log
      file line block page word text story idea plan goal task job work test case rule note
      fact reason cause effect change growth fast slow small large long short high low early
      late simple clear exact steady quiet busy ready open close full empty warm cold bright
      dark light heavy runs waits moves reads writes sends holds keeps gives takes makes finds
      shows tells knows needs grows falls rises turns starts stops ends counts measures
      compares river mountain forest ocean garden city road bridge house valley door desk
      chair lamp book letter map morning evening night day week year season summer winter
      spring autumn rain snow wind cloud sun moon star stone tree leaf flower bird fish horse
      cat dog friend teacher student worker builder reader writer because while although
      therefore however perhaps
      """;

  /** Each word with its leading space, and two punctuation tokens without one. */
  static final List<String> VOCABULARY = vocabulary();

  private static List<String> vocabulary() {
    List<String> v = new ArrayList<>();
    for (String word : WORDS.strip().split("\\s+")) {
      v.add(" " + word);
    }
    v.add(".");
    v.add(",");
    return List.copyOf(v);
  }
}
