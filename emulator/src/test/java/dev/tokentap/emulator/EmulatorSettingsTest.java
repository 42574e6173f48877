package dev.tokentap.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code tokentap.emulator} read once, with messages naming the full key. */
class EmulatorSettingsTest {

  @Test
  void defaultsComeFromReferenceConf() {
    EmulatorSettings s = EmulatorSettings.defaults();

    assertThat(s.host()).isEqualTo("127.0.0.1");
    assertThat(s.port()).isEqualTo(8000);
    assertThat(s.profile()).isEqualTo(EngineProfile.realistic());
    assertThat(s.seed()).isZero();
    assertThat(s.tokensPerChunk()).isEqualTo(1);
    assertThat(s.defaultMaxTokens()).isEqualTo(1024);
    assertThat(s.meanOutputTokens()).isEqualTo(128);
    assertThat(s.defaultFault()).isNull();
    assertThat(s.ioThreads()).isZero();
    assertThat(s.servedModelName()).isEqualTo("tokentap-emulator-8b");
    assertThat(s.maxRequestBodyBytes()).isEqualTo(8 * 1024 * 1024);
    assertThat(s.embeddingDimensions()).isEqualTo(384);
  }

  @Test
  void engineKeysReplaceSingleValuesOfTheProfile() {
    EmulatorSettings s =
        EmulatorSettings.fromConfig(
            config(
                "tokentap.emulator { profile = fast, engine { base-step = 2ms, kv-cache-tokens ="
                    + " 5000 } }"));

    assertThat(s.profile().baseStep()).isEqualTo(Duration.ofMillis(2));
    assertThat(s.profile().kvCacheTokens()).isEqualTo(5000);
    assertThat(s.profile().perSequenceStep()).isEqualTo(EngineProfile.fast().perSequenceStep());
    assertThat(s.profile().prefillTokensPerSecond()).isEqualTo(2_500_000);
  }

  @Test
  void faultAndOtherKeysAreRead() {
    EmulatorSettings s =
        EmulatorSettings.fromConfig(
            config(
                "tokentap.emulator { port = 0, fault = \"stall-after=3:2s\", tokens-per-chunk = 4,"
                    + " seed = -9, embedding-dimensions = 1024, divergence = 0.2 }"));
    assertThat(s.divergence()).isEqualTo(0.2);
    assertThat(s.defaultFault()).isEqualTo("stall-after=3:2s");
    assertThat(s.tokensPerChunk()).isEqualTo(4);
    assertThat(s.seed()).isEqualTo(-9);
    assertThat(s.port()).isZero();
    assertThat(s.embeddingDimensions()).isEqualTo(1024);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "engine.base-step = -1ms           | tokentap.emulator.engine.base-step: -1ms (expected: >="
            + " 0)",
        "engine.per-sequence-step = -1us   | tokentap.emulator.engine.per-sequence-step: -1us"
            + " (expected: >= 0)",
        "engine.prefill-tokens-per-second = 0 | tokentap.emulator.engine.prefill-tokens-per-second:"
            + " 0 (expected: > 0)",
        "engine.max-num-seqs = 0           | tokentap.emulator.engine.max-num-seqs: 0 (expected: >="
            + " 1)",
        "engine.max-batched-tokens = -5    | tokentap.emulator.engine.max-batched-tokens: -5"
            + " (expected: >= 1)",
        "engine.kv-cache-tokens = 0        | tokentap.emulator.engine.kv-cache-tokens: 0 (expected:"
            + " >= 1)",
        "port = 70000                      | tokentap.emulator.port: 70000 (expected: 0..65535)",
        "profile = turbo                   | tokentap.emulator.profile: turbo (expected: one of"
            + " realistic, fast)",
        "fault = explode                   | tokentap.emulator.fault: explode (expected: none |"
            + " status=CODE",
        "tokens-per-chunk = 0              | tokentap.emulator.tokens-per-chunk: 0 (expected: >="
            + " 1)",
        "default-max-tokens = 0            | tokentap.emulator.default-max-tokens: 0 (expected: >="
            + " 1)",
        "mean-output-tokens = 0.5          | tokentap.emulator.mean-output-tokens: 0.5 (expected:"
            + " >= 1)",
        "io-threads = -1                   | tokentap.emulator.io-threads: -1 (expected: >= 0)",
        "host = \"\"                       | tokentap.emulator.host:  (expected: not blank)",
        "max-request-body-size = 0         | tokentap.emulator.max-request-body-size: 0 (expected:"
            + " 1..2147483647 bytes)",
        "port = abc                        | tokentap.emulator.port: abc (expected: an integer)",
        "embedding-dimensions = 0          | tokentap.emulator.embedding-dimensions: 0 (expected:"
            + " 1..65536)",
        "embedding-dimensions = 70000      | tokentap.emulator.embedding-dimensions: 70000"
            + " (expected: 1..65536)",
        "embedding-dimensions = many       | tokentap.emulator.embedding-dimensions: many"
            + " (expected: an integer)",
        "engine.base-step = soon           | tokentap.emulator.engine.base-step: soon (expected: a"
            + " duration such as 7ms)",
        "engine = 5                        | tokentap.emulator.engine: Wrong value type",
        "divergence = 1.5                  | tokentap.emulator.divergence: 1.5 (expected: 0..1)",
      })
  void badValueNamesTheKey(String setting, String message) {
    assertThatThrownBy(() -> EmulatorSettings.fromConfig(config("tokentap.emulator." + setting)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message);
  }

  @Test
  void profilesByName() {
    assertThat(EngineProfile.named("realistic")).isEqualTo(EngineProfile.realistic());
    assertThat(EngineProfile.named("fast")).isEqualTo(EngineProfile.fast());
    assertThatThrownBy(() -> EngineProfile.named("slow"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("realistic, fast");
  }

  @Test
  void realisticMatchesDesignSection7AndFastIsAHundredTimesFaster() {
    EngineProfile r = EngineProfile.realistic();
    assertThat(r.stepNanos(64, 0))
        .isEqualTo(Duration.ofNanos(12_120_000).toNanos()); // "about 12 ms at 64"
    assertThat(r.stepNanos(256, 0))
        .isEqualTo(Duration.ofNanos(27_480_000).toNanos()); // "27 ms at 256"
    assertThat(r.stepNanos(0, 25_000)).isEqualTo(Duration.ofMillis(1007).toNanos());
    EngineProfile f = EngineProfile.fast();
    assertThat(f.stepNanos(64, 8192) * 100).isEqualTo(r.stepNanos(64, 8192));
    assertThat(f.maxNumSeqs()).isEqualTo(r.maxNumSeqs());
    assertThat(f.kvCacheTokens()).isEqualTo(r.kvCacheTokens());
  }

  private static Config config(String hocon) {
    return ConfigFactory.parseString(hocon)
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }
}
