package dev.tokentap.proxy.record;

/**
 * What trace capture takes from a request body on the event loop: the leading characters of its
 * prompt, which the capture thread hashes into a prefix group and never writes, and, only with
 * {@code tokentap.capture.include-text}, the body itself.
 *
 * @param promptHead the prompt's first characters (system instructions, then the messages' or
 *     prompt's text), at most {@code prefix-chars}; empty when the body names no prompt
 * @param wholePrompt the head is the entire prompt (it was not cut at {@code prefix-chars})
 * @param body the request body as the client sent it; null unless include-text is on
 */
public record RequestContent(String promptHead, boolean wholePrompt, byte[] body) {
  /** Never the text: a FinishedRequest printed in a log or an assertion message must not carry the prompt. */
  @Override
  public String toString() {
    return "RequestContent[promptHead=" + promptHead.length() + " chars, wholePrompt=" + wholePrompt + ", body="
        + (body == null ? "none" : body.length + " bytes") + "]";
  }
}
