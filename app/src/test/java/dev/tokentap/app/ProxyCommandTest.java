package dev.tokentap.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsException;
import dev.tokentap.proxy.config.SettingsLoader;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProxyCommandTest {

  @Test
  void shadowFlagBecomesATargetOverTheDefaults() {
    Map<String, Object> overrides =
        Map.of("tokentap.shadow.targets", List.of(ProxyCommand.shadowTarget("staging=http://10.0.0.7:8000,factor=2.5,spread-window=2s")));
    Settings s = SettingsLoader.load(SettingsLoader.resolve(null, overrides));
    assertThat(s.shadow().targets()).singleElement().satisfies(t -> {
      assertThat(t.name()).isEqualTo("staging");
      assertThat(t.upstream().toString()).isEqualTo("http://10.0.0.7:8000");
      assertThat(t.factor()).isEqualTo(2.5);
      assertThat(t.spreadWindow()).hasSeconds(2);
      assertThat(t.removeHeaders()).contains("authorization", "x-api-key", "cookie");
    });
  }

  @Test
  void aShadowFlagWithoutNameEqualsUrlIsRefused() {
    assertThatThrownBy(() -> ProxyCommand.shadowTarget("http://x:1")).isInstanceOf(SettingsException.class).hasMessageContaining("--shadow http://x:1");
  }

  @Test
  void aCaptureFileThatCannotBeOpenedStopsTheProxyWithItsKey() {
    MainTest.Run r = MainTest.run("proxy", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--capture", "/no/such/dir/capture.jsonl");
    assertThat(r.status()).isEqualTo(3);
    assertThat(r.err()).contains("tokentap.capture.file: \"/no/such/dir/capture.jsonl\" (expected: a file tokentap can create or append to");
  }
}
