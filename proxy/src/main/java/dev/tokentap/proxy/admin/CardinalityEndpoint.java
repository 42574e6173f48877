package dev.tokentap.proxy.admin;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.distribution.HistogramSupport;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the labels cost: {@code GET /admin/cardinality} lists every metric family with its label sets
 * (meters) and the series Prometheus scrapes of them (a histogram: one per bucket, +Inf, count, sum
 * and max), and how many distinct values each label of the tokentap families has (model, tenant…).
 * {@code tokentap_metric_series{family}} exports the label sets per family, kept up to date as
 * meters come and go, so a dashboard shows a label growing.
 */
public final class CardinalityEndpoint implements AdminEndpoint {
  static final String METRIC = "tokentap.metric.series";

  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, AtomicLong> labelSets = new ConcurrentHashMap<>();

  public CardinalityEndpoint(MeterRegistry registry) {
    this.registry = registry;
    registry.config().onMeterAdded(m -> count(m, 1));
    registry.config().onMeterRemoved(m -> count(m, -1));
    registry.getMeters().forEach(m -> count(m, 1));
  }

  @Override
  public String path() {
    return "/admin/cardinality";
  }

  @Override
  public Response handle(String method, String query, byte[] body) {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      return Response.json(405, "{\"error\":\"GET\"}");
    }
    Map<String, long[]> families = new TreeMap<>(); // family -> {label sets, series}
    Map<String, Set<String>> values = new TreeMap<>();
    long total = 0;
    for (Meter m : registry.getMeters()) {
      long series = series(m);
      total += series;
      long[] f = families.computeIfAbsent(family(m), k -> new long[2]);
      f[0]++;
      f[1] += series;
      if (m.getId().getName().startsWith("tokentap.")) {
        for (Tag t : m.getId().getTagsAsIterable()) {
          values.computeIfAbsent(t.getKey(), k -> new HashSet<>()).add(t.getValue());
        }
      }
    }
    List<Map.Entry<String, long[]>> sorted = new ArrayList<>(families.entrySet());
    sorted.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
    StringBuilder json = new StringBuilder("{\"series\":").append(total).append(",\"families\":[");
    for (int i = 0; i < sorted.size(); i++) {
      Map.Entry<String, long[]> e = sorted.get(i);
      json.append(i == 0 ? "" : ",").append("{\"family\":\"").append(e.getKey()).append("\",\"label_sets\":").append(e.getValue()[0])
          .append(",\"series\":").append(e.getValue()[1]).append('}');
    }
    json.append("],\"label_values\":{");
    Map<String, Integer> counts = new HashMap<>();
    values.forEach((k, v) -> counts.put(k, v.size()));
    new TreeMap<>(counts).forEach((k, n) -> json.append(json.charAt(json.length() - 1) == '{' ? "" : ",")
        .append('"').append(k).append("\":").append(n));
    return Response.json(200, json.append("}}\n").toString());
  }

  /** The family's name as Prometheus shows it (tokentap_requests_total, …_seconds). */
  private String family(Meter m) {
    String name = m.getId().getConventionName(registry.config().namingConvention());
    // The Prometheus client adds _total to counters as it writes them.
    return m.getId().getType() == Meter.Type.COUNTER && !name.endsWith("_total") ? name + "_total" : name;
  }

  /** Series one meter exposes: a measurement each (count, sum, max…), plus the buckets of a histogram and +Inf. */
  private static long series(Meter m) {
    long n = 0;
    for (var ignored : m.measure()) {
      n++;
    }
    if (m instanceof HistogramSupport h) {
      int buckets = h.takeSnapshot().histogramCounts().length;
      n += buckets == 0 ? 0 : buckets + 1;
    }
    return n;
  }

  private void count(Meter m, int delta) {
    if (m.getId().getName().equals(METRIC)) {
      return;
    }
    String family = family(m);
    AtomicLong n = labelSets.get(family);
    if (n == null) {
      AtomicLong fresh = new AtomicLong();
      n = labelSets.putIfAbsent(family, fresh);
      if (n == null) {
        n = fresh;
        Gauge.builder(METRIC, fresh, AtomicLong::get)
            .description("Label sets (meters) per metric family: what the model, tenant and other labels cost; GET /admin/cardinality has the series with buckets")
            .tag("family", family)
            .register(registry);
      }
    }
    n.addAndGet(delta);
  }
}
