package dev.tokentap.benchmarks.e2e;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Everything measured for one path at one load, summed over that pair's interleaved rounds. */
final class PathResult {
  final String path;
  final int streams;
  final Histogram ttft = new Histogram(3);
  final Histogram itl = new Histogram(3);
  long events;
  long requests;
  long errors;
  long reconnects;
  double seconds;
  /** CPU seconds of the process behind the path (the proxy; the emulator for the direct path). */
  double cpuSeconds;
  /** Of {@link #cpuSeconds}, what the JVM's JIT compiler threads used (0 for nginx). */
  double jitSeconds;
  /** At the end of the last round, with every stream open; -1 when not measured. */
  long rssBytes = -1;
  long heapBytes = -1;
  int openAtEnd;

  PathResult(String path, int streams) {
    this.path = path;
    this.streams = streams;
  }

  void add(SseLoadClient.Stats s, double seconds, double cpuSeconds, double jitSeconds) {
    ttft.add(s.ttft);
    itl.add(s.itl);
    events += s.events;
    requests += s.requests;
    errors += s.errors;
    reconnects += s.reconnects;
    this.seconds += seconds;
    this.cpuSeconds += cpuSeconds;
    this.jitSeconds += jitSeconds;
  }

  double eventsPerSecond() {
    return events / seconds;
  }

  double requestsPerSecond() {
    return requests / seconds;
  }

  double cpuSecondsPerMillionEvents() {
    return events == 0 ? Double.NaN : cpuSeconds / events * 1e6;
  }

  static double micros(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
  }

  Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", path);
    m.put("streams", streams);
    m.put("ttftP50Micros", micros(ttft, 50));
    m.put("ttftP99Micros", micros(ttft, 99));
    m.put("itlP50Micros", micros(itl, 50));
    m.put("itlP99Micros", micros(itl, 99));
    m.put("itlMeanMicros", itl.getMean() / 1000.0);
    m.put("events", events);
    m.put("requests", requests);
    m.put("errors", errors);
    m.put("reconnects", reconnects);
    m.put("seconds", seconds);
    m.put("eventsPerSecond", eventsPerSecond());
    m.put("requestsPerSecond", requestsPerSecond());
    m.put("cpuSeconds", cpuSeconds);
    m.put("cpuSecondsPerMillionEvents", cpuSecondsPerMillionEvents());
    m.put("jitCpuSeconds", jitSeconds);
    m.put("rssBytes", rssBytes);
    m.put("heapBytes", heapBytes);
    m.put("openConnectionsAtEnd", openAtEnd);
    return m;
  }
}
