package dev.tokentap.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.meter.MeterResult;
import dev.tokentap.proxy.record.FinishedRequest;
import java.io.IOException;
import java.io.Writer;
import java.util.List;

/** {@code requests.jsonl}: one JSON line per measured request, times in ms from the run's first start. */
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
}
