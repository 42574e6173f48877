package dev.tokentap.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.meter.MeterResult;
import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.Route;
import dev.tokentap.meter.TokenSource;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.Role;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongUnaryOperator;

/**
 * {@code requests.jsonl}: one JSON line per measured request, times in ms from the run's first
 * start; and read back ({@link #read}) into samples that give the same report, for {@link ShardMerge}.
 */
final class RequestsJsonl {
  private RequestsJsonl() {}

  /** The lines of {@code measured}; {@code step} (when above 0) names the load step they belong to. */
  static void write(Writer w, List<BenchSample> measured, int step) throws IOException {
    ObjectMapper line = new ObjectMapper();
    long t0 = measured.stream().mapToLong(BenchSample::startNanos).min().orElse(0);
    for (BenchSample s : measured) {
      FinishedRequest r = s.record();
      ObjectNode n = line.createObjectNode();
      if (step > 0) {
        n.put("step", step);
      }
      n.put("index", s.index());
      if (s.turn() > 0) {
        n.put("turn", s.turn());
      }
      n.put("outcome", r.outcome().label());
      n.put("status", r.status());
      n.put("slo", r.slo());
      n.put("start_ms", (s.startNanos() - t0) / 1e6);
      n.put("queue_ms", s.queueSeconds() * 1e3);
      n.put("schedule_lag_ms", s.scheduleLagSeconds() * 1e3);
      if (r.sentNanos() != MeterResult.NEVER) {
        n.put("sent_ms", (r.sentNanos() - t0) / 1e6);
      }
      putMillis(n, "ttft_ms", r.ttftSeconds());
      putMillis(n, "tpot_ms", r.tpotSeconds());
      putMillis(n, "e2el_ms", r.e2eSeconds());
      n.put("input_tokens", r.inputTokens());
      n.put("output_tokens", r.outputTokens());
      n.put("token_source", r.tokenSource().label());
      var itl = n.putArray("itl_ms");
      for (long g : s.itlGapsNanos()) {
        itl.add(g / 1e6);
      }
      w.write(line.writeValueAsString(n));
      w.write('\n');
    }
  }

  private static void putMillis(ObjectNode n, String key, double seconds) {
    if (!Double.isNaN(seconds)) {
      n.put(key, seconds * 1e3);
    }
  }

  /**
   * The samples of a {@code requests.jsonl} written by {@link #write} for one step, rebuilt so that
   * every per-request number (TTFT, TPOT, E2E, each ITL gap, queue time, schedule lag, socket
   * lateness) comes out of the report as the same double that was written: times become whole
   * nanoseconds again, on a clock whose zero is {@code originNanos} before the file's first start.
   *
   * @param route the requests' route and {@code model} their model (from the run's {@code result.json})
   * @param firstStartUnixMillis the file's first start on the wall clock
   * @param index the index a line's {@code index} has in the merged run
   */
  static List<BenchSample> read(Path file, Route route, String model, long originNanos, double firstStartUnixMillis,
      LongUnaryOperator index) throws IOException {
    return JsonLines.read(file, "expected: a line of requests.jsonl as tokentap bench --out writes it",
        n -> sample(n, route, model, originNanos, firstStartUnixMillis, index));
  }

  private static BenchSample sample(JsonNode n, Route route, String model, long originNanos, double firstStartUnixMillis,
      LongUnaryOperator index) {
    long start = originNanos + nanos(required(n, "start_ms"));
    Outcome outcome = label(Outcome.values(), required(n, "outcome").asText(), Outcome::label, "outcome");
    long end = start + nanos(n.path("e2el_ms"));
    long first = n.has("ttft_ms") ? start + nanos(n.get("ttft_ms")) : MeterResult.NEVER;
    JsonNode itlNode = n.path("itl_ms");
    long[] itl = new long[itlNode.size()];
    for (int i = 0; i < itl.length; i++) {
      itl[i] = nanos(itlNode.get(i));
    }
    long last = first == MeterResult.NEVER ? MeterResult.NEVER : first + Arrays.stream(itl).sum();
    double tpot = n.has("tpot_ms") ? secondsWritten(n.get("tpot_ms").asDouble()) : Double.NaN;
    int status = n.path("status").asInt();
    MeterResult meter = new MeterResult(status, MeterResult.NEVER, first, first, last, end, itl.length + 1, first == MeterResult.NEVER ? 0 : itl.length + 1,
        1, n.path("output_tokens").asLong(-1), label(TokenSource.values(), n.path("token_source").asText("none"), TokenSource::label, "token_source"),
        n.path("input_tokens").asLong(-1), -1, -1, false, outcome == Outcome.OK, outcome, tpot, 0, null);
    long sent = n.has("sent_ms") ? originNanos + nanos(n.get("sent_ms")) : MeterResult.NEVER;
    FinishedRequest record = new FinishedRequest(Role.BENCH, Bench.TARGET, route, model, "POST",
        (long) (firstStartUnixMillis + n.get("start_ms").asDouble()), start, start, sent, end, status, outcome,
        n.path("slo").asText("none"), 0, 0, meter, 0);
    long send = start + nanos(n.path("queue_ms"));
    long dispatch = start + nanos(n.path("schedule_lag_ms"));
    return new BenchSample(index.applyAsLong(n.path("index").asLong()), false, dispatch, send, 0, record, itl, n.path("turn").asInt(0));
  }

  private static JsonNode required(JsonNode n, String key) {
    if (!n.hasNonNull(key)) {
      throw new IllegalArgumentException("no " + key);
    }
    return n.get(key);
  }

  /** A time written as {@code nanos / 1e6} ms, as whole nanoseconds again (exact below about 100 days). */
  private static long nanos(JsonNode ms) {
    return ms.isMissingNode() || ms.isNull() ? 0 : Math.round(ms.asDouble() * 1e6);
  }

  /** The seconds whose {@code × 1e3} is {@code ms}, the value written, so the report's ms are that value again. */
  private static double secondsWritten(double ms) {
    double s = ms / 1e3;
    for (double candidate : new double[] {s, Math.nextUp(s), Math.nextDown(s)}) {
      if (candidate * 1e3 == ms) {
        return candidate;
      }
    }
    return s;
  }

  private static <E> E label(E[] values, String text, java.util.function.Function<E, String> label, String key) {
    for (E v : values) {
      if (label.apply(v).equals(text)) {
        return v;
      }
    }
    throw new IllegalArgumentException(key + " " + text + " is none of " + Arrays.stream(values).map(label).toList());
  }
}
