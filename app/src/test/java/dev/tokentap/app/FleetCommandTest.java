package dev.tokentap.app;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code tokentap fleet shadow}: bad input ends with a reason and no sidecar touched. */
class FleetCommandTest {

  @Test
  void badSettingsExitWithAReason() {
    MainTest.Run r = MainTest.run("fleet", "shadow", "--sidecar", "http://127.0.0.1:1", "--target", "staging", "--replicas", "2", "--lease", "forever");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("--lease: forever (expected: a duration such as 500ms, 30s or 2m");

    r = MainTest.run("fleet", "shadow", "--sidecar", "http://127.0.0.1:1", "--target", "staging", "--replicas", "2", "--lease", "10s", "--interval", "6s");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("at most half the lease");

    r = MainTest.run("fleet", "shadow", "--sidecar", "ftp://x", "--target", "staging", "--fleet", "1");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("sidecar: ftp://x (expected: the admin listener's URL");

    r = MainTest.run("fleet", "shadow", "--sidecar", "http://127.0.0.1:1", "--target", "staging", "--replicas", "-2");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("replicas: -2.0");

    r = MainTest.run("fleet", "shadow", "--sidecar", "http://127.0.0.1:1", "--target", "staging", "--replicas", "2", "--rate", "5");
    assertThat(r.status()).as("one share only").isEqualTo(2);
    r = MainTest.run("fleet", "shadow", "--sidecar", "http://127.0.0.1:1", "--target", "staging");
    assertThat(r.status()).as("a share is needed").isEqualTo(2);
    r = MainTest.run("fleet", "shadow", "--sidecar", "http://127.0.0.1:1", "--selector", "app=vllm", "--target", "staging", "--fleet", "1");
    assertThat(r.status()).as("a list or a selector, not both").isEqualTo(2);
    r = MainTest.run("fleet", "shadow", "--selector", "app=vllm", "--namespace", "Not_A_Namespace", "--target", "staging", "--fleet", "1");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("namespace: Not_A_Namespace");

    r = MainTest.run("fleet", "shadow", "--sidecar", "http://127.0.0.1:1", "--target", "staging", "--replicas", "2", "--prometheus", "prometheus:9090");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("prometheus: prometheus:9090 (expected: the URL of the Prometheus that scrapes the sidecars");
    r = MainTest.run("fleet", "shadow", "--sidecar", "http://127.0.0.1:1", "--target", "staging", "--replicas", "2", "--prometheus", "http://127.0.0.1:1",
        "--prometheus-selector", "job=tokentap");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("prometheus-selector: job=tokentap (expected: PromQL label matchers");
    r = MainTest.run("fleet", "shadow", "--sidecar", "http://127.0.0.1:1", "--target", "staging", "--replicas", "2", "--prometheus", "http://127.0.0.1:1",
        "--prometheus-window", "500ms");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("prometheus-window: 500ms (expected: 1s to 1h");
    assertThat(MainTest.run("fleet", "--help").out()).contains("shadow").contains("ramp");
  }

  @Test
  void badRampsExitWithAReason() {
    MainTest.Run r = MainTest.run("fleet", "ramp", "--sidecar", "http://127.0.0.1:1", "--target", "staging", "--factors", "2,1");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("factors: 2,1 (expected: ascending numbers >= 0");
    r = MainTest.run("fleet", "ramp", "--sidecar", "http://127.0.0.1:1", "--target", "staging", "--attainment", "1.5");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("--attainment: 1.5 (expected: more than 0 and at most 1)");
    r = MainTest.run("fleet", "ramp", "--sidecar", "http://127.0.0.1:1", "--target", "staging", "--prometheus", "http://127.0.0.1:1", "--hold", "30s");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("--hold: 30s (expected: at least --prometheus-window, 1m");
    r = MainTest.run("fleet", "ramp", "--sidecar", "http://127.0.0.1:1", "--target", "staging", "--lease", "10s", "--interval", "6s");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("at most half the lease");
  }
}
