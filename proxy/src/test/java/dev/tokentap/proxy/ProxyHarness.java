package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.proxy.config.SettingsLoader;
import dev.tokentap.proxy.record.FinishedRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A real proxy on ephemeral ports in front of {@code upstream}, collecting every finished record. */
public final class ProxyHarness implements AutoCloseable {
  public final Tokentap tokentap;
  public final LinkedBlockingQueue<FinishedRequest> finished = new LinkedBlockingQueue<>();
  public final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  public ProxyHarness(String upstream) throws Exception {
    this(upstream, Map.of());
  }

  public ProxyHarness(String upstream, Map<String, Object> extra) throws Exception {
    this(upstream, extra, java.util.List.of());
  }

  public ProxyHarness(String upstream, Map<String, Object> extra, java.util.List<dev.tokentap.proxy.tap.RequestTapFactory> taps) throws Exception {
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("tokentap.proxy.listen", "127.0.0.1:0");
    overrides.put("tokentap.admin.listen", "127.0.0.1:0");
    overrides.put("tokentap.proxy.upstream", upstream);
    overrides.put("tokentap.proxy.io-threads", 2);
    overrides.put("tokentap.access-log.enabled", false);
    overrides.put("tokentap.proxy.shutdown-grace-period", "1s");
    overrides.putAll(extra);
    tokentap = Tokentap.start(SettingsLoader.load(SettingsLoader.resolve(null, overrides)), taps);
    tokentap.recorder().addListener(finished::add);
  }

  public URI url(String path) {
    return URI.create("http://127.0.0.1:" + tokentap.proxyAddress().getPort() + path);
  }

  URI adminUrl(String path) {
    return URI.create("http://127.0.0.1:" + tokentap.adminAddress().getPort() + path);
  }

  public HttpResponse<byte[]> post(String path, String json) throws Exception {
    return http.send(
        HttpRequest.newBuilder(url(path)).timeout(java.time.Duration.ofSeconds(20)).header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  public String metrics() throws Exception {
    return http.send(HttpRequest.newBuilder(adminUrl("/metrics")).timeout(java.time.Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  /** The next finished record, waiting up to 5 s. */
  public FinishedRequest next() throws InterruptedException {
    FinishedRequest r = finished.poll(5, TimeUnit.SECONDS);
    assertThat(r).as("a finished request record").isNotNull();
    return r;
  }

  @Override
  public void close() {
    tokentap.close();
  }
}
