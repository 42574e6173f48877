package dev.tokentap.grafana;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The deployment recipes parse and agree with each other and with the jar: docker-compose.yml,
 * config/prometheus.yml, Grafana provisioning, the Dockerfile and the Kubernetes manifests name
 * files that exist, the jar's verbs and flags ({@code proxy --listen --upstream --admin --config},
 * {@code emulate --listen --profile}), and its ports (8080 proxy, 9464 admin, 8000 server).
 * Nothing here runs Docker or a cluster.
 */
class DeployFilesTest {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static final Path DEPLOY = Paths.repo().resolve("deploy");

  static JsonNode yaml(Path p) throws Exception {
    return YAML.readTree(p.toFile());
  }

  static List<JsonNode> docs(Path p) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(p.toFile())) {
      while (it.hasNext()) {
        JsonNode n = it.next();
        if (n != null && !n.isNull() && !n.isEmpty()) {
          out.add(n);
        }
      }
    }
    return out;
  }

  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** The option names a picocli command class declares. */
  static Set<String> options(String commandClass) throws Exception {
    String src = Files.readString(Paths.repo().resolve("app/src/main/java/dev/tokentap/app/" + commandClass + ".java"));
    Set<String> out = new HashSet<>();
    Matcher m = Pattern.compile("@Option\\(names = \"([^\"]+)\"").matcher(src);
    while (m.find()) {
      out.add(m.group(1));
    }
    // Options a command takes from picocli mixins (@Mixin SomeOptions field) are its own too.
    Matcher mixin = Pattern.compile("@Mixin\\s+(?:final\\s+)?([A-Z][A-Za-z0-9]*)").matcher(src);
    while (mixin.find()) {
      out.addAll(options(mixin.group(1)));
    }
    return out;
  }

  /** Checks a {@code proxy ...} or {@code emulate ...} argument list against the jar; returns flag → value. */
  static Map<String, String> checkArgs(List<String> args) throws Exception {
    String verb = args.get(0);
    String src = Files.readString(Paths.repo().resolve("app/src/main/java/dev/tokentap/app/Main.java"));
    assertThat(verb).isIn("proxy", "emulate");
    assertThat(src).contains(verb.equals("proxy") ? "ProxyCommand.class" : "EmulateCommand.class");
    String cmdSrc = Files.readString(Paths.repo().resolve("app/src/main/java/dev/tokentap/app/" + (verb.equals("proxy") ? "ProxyCommand" : "EmulateCommand") + ".java"));
    assertThat(cmdSrc).contains("@Command(name = \"" + verb + "\"");
    Set<String> declared = options(verb.equals("proxy") ? "ProxyCommand" : "EmulateCommand");
    Map<String, String> flags = new HashMap<>();
    for (int i = 1; i < args.size(); i += 2) {
      assertThat(declared).as("%s declares %s", verb, args.get(i)).contains(args.get(i));
      flags.put(args.get(i), args.get(i + 1));
    }
    if (verb.equals("proxy")) {
      assertThat(flags).containsKeys("--listen", "--upstream", "--admin", "--config");
      assertThat(flags.get("--listen")).isEqualTo("0.0.0.0:8080");
      assertThat(flags.get("--admin")).isEqualTo("0.0.0.0:9464");
      assertThat(flags.get("--upstream")).endsWith(":8000");
    } else {
      assertThat(flags.get("--listen")).isEqualTo("0.0.0.0:8000");
    }
    return flags;
  }

  @Test
  void dockerfileCopiesTheBuiltJarAndRunsTheProxyVerb() throws Exception {
    String dockerfile = Files.readString(DEPLOY.resolve("Dockerfile"));
    String appPom = Files.readString(Paths.repo().resolve("app/pom.xml"));
    assertThat(appPom).as("app/pom.xml names the jar tokentap(.jar)").contains("<finalName>tokentap</finalName>");
    assertThat(dockerfile).contains("COPY app/target/tokentap.jar /opt/tokentap/tokentap.jar", "\"-jar\", \"/opt/tokentap/tokentap.jar\"");
    Matcher copy = Pattern.compile("(?m)^COPY (\\S+) (\\S+)$").matcher(dockerfile);
    while (copy.find()) {
      if (!copy.group(1).startsWith("app/target/")) {
        assertThat(Paths.repo().resolve(copy.group(1))).as("Dockerfile COPY source").exists();
      }
    }
    Matcher cmd = Pattern.compile("(?m)^CMD (\\[.*])$").matcher(dockerfile);
    assertThat(cmd.find()).isTrue();
    List<String> args = strings(new ObjectMapper().readTree(cmd.group(1)));
    Map<String, String> flags = checkArgs(args);
    assertThat(dockerfile).contains("COPY config/tokentap.conf " + flags.get("--config"));
    assertThat(dockerfile).contains("EXPOSE 8080 9464");
  }

  @Test
  void composeWiresTokentapEmulatorPrometheusAndGrafana() throws Exception {
    JsonNode compose = yaml(DEPLOY.resolve("docker-compose.yml"));
    JsonNode services = compose.path("services");
    assertThat(services.has("tokentap") && services.has("emulator") && services.has("prometheus") && services.has("grafana")).isTrue();

    // Every bind-mounted file or directory exists; builds use the shipped Dockerfile.
    Map<String, String> mounts = new HashMap<>();
    for (JsonNode service : services) {
      for (JsonNode v : service.path("volumes")) {
        String[] parts = v.asText().split(":");
        if (parts[0].startsWith(".")) {
          assertThat(DEPLOY.resolve(parts[0]).normalize()).as("compose volume %s", v.asText()).exists();
          mounts.put(parts[1], DEPLOY.resolve(parts[0]).normalize().toString());
        }
      }
      if (service.has("build")) {
        Path context = DEPLOY.resolve(service.path("build").path("context").asText()).normalize();
        assertThat(context.resolve(service.path("build").path("dockerfile").asText())).exists();
      }
    }

    Map<String, String> flags = checkArgs(strings(services.path("tokentap").path("command")));
    assertThat(flags.get("--upstream")).isEqualTo("http://emulator:8000");
    assertThat(mounts.get(flags.get("--config"))).isEqualTo(Paths.repo().resolve("config/tokentap.conf").toString());
    assertThat(strings(services.path("tokentap").path("ports"))).contains("8080:8080", "9464:9464");
    checkArgs(strings(services.path("emulator").path("command")));
    assertThat(strings(services.path("emulator").path("ports"))).contains("8000:8000");
    assertThat(services.path("traffic").path("entrypoint").toString()).contains("http://tokentap:8080/v1/chat/completions");

    // Prometheus loads the shipped scrape config, and the mixin's rules where that config looks.
    assertThat(mounts.get("/etc/prometheus/prometheus.yml")).isEqualTo(Paths.repo().resolve("config/prometheus.yml").toString());
    JsonNode prom = yaml(Paths.repo().resolve("config/prometheus.yml"));
    for (JsonNode ruleGlob : prom.path("rule_files")) {
      String dir = ruleGlob.asText().substring(0, ruleGlob.asText().lastIndexOf('/'));
      assertThat(mounts).as("a volume provides %s", dir).containsKey(dir);
      assertThat(mounts.get(dir)).isIn(Paths.module().resolve("rules").toString(), Paths.module().resolve("alerts").toString());
    }
    Map<String, String> targets = new HashMap<>();
    for (JsonNode job : prom.path("scrape_configs")) {
      targets.put(job.path("job_name").asText(), job.path("static_configs").get(0).path("targets").get(0).asText());
    }
    assertThat(targets).containsEntry("tokentap", "tokentap:9464").containsEntry("inference-server", "emulator:8000");
    JsonNode values = yaml(Paths.module().resolve("values.yaml"));
    assertThat(values.path("tokentapSelector").asText()).isEqualTo("job=\"tokentap\"");
    assertThat(values.path("serverSelector").asText()).isEqualTo("job=\"inference-server\"");

    // Grafana: provisioning mounted where Grafana reads it, dashboards where the provider looks.
    assertThat(mounts.get("/etc/grafana/provisioning/datasources")).isEqualTo(Paths.module().resolve("provisioning/datasources").toString());
    assertThat(mounts.get("/etc/grafana/provisioning/dashboards")).isEqualTo(Paths.module().resolve("provisioning/dashboards").toString());
    JsonNode provider = yaml(Paths.module().resolve("provisioning/dashboards/tokentap.yml")).path("providers").get(0);
    assertThat(mounts.get(provider.path("options").path("path").asText())).isEqualTo(Paths.module().resolve("dashboards").toString());
    JsonNode datasource = yaml(Paths.module().resolve("provisioning/datasources/prometheus.yml")).path("datasources").get(0);
    assertThat(datasource.path("type").asText()).isEqualTo("prometheus");
    assertThat(datasource.path("url").asText()).isEqualTo("http://prometheus:9090");
    assertThat(strings(services.path("prometheus").path("ports"))).contains("9090:9090");
  }

  static Map<String, JsonNode> manifests() throws Exception {
    Map<String, JsonNode> byKind = new HashMap<>();
    try (Stream<Path> files = Files.list(DEPLOY.resolve("k8s"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        for (JsonNode doc : docs(f)) {
          assertThat(doc.path("apiVersion").asText()).as("%s has apiVersion", f.getFileName()).isNotBlank();
          assertThat(doc.path("metadata").path("name").asText()).as("%s has a name", f.getFileName()).isNotBlank();
          byKind.put(doc.path("kind").asText() + "/" + doc.path("metadata").path("name").asText(), doc);
        }
      }
    }
    return byKind;
  }

  @Test
  void kubernetesSidecarProbesTerminationAndScrape() throws Exception {
    Map<String, JsonNode> k = manifests();
    assertThat(k).containsKeys("Deployment/inference", "Service/inference", "ServiceMonitor/inference", "ConfigMap/tokentap-config",
        "ScaledObject/inference", "HorizontalPodAutoscaler/inference", "ConfigMap/prometheus-adapter");
    JsonNode pod = k.get("Deployment/inference").path("spec").path("template").path("spec");
    JsonNode tokentap = null;
    JsonNode server = null;
    for (JsonNode c : pod.path("containers")) {
      if (c.path("name").asText().equals("tokentap")) {
        tokentap = c;
      } else {
        server = c;
      }
    }
    assertThat(tokentap).isNotNull();
    assertThat(server).isNotNull();
    Map<String, String> flags = checkArgs(strings(tokentap.path("args")));
    assertThat(flags.get("--upstream")).isEqualTo("http://127.0.0.1:8000");
    Map<String, Integer> ports = new HashMap<>();
    tokentap.path("ports").forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
    server.path("ports").forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
    assertThat(ports).containsEntry("http", 8080).containsEntry("admin", 9464).containsEntry("server", 8000);

    // Probes: readiness on /ready, liveness on /health, both on the admin port.
    assertThat(tokentap.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/ready");
    assertThat(ports.get(tokentap.path("readinessProbe").path("httpGet").path("port").asText())).isEqualTo(9464);
    assertThat(tokentap.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/health");
    assertThat(ports.get(tokentap.path("livenessProbe").path("httpGet").path("port").asText())).isEqualTo(9464);

    // Graceful termination: tokentap keeps relaying through its preStop, the server outlives it,
    // and the grace period covers both.
    int tokentapSleep = Integer.parseInt(strings(tokentap.path("lifecycle").path("preStop").path("exec").path("command")).get(1));
    int serverSleep = Integer.parseInt(strings(server.path("lifecycle").path("preStop").path("exec").path("command")).get(1));
    assertThat(serverSleep).isGreaterThan(tokentapSleep);
    assertThat(pod.path("terminationGracePeriodSeconds").asInt()).isGreaterThan(serverSleep);

    // --config points into the mounted ConfigMap, which has that key and the same ports.
    String config = flags.get("--config");
    JsonNode mount = null;
    for (JsonNode m : tokentap.path("volumeMounts")) {
      if (config.startsWith(m.path("mountPath").asText() + "/")) {
        mount = m;
      }
    }
    assertThat(mount).as("a volume is mounted at %s", config).isNotNull();
    String volumeName = mount.path("name").asText();
    String cmName = null;
    for (JsonNode v : pod.path("volumes")) {
      if (v.path("name").asText().equals(volumeName)) {
        cmName = v.path("configMap").path("name").asText();
      }
    }
    JsonNode cm = k.get("ConfigMap/" + cmName);
    assertThat(cm).as("ConfigMap %s", cmName).isNotNull();
    String conf = cm.path("data").path(config.substring(config.lastIndexOf('/') + 1)).asText();
    assertThat(conf).contains("listen = \"0.0.0.0:8080\"", "upstream = \"http://127.0.0.1:8000\"", "listen = \"0.0.0.0:9464\"");

    // The Service exposes tokentap's ports by name; the ServiceMonitor scrapes them as the mixin's jobs.
    JsonNode service = k.get("Service/inference");
    Map<String, String> servicePorts = new HashMap<>();
    for (JsonNode p : service.path("spec").path("ports")) {
      assertThat(ports).as("Service targetPort %s is a container port", p.path("targetPort").asText()).containsKey(p.path("targetPort").asText());
      servicePorts.put(p.path("name").asText(), p.path("targetPort").asText());
    }
    assertThat(ports.get(servicePorts.get("http"))).isEqualTo(8080);
    JsonNode podLabels = k.get("Deployment/inference").path("spec").path("template").path("metadata").path("labels");
    service.path("spec").path("selector").fields().forEachRemaining(e -> assertThat(podLabels.path(e.getKey()).asText()).isEqualTo(e.getValue().asText()));
    JsonNode sm = k.get("ServiceMonitor/inference");
    sm.path("spec").path("selector").path("matchLabels").fields()
        .forEachRemaining(e -> assertThat(service.path("metadata").path("labels").path(e.getKey()).asText()).isEqualTo(e.getValue().asText()));
    Map<String, String> jobs = new HashMap<>();
    for (JsonNode ep : sm.path("spec").path("endpoints")) {
      assertThat(servicePorts).containsKey(ep.path("port").asText());
      assertThat(ep.path("path").asText()).isEqualTo("/metrics");
      jobs.put(ep.path("relabelings").get(0).path("replacement").asText(), servicePorts.get(ep.path("port").asText()));
    }
    assertThat(ports.get(jobs.get("tokentap"))).isEqualTo(9464);
    assertThat(ports.get(jobs.get("inference-server"))).isEqualTo(8000);
  }

  @Test
  void thePrometheusRuleCarriesEveryShippedGroup() throws Exception {
    JsonNode rule = yaml(DEPLOY.resolve("k8s/prometheusrule.yaml"));
    assertThat(rule.path("kind").asText()).isEqualTo("PrometheusRule");
    assertThat(rule.path("apiVersion").asText()).isEqualTo("monitoring.coreos.com/v1");
    List<JsonNode> shipped = new ArrayList<>();
    for (String dir : List.of("rules", "alerts")) {
      try (var files = Files.list(Paths.module().resolve(dir))) {
        for (Path f : files.sorted().toList()) {
          yaml(f).path("groups").forEach(shipped::add);
        }
      }
    }
    List<JsonNode> inResource = new ArrayList<>();
    rule.path("spec").path("groups").forEach(inResource::add);
    assertThat(inResource).hasSize(shipped.size()).containsExactlyInAnyOrderElementsOf(shipped);
  }

  @Test
  void autoscalersTargetTheDeploymentOnSignalsThatExist() throws Exception {
    Map<String, JsonNode> k = manifests();
    String metrics = Files.readString(Paths.repo().resolve("proxy/src/main/java/dev/tokentap/proxy/metrics/TokentapMetrics.java"));
    StringBuilder rules = new StringBuilder();
    try (Stream<Path> s = Files.list(Paths.module().resolve("rules"))) {
      for (Path p : s.toList()) {
        rules.append(Files.readString(p));
      }
    }
    JsonNode keda = k.get("ScaledObject/inference");
    assertThat(keda.path("spec").path("scaleTargetRef").path("name").asText()).isEqualTo("inference");
    List<String> queries = new ArrayList<>();
    keda.path("spec").path("triggers").forEach(t -> {
      assertThat(t.path("type").asText()).isEqualTo("prometheus");
      queries.add(t.path("metadata").path("query").asText());
    });
    assertThat(String.join("\n", queries)).contains("tokentap_requests_in_flight", "model_name:inference_server_saturation:ratio");
    assertThat(metrics).contains("// tokentap_requests_in_flight{target,role}");
    assertThat(rules).contains("record: model_name:inference_server_saturation:ratio");

    JsonNode hpa = k.get("HorizontalPodAutoscaler/inference");
    assertThat(hpa.path("spec").path("scaleTargetRef").path("name").asText()).isEqualTo("inference");
    String metric = hpa.path("spec").path("metrics").get(0).path("pods").path("metric").path("name").asText();
    assertThat(metric).isEqualTo("tokentap_requests_in_flight");
    JsonNode adapter = YAML.readTree(k.get("ConfigMap/prometheus-adapter").path("data").path("config.yaml").asText());
    assertThat(adapter.path("rules").get(0).path("name").path("as").asText()).isEqualTo(metric);
  }
}
