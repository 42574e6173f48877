package dev.tokentap.proxy.record;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.tokentap.meter.MeterResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;

/**
 * Writes one JSON line per finished request: timestamps, route, model, target, status, outcome,
 * TTFT, TPOT, E2E, tokens, token source and bytes. Never prompt or completion text and never
 * headers, so nothing a user typed or an API key can reach the log.
 *
 * <p>Written off the event loops ({@link QueuedLineWriter}); a line dropped because the writer
 * fell behind or could not write is counted in {@code tokentap_access_log_dropped_total}.
 */
public final class AccessLog extends QueuedLineWriter {
  private final OutputStream out;
  private final boolean closeOut;

  public AccessLog(String destination, int queueSize, MeterRegistry registry) throws IOException {
    super(queueSize, Counter.builder("tokentap.access.log.dropped")
        .description("Access-log lines dropped because the writer fell behind or could not write")
        .register(registry), "tokentap-access-log");
    switch (destination) {
      // Other threads print to stdout and stderr too: a batch is one write there, never part of a line.
      // (Their PrintStreams keep a failed write to themselves: only a file's failures are counted.)
      case "stdout" -> {
        out = System.out;
        closeOut = false;
      }
      case "stderr" -> {
        out = System.err;
        closeOut = false;
      }
      default -> {
        out = new FileOutputStream(destination, true);
        closeOut = true;
      }
    }
    start();
  }

  @Override
  void writeOut(byte[] bytes, int length) throws IOException {
    out.write(bytes, 0, length);
    out.flush();
  }

  @Override
  void format(FinishedRequest r, OutputStream to) throws IOException {
    JsonGenerator g = JSON.createGenerator(to, JsonEncoding.UTF8);
    g.writeStartObject();
    g.writeStringField("ts", Instant.ofEpochMilli(r.wallClockStartMillis()).toString());
    g.writeStringField("role", r.role().label());
    g.writeStringField("target", r.target());
    g.writeStringField("route", r.route().label());
    g.writeStringField("model", r.model());
    if (r.tenant() != null) {
      g.writeStringField("tenant", r.tenant());
    }
    g.writeStringField("method", r.method());
    g.writeNumberField("status", r.status());
    g.writeStringField("outcome", r.outcome().label());
    g.writeStringField("slo", r.slo());
    millis(g, "ttfb_ms", r.ttfbSeconds());
    millis(g, "ttft_ms", r.ttftSeconds());
    millis(g, "ttfo_ms", r.ttfoSeconds());
    millis(g, "tpot_ms", r.tpotSeconds());
    millis(g, "e2e_ms", r.e2eSeconds());
    MeterResult m = r.meter();
    if (m != null) {
      g.writeNumberField("output_tokens", m.outputTokens());
      if (m.inputTokens() >= 0) {
        g.writeNumberField("input_tokens", m.inputTokens());
      }
      if (m.reasoningTokens() >= 0) {
        g.writeNumberField("reasoning_tokens", m.reasoningTokens());
      }
      if (m.cachedInputTokens() >= 0) {
        g.writeNumberField("cached_input_tokens", m.cachedInputTokens());
      }
      g.writeStringField("token_source", m.tokenSource().label());
      g.writeNumberField("events", m.events());
      g.writeNumberField("token_events", m.tokenEvents());
      if (m.finishReason() != null) {
        g.writeStringField("finish_reason", m.finishReason().label());
      }
    }
    g.writeNumberField("request_bytes", r.requestBytes());
    g.writeNumberField("response_bytes", r.responseBytes());
    g.writeEndObject();
    g.writeRaw('\n');
    g.close();
  }

  private static void millis(JsonGenerator g, String field, double seconds) throws IOException {
    if (!Double.isNaN(seconds)) {
      g.writeNumberField(field, Math.round(seconds * 1e6) / 1e3);
    }
  }

  @Override
  void closeOutput() throws IOException {
    if (closeOut) {
      out.close();
    }
  }
}
