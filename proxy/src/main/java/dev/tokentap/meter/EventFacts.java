package dev.tokentap.meter;

import java.util.Arrays;

/**
 * What a {@link Dialect} found in one event (or one non-streaming body): the facts the {@link
 * StreamMeter} times and counts, in dialect-neutral form. One instance per meter, {@link #reset()}
 * before each event, so reading an event allocates nothing.
 */
final class EventFacts {
  /** The choice carried generated output: text, reasoning, refusal or a tool-call delta. */
  static final byte TOKEN = 1;

  /** The choice carried output a user sees (everything in {@link #TOKEN} but reasoning). */
  static final byte VISIBLE = 2;

  static final long ABSENT = -1;

  /** The data was read completely; when false, nothing else here may be trusted. */
  boolean parsed;

  /** The dialect's end-of-stream marker, e.g. {@code data: [DONE]}. */
  boolean terminator;

  /** An error reported in the body (after the HTTP status was already sent). */
  boolean error;

  /** Why generation stopped, when this event says so; null otherwise. */
  FinishReason finishReason;

  /** Entries in the {@code choices} array, 0 when it is empty or absent. */
  int choiceEntries;

  int choiceCount;
  int[] choiceIndex = new int[4];
  byte[] choiceFlags = new byte[4];

  /** A non-null {@code usage} object was present. */
  boolean usagePresent;

  long promptTokens;
  long completionTokens;
  long totalTokens;
  long cachedTokens;
  long reasoningTokens;

  /** Output tokens this one event carries, per the server (Triton {@code num_output_tokens}). */
  long eventTokens;

  /**
   * The server's running count of output tokens so far, outside usage (TGI's token {@code index},
   * llama.cpp's {@code timings.predicted_n}).
   */
  long cumulativeOutputTokens;

  EventFacts() {
    reset();
  }

  void reset() {
    parsed = false;
    terminator = false;
    error = false;
    finishReason = null;
    choiceEntries = 0;
    choiceCount = 0;
    usagePresent = false;
    promptTokens = ABSENT;
    completionTokens = ABSENT;
    totalTokens = ABSENT;
    cachedTokens = ABSENT;
    reasoningTokens = ABSENT;
    eventTokens = ABSENT;
    cumulativeOutputTokens = ABSENT;
  }

  void addChoice(int index, byte flags) {
    if (choiceCount == choiceIndex.length) {
      choiceIndex = Arrays.copyOf(choiceIndex, choiceCount * 2);
      choiceFlags = Arrays.copyOf(choiceFlags, choiceCount * 2);
    }
    choiceIndex[choiceCount] = index;
    choiceFlags[choiceCount] = flags;
    choiceCount++;
  }

  /** A usage-only chunk: {@code usage} set, {@code choices} empty or absent. */
  boolean usageOnly() {
    return usagePresent && choiceEntries == 0;
  }

  /** Every count in the usage object is zero or absent (Ollama's compat layer sends such). */
  boolean usageAllZero() {
    return promptTokens <= 0 && completionTokens <= 0 && totalTokens <= 0;
  }
}
