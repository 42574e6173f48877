package dev.tokentap.emulator;

/**
 * Estimates prompt tokens without a tokenizer, by a fixed rule that tests can recompute:
 *
 * <ul>
 *   <li>text: {@code ceil(codePoints / 4)} (about four characters per token for English);
 *   <li>chat: the sum over messages of {@code ceil(codePoints(content) / 4) + 4} (role and template
 *       framing per message), plus 2 (the assistant turn's header); the same for the Responses API, Anthropic Messages and
 *       Ollama {@code /api/chat}, where {@code instructions} / {@code system} counts as one more
 *       message and a string {@code input} as one user message;
 *   <li>embeddings: the text rule per input, summed (a token-id array counts its length);
 *   <li>completions with token ids: their number; Ollama {@code /api/generate}: the text rule over
 *       {@code system} and {@code prompt} joined by a newline;
 *   <li>never less than 1.
 * </ul>
 *
 * Code points are counted, so one emoji is one character, as a reader would count it.
 */
final class PromptTokenEstimator {

  static final int PER_MESSAGE_OVERHEAD = 4;
  static final int REPLY_PRIMER = 2;

  private PromptTokenEstimator() {}

  /** Tokens of a plain text prompt. */
  static int text(String text) {
    return Math.max(1, ceilQuarter(text.codePointCount(0, text.length())));
  }

  /** Tokens of one chat message's content, without the per-message overhead. */
  static int messageContent(String content) {
    return ceilQuarter(content.codePointCount(0, content.length()));
  }

  /** Tokens of a chat prompt whose message contents add up to {@code contentTokens}. */
  static int chat(int messageCount, int contentTokens) {
    return Math.max(1, contentTokens + PER_MESSAGE_OVERHEAD * messageCount + REPLY_PRIMER);
  }

  private static int ceilQuarter(int n) {
    return (n + 3) / 4;
  }
}
