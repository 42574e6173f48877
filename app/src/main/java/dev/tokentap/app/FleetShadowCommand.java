package dev.tokentap.app;

import dev.tokentap.app.fleet.FleetPrometheus;
import dev.tokentap.app.fleet.FleetShadowController;
import dev.tokentap.app.fleet.FleetShare;
import dev.tokentap.app.fleet.PodSidecars;
import dev.tokentap.app.fleet.SidecarAdmin;
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
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tokentap fleet shadow (--sidecar URL... | --selector LABELS) --target NAME --replicas K}: holds a staging
 * target's share of a fleet's traffic, as fleet-relative factors on leases, until stopped
 * (docs/shadow.md, "From a fleet").
 */
@Command(name = "shadow", mixinStandardHelpOptions = true,
    description = "Hold a staging target's share of the fleet's traffic: each sidecar's factor set on a lease, renewed every interval, released on exit.")
final class FleetShadowCommand implements Callable<Integer> {
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

  @ArgGroup(exclusive = true, multiplicity = "1")
  Share share;

  static final class Share {
    @Option(names = "--replicas", paramLabel = "K", description = "staging gets K times the load of one average production replica (each sidecar's factor K/N)")
    Double replicas;

    @Option(names = "--fleet", paramLabel = "K", description = "staging gets K times the whole fleet's load (each sidecar's factor K)")
    Double fleet;

    @Option(names = "--rate", paramLabel = "R",
        description = "staging gets R requests/s (each sidecar's factor R / the fleet's rate, read from their /metrics, or from --prometheus)")
    Double rate;
  }

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

  @Override
  public Integer call() throws Exception {
    FleetShadowController controller = controller(System.getenv(TOKEN_ENV));
    controller.start(duration("--interval", interval)); // checks the interval against the lease first
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      controller.close(); // releases every sidecar at once; a killed controller leaves the leases to run out
      stopped.countDown();
    }, "fleet-shadow-shutdown"));
    System.err.printf("tokentap fleet shadow: %s to %s from %s, renewed every %s on leases of %s%n",
        shareOf(), target, fleetOf.selector != null ? "pods " + fleetOf.selector : fleetOf.sidecars.size() + " sidecars", interval, lease);
    if (prometheus != null) {
      System.err.printf("tokentap fleet shadow: the fleet's figures from Prometheus at %s {%s} over %s%n", prometheus, prometheusSelector, prometheusWindow);
    }
    stopped.await();
    return 0;
  }

  FleetShadowController controller(String envToken) throws IOException {
    Duration ttl = duration("--lease", lease);
    String token = tokenFile != null ? Files.readString(tokenFile, StandardCharsets.UTF_8).strip() : envToken;
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    String bearer = token == null || token.isEmpty() ? null : token;
    FleetPrometheus readings = prometheus == null ? null
        : new FleetPrometheus(uri("--prometheus", prometheus), prometheusSelector, duration("--prometheus-window", prometheusWindow), http, Duration.ofSeconds(10));
    if (fleetOf.selector != null) {
      io.fabric8.kubernetes.client.KubernetesClient kubernetes = new io.fabric8.kubernetes.client.KubernetesClientBuilder().build();
      String ns = namespace != null ? namespace : kubernetes.getNamespace() != null ? kubernetes.getNamespace() : "default";
      return new FleetShadowController(new PodSidecars(kubernetes, ns, fleetOf.selector, adminPortName, adminPort, bearer, http), readings, target, shareOf(), ttl);
    }
    List<SidecarAdmin> admins = new ArrayList<>();
    for (String s : fleetOf.sidecars) {
      admins.add(new SidecarAdmin(uri("--sidecar", s), bearer, http, Duration.ofSeconds(5)));
    }
    if (admins.isEmpty()) {
      throw new IllegalArgumentException("--sidecar: none given (expected: at least one admin URL)");
    }
    return new FleetShadowController(SidecarSource.of(admins), readings, target, shareOf(), ttl);
  }

  private static URI uri(String option, String text) {
    try {
      return URI.create(text.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + ": " + text + " (expected: a URL such as http://10.0.0.5:9464)");
    }
  }

  private FleetShare shareOf() {
    if (share.replicas != null) {
      return new FleetShare(FleetShare.Kind.REPLICAS, share.replicas, maxFactor);
    }
    if (share.fleet != null) {
      return new FleetShare(FleetShare.Kind.FLEET, share.fleet, maxFactor);
    }
    return new FleetShare(FleetShare.Kind.RATE, share.rate, maxFactor);
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
