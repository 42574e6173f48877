package dev.tokentap.meter;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.tokentap.testkit.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The JSON share of the steady-state event cost (docs/performance.md), on the data of the same
 * chunk {@code StreamMeterBenchmark.steadyChunk} feeds. In the meter's package because {@link
 * OpenAiDialect}, {@link EventFacts} and {@link ReusableJsonParser} are package-private.
 *
 * <ul>
 *   <li>{@code dialectReadEvent}: {@link OpenAiDialect#readEvent}, everything the meter does per
 *       event except SSE framing and timing. The chunk takes {@link ChatChunkScanner}'s fast path.
 *   <li>{@code dialectReadEventJacksonOnly}: the same without the scanner, as before it existed.
 *   <li>{@code jacksonTokensOnly}: the floor under it, the same reusable Jackson parser walking
 *       every token of the document and doing nothing with them.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class OpenAiDialectBenchmark {
  private static final byte[] NO_TYPE = new byte[0];

  private byte[] data;
  private OpenAiDialect dialect;
  private OpenAiDialect jacksonOnly;
  private final EventFacts facts = new EventFacts();
  private ReusableJsonParser parser;

  @Setup(Level.Trial)
  public void setup() {
    String stream = new String(Fixtures.stream("openai-chat-usage.sse"), StandardCharsets.UTF_8);
    String event = stream.split("\n\n")[1]; // the steady-state chunk: delta.content "I'm"
    if (!event.startsWith("data: ")) {
      throw new IllegalStateException(event);
    }
    data = event.substring("data: ".length()).getBytes(StandardCharsets.UTF_8);
    dialect = new OpenAiDialect();
    jacksonOnly = OpenAiDialect.jacksonOnly();
    parser = new ReusableJsonParser();
    facts.reset();
    dialect.readEvent(NO_TYPE, 0, data, data.length, facts);
    if (!facts.parsed || facts.choiceCount != 1 || (facts.choiceFlags[0] & EventFacts.TOKEN) == 0) {
      throw new IllegalStateException("the dialect misread the chunk");
    }
  }

  @Benchmark
  public int dialectReadEvent() {
    facts.reset();
    dialect.readEvent(NO_TYPE, 0, data, data.length, facts);
    return facts.choiceFlags[0];
  }

  @Benchmark
  public int dialectReadEventJacksonOnly() {
    facts.reset();
    jacksonOnly.readEvent(NO_TYPE, 0, data, data.length, facts);
    return facts.choiceFlags[0];
  }

  @Benchmark
  public int jacksonTokensOnly() throws IOException {
    JsonParser p = parser.open(data, 0, data.length);
    int tokens = 0;
    int depth = 0;
    do {
      JsonToken t = p.nextToken();
      tokens++;
      if (t.isStructStart()) {
        depth++;
      } else if (t.isStructEnd()) {
        depth--;
      }
    } while (depth > 0);
    if (!parser.finishDocument()) {
      throw new IllegalStateException("trailing bytes");
    }
    return tokens;
  }
}
