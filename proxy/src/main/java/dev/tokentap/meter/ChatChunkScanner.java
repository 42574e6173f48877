package dev.tokentap.meter;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A byte-level fast path for the common OpenAI chat and completions chunk: it finds {@code
 * choices}, {@code index}, {@code delta.content}/{@code reasoning_content}/{@code reasoning}/{@code
 * refusal}, {@code text}, {@code finish_reason}, {@code usage}, {@code object} and {@code error},
 * and skips every other value without decoding it. Jackson tokenizes (and symbol-table-matches)
 * every key and value, most of which (id, object, created, model, system_fingerprint) repeat in
 * every chunk and carry nothing the meter needs. Two things make this several times cheaper
 * (docs/performance.md): string bytes are skipped eight at a time, and when a chunk starts with
 * the same bytes as the last one up to its {@code "choices"} key, those bytes are not read again
 * (see {@link #prefixBytes}).
 *
 * <p>It never guesses. It answers only for documents it can read completely under rules that are
 * a subset of what Jackson accepts, producing exactly the facts {@link OpenAiDialect}'s Jackson
 * path would. Anything else makes {@link #scan} return false with {@code facts} untouched, and the
 * dialect reads the event with Jackson: a non-ASCII byte or an unknown escape in a string, an
 * escaped key, a float or 19-digit count in {@code usage}, {@code timings}, a {@code tool_calls} or
 * {@code function_call} value that is an array or object, an {@code index} that is not a small
 * integer, nesting deeper than {@value #MAX_DEPTH}, long numbers, or anything malformed (so only
 * Jackson decides what is a parse failure).
 *
 * <p>Not thread-safe: one instance per dialect, like the parser it stands in front of.
 */
final class ChatChunkScanner {
  /** Longer events go to Jackson, which also enforces its own string and number limits. */
  static final int MAX_LENGTH = 64 * 1024;

  private static final int MAX_DEPTH = 32;
  private static final int MAX_NUMBER_LENGTH = 64;
  private static final byte TOKEN_AND_VISIBLE = EventFacts.TOKEN | EventFacts.VISIBLE;

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;

  /** Thrown to abandon the fast path; preallocated and stackless, so bailing out allocates nothing. */
  private static final RuntimeException UNSURE =
      new RuntimeException("not a plain chat chunk", null, false, false) {};

  private byte[] data;
  private int end;
  private int pos;

  /**
   * The bytes of the last chunk read here, up to its top-level {@code "choices"} key, when the
   * members before that key gave no fact (no error, no usage). Within one stream those members
   * (id, object, created, model, system_fingerprint) are the same in every chunk, so when the next
   * chunk starts with the very same bytes, the scan would reach that key in the very same state
   * with no fact gathered: it starts there instead. About two thirds of a typical chunk.
   */
  private byte[] prefixBytes = new byte[0]; // sized by the first event: one per open stream
  private int prefixLength;
  /** In the current scan: where a skippable prefix ends (its {@code "choices"} key), or 0. */
  private int choicesKeyAt;

  // Facts gathered here and copied to EventFacts only when the whole document was read.
  private boolean error;
  private FinishReason finishReason;
  private boolean usagePresent;
  private long promptTokens;
  private long completionTokens;
  private long totalTokens;
  private long cachedTokens;
  private long reasoningTokens;
  private int choiceEntries;
  private int choiceCount;
  private int[] choiceIndex = new int[4];
  private byte[] choiceFlags = new byte[4];

  /**
   * Reads one event's JSON into {@code facts} (and sets {@code parsed}), or returns false and
   * leaves {@code facts} as it was, for Jackson to read.
   */
  boolean scan(byte[] bytes, int length, EventFacts facts) {
    if (length > MAX_LENGTH) {
      return false;
    }
    data = bytes;
    end = length;
    pos = 0;
    error = false;
    finishReason = null;
    usagePresent = false;
    promptTokens = completionTokens = totalTokens = EventFacts.ABSENT;
    cachedTokens = reasoningTokens = EventFacts.ABSENT;
    choiceEntries = 0;
    choiceCount = 0;
    choicesKeyAt = 0;
    try {
      readChunk();
    } catch (RuntimeException unsure) {
      return false; // UNSURE: facts untouched, Jackson reads it
    } finally {
      data = null;
    }
    if (error) {
      facts.error = true;
    }
    if (finishReason != null) {
      facts.finishReason = finishReason; // with n > 1, the last choice's, as Jackson's reading
    }
    if (usagePresent) { // the caller reset facts, so its counts are ABSENT like ours started
      facts.usagePresent = true;
      facts.promptTokens = promptTokens;
      facts.completionTokens = completionTokens;
      facts.totalTokens = totalTokens;
      facts.cachedTokens = cachedTokens;
      facts.reasoningTokens = reasoningTokens;
    }
    facts.choiceEntries += choiceEntries;
    for (int i = 0; i < choiceCount; i++) {
      facts.addChoice(choiceIndex[i], choiceFlags[i]);
    }
    facts.parsed = true;
    return true;
  }

  private void readChunk() {
    int prefix = prefixLength;
    boolean resumed =
        prefix > 0 && prefix < end && Arrays.equals(data, 0, prefix, prefixBytes, 0, prefix);
    if (resumed) {
      pos = prefix; // the same bytes as last time up to a key: skip them (see prefixBytes)
      readMembers(true);
    } else {
      skipWhitespace();
      expect('{');
      if (firstMember()) {
        readMembers(false);
      }
    }
    if (!Bytes.isBlank(data, pos, end - pos)) {
      throw UNSURE; // trailing bytes: Jackson's finishDocument decides
    }
    if (choicesKeyAt > 0 && !(resumed && choicesKeyAt == prefix)) {
      if (prefixBytes.length < choicesKeyAt) {
        prefixBytes = new byte[Math.max(choicesKeyAt, 2 * prefixBytes.length)];
      }
      System.arraycopy(data, 0, prefixBytes, 0, choicesKeyAt);
      prefixLength = choicesKeyAt;
    }
  }

  /** The top-level members from {@code pos} (a key) to the closing brace. */
  private void readMembers(boolean afterFirst) {
    boolean later = afterFirst;
    do {
      int memberStart = pos;
      int key = readKey();
      int keyLength = pos - 1 - key;
      colon();
      if (is(key, keyLength, "choices") && peek() == '[') {
        if (later && !error && !usagePresent && choiceEntries == 0 && choicesKeyAt == 0) {
          choicesKeyAt = memberStart; // everything before it gave no fact
        }
        readChoices();
      } else if (is(key, keyLength, "usage") && peek() == '{') {
        usagePresent = true;
        readUsage();
      } else if (is(key, keyLength, "timings")) {
        throw UNSURE; // llama.cpp's running count: Jackson's, even a null resets it there
      } else if (is(key, keyLength, "error")) {
        if (peek() != 'n') {
          error = true; // any non-null error value, as in OpenAiDialect
        }
        skipValue(0);
      } else if (is(key, keyLength, "object") && peek() == '"') {
        if (lastStringIs(plainString(), "error")) {
          error = true; // older vLLM: {"object":"error",...}
        }
      } else {
        skipValue(0);
      }
      later = true;
    } while (nextMember('}'));
  }

  private void readChoices() {
    pos++; // '['
    skipWhitespace();
    if (peek() == ']') {
      pos++;
      return;
    }
    do {
      int position = choiceEntries++;
      if (peek() == '{') {
        readChoice(position);
      } else {
        skipValue(1);
      }
    } while (nextMember(']'));
  }

  private void readChoice(int position) {
    pos++; // '{'
    int index = position;
    byte flags = 0;
    if (firstMember()) {
      do {
        int key = readKey();
        int keyLength = pos - 1 - key;
        colon();
        byte b = peek();
        if (is(key, keyLength, "index") && (b == '-' || isDigit(b))) {
          index = readSmallInt();
        } else if (is(key, keyLength, "delta") && b == '{') {
          flags |= readDelta();
        } else if (is(key, keyLength, "text") && b == '"') {
          if (nonEmptyString()) {
            flags |= TOKEN_AND_VISIBLE;
          }
        } else if (is(key, keyLength, "finish_reason") && b == '"') {
          int length = plainString();
          if (lastStringIs(length, "error") || lastStringIs(length, "abort")) {
            error = true;
          }
          finishReason = finishReasonOf(length);
        } else {
          skipValue(2);
        }
      } while (nextMember('}'));
    }
    if (choiceCount == choiceIndex.length) {
      choiceIndex = Arrays.copyOf(choiceIndex, choiceCount * 2);
      choiceFlags = Arrays.copyOf(choiceFlags, choiceCount * 2);
    }
    choiceIndex[choiceCount] = index;
    choiceFlags[choiceCount] = flags;
    choiceCount++;
  }

  private byte readDelta() {
    pos++; // '{'
    byte flags = 0;
    if (firstMember()) {
      do {
        int key = readKey();
        int keyLength = pos - 1 - key;
        colon();
        byte b = peek();
        if (b == '"'
            && (is(key, keyLength, "content") || is(key, keyLength, "refusal"))) {
          if (nonEmptyString()) {
            flags |= TOKEN_AND_VISIBLE;
          }
        } else if (b == '"'
            && (is(key, keyLength, "reasoning_content") || is(key, keyLength, "reasoning"))) {
          if (nonEmptyString()) {
            flags |= EventFacts.TOKEN;
          }
        } else if ((b == '[' || b == '{')
            && (is(key, keyLength, "tool_calls") || is(key, keyLength, "function_call"))) {
          throw UNSURE; // tool-call deltas are read by Jackson
        } else {
          skipValue(3);
        }
      } while (nextMember('}'));
    }
    return flags;
  }

  /** {@code usage}, with {@link OpenAiDialect}'s rules: a later key overwrites, null is absent. */
  private void readUsage() {
    pos++; // '{'
    if (firstMember()) {
      do {
        int key = readKey();
        int keyLength = pos - 1 - key;
        colon();
        if (is(key, keyLength, "prompt_tokens")) {
          promptTokens = readCount();
        } else if (is(key, keyLength, "completion_tokens")) {
          completionTokens = readCount();
        } else if (is(key, keyLength, "total_tokens")) {
          totalTokens = readCount();
        } else if (is(key, keyLength, "reasoning_tokens")) {
          reasoningTokens = readCount();
        } else if (is(key, keyLength, "prompt_tokens_details")) {
          long cached = readNestedCount("cached_tokens");
          if (cached != EventFacts.ABSENT) {
            cachedTokens = cached;
          }
        } else if (is(key, keyLength, "completion_tokens_details")) {
          long reasoning = readNestedCount("reasoning_tokens");
          if (reasoning != EventFacts.ABSENT) {
            reasoningTokens = reasoning;
          }
        } else {
          skipValue(2);
        }
      } while (nextMember('}'));
    }
  }

  /** {@link JsonReads#nestedCount}: {@code field} of an object, ABSENT for anything else. */
  private long readNestedCount(String field) {
    if (peek() != '{') {
      skipValue(2);
      return EventFacts.ABSENT;
    }
    pos++;
    long result = EventFacts.ABSENT;
    if (firstMember()) {
      do {
        int key = readKey();
        int keyLength = pos - 1 - key;
        colon();
        if (is(key, keyLength, field)) {
          result = readCount();
        } else {
          skipValue(3);
        }
      } while (nextMember('}'));
    }
    return result;
  }

  /**
   * {@link JsonReads#count}: an integer, negative ones as ABSENT; ABSENT for a non-number. A float
   * (truncated there) or an integer of more than 18 digits is left to Jackson.
   */
  private long readCount() {
    byte b = peek();
    if (b != '-' && !isDigit(b)) {
      skipValue(3);
      return EventFacts.ABSENT;
    }
    boolean negative = b == '-';
    if (negative) {
      pos++;
    }
    int start = pos;
    long value = 0;
    while (pos < end && isDigit(data[pos])) {
      value = value * 10 + (data[pos++] - '0');
    }
    int count = pos - start;
    if (count == 0 || count > 18 || (count > 1 && data[start] == '0')) {
      throw UNSURE;
    }
    requireDelimiter(); // also rejects '.', 'e' and 'E'
    return Math.max(negative ? -value : value, EventFacts.ABSENT);
  }

  // ---- JSON primitives: each accepts only what Jackson accepts, and throws UNSURE otherwise.

  /** After '{' or '[': whether a member follows (false, and past the close, when it is empty). */
  private boolean firstMember() {
    skipWhitespace();
    if (peek() == '}') {
      pos++;
      return false;
    }
    return true;
  }

  /** After a value: true on ',' (more follow), false past {@code close}. */
  private boolean nextMember(char close) {
    skipWhitespace();
    byte b = next();
    if (b == ',') {
      skipWhitespace();
      return true;
    }
    if (b != close) {
      throw UNSURE;
    }
    return false;
  }

  /** Reads {@code "key"} (plain ASCII, no escapes) and returns where its bytes start. */
  private int readKey() {
    expect('"');
    int start = pos;
    skipPlainBytes();
    if (next() != '"') {
      throw UNSURE; // an escape, a control character or a non-ASCII byte
    }
    return start;
  }

  /**
   * Advances {@code pos} to the first byte in a string that needs a look: a quote, a backslash, a
   * control character or a non-ASCII byte (or the end). Eight bytes at a time: most of a chunk is
   * string bytes the meter never needs.
   */
  private void skipPlainBytes() {
    while (pos + Long.BYTES <= end) {
      long mask = special((long) LONGS.get(data, pos));
      if (mask != 0) {
        pos += Long.numberOfTrailingZeros(mask) >>> 3;
        return;
      }
      pos += Long.BYTES;
    }
    while (pos < end) {
      byte b = data[pos];
      if (b == '"' || b == '\\' || b < 0x20) { // negative: a non-ASCII byte
        return;
      }
      pos++;
    }
  }

  /**
   * The high bit of each byte of {@code word} that may be a quote, a backslash, below 0x20 or
   * above 0x7F. The lowest marked byte always is one (the SWAR "has zero byte" and "has byte less
   * than" tests can mark bytes above a true hit, never below).
   */
  private static long special(long word) {
    long quote = word ^ 0x2222222222222222L;
    long backslash = word ^ 0x5C5C5C5C5C5C5C5CL;
    return (((quote - ONES) & ~quote)
            | ((backslash - ONES) & ~backslash)
            | ((word - 0x2020202020202020L) & ~word)
            | word)
        & HIGHS;
  }

  private void colon() {
    skipWhitespace();
    expect(':');
    skipWhitespace();
  }

  private void skipValue(int depth) {
    if (depth > MAX_DEPTH) {
      throw UNSURE;
    }
    switch (peek()) {
      case '"' -> skipString();
      case '{' -> {
        pos++;
        if (firstMember()) {
          do {
            skipString();
            colon();
            skipValue(depth + 1);
          } while (nextMember('}'));
        }
      }
      case '[' -> {
        pos++;
        skipWhitespace();
        if (peek() == ']') {
          pos++;
        } else {
          do {
            skipValue(depth + 1);
          } while (nextMember(']'));
        }
      }
      case 't' -> literal("true");
      case 'f' -> literal("false");
      case 'n' -> literal("null");
      default -> skipNumber();
    }
  }

  /** Skips a string; returns its raw length between the quotes. */
  private int skipString() {
    expect('"');
    int start = pos;
    while (true) {
      skipPlainBytes();
      byte b = next();
      if (b == '"') {
        return pos - 1 - start;
      }
      if (b < 0x20) { // control character, or negative: a non-ASCII byte
        throw UNSURE;
      }
      if (b == '\\') {
        skipEscape();
      }
    }
  }

  /** {@code \"} {@code \\} {@code \/} {@code \b} {@code \f} {@code \n} {@code \r} {@code \t} or {@code \}{@code uXXXX}. */
  private void skipEscape() {
    byte e = next();
    switch (e) {
      case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> {}
      case 'u' -> {
        for (int i = 0; i < 4; i++) {
          byte h = next();
          if (!(isDigit(h) || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) {
            throw UNSURE;
          }
        }
      }
      default -> throw UNSURE;
    }
  }

  /** A string value decodes to at least one character exactly when its raw form is non-empty. */
  private boolean nonEmptyString() {
    return skipString() > 0;
  }

  /**
   * Skips a string value and returns its raw length; its bytes end just before {@code pos - 1}.
   * One with an escape is left to Jackson, which compares decoded text.
   */
  private int plainString() {
    int length = skipString();
    for (int i = pos - 1 - length; i < pos - 1; i++) {
      if (data[i] == '\\') {
        throw UNSURE;
      }
    }
    return length;
  }

  /** After {@link #plainString()}: {@link FinishReason#of} of the string just skipped, without a String. */
  private FinishReason finishReasonOf(int length) {
    for (int i = 0; i < FinishReason.SPELLINGS.length; i++) {
      if (lastStringIs(length, FinishReason.SPELLINGS[i])) {
        return FinishReason.REASONS[i];
      }
    }
    return FinishReason.OTHER;
  }

  /** After {@link #plainString()}: whether the string just skipped is {@code expected}. */
  private boolean lastStringIs(int length, String expected) {
    return length == expected.length() && matches(pos - 1 - length, expected);
  }

  private void literal(String word) {
    if (!matches(pos, word)) {
      throw UNSURE;
    }
    pos += word.length();
    requireDelimiter();
  }

  /** JSON's number grammar, strictly: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
  private void skipNumber() {
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    if (peek() == '0') {
      pos++;
    } else {
      digits();
    }
    if (peek() == '.') {
      pos++;
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      digits();
    }
    if (pos - start > MAX_NUMBER_LENGTH) {
      throw UNSURE;
    }
    requireDelimiter();
  }

  /** An {@code index}: an integer of at most 9 digits (always an int); a float is Jackson's. */
  private int readSmallInt() {
    boolean negative = peek() == '-';
    if (negative) {
      pos++;
    }
    int start = pos;
    int value = 0;
    while (pos < end && isDigit(data[pos])) {
      value = value * 10 + (data[pos++] - '0');
    }
    int count = pos - start;
    if (count == 0 || count > 9 || (count > 1 && data[start] == '0')) {
      throw UNSURE;
    }
    requireDelimiter(); // also rejects '.', 'e' and 'E': a float index goes to Jackson
    return negative ? -value : value;
  }

  private void digits() {
    int start = pos;
    while (pos < end && isDigit(data[pos])) {
      pos++;
    }
    if (pos == start) {
      throw UNSURE;
    }
  }

  /** After a number or literal Jackson needs a separator; anything else is its call. */
  private void requireDelimiter() {
    byte b = peek();
    if (!(b == ',' || b == '}' || b == ']' || Bytes.isWhitespace(b))) {
      throw UNSURE;
    }
  }

  private void skipWhitespace() {
    while (pos < end && Bytes.isWhitespace(data[pos])) {
      pos++;
    }
  }

  private void expect(char c) {
    if (next() != c) {
      throw UNSURE;
    }
  }

  /**
   * The byte at {@code pos}, then advances; past the end, UNSURE. The array is the meter's scratch
   * buffer, so bytes past {@code end} are stale and must never be read.
   */
  private byte next() {
    if (pos >= end) {
      throw UNSURE;
    }
    return data[pos++];
  }

  /** The byte at {@code pos}; past the end, UNSURE (a truncated document). */
  private byte peek() {
    if (pos >= end) {
      throw UNSURE;
    }
    return data[pos];
  }

  private boolean is(int start, int length, String key) {
    return length == key.length() && matches(start, key);
  }

  private boolean matches(int start, String word) {
    if (start + word.length() > end) {
      return false;
    }
    for (int i = 0; i < word.length(); i++) {
      if (data[start + i] != word.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isDigit(byte b) {
    return b >= '0' && b <= '9';
  }
}
