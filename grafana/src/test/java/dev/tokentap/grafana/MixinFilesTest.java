package dev.tokentap.grafana;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The committed rules, alerts and dashboards are exactly what {@code values.yaml} generates, so the
 * thresholds really live in one place. Run with {@code -Dtokentap.grafana.regenerate=true} to
 * rewrite them after editing values.yaml or the generator.
 */
class MixinFilesTest {
  static Map<String, String> generated() throws Exception {
    Mixin mixin = Mixin.load(Paths.module().resolve("values.yaml"));
    Map<String, String> files = new LinkedHashMap<>(mixin.files());
    for (Map.Entry<String, Dashboards> e : Dashboards.all(mixin).entrySet()) {
      files.put(e.getKey(), e.getValue().render());
    }
    return files;
  }

  @Test
  void committedFilesAreWhatValuesYamlGenerates() throws Exception {
    boolean regenerate = Boolean.getBoolean("tokentap.grafana.regenerate");
    for (Map.Entry<String, String> e : generated().entrySet()) {
      Path file = Paths.module().resolve(e.getKey());
      if (regenerate) {
        Files.createDirectories(file.getParent());
        Files.writeString(file, e.getValue(), StandardCharsets.UTF_8);
      }
      assertThat(file).as("%s is generated; run with -Dtokentap.grafana.regenerate=true", e.getKey()).exists();
      assertThat(Files.readString(file)).as("%s differs from what values.yaml generates; run with -Dtokentap.grafana.regenerate=true", e.getKey())
          .isEqualTo(e.getValue());
    }
  }
}
