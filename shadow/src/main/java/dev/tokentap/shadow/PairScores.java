package dev.tokentap.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The comparison of one pair, production's output and a copy's, once both ended (docs/shadow.md,
 * "Comparing models"). A pair is compared only when both sides ended well and were read; otherwise
 * its {@link #result} says why not and nothing else counts.
 *
 * @param result compared, production_error, shadow_error, both_error, unread or not_sent
 * @param deterministic the request asked for temperature 0 or gave a seed: only then can the two
 *     answers be expected to be the same
 * @param exactMatch same text, same tool calls and same output tokens (deterministic pairs only)
 * @param similarity ROUGE-L F1 over the first max-tokens words ({@link Similarity})
 * @param outputRatio output tokens of the copy over production's; NaN unless both are known and
 *     production's is above 0
 * @param finishReasonAgrees the same finish reason, as metered (both unknown agree)
 * @param toolCallsAgree null when neither side called a tool; else the same function names in the
 *     same order, every arguments text a JSON object, and the same keys call by call
 * @param jsonAsked the request asked for JSON output ({@code response_format} json_object or
 *     json_schema; Ollama's {@code format})
 */
record PairScores(
    String result,
    boolean deterministic,
    boolean exactMatch,
    double similarity,
    double outputRatio,
    boolean finishReasonAgrees,
    Boolean toolCallsAgree,
    boolean jsonAsked,
    Side production,
    Side shadow) {

  static final String COMPARED = "compared";
  static final List<String> RESULTS = List.of(COMPARED, "production_error", "shadow_error", "both_error", "unread", "not_sent", "dropped");

  /** Phrases that open a refusal, matched at the start of an answer's first sentence, case-insensitive. */
  private static final List<String> REFUSALS =
      List.of("i cannot", "i can't", "i can\u2019t", "i won't", "i will not", "i'm sorry", "i am sorry", "i'm unable", "i am unable",
          "sorry, i", "i apologize", "as an ai");

  /**
   * What one side's output was.
   *
   * @param refusal the text opens with a refusal phrase, or the finish reason is content_filter
   * @param empty neither words nor a tool call
   * @param jsonValid the text is a JSON value (meaningful only when JSON was asked for and the text
   *     was kept whole)
   */
  record Side(boolean refusal, boolean empty, boolean jsonValid, boolean toolCall) {}

  /** A pair that was not compared, for the reason {@code result}. */
  static PairScores notCompared(String result) {
    Side none = new Side(false, false, false, false);
    return new PairScores(result, false, false, Double.NaN, Double.NaN, false, null, false, none, none);
  }

  static PairScores of(SideOutput production, SideOutput shadow, boolean deterministic, boolean jsonAsked, int maxTokens) {
    if (production.errored() || shadow.errored()) {
      return notCompared(production.errored() && shadow.errored() ? "both_error" : production.errored() ? "production_error" : "shadow_error");
    }
    if (production.unread() || shadow.unread()) {
      return notCompared("unread");
    }
    List<String> a = Similarity.words(production.text(), maxTokens);
    List<String> b = Similarity.words(shadow.text(), maxTokens);
    boolean exact = deterministic && production.text().equals(shadow.text()) && production.outputTokens() == shadow.outputTokens()
        && sameCalls(production.toolCalls(), shadow.toolCalls());
    long tokensA = production.outputTokens();
    long tokensB = shadow.outputTokens();
    double ratio = tokensA > 0 && tokensB >= 0 ? (double) tokensB / tokensA : Double.NaN;
    Boolean tools = production.toolCalls().isEmpty() && shadow.toolCalls().isEmpty() ? null : toolCallsAgree(production.toolCalls(), shadow.toolCalls());
    return new PairScores(COMPARED, deterministic, exact, Similarity.rougeL(a, b), ratio,
        Objects.equals(production.finishReason(), shadow.finishReason()), tools, jsonAsked,
        side(production, a), side(shadow, b));
  }

  private static Side side(SideOutput out, List<String> words) {
    String reason = out.finishReason() == null ? "" : out.finishReason().label();
    boolean refusal = reason.equals("content_filter") || opensWithRefusal(out.text());
    boolean toolCall = !out.toolCalls().isEmpty();
    return new Side(refusal, words.isEmpty() && !toolCall, SideOutput.parse(out.text()) != null, toolCall);
  }

  static boolean opensWithRefusal(String text) {
    String start = text.strip().toLowerCase(Locale.ROOT);
    start = start.substring(0, Math.min(start.length(), 40));
    for (String phrase : REFUSALS) {
      if (start.startsWith(phrase)) {
        return true;
      }
    }
    return false;
  }

  private static boolean sameCalls(List<SideOutput.ToolCall> a, List<SideOutput.ToolCall> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!Objects.equals(a.get(i).name(), b.get(i).name()) || !a.get(i).arguments().toString().equals(b.get(i).arguments().toString())) {
        return false;
      }
    }
    return true;
  }

  /** Same function names in the same order; arguments valid JSON objects with the same keys. */
  static boolean toolCallsAgree(List<SideOutput.ToolCall> a, List<SideOutput.ToolCall> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!Objects.equals(a.get(i).name(), b.get(i).name())) {
        return false;
      }
      Set<String> keysA = argumentKeys(a.get(i));
      Set<String> keysB = argumentKeys(b.get(i));
      if (keysA == null || keysB == null || !keysA.equals(keysB)) {
        return false;
      }
    }
    return true;
  }

  /** The keys of a call's arguments, or null when they are not a JSON object. */
  static Set<String> argumentKeys(SideOutput.ToolCall call) {
    JsonNode args = SideOutput.parse(call.arguments().toString());
    if (args == null || !args.isObject()) {
      return null;
    }
    Set<String> keys = new TreeSet<>();
    for (Iterator<String> it = args.fieldNames(); it.hasNext(); ) {
      keys.add(it.next());
    }
    return keys;
  }

  /** A compared pair whose answers are not the same: other words, length, finish, tool calls or JSON validity. */
  boolean differs() {
    return result.equals(COMPARED) && !exactMatch
        && (similarity < 1 || !finishReasonAgrees || Boolean.FALSE.equals(toolCallsAgree) || production.jsonValid() != shadow.jsonValid()
            || (Double.isFinite(outputRatio) && outputRatio != 1));
  }

  /** The names of the agreement checks this pair took part in, with whether it agreed. */
  List<Check> checks() {
    List<Check> checks = new ArrayList<>();
    if (!result.equals(COMPARED)) {
      return checks;
    }
    if (deterministic) {
      checks.add(new Check("exact_match", exactMatch));
    }
    checks.add(new Check("finish_reason", finishReasonAgrees));
    if (toolCallsAgree != null) {
      checks.add(new Check("tool_calls", toolCallsAgree));
    }
    if (jsonAsked) {
      checks.add(new Check("json", production.jsonValid() == shadow.jsonValid()));
    }
    return checks;
  }

  record Check(String name, boolean agreed) {}
}
