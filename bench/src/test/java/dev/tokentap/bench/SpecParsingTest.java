package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** --load, --slo and length specs: good forms, and one test per bad form showing the message. */
class SpecParsingTest {

  @Test
  void loads() {
    assertThat(LoadPlan.parse("concurrency:8", 0)).isEqualTo(LoadPlan.closed(8));
    LoadPlan p = LoadPlan.parse("gamma:20:0.5", 4);
    assertThat(p.closedLoop()).isFalse();
    assertThat(p.arrivals()).isEqualTo(ArrivalSchedule.Kind.GAMMA);
    assertThat(p.rate()).isEqualTo(20);
    assertThat(p.burstiness()).isEqualTo(0.5);
    assertThat(p.concurrency()).isEqualTo(4);
    assertThat(LoadPlan.parse("poisson:2.5", 0).describe()).isEqualTo("poisson:2.5");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "concurrency:0 | concurrency: 0 (expected: >= 1)",
    "poisson:-1 | rate: -1.0 (expected: > 0",
    "poisson | --load poisson (expected: concurrency:N",
    "bursty:5 | --load bursty:5 (expected",
    "constant:fast | --load constant:fast (expected",
    "gamma:10:0 | burstiness: 0.0",
  })
  void badLoads(String spec, String message) {
    assertThatThrownBy(() -> LoadPlan.parse(spec, 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }

  @Test
  void ceilingOnlyForOpenLoop() {
    assertThatThrownBy(() -> LoadPlan.parse("concurrency:4", 2)).hasMessageContaining("--max-concurrency applies to open-loop");
  }

  @Test
  void slos() {
    SloSpec s = SloSpec.parse("ttft=500ms,tpot=50ms,e2e=20s");
    assertThat(s.ttft()).isEqualTo(Duration.ofMillis(500));
    assertThat(s.tpot()).isEqualTo(Duration.ofMillis(50));
    assertThat(s.e2e()).isEqualTo(Duration.ofSeconds(20));
    assertThat(s.describe()).as("integers as integers").isEqualTo("ttft=500ms,tpot=50ms,e2e=20000ms");
    assertThat(SloSpec.parse("ttft=1.5ms").describe()).isEqualTo("ttft=1.5ms");
    assertThat(SloSpec.parse(null).isEmpty()).isTrue();
    assertThatThrownBy(() -> SloSpec.parse("ttft=fast")).hasMessageContaining("'fast' (expected: a positive duration");
    assertThatThrownBy(() -> SloSpec.parse("itl=5ms")).hasMessageContaining("unknown key 'itl'");
    assertThatThrownBy(() -> SloSpec.parse("ttft")).hasMessageContaining("expected: ttft=500ms");
    assertThatThrownBy(() -> SloSpec.parse("ttft=0ms")).hasMessageContaining("positive duration");
  }

  @Test
  void lengths() {
    Random r = new Random(1);
    assertThat(LengthDistribution.parse("128").sample(r)).isEqualTo(128);
    assertThat(LengthDistribution.parse("fixed:7").sample(r)).isEqualTo(7);
    LengthDistribution u = LengthDistribution.parse("uniform:10:12");
    for (int i = 0; i < 100; i++) {
      assertThat(u.sample(r)).isBetween(10, 12);
    }
    LengthDistribution n = LengthDistribution.parse("normal:100:10");
    double sum = 0;
    for (int i = 0; i < 10_000; i++) {
      sum += n.sample(r);
    }
    assertThat(sum / 10_000).isBetween(99.0, 101.0);
    assertThatThrownBy(() -> LengthDistribution.parse("uniform:12:10")).hasMessageContaining("MIN <= MAX");
    assertThatThrownBy(() -> LengthDistribution.parse("0")).hasMessageContaining(">= 1");
    assertThatThrownBy(() -> LengthDistribution.parse("zipf:3")).hasMessageContaining("expected: N, fixed:N, uniform:MIN:MAX, normal:MEAN:SD, empirical:LEN=WEIGHT:… or hist:PATH");
    assertThatThrownBy(() -> LengthDistribution.parse("normal:0:1")).hasMessageContaining("MEAN >= 1");
  }
}
