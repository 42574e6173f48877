package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * What a result file needs to stand alone, besides its numbers: where the load went, the seed, the
 * command that ran it, and the build and machine that measured it. The version and git commit come
 * from {@code build.properties}, filled in by Maven when the module is built ({@code -Dtokentap.commit=…};
 * {@code unknown} otherwise).
 *
 * @param targets the base URLs the requests went to
 * @param seed the seed of lengths and arrival times
 * @param commandLine the command as typed, arguments quoted where a shell would need it; null when
 *     the run was not started from the command line
 * @param startedAt when the run started
 */
public record RunInfo(List<String> targets, long seed, String commandLine, Instant startedAt) {
  private static final Properties BUILD = build();

  public RunInfo {
    targets = List.copyOf(targets);
    requireNonNull(startedAt, "startedAt");
  }

  /** {@code tokentap} with {@code args} (the subcommand first), each quoted when it holds anything but safe characters. */
  public static String commandLine(List<String> args) {
    return "tokentap" + args.stream().map(a -> " " + (a.matches("[A-Za-z0-9_./:=,@+%-]+") ? a : "'" + a.replace("'", "'\\''") + "'"))
        .collect(Collectors.joining());
  }

  public static String version() {
    return BUILD.getProperty("version", "unknown");
  }

  public static String commit() {
    return BUILD.getProperty("commit", "unknown");
  }

  /** The JVM's name and version. */
  public static String jvm() {
    return System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version");
  }

  public ObjectNode toJson() {
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("started_at", startedAt.toString());
    var t = o.putArray("targets");
    targets.forEach(t::add);
    o.put("seed", seed);
    o.put("command_line", commandLine);
    o.put("tokentap_version", version());
    o.put("git_commit", commit());
    o.put("jvm", jvm());
    o.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    o.put("cores", Runtime.getRuntime().availableProcessors());
    return o;
  }

  private static Properties build() {
    Properties p = new Properties();
    try (InputStream in = RunInfo.class.getResourceAsStream("build.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // Left empty: every value reads "unknown".
    }
    // Unfiltered (run from an IDE without Maven): a placeholder is no version.
    p.stringPropertyNames().stream().filter(k -> p.getProperty(k).startsWith("${")).toList().forEach(p::remove);
    return p;
  }
}
