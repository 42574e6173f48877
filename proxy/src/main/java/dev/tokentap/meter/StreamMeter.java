package dev.tokentap.meter;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;

/**
 * Times and counts one response from its bytes and the times they arrived (DESIGN.md §2–3): the one
 * meter behind every request record, whoever sent the request (relay, shadow, bench).
 *
 * <pre>
 * onResponseHead ─▶ onBody × n ─▶ onComplete | onBroken ─▶ result()
 *                      │
 *                      ├─ text/event-stream:   SseEventDecoder ─┐
 *                      ├─ application/x-ndjson: NdjsonLineDecoder ┴▶ Dialect ─▶ EventFacts
 *                      │                      ─▶ timing, ITL gaps, usage, drop ranges
 *                      ├─ application/json:  outlined as it passes (JsonSkeleton, bounded),
 *                      │                      read by the Dialect at the end
 *                      └─ anything else:     bytes counted
 * </pre>
 *
 * <p>A pure function of bytes and timestamps: no channel, no I/O, no clock of its own. Every event
 * gets the {@code nanos} of the {@code onBody} call whose bytes completed it. It never throws into
 * the caller: bytes it cannot read make the record {@link TokenSource#UNPARSED} and it carries on.
 * It never retains or consumes the {@link ByteBuf}s it is shown.
 *
 * <p>Definitions (wire-formats.md §13):
 *
 * <ul>
 *   <li>TTFT uses the first token-bearing event of any choice (reasoning included); {@code
 *       firstOutputNanos} the first with visible output.
 *   <li>ITL: every gap between consecutive token-bearing events of the same choice index goes to
 *       the {@link TokenGapListener} at once.
 *   <li>N: the server's count when sent (see {@link UsageTally}), else the number of
 *       token-bearing events. Where the server says how many tokens an event carried, that goes to
 *       {@link TokenGapListener#tokensPerEvent}.
 *   <li>TPOT: {@code (t_last − t_first) / (N − 1)} for N ≥ 2. With several choices (n &gt; 1) N is
 *       shared out as {@code k'_c = k_c × N / Σk} by each choice's token-bearing events {@code
 *       k_c}, each choice with {@code k'_c ≥ 2} gets {@code (t_last_c − t_first_c) / (k'_c − 1)},
 *       and TPOT is their mean.
 *   <li>Outcome: {@code error} if status ≥ 400 or an error event; else the {@code onBroken}
 *       outcome; else {@code upstream_abort} if a stream ended without its terminator; else
 *       {@code ok}. Events after the terminator are counted but not timed. Where the body's end
 *       is the terminator (Triton), a clean end terminates the stream.
 *   <li>A route with no dialect ({@link Api#UNKNOWN}) is relayed and timed, N is {@link
 *       TokenSource#UNPARSED}.
 * </ul>
 *
 * <p><b>Usage injection.</b> With {@code usageInjected}, the relay added {@code
 * stream_options.include_usage}, and the usage-only chunk it causes must not reach the client: the
 * meter reports its bytes through {@link #drainDropRanges()}. Forwarding only bytes before {@link
 * #completeUpTo()}, minus those ranges, gives the client exactly the stream it would have had.
 *
 * <p>Not thread-safe: one meter per response, fed from one thread (an event loop).
 */
public final class StreamMeter {
  /** An SSE event may be larger than a JSON body cap set low; never keep less than this. */
  static final int MIN_EVENT_BYTES = 256 * 1024;

  private static final int SCRATCH_BYTES = 8192;

  /** For copying direct buffers: the event loop thread reuses one array for all its meters. */
  private static final ThreadLocal<byte[]> SCRATCH =
      ThreadLocal.withInitial(() -> new byte[SCRATCH_BYTES]);

  private final boolean usageInjected;
  private final Dialect dialect;
  private final DecodedEvents decoded = new DecodedEvents();
  /** Made at the head for the body it announces, so a stream holds only the decoder it reads with. */
  private SseEventDecoder decoder;
  private NdjsonLineDecoder lines;
  private final EventFacts facts = new EventFacts();
  private final TokenGapListener gaps;
  private final ChoiceTimeline timeline;
  private final UsageTally usage = new UsageTally();
  private final DropRanges drops = new DropRanges();
  private final JsonSkeleton json;
  private final int maxEventBytes;

  /** The thread of the last direct-buffer read and its scratch array (see {@link #scratch()}). */
  private Thread scratchThread;
  private byte[] scratchOfThread;

  /** Opt-in, null unless asked for: the only place response text goes beyond the meter. */
  private OutputCollector output;

  private BodyKind body = BodyKind.UNKNOWN;
  private int status;
  private long headNanos = MeterResult.NEVER;
  private long bodyBytes;

  /** The {@code nanos} of the {@code onBody} call being processed. */
  private long nowNanos;

  private int events;
  private boolean errorEvent;
  private FinishReason finishReason;
  private boolean terminated;
  private boolean unparsed;

  /**
   * An event (or NDJSON line) grew past {@link #maxEventBytes} before it ended: the stream is not
   * what this dialect reads (garbage, a runaway event), so the meter stops reading it and the
   * record is {@link TokenSource#UNPARSED}. Bytes are only counted from then on, and {@link
   * #completeUpTo()} covers all of them, so nothing downstream holds them back.
   */
  private boolean gaveUp;

  /** End offset of the last event reported as dropped, to extend it by a late LF. */
  private long lastDropEnd = -1;

  private Outcome broken;
  private boolean ended;
  private long endNanos = MeterResult.NEVER;
  private MeterResult result;

  /** A meter reading {@code route}'s usual format ({@link Api#defaultFor}). */
  public StreamMeter(
      Route route, boolean usageInjected, TokenGapListener gaps, int maxBufferedBodyBytes) {
    this(Api.defaultFor(requireNonNull(route, "route")), usageInjected, gaps, maxBufferedBodyBytes);
  }

  /**
   * @param api the response format, which picks the dialect
   * @param usageInjected the relay added {@code stream_options.include_usage}; the usage-only chunk
   *     is reported for removal
   * @param gaps receives every inter-token gap as it happens
   * @param maxBufferedBodyBytes SSE events and NDJSON lines are kept up to this or {@value
   *     #MIN_EVENT_BYTES}, whichever is larger. A non-streaming JSON body is never kept: it is read
   *     whole, whatever its size, through its {@link JsonSkeleton outline}, which takes at most this
   *     or {@value JsonSkeleton#MAX_BYTES}, whichever is smaller (0: JSON bodies are not read).
   */
  public StreamMeter(
      Api api, boolean usageInjected, TokenGapListener gaps, int maxBufferedBodyBytes) {
    requireNonNull(api, "api");
    requireNonNull(gaps, "gaps");
    if (maxBufferedBodyBytes < 0) {
      throw new IllegalArgumentException(
          "maxBufferedBodyBytes: " + maxBufferedBodyBytes + " (expected: >= 0)");
    }
    this.usageInjected = usageInjected;
    this.json = new JsonSkeleton(maxBufferedBodyBytes);
    this.dialect = Dialect.forApi(api);
    this.gaps = gaps;
    this.timeline = new ChoiceTimeline(gaps);
    this.maxEventBytes = Math.max(maxBufferedBodyBytes, MIN_EVENT_BYTES);
  }

  /**
   * Status line and headers arrived. {@code text/event-stream} is read as SSE, {@code
   * application/x-ndjson} as NDJSON lines, {@code application/json} (and {@code +json}) is
   * outlined as it passes and read at the end, anything else is only counted.
   */
  public void onResponseHead(int status, String contentType, long nanos) {
    this.status = status;
    this.headNanos = nanos;
    if (body == BodyKind.UNKNOWN) {
      body = BodyKind.of(contentType);
      if (body == BodyKind.SSE) {
        decoder = new SseEventDecoder(decoded, maxEventBytes);
      } else if (body == BodyKind.NDJSON) {
        lines = new NdjsonLineDecoder(decoded, maxEventBytes);
      }
    }
  }

  /** Shows {@code collector} the output read from now on (see {@link OutputCollector}). */
  public void collectOutput(OutputCollector collector) {
    this.output = collector;
  }

  /** One upstream read. The buffer's indexes and reference count are left untouched. */
  public void onBody(ByteBuf content, long nanos) {
    if (content != null) {
      onBody(content, content.readerIndex(), content.readableBytes(), nanos);
    }
  }

  /** One upstream read's bytes at {@code index} of {@code content}, its reader index left alone. */
  public void onBody(ByteBuf content, int index, int length, long nanos) {
    if (ended) {
      return;
    }
    try {
      int remaining = length;
      if (content.hasArray()) {
        onBody(content.array(), content.arrayOffset() + index, remaining, nanos);
        return;
      }
      byte[] scratch = scratch();
      while (remaining > 0) {
        int n = Math.min(remaining, scratch.length);
        content.getBytes(index, scratch, 0, n);
        onBody(scratch, 0, n, nanos);
        index += n;
        remaining -= n;
      }
    } catch (RuntimeException e) {
      unparsed = true;
    }
  }

  /**
   * The feeding thread's scratch array. A response is fed from one event loop, so comparing the
   * thread with the last one is enough nearly always, and much cheaper than a {@code ThreadLocal}
   * lookup per read.
   */
  private byte[] scratch() {
    Thread current = Thread.currentThread();
    if (current != scratchThread) {
      scratchOfThread = SCRATCH.get();
      scratchThread = current;
    }
    return scratchOfThread;
  }

  /** One upstream read, as an array slice (tests, benchmarks, non-Netty callers). */
  public void onBody(byte[] bytes, int offset, int length, long nanos) {
    if (ended || length <= 0) {
      return;
    }
    if (body == BodyKind.UNKNOWN) {
      body = BodyKind.OPAQUE; // bytes before any head: nothing to interpret them by
    }
    nowNanos = nanos;
    if (gaveUp) {
      bodyBytes += length;
      return;
    }
    try {
      switch (body) {
        case SSE:
          decoder.feed(bytes, offset, length);
          giveUpPast(decoder.offset() - decoder.completeUpTo());
          break;
        case NDJSON:
          lines.feed(bytes, offset, length);
          giveUpPast(lines.offset() - lines.completeUpTo());
          break;
        case JSON:
          json.append(bytes, offset, length);
          if (output != null) {
            collectJson(bytes, offset, length);
          }
          break;
        default:
          break;
      }
    } catch (RuntimeException e) {
      unparsed = true;
    } finally {
      bodyBytes += length;
    }
  }

  /** Stops reading the stream once its pending, undispatched bytes exceed the event limit. */
  private void giveUpPast(long pendingBytes) {
    if (pendingBytes > maxEventBytes) {
      gaveUp = true;
      unparsed = true;
    }
  }

  /** Whether the meter stopped reading this stream (see {@link #gaveUp}); timings before it stand. */
  public boolean gaveUp() {
    return gaveUp;
  }

  /** The response ended normally (last chunk); an incomplete trailing event is discarded. */
  public void onComplete(long nanos) {
    end(null, nanos);
  }

  /**
   * The stream broke: {@link Outcome#UPSTREAM_ABORT}, {@link Outcome#CLIENT_ABORT} or {@link
   * Outcome#TIMEOUT}. Timings so far are kept.
   */
  public void onBroken(Outcome outcome, long nanos) {
    end(outcome == null || outcome == Outcome.OK ? Outcome.UPSTREAM_ABORT : outcome, nanos);
  }

  /**
   * The measurements: final after {@link #onComplete} or {@link #onBroken}; before that a snapshot
   * with {@code endNanos} {@code -1} and the outcome the response would have if it ended now.
   */
  public MeterResult result() {
    return result != null ? result : buildResult();
  }

  /** Total body bytes fed so far: the absolute offset of the next byte. */
  public long bodyBytes() {
    return bodyBytes;
  }

  /**
   * The absolute body offset up to which all bytes belong to dispatched events, comments or blank
   * lines; the bytes after it form an incomplete line or event, which may still be dropped. For
   * bodies that are not SSE, all bytes fed.
   */
  public long completeUpTo() {
    return body == BodyKind.SSE && !ended && !gaveUp ? decoder.completeUpTo() : bodyBytes;
  }

  /**
   * Absolute {@code [start0, end0, start1, end1, ...)} ranges of events the client must not see,
   * found since the last call; an empty array (a shared constant) when none. Only the usage-only
   * chunk, and only with {@code usageInjected}: each range runs from the start of the event's first
   * line to the end of its blank line, so removing it leaves the stream as the server would have
   * sent it without {@code include_usage}.
   */
  public long[] drainDropRanges() {
    return drops.drain();
  }

  private void end(Outcome brokenOutcome, long nanos) {
    if (ended) {
      return;
    }
    try {
      if (gaveUp) {
        // nothing more to read: the pending event was never going to be read whole
      } else if (body == BodyKind.SSE) {
        decoder.finish();
      } else if (body == BodyKind.NDJSON) {
        lines.finish(brokenOutcome == null);
      } else if (body == BodyKind.JSON) {
        readJsonBody();
      }
    } catch (RuntimeException e) {
      unparsed = true;
    }
    ended = true;
    broken = brokenOutcome;
    if (brokenOutcome == null && body.streaming() && !dialect.expectsTerminator()) {
      terminated = dialect.countsTokens(); // the end of the body is this dialect's terminator
    }
    endNanos = nanos;
    dialect.release();
    result = buildResult();
  }

  private void onEvent(byte[] type, int typeLength, byte[] data, int length, long start, long end) {
    if (gaveUp) {
      return; // the rest of a read that held an oversized event
    }
    events++;
    if (terminated) {
      return; // after the terminator nothing is timed (wire-formats.md §13.6)
    }
    if (body == BodyKind.SSE ? decoder.eventTruncated() : lines.eventTruncated()) {
      gaveUp = true; // an event past the limit was dispatched cut short: stop here too
      unparsed = true;
      return;
    }
    if (output != null) {
      collectEvent(type, typeLength, data, length);
    }
    facts.reset();
    dialect.readEvent(type, typeLength, data, length, facts);
    if (!facts.parsed) {
      unparsed = true;
      return;
    }
    if (facts.error) {
      errorEvent = true;
    }
    if (facts.finishReason != null) {
      finishReason = facts.finishReason; // with n > 1, the last choice to finish
    }
    // A terminator may carry the last usage or text (Responses, Ollama, TGI): read it, then stop.
    long eventTokens = usage.acceptCounts(facts);
    if (usageInjected && facts.usageOnly()) {
      drops.add(start, end);
      lastDropEnd = end;
    }
    timeline.event(facts, nowNanos);
    if (eventTokens > 0) {
      reportTokensPerEvent(eventTokens);
    }
    if (facts.terminator) {
      terminated = true;
    }
  }

  private void collectEvent(byte[] type, int typeLength, byte[] data, int length) {
    try {
      output.onEvent(type, typeLength, data, length);
    } catch (RuntimeException e) {
      output = null; // a collector that failed once sees no more: the meter carries on
    }
  }

  private void collectJson(byte[] bytes, int offset, int length) {
    try {
      output.onJsonBody(bytes, offset, length);
    } catch (RuntimeException e) {
      output = null;
    }
  }

  private void reportTokensPerEvent(long tokens) {
    try {
      gaps.tokensPerEvent(tokens);
    } catch (RuntimeException e) {
      // A failing metrics sink must not corrupt the record nor reach the relay.
    }
  }

  private void readJsonBody() {
    if (json.overflowed()) {
      unparsed = true; // an outline past its cap (no such body from a real server); the record says so
      return;
    }
    if (json.bytesSeen() == 0) {
      return;
    }
    facts.reset();
    dialect.readBody(json.bytes(), json.length(), facts);
    if (!facts.parsed) {
      unparsed = true;
      return;
    }
    errorEvent |= facts.error;
    if (facts.finishReason != null) {
      finishReason = facts.finishReason;
    }
    usage.acceptFinal(facts);
  }

  private MeterResult buildResult() {
    long outputTokens = 0;
    TokenSource source = TokenSource.NONE;
    if (!dialect.countsTokens()) {
      source = TokenSource.UNPARSED; // no dialect: relayed and timed, never read
    } else if (!dialect.generatesOutput()) {
      source = TokenSource.NONE; // embeddings: N is 0 by definition
    } else if (usage.hasOutputCount() && body != BodyKind.OPAQUE) {
      outputTokens = usage.outputTokens();
      source = TokenSource.USAGE;
    } else if (body.streaming() && events > 0) {
      outputTokens = timeline.tokenEvents();
      source = TokenSource.EVENTS;
    } else if (body == BodyKind.JSON && status < 400) {
      source = TokenSource.UNPARSED; // a successful body without the usage it should have
    }
    if (body.streaming() && events == 0 && bodyBytes > 0 && dialect.countsTokens()) {
      source = TokenSource.UNPARSED; // bytes, but not one event in them: not this format at all
    }
    if (unparsed && body != BodyKind.OPAQUE) {
      source = TokenSource.UNPARSED; // the count may be off; the record must say so
    }
    boolean streaming = body.streaming();
    return new MeterResult(
        status,
        headNanos,
        streaming ? timeline.firstTokenNanos() : MeterResult.NEVER,
        streaming ? timeline.firstOutputNanos() : MeterResult.NEVER,
        streaming ? timeline.lastTokenNanos() : MeterResult.NEVER,
        endNanos,
        events,
        timeline.tokenEvents(),
        timeline.choices(),
        outputTokens,
        source,
        usage.inputTokens(),
        usage.cachedInputTokens(),
        usage.reasoningTokens(),
        errorEvent,
        terminated,
        outcome(),
        streaming && dialect.generatesOutput() ? timeline.tpotSeconds(outputTokens) : Double.NaN,
        bodyBytes,
        finishReason);
  }

  private Outcome outcome() {
    if (status >= 400 || errorEvent) {
      return Outcome.ERROR;
    }
    if (broken != null) {
      return broken;
    }
    if (body.streaming() && dialect.expectsTerminator() && !terminated && !gaveUp) {
      return Outcome.UPSTREAM_ABORT; // the stream ended cut short
    }
    return Outcome.OK;
  }

  /** The decoder's callbacks; kept off the meter's public surface. */
  private final class DecodedEvents implements SseEventDecoder.Listener {
    @Override
    public void onEvent(
        byte[] type, int typeLength, byte[] data, int dataLength, long start, long end) {
      try {
        StreamMeter.this.onEvent(type, typeLength, data, dataLength, start, end);
      } catch (RuntimeException e) {
        unparsed = true;
      }
    }

    @Override
    public void onLineFeedAfterDispatch(long offset) {
      if (offset == lastDropEnd) {
        drops.add(offset, offset + 1); // the LF of a CRLF split across reads ends that event
        lastDropEnd = offset + 1;
      }
    }
  }
}
