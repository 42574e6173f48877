package dev.tokentap.grafana;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/k8s/bench-indexed-job.yaml: an Indexed Job of bench shards on a shared volume and the merge
 * Job after it. The structure is checked as parsed YAML, and each container's shell script is run
 * with {@code sh} and a stand-in {@code java} that prints its arguments, so the env wiring
 * ({@code JOB_COMPLETION_INDEX} → {@code --shard I/N}, the shard and merge directories) is seen
 * working. Nothing here runs a cluster.
 */
class BenchJobManifestTest {
  private static final Path FILE = DeployFilesTest.DEPLOY.resolve("k8s/bench-indexed-job.yaml");
  private static final String JAR = "/opt/tokentap/tokentap.jar";

  private static Map<String, JsonNode> byKindAndName() throws Exception {
    Map<String, JsonNode> out = new HashMap<>();
    for (JsonNode doc : DeployFilesTest.docs(FILE)) {
      out.put(doc.path("kind").asText() + "/" + doc.path("metadata").path("name").asText(), doc);
    }
    return out;
  }

  private static JsonNode container(JsonNode job) {
    JsonNode containers = job.path("spec").path("template").path("spec").path("containers");
    assertThat(containers).hasSize(1);
    return containers.get(0);
  }

  private static Map<String, JsonNode> env(JsonNode container) {
    Map<String, JsonNode> out = new HashMap<>();
    container.path("env").forEach(e -> out.put(e.path("name").asText(), e));
    return out;
  }

  @Test
  void anIndexedJobOfShardsAndAMergeJobShareTheResultsVolume() throws Exception {
    Map<String, JsonNode> k = byKindAndName();
    assertThat(k).containsOnlyKeys("PersistentVolumeClaim/tokentap-bench-results", "Job/tokentap-bench", "Job/tokentap-bench-merge");
    assertThat(DeployFilesTest.strings(k.get("PersistentVolumeClaim/tokentap-bench-results").path("spec").path("accessModes")))
        .containsExactly("ReadWriteMany");

    JsonNode bench = k.get("Job/tokentap-bench");
    assertThat(bench.path("apiVersion").asText()).isEqualTo("batch/v1");
    JsonNode spec = bench.path("spec");
    assertThat(spec.path("completionMode").asText()).isEqualTo("Indexed");
    int shards = spec.path("completions").asInt();
    assertThat(shards).isGreaterThan(1);
    assertThat(spec.path("parallelism").asInt()).as("every shard runs at once").isEqualTo(shards);
    assertThat(spec.path("backoffLimit").asInt()).isZero();
    assertThat(spec.path("template").path("spec").path("restartPolicy").asText()).isEqualTo("Never");
    Map<String, JsonNode> benchEnv = env(container(bench));
    assertThat(benchEnv.get("JOB_COMPLETION_INDEX").path("valueFrom").path("fieldRef").path("fieldPath").asText())
        .isEqualTo("metadata.annotations['batch.kubernetes.io/job-completion-index']");
    assertThat(benchEnv.get("SHARDS").path("value").asText()).isEqualTo(Integer.toString(shards));

    JsonNode merge = k.get("Job/tokentap-bench-merge");
    assertThat(merge.path("spec").path("completions").asInt()).isEqualTo(1);
    assertThat(merge.path("spec").path("activeDeadlineSeconds").asInt()).isPositive();
    Map<String, JsonNode> mergeEnv = env(container(merge));
    assertThat(mergeEnv.get("SHARDS").path("value").asText()).isEqualTo(Integer.toString(shards));
    assertThat(mergeEnv.get("RUN").path("value").asText()).isEqualTo(benchEnv.get("RUN").path("value").asText());

    for (JsonNode job : List.of(bench, merge)) {
      JsonNode pod = job.path("spec").path("template").path("spec");
      assertThat(pod.path("volumes").get(0).path("persistentVolumeClaim").path("claimName").asText()).isEqualTo("tokentap-bench-results");
      assertThat(container(job).path("volumeMounts").get(0).path("mountPath").asText()).isEqualTo("/results");
      assertThat(container(job).path("image").asText()).isEqualTo(imageOfTheSidecar());
    }
  }

  @Test
  void eachPodRunsItsShardAndTheMergeWaitsForAllOfThem(@TempDir Path dir) throws Exception {
    Map<String, JsonNode> k = byKindAndName();
    JsonNode bench = container(k.get("Job/tokentap-bench"));
    int shards = k.get("Job/tokentap-bench").path("spec").path("completions").asInt();
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path java = bin.resolve("java");
    Files.writeString(java, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path results = Files.createDirectories(dir.resolve("results"));

    List<String> shardDirs = new ArrayList<>();
    for (int i = 0; i < shards; i++) {
      Map<String, String> env = new HashMap<>(values(bench));
      env.put("JOB_COMPLETION_INDEX", Integer.toString(i));
      List<String> args = run(bench, env, bin, results);
      assertThat(args.subList(0, 3)).containsExactly("-jar", JAR, "bench");
      Map<String, String> flags = flags(args.subList(3, args.size()));
      assertThat(DeployFilesTest.options("BenchCommand")).containsAll(flags.keySet());
      assertThat(flags.get("--shard")).isEqualTo(i + "/" + shards);
      assertThat(flags.get("--out")).isEqualTo(results + "/" + env.get("RUN") + "/shard-" + i);
      assertThat(flags).containsKeys("--target", "--load", "--seed");
      shardDirs.add(flags.get("--out"));
    }
    assertThat(Files.readString(Paths.repo().resolve("app/src/main/java/dev/tokentap/app/Main.java")))
        .contains("BenchCommand.class", "BenchMergeCommand.class");

    // The merge waits for every shard's report.html (the last file a run writes), then merges them all.
    JsonNode merge = container(k.get("Job/tokentap-bench-merge"));
    for (String d : shardDirs) {
      Files.createDirectories(Path.of(d));
      Files.writeString(Path.of(d, "report.html"), "<html>");
    }
    List<String> args = run(merge, values(merge), bin, results);
    assertThat(args.subList(0, 3)).containsExactly("-jar", JAR, "bench-merge");
    Set<String> declared = DeployFilesTest.options("BenchMergeCommand");
    assertThat(declared).contains(args.get(3));
    assertThat(args.subList(3, 5)).containsExactly("--out", results + "/" + values(merge).get("RUN") + "/merged");
    assertThat(args.subList(5, args.size())).containsExactlyElementsOf(shardDirs);
  }

  /** The container's literal env values. */
  private static Map<String, String> values(JsonNode container) {
    Map<String, String> out = new HashMap<>();
    env(container).forEach((name, e) -> {
      if (e.has("value")) {
        out.put(name, e.path("value").asText());
      }
    });
    return out;
  }

  /** Runs the container's {@code sh -c} script with {@code env}, /results moved to {@code results}; the stand-in java's arguments. */
  private static List<String> run(JsonNode container, Map<String, String> env, Path bin, Path results) throws Exception {
    assertThat(DeployFilesTest.strings(container.path("command"))).containsExactly("sh", "-c");
    String script = container.path("args").get(0).asText().replace("/results", results.toString());
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true);
    pb.environment().putAll(env);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    Process p = pb.start();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("the script ends (the merge found every shard)").isTrue();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.exitValue()).as(out).isZero();
    return out.lines().toList();
  }

  private static Map<String, String> flags(List<String> args) {
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i < args.size(); i += 2) {
      assertThat(args.get(i)).startsWith("--");
      out.put(args.get(i), args.get(i + 1));
    }
    return out;
  }

  private static String imageOfTheSidecar() throws Exception {
    Matcher m = Pattern.compile("image: (\\S*tokentap\\S*)").matcher(Files.readString(DeployFilesTest.DEPLOY.resolve("k8s/deployment.yaml")));
    assertThat(m.find()).isTrue();
    return m.group(1);
  }
}
