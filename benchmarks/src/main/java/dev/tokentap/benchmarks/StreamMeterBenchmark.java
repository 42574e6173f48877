package dev.tokentap.benchmarks;

import dev.tokentap.meter.MeterResult;
import dev.tokentap.meter.Route;
import dev.tokentap.meter.SseEventDecoder;
import dev.tokentap.meter.StreamMeter;
import dev.tokentap.meter.TokenGapListener;
import dev.tokentap.meter.TokenSource;
import dev.tokentap.proxy.metrics.MetricsClock;
import dev.tokentap.proxy.metrics.TokentapMetrics;
import dev.tokentap.proxy.record.Role;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The stream meter's cost per SSE event (docs/performance.md). Every score is nanoseconds per
 * event: whole-fixture benchmarks divide by the fixture's event count.
 *
 * <ul>
 *   <li>{@code fixture*}: a fresh {@link StreamMeter} per invocation (as per request in the relay)
 *       is fed a whole recorded stream, one read per event, then completed and its result built.
 *       Per-request setup (meter, decoder buffers, Jackson parser) is shared out over the events.
 *   <li>{@code steady*}: one long-lived meter fed the same token-bearing OpenAI chat chunk over and
 *       over (never the terminator): the per-event cost in the middle of a long stream, where no
 *       allocation is expected.
 *   <li>{@code framingOnly*}: the same bytes through {@link SseEventDecoder} alone with a listener
 *       that does nothing, to split framing from JSON reading and bookkeeping.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class StreamMeterBenchmark {

  /** What the relay passes: {@code tokentap.proxy.max-inspected-response-body} = 4 MiB. */
  static final int MAX_BODY = 4 * 1024 * 1024;

  /** A plausible inter-token gap; the value does not change the work done. */
  static final long GAP_NANOS = 20_000_000L;

  static final int OPENAI_CHAT_EVENTS = 34;
  static final int VLLM_CHAT_EVENTS = 29;
  static final int SGLANG_REASONING_EVENTS = 23;
  static final int OPENAI_COMPLETIONS_EVENTS = 6;

  /** The steady-state chunk: event 2 of openai-chat-usage.sse, {@code delta.content "I'm"}. */
  static final String STEADY_FIXTURE = "openai-chat-usage.sse";

  static final int STEADY_READ = 1;

  @State(Scope.Benchmark)
  public static class Streams {
    StreamFixture openAiChat;
    StreamFixture vllmChat;
    StreamFixture sglangReasoning;
    StreamFixture openAiCompletions;

    @Setup(Level.Trial)
    public void load() {
      openAiChat = StreamFixture.load("openai-chat-usage.sse", OPENAI_CHAT_EVENTS);
      vllmChat = StreamFixture.load("vllm-chat-continuous-usage.sse", VLLM_CHAT_EVENTS);
      sglangReasoning = StreamFixture.load("sglang-reasoning.sse", SGLANG_REASONING_EVENTS);
      openAiCompletions = StreamFixture.load("openai-completions.sse", OPENAI_COMPLETIONS_EVENTS);
      // The meter must read every fixture as the tests expect, or we would time a failure path.
      check(meter(openAiChat, Route.CHAT), TokenSource.USAGE, 30);
      check(meter(vllmChat, Route.CHAT), TokenSource.USAGE, 26);
      check(meter(sglangReasoning, Route.CHAT), TokenSource.USAGE, 22);
      check(meter(openAiCompletions, Route.COMPLETIONS), TokenSource.USAGE, 4);
    }

    private static void check(MeterResult r, TokenSource source, long outputTokens) {
      if (r.tokenSource() != source || r.outputTokens() != outputTokens || !r.terminated()) {
        throw new IllegalStateException("unexpected meter result " + r);
      }
    }
  }

  /** Long-lived meters and decoder fed one chunk repeatedly; renewed each iteration. */
  @State(Scope.Thread)
  public static class Steady {
    byte[] chunk;
    ByteBuf directChunk;
    StreamMeter meter;
    StreamMeter directMeter;
    StreamMeter itlMeter;
    SseEventDecoder decoder;
    final CountingListener framed = new CountingListener();
    TokentapMetrics.Series series;
    long nanos;

    @Setup(Level.Trial)
    public void trial() {
      chunk = StreamFixture.load(STEADY_FIXTURE, OPENAI_CHAT_EVENTS).read(STEADY_READ);
      // As the relay sees it: a direct buffer from the event loop's allocator.
      directChunk = Unpooled.directBuffer(chunk.length).writeBytes(chunk);
      PrometheusMeterRegistry registry = MetricsClock.prometheusRegistry();
      series = new TokentapMetrics(registry, List.of()).series("gpt-4o", "chat", "openai", Role.PRIMARY);
    }

    @Setup(Level.Iteration)
    public void iteration() {
      meter = newMeter(TokenGapListener.NONE);
      directMeter = newMeter(TokenGapListener.NONE);
      itlMeter = newMeter(series);
      decoder = new SseEventDecoder(framed, MAX_BODY);
    }

    @TearDown(Level.Iteration)
    public void verify() {
      // Every event fed must have been read as a token, never as unparsed bytes.
      for (StreamMeter m : new StreamMeter[] {meter, directMeter, itlMeter}) {
        MeterResult r = m.result();
        if (r.tokenSource() == TokenSource.UNPARSED || r.tokenEvents() != r.events()) {
          throw new IllegalStateException("steady-state meter misread the chunk: " + r);
        }
      }
    }

    @TearDown(Level.Trial)
    public void release() {
      directChunk.release();
    }

    private StreamMeter newMeter(TokenGapListener gaps) {
      StreamMeter m = new StreamMeter(Route.CHAT, false, gaps, MAX_BODY);
      m.onResponseHead(200, "text/event-stream; charset=utf-8", 0);
      return m;
    }
  }

  /** Framing only: counts events and data bytes, nothing else. */
  static final class CountingListener implements SseEventDecoder.Listener {
    long events;
    long dataBytes;

    @Override
    public void onEvent(
        byte[] type, int typeLength, byte[] data, int dataLength, long start, long end) {
      events++;
      dataBytes += dataLength;
    }
  }

  // --- whole fixtures, fresh meter per stream -------------------------------------------------

  @Benchmark
  @OperationsPerInvocation(OPENAI_CHAT_EVENTS)
  public MeterResult fixtureOpenAiChatUsage(Streams s) {
    return meter(s.openAiChat, Route.CHAT);
  }

  @Benchmark
  @OperationsPerInvocation(VLLM_CHAT_EVENTS)
  public MeterResult fixtureVllmChatContinuousUsage(Streams s) {
    return meter(s.vllmChat, Route.CHAT);
  }

  @Benchmark
  @OperationsPerInvocation(SGLANG_REASONING_EVENTS)
  public MeterResult fixtureSglangReasoning(Streams s) {
    return meter(s.sglangReasoning, Route.CHAT);
  }

  @Benchmark
  @OperationsPerInvocation(OPENAI_COMPLETIONS_EVENTS)
  public MeterResult fixtureOpenAiCompletions(Streams s) {
    return meter(s.openAiCompletions, Route.COMPLETIONS);
  }

  /** The same bytes and reads as {@link #fixtureOpenAiChatUsage}, through the decoder alone. */
  @Benchmark
  @OperationsPerInvocation(OPENAI_CHAT_EVENTS)
  public long framingOnlyOpenAiChatUsage(Streams s) {
    StreamFixture f = s.openAiChat;
    CountingListener listener = new CountingListener();
    SseEventDecoder decoder = new SseEventDecoder(listener, MAX_BODY);
    for (int i = 0; i < f.readCount(); i++) {
      decoder.feed(f.bytes, f.readOffset(i), f.readLength(i));
    }
    decoder.finish();
    return listener.dataBytes;
  }

  // --- steady state: one chunk, long-lived meter ------------------------------------------------

  /** One OpenAI chat content chunk into a long-lived meter, from a heap array. */
  @Benchmark
  public void steadyChunk(Steady s) {
    s.meter.onBody(s.chunk, 0, s.chunk.length, s.nanos += GAP_NANOS);
  }

  /** The same from a direct {@link ByteBuf}, as the relay feeds it (copied to a scratch array). */
  @Benchmark
  public void steadyChunkDirectBuf(Steady s) {
    s.directMeter.onBody(s.directChunk, s.nanos += GAP_NANOS);
  }

  /**
   * The same with the relay's gap listener: each event also records one inter-token gap into the
   * Prometheus ITL histogram of its series. This is the per-event cost the relay pays.
   */
  @Benchmark
  public void steadyChunkWithItlHistogram(Steady s) {
    s.itlMeter.onBody(s.chunk, 0, s.chunk.length, s.nanos += GAP_NANOS);
  }

  /** The same chunk through the SSE decoder alone. */
  @Benchmark
  public void framingOnlySteadyChunk(Steady s) {
    s.decoder.feed(s.chunk, 0, s.chunk.length);
  }

  static MeterResult meter(StreamFixture f, Route route) {
    StreamMeter meter = new StreamMeter(route, false, TokenGapListener.NONE, MAX_BODY);
    long nanos = 1_000_000L;
    meter.onResponseHead(200, "text/event-stream; charset=utf-8", nanos);
    for (int i = 0; i < f.readCount(); i++) {
      nanos += GAP_NANOS;
      meter.onBody(f.bytes, f.readOffset(i), f.readLength(i), nanos);
    }
    meter.onComplete(nanos + 1_000L);
    return meter.result();
  }
}
