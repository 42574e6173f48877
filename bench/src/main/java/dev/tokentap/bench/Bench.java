package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.proxy.metrics.ModelLabels;
import dev.tokentap.proxy.metrics.SloPolicy;
import dev.tokentap.proxy.metrics.TokentapMetrics;
import dev.tokentap.proxy.record.RequestRecorder;
import dev.tokentap.proxy.record.Role;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * One bench session against its targets ({@link BenchSetup}): the recorder (role {@code bench}, the proxy's metrics and
 * SLO policy), the client, and runs of the same workload at given loads.
 */
public final class Bench implements AutoCloseable {
  /** The {@code target} label of bench requests in metrics. */
  public static final String TARGET = "bench";

  private final BenchSetup setup;
  private final SloSpec slo;
  private final RequestRecorder recorder;
  private final StreamingClient client;
  private final BenchListener listener;
  /** Runs so far; each is a step. Runs happen one after another on the caller's thread. */
  private int steps;

  public Bench(URI base, SloSpec slo, MeterRegistry registry, Duration requestTimeout) {
    this(base, slo, registry, requestTimeout, BenchListener.NONE);
  }

  /** With {@code listener} told of every step and request as the session runs. */
  public Bench(URI base, SloSpec slo, MeterRegistry registry, Duration requestTimeout, BenchListener listener) {
    this(BenchSetup.of(requireNonNull(base, "base")), slo, registry, requestTimeout, listener);
  }

  /** Over {@code setup}'s targets, cancelling and slicing as it says. */
  public Bench(BenchSetup setup, SloSpec slo, MeterRegistry registry, Duration requestTimeout, BenchListener listener) {
    this.setup = requireNonNull(setup, "setup");
    this.listener = requireNonNull(listener, "listener");
    this.slo = requireNonNull(slo, "slo");
    this.recorder = new RequestRecorder(
        new TokentapMetrics(registry, slo.rules()), new SloPolicy(slo.rules()), new ModelLabels(100), 1 << 20);
    this.client = new StreamingClient(setup.targets(), setup.policy(), recorder, TARGET, requestTimeout);
    // On the first scrape, before the first request.
    recorder.metrics().registerInFlight(TARGET, Role.BENCH);
  }

  public RequestRecorder recorder() {
    return recorder;
  }

  public SloSpec slo() {
    return slo;
  }

  /** Runs {@code options} once, as the session's next step, and reports it. */
  public BenchReport run(BenchRunner.Options options) throws InterruptedException {
    int step = ++steps;
    listener.stepStarted(step, options);
    BenchRunner.Run run = new BenchRunner(client, listener, setup.cancellation()).run(options);
    BenchReport report = new BenchReport(run, options.workload().describe(), options.load(), slo, setup);
    listener.stepFinished(step, report);
    return report;
  }

  /** The first model {@code GET /v1/models} lists, as vLLM's bench does without {@code --model}. */
  public static String firstModel(URI base) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    HttpResponse<String> r;
    try {
      r = http.send(
          HttpRequest.newBuilder(URI.create(base + "/v1/models")).timeout(Duration.ofSeconds(10)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IOException("cannot reach " + base + "/v1/models (" + e + "); is the target up? Or pass --model", e);
    }
    JsonNode id = r.statusCode() == 200 ? new ObjectMapper().readTree(r.body()).path("data").path(0).path("id") : null;
    if (id == null || !id.isTextual()) {
      throw new IOException(base + "/v1/models answered " + r.statusCode() + " without a model id; pass --model");
    }
    return id.asText();
  }

  @Override
  public void close() {
    client.close();
  }
}
