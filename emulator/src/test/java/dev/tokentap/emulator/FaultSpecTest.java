package dev.tokentap.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class FaultSpecTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "status=503            | STATUS      | 503 | -1 | 0",
        "status=429            | STATUS      | 429 | -1 | 0",
        "error-after=3         | ERROR_AFTER | 0   | 3  | 0",
        "reset-after=0         | RESET_AFTER | 0   | 0  | 0",
        "close-after=12        | CLOSE_AFTER | 0   | 12 | 0",
        "stall-after=3:2s      | STALL_AFTER | 0   | 3  | 2000",
        "' Stall-After = 5:250ms ' | STALL_AFTER | 0 | 5 | 250",
      })
  void parses(String spec, FaultSpec.Kind kind, int status, int after, long stallMillis) {
    FaultSpec f = FaultSpec.parse(spec);
    assertThat(f.kind()).isEqualTo(kind);
    assertThat(f.status()).isEqualTo(status);
    assertThat(f.afterTokens()).isEqualTo(after);
    assertThat(f.stall()).isEqualTo(Duration.ofMillis(stallMillis));
  }

  @Test
  void noneBlankAndNullAreNoFault() {
    assertThat(FaultSpec.parse("none").isNone()).isTrue();
    assertThat(FaultSpec.parse(" ").isNone()).isTrue();
    assertThat(FaultSpec.parse(null).isNone()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "explode",
        "status=200",
        "status=600",
        "status=abc",
        "error-after=-1",
        "reset-after=",
        "stall-after=3",
        "stall-after=3:forever",
        "stall-after=x:1s",
        "close-after=1.5"
      })
  void rejectsWithTheSyntax(String spec) {
    assertThatThrownBy(() -> FaultSpec.parse(spec))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(spec + " (expected: " + FaultSpec.SYNTAX + ")");
  }
}
