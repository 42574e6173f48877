package dev.tokentap.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code tokentap.shadow.drop-headers}: the client's credentials never reach a shadow target,
 * whatever its {@code remove-headers} say (docs/shadow.md, "What staging receives").
 */
class ShadowDropHeadersTest {
  static final String TARGET = "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\" %s }]\n";

  static ShadowTarget target(String targetExtra, String more) {
    return SettingsLoaderTest.load(String.format(TARGET, targetExtra) + more).shadow().targets().get(0);
  }

  @Test
  void everyCredentialHeaderIsDroppedByDefault() {
    assertThat(target("", "").removeHeaders())
        .containsExactly("authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "x-goog-api-key",
            "ocp-apim-subscription-key", "x-amz-security-token");
  }

  @Test
  void aTargetsOwnRemovalsAddToTheDroppedOnesAndNeverReplaceThem() {
    assertThat(target(", remove-headers = [X-Trace, x-api-key]", "").removeHeaders())
        .startsWith("authorization", "proxy-authorization", "cookie", "x-api-key")
        .contains("x-trace")
        .doesNotHaveDuplicates();
  }

  @Test
  void theListCanBeExtendedOrDeliberatelyEmptied() {
    assertThat(target("", "tokentap.shadow.drop-headers = ${tokentap.shadow.drop-headers} [X-Tenant-Key]").removeHeaders())
        .contains("authorization", "x-tenant-key");
    assertThat(target("", "tokentap.shadow.drop-headers = []").removeHeaders()).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "tokentap.shadow.drop-headers = [\"x api key\"]         | tokentap.shadow.drop-headers: \"x api key\" (expected: header names",
    "tokentap.shadow.drop-headers = [\"\"]                  | tokentap.shadow.drop-headers: \"\" (expected: header names",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", remove-headers = [\"a:b\"] }] | tokentap.shadow.targets[0].remove-headers: \"a:b\"",
  })
  void aBadNameIsReportedWithItsKey(String hocon, String expected) {
    assertThatThrownBy(() -> SettingsLoaderTest.load(hocon)).isInstanceOf(SettingsException.class).hasMessageContaining(expected.trim());
  }

  /** The environment's form, a comma-separated string, read as the variable would give it. */
  @Test
  void aCommaSeparatedStringIsAList() {
    var r = new SettingsLoader.Reader(ConfigFactory.parseString("k = \" Authorization, X-API-Key ,cookie\"\nblank = \" \""));
    assertThat(ShadowTargetsReader.headerNames(r, "k")).containsExactly("authorization", "x-api-key", "cookie");
    assertThatThrownBy(() -> ShadowTargetsReader.headerNames(r, "blank"))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("blank: \"\" (expected: header names, as a list or comma-separated; [] in a config file to name none)");
  }

  /** Run with TOKENTAP_SHADOW_DROP_HEADERS set (docs/shadow.md) to check the override end to end. */
  @Test
  @EnabledIfEnvironmentVariable(named = "TOKENTAP_SHADOW_DROP_HEADERS", matches = ".*x-from-env.*")
  void theEnvironmentOverrideReplacesTheList() {
    Settings s = SettingsLoader.load(SettingsLoader.resolve(null, java.util.Map.of("tokentap.shadow.targets",
        java.util.List.of(java.util.Map.of("name", "s", "upstream", "http://s:1")))));
    assertThat(s.shadow().targets().get(0).removeHeaders()).contains("x-from-env").doesNotContain("cookie");
  }
}
