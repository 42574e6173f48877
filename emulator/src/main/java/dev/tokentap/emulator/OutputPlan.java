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
 *
 * <p>A request that offers tools gets a call to one of them, its arguments a JSON object streamed
 * token by token (finish reason {@code tool_calls}); one that asks for JSON gets a JSON object
 * ({@link OutputFormat}). Both have about the geometric length, and are cut short at {@code
 * max_tokens} (finish reason {@code length}), as a real model's would be.
 */
final class OutputPlan {

  private static final long NO_REQUEST_SEED = 0x5EED5EED5EED5EEDL;
  private static final long DIVERGE_SALT = 0xD1FFL;
  private static final long KIND_SALT = 0x4B1DL;
  private static final long WORDS_SALT = 0x3053L;
  private static final long LENGTH_SALT = 0x1E46L;
  private static final long TOOL_SALT = 0x7001L;

  /** How a diverging output differs from the one a divergence-0 emulator gives. */
  enum Divergence {
    NONE,
    WORDS,
    LENGTH,
    REFUSAL,
    /** Another function (another argument key set when the request offers only one). */
    TOOL,
    /** A JSON answer without its closing. */
    BROKEN_JSON
  }

  static final List<String> REFUSAL = List.of("I", " cannot", " help", " with", " that", ".");

  private final long base;
  private final int length;
  private final boolean endsWithEos;
  private final List<String> tokens; // null: vocabulary words drawn from base
  private final String toolName;
  private final String finishReason;
  private final Divergence divergence;

  private OutputPlan(long base, int length, boolean endsWithEos, List<String> tokens, String toolName, String finishReason,
      Divergence divergence) {
    this.base = base;
    this.length = length;
    this.endsWithEos = endsWithEos;
    this.tokens = tokens;
    this.toolName = toolName;
    this.finishReason = finishReason;
    this.divergence = divergence;
  }

  /**
   * The plan of one choice. With {@code divergence} d, the outputs whose seeded draw falls below d
   * differ from the divergence-0 plan in one way, picked by a second draw among those the request
   * allows; the draws depend only on what the output does, so two emulators with the same seed
   * differ on a share d' - d of requests when their divergences are d &lt; d'.
   */
  static OutputPlan of(
      long configuredSeed,
      Long requestSeed,
      String promptText,
      int choice,
      int maxTokens,
      boolean ignoreEos,
      double meanOutputTokens,
      double divergence,
      OutputFormat format) {
    long base =
        mix(
            mix(configuredSeed)
                ^ mix(requestSeed == null ? NO_REQUEST_SEED : requestSeed ^ 0x9E37L)
                ^ fnv1a(promptText)
                ^ mix(choice + 1L));
    Divergence kind = divergence > 0 && unit(mix(base ^ DIVERGE_SALT)) < divergence ? kind(mix(base ^ KIND_SALT), format) : Divergence.NONE;
    int eosLength = ignoreEos ? Integer.MAX_VALUE : geometric(mix(base ^ 0xE05L), meanOutputTokens);
    if (kind == Divergence.WORDS && eosLength == 1 && !format.callsTool() && !format.json()) {
      kind = Divergence.LENGTH; // nothing but the end-of-sequence token: no words to change
    }
    if (kind == Divergence.LENGTH && !ignoreEos) {
      eosLength = otherLength(eosLength, geometric(mix(mix(base ^ LENGTH_SALT) ^ 0xE05L), meanOutputTokens), maxTokens);
    }
    long words = kind == Divergence.WORDS ? mix(base ^ WORDS_SALT) : base;
    if (kind == Divergence.REFUSAL) {
      List<String> refusal = new ArrayList<>(REFUSAL);
      refusal.add("");
      return structured(words, refusal, null, maxTokens, "stop", kind);
    }
    if (format.callsTool()) {
      List<OutputFormat.Tool> tools = format.tools();
      int index = (int) Long.remainderUnsigned(mix(base ^ TOOL_SALT), tools.size());
      OutputFormat.Tool tool = tools.get(index);
      if (kind == Divergence.TOOL) {
        tool = tools.size() > 1 ? tools.get((index + 1) % tools.size()) : otherKeys(tool);
      }
      return structured(words, jsonObject(words, tool.keys(), eosLength, maxTokens), tool.name(), maxTokens, "tool_calls", kind);
    }
    if (format.json()) {
      List<String> object = jsonObject(words, format.jsonKeys(), eosLength, maxTokens);
      if (kind == Divergence.BROKEN_JSON) {
        object.remove(object.size() - 2); // the closing before the end-of-sequence token
      }
      return structured(words, object, null, maxTokens, "stop", kind);
    }
    return eosLength <= maxTokens
        ? new OutputPlan(words, eosLength, true, null, null, "stop", kind)
        : new OutputPlan(words, maxTokens, false, null, null, "length", kind);
  }

  /** A second draw, moved by one where {@code max_tokens} would make both lengths the same. */
  private static int otherLength(int first, int second, int maxTokens) {
    int shown = Math.min(first, maxTokens);
    if (Math.min(second, maxTokens) != shown) {
      return second;
    }
    return shown > 1 ? shown - 1 : 2;
  }

  private static Divergence kind(long bits, OutputFormat format) {
    List<Divergence> kinds = new ArrayList<>(List.of(Divergence.WORDS, Divergence.LENGTH, Divergence.REFUSAL));
    if (format.callsTool()) {
      kinds.add(Divergence.TOOL);
    } else if (format.json()) {
      kinds.add(Divergence.BROKEN_JSON);
    }
    return kinds.get((int) Long.remainderUnsigned(bits, kinds.size()));
  }

  /** The same function with other argument keys: one fewer, or {@code value} instead of its only one. */
  private static OutputFormat.Tool otherKeys(OutputFormat.Tool tool) {
    List<String> keys = tool.keys().size() > 1 ? tool.keys().subList(0, tool.keys().size() - 1) : List.of(tool.keys().get(0) + "_value");
    return new OutputFormat.Tool(tool.name(), keys);
  }

  /**
   * Tokens of a JSON object with {@code keys}, values of vocabulary words, about {@code eosLength}
   * tokens in all: one token opens each key, the words follow, then the closing and the
   * end-of-sequence token. Never fewer than one word per key.
   */
  private static List<String> jsonObject(long words, List<String> keys, int eosLength, int maxTokens) {
    int budget = (int) Math.min(eosLength, maxTokens + 2L);
    int perKey = Math.max(1, (budget - 2 - keys.size()) / keys.size());
    List<String> tokens = new ArrayList<>();
    int w = 0;
    for (int k = 0; k < keys.size(); k++) {
      tokens.add((k == 0 ? "{" : "\",") + OpenAiJson.quote(keys.get(k)) + ":\"");
      for (int i = 0; i < perKey; i++) {
        tokens.add(word(words, w++));
      }
    }
    tokens.add("\"}");
    tokens.add("");
    return tokens;
  }

  /** Fixed tokens ending in the end-of-sequence token, cut to {@code maxTokens} (finish {@code length}). */
  private static OutputPlan structured(long base, List<String> tokens, String toolName, int maxTokens, String finish,
      Divergence kind) {
    if (tokens.size() > maxTokens) {
      return new OutputPlan(base, maxTokens, false, List.copyOf(tokens.subList(0, maxTokens)), toolName, "length", kind);
    }
    return new OutputPlan(base, tokens.size(), true, List.copyOf(tokens), toolName, finish, kind);
  }

  /** Output tokens of this choice, the end-of-sequence token included. */
  int length() {
    return length;
  }

  String finishReason() {
    return finishReason;
  }

  /** The function this choice calls (its text is the arguments), or null for a text answer. */
  String toolName() {
    return toolName;
  }

  Divergence divergence() {
    return divergence;
  }

  /** Text of token {@code i} (0-based): a vocabulary word, or "" for the end-of-sequence token. */
  String tokenText(int i) {
    if (tokens != null) {
      return tokens.get(i);
    }
    if (endsWithEos && i == length - 1) {
      return "";
    }
    return word(base, i);
  }

  private static String word(long base, int i) {
    long h = mix(base + (i + 1) * 0x9E3779B97F4A7C15L);
    return VOCABULARY.get((int) Long.remainderUnsigned(h, VOCABULARY.size()));
  }

  /** Uniform in [0, 1) from 64 random bits. */
  static double unit(long randomBits) {
    return (randomBits >>> 11) * 0x1.0p-53;
  }

  /** Geometric on {1, 2, ...} with the given mean, by inversion of one uniform draw. */
  static int geometric(long randomBits, double mean) {
    if (mean <= 1) {
      return 1;
    }
    double u = unit(randomBits);
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
