package dev.tokentap.grafana;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the module and the repository are (tests run with the module directory as working directory). */
final class Paths {
  private Paths() {}

  static Path module() {
    Path here = Path.of("").toAbsolutePath();
    if (Files.exists(here.resolve("values.yaml"))) {
      return here;
    }
    return here.resolve("grafana");
  }

  static Path repo() {
    return module().getParent();
  }

  /** The named binary on PATH, or null. */
  static Path onPath(String name) {
    for (String p : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path candidate = Path.of(p, name);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  static boolean prometheusRequired() {
    return "true".equals(System.getenv("TOKENTAP_REQUIRE_PROMETHEUS"));
  }
}
