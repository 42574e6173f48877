package dev.tokentap.app;

import dev.tokentap.app.fleet.FleetPrometheus;
import dev.tokentap.app.fleet.FleetReadings;
import dev.tokentap.app.fleet.PodSidecars;
import dev.tokentap.app.fleet.SidecarAdmin;
import dev.tokentap.app.fleet.SidecarCounters;
import dev.tokentap.app.fleet.SidecarSource;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * The options every {@code tokentap fleet} command shares: where the sidecars are (a static list or
 * pods by label selector), their admin token, the shadow target, the leases, and where the fleet's
 * figures are read (the sidecars' /metrics, or Prometheus).
 */
final class FleetOptions {
  /** The environment variable read for the admin token when no --admin-token-file is given. */
  static final String TOKEN_ENV = "TOKENTAP_ADMIN_TOKEN";

  @ArgGroup(exclusive = true, multiplicity = "1")
  Fleet fleetOf;

  static final class Fleet {
    @Option(names = "--sidecar", split = ",", paramLabel = "URL",
        description = "a sidecar's admin listener, such as http://10.0.0.5:9464 (repeat, or separate with commas)")
    List<String> sidecars;

    @Option(names = "--selector", paramLabel = "LABELS",
        description = "the sidecars' pods, from the Kubernetes API (list pods), by label selector, such as app=vllm")
    String selector;
  }

  @Option(names = "--namespace", description = "with --selector: the pods' namespace (default: the client's, in a pod its own)")
  String namespace;

  @Option(names = "--admin-port-name", defaultValue = "admin", description = "with --selector: the container port naming tokentap's admin listener (default ${DEFAULT-VALUE})")
  String adminPortName;

  @Option(names = "--admin-port", defaultValue = "9464", description = "with --selector: the admin port where no container port has that name (default ${DEFAULT-VALUE})")
  int adminPort;

  @Option(names = "--target", required = true, description = "the shadow target, as named in every sidecar's tokentap.shadow.targets")
  String target;

  @Option(names = "--prometheus", paramLabel = "URL",
      description = "read the fleet's production rate and staging's results from this Prometheus (which scrapes the sidecars), such as http://prometheus:9090, instead of each sidecar's /metrics")
  String prometheus;

  @Option(names = "--prometheus-selector", paramLabel = "MATCHERS", defaultValue = "job=\"tokentap\"",
      description = "with --prometheus: label matchers for the sidecars' series (default ${DEFAULT-VALUE}; empty for all)")
  String prometheusSelector;

  @Option(names = "--prometheus-window", paramLabel = "DURATION", defaultValue = "1m",
      description = "with --prometheus: the rate() window, at least two scrape intervals (default ${DEFAULT-VALUE})")
  String prometheusWindow;

  @Option(names = "--max-factor", defaultValue = "16", description = "no sidecar's factor above this (default ${DEFAULT-VALUE})")
  double maxFactor;

  @Option(names = "--lease", defaultValue = "30s", description = "each factor's time to live; a sidecar not renewed by then returns to its configured factor (default ${DEFAULT-VALUE})")
  String lease;

  @Option(names = "--interval", defaultValue = "10s", description = "how often factors are worked out again and renewed; at most half the lease (default ${DEFAULT-VALUE})")
  String interval;

  @Option(names = "--admin-token-file", paramLabel = "FILE",
      description = "file holding the sidecars' tokentap.admin.token (default: the environment variable " + TOKEN_ENV + ", if set)")
  Path tokenFile;

  private HttpClient http; // made on first use: picocli makes this object for every command line, fleet or not

  private HttpClient http() {
    if (http == null) {
      http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }
    return http;
  }

  /** The sidecars: pods of the selector, or the listed URLs. */
  SidecarSource sidecars(String envToken) throws IOException {
    String token = tokenFile != null ? Files.readString(tokenFile, StandardCharsets.UTF_8).strip() : envToken;
    String bearer = token == null || token.isEmpty() ? null : token;
    if (fleetOf.selector != null) {
      io.fabric8.kubernetes.client.KubernetesClient kubernetes = new io.fabric8.kubernetes.client.KubernetesClientBuilder().build();
      String ns = namespace != null ? namespace : kubernetes.getNamespace() != null ? kubernetes.getNamespace() : "default";
      return new PodSidecars(kubernetes, ns, fleetOf.selector, adminPortName, adminPort, bearer, http());
    }
    List<SidecarAdmin> admins = new ArrayList<>();
    for (String s : fleetOf.sidecars) {
      admins.add(new SidecarAdmin(uri("--sidecar", s), bearer, http(), Duration.ofSeconds(5)));
    }
    if (admins.isEmpty()) {
      throw new IllegalArgumentException("--sidecar: none given (expected: at least one admin URL)");
    }
    return SidecarSource.of(admins);
  }

  /** Prometheus with --prometheus, else null. */
  FleetPrometheus prometheus() {
    return prometheus == null ? null
        : new FleetPrometheus(uri("--prometheus", prometheus), prometheusSelector, prometheusWindow(), http(), Duration.ofSeconds(10));
  }

  /** Prometheus with --prometheus, else the sidecars' own counters. */
  FleetReadings readings() {
    FleetPrometheus p = prometheus();
    return p != null ? p : new SidecarCounters();
  }

  Duration prometheusWindow() {
    return duration("--prometheus-window", prometheusWindow);
  }

  Duration lease() {
    return duration("--lease", lease);
  }

  Duration interval() {
    return duration("--interval", interval);
  }

  String fleetName() {
    return fleetOf.selector != null ? "pods " + fleetOf.selector : fleetOf.sidecars.size() + " sidecars";
  }

  static URI uri(String option, String text) {
    try {
      return URI.create(text.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + ": " + text + " (expected: a URL such as http://10.0.0.5:9464)");
    }
  }

  /** {@code 30s}, {@code 500ms}, {@code 2m}: more than 0. */
  static Duration duration(String option, String text) {
    var m = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)").matcher(text.strip());
    if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
      throw new IllegalArgumentException(option + ": " + text + " (expected: a duration such as 500ms, 30s or 2m, more than 0)");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }
}
