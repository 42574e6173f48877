package dev.tokentap.proxy.relay;

import dev.tokentap.meter.Api;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The relay's per-request body work (docs/performance.md, "Request bodies"): reading {@code
 * model}, {@code stream} and {@code stream_options} and injecting usage, on the request the
 * end-to-end bench sends ({@code small}) and on a chat request with a 4 KiB conversation and a
 * tool definition ({@code chat4k}). In the relay's package because the inspector is package-private.
 *
 * <ul>
 *   <li>{@code inspect}: {@link RequestBodyInspector#inspect}, the relay's path (the byte scanner,
 *       usage injected).
 *   <li>{@code jackson}: the same through Jackson's streaming parser, the path before the scanner
 *       and still the one for bodies the scanner leaves to Jackson.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class RequestBodyBenchmark {
  @Param({"small", "chat4k"})
  public String body;

  private byte[] bytes;

  @Setup
  public void setup() {
    String json = switch (body) {
      case "small" -> "{\"model\":\"m\",\"stream\":true,\"max_tokens\":64,\"ignore_eos\":true,"
          + "\"messages\":[{\"role\":\"user\",\"content\":\"Tell me about proxies.\"}]}";
      default -> {
        StringBuilder b = new StringBuilder("{\"model\":\"meta-llama/Llama-3.1-8B-Instruct\",\"messages\":[");
        for (int i = 0; b.length() < 4096; i++) {
          b.append(i == 0 ? "" : ",").append("{\"role\":\"").append(i % 2 == 0 ? "user" : "assistant")
              .append("\",\"content\":\"Turn ").append(i).append(": a question about caching, \\\"quoted\\\", with a newline\\nand more text.\"}");
        }
        yield b.append("],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"lookup\",\"parameters\":{\"type\":\"object\","
            + "\"properties\":{\"q\":{\"type\":\"string\"}},\"required\":[\"q\"]}}}],\"stream\":true,\"temperature\":0.2}").toString();
      }
    };
    bytes = json.getBytes(StandardCharsets.UTF_8);
    if (RequestBodyScanner.scan(bytes) == null || inspect().injectedBody() == null) {
      throw new IllegalStateException("the scanner deferred on the benchmark's body");
    }
  }

  @Benchmark
  public RequestBodyInspector.Inspection inspect() {
    return RequestBodyInspector.inspect(bytes, Api.OPENAI, true, 0);
  }

  @Benchmark
  public RequestBodyInspector.Inspection jackson() {
    return RequestBodyInspector.withJackson(bytes, Api.OPENAI, true, 0);
  }
}
