package dev.tokentap.app.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.http.HttpClient;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Finding the sidecars through the Kubernetes API, against the fabric8 client's mock API server in
 * CRUD mode: pods come and go, only running and ready ones of the selector count, and the admin
 * port is the container port named admin where there is one.
 */
class PodSidecarsTest {
  KubernetesMockServer server;
  KubernetesClient kubernetes;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(List.of()), false);
    server.init();
    kubernetes = server.createClient();
  }

  @AfterEach
  void stop() {
    kubernetes.close();
    server.destroy();
  }

  @Test
  void podsComingAndGoingAreTheSidecarsOfTheNextRound() {
    PodSidecars source = new PodSidecars(kubernetes, "prod", "app=vllm", "admin", 9464, null, http);
    assertThat(source.sidecars()).isEmpty();
    create("prod", "vllm-0", "app", "vllm", "10.0.0.1", true, 19464);
    create("prod", "vllm-1", "app", "vllm", "10.0.0.2", true, null);
    create("prod", "vllm-2", "app", "vllm", "10.0.0.3", false, null); // not ready yet
    create("prod", "other", "app", "web", "10.0.0.4", true, null);
    create("staging", "vllm-9", "app", "vllm", "10.0.1.1", true, null);
    assertThat(urls(source)).containsExactlyInAnyOrder("http://10.0.0.1:19464", "http://10.0.0.2:9464");

    create("prod", "vllm-2", "app", "vllm", "10.0.0.3", true, null); // ready now
    create("prod", "vllm-3", "app", "vllm", "10.0.0.5", true, null); // a fourth joins
    assertThat(urls(source)).hasSize(4);
    assertThat(new FleetShare(FleetShare.Kind.REPLICAS, 2, 16).factor(source.sidecars().size(), Double.NaN)).as("k/4").isEqualTo(0.5);

    kubernetes.pods().inNamespace("prod").withName("vllm-0").delete();
    assertThat(urls(source)).containsExactlyInAnyOrder("http://10.0.0.2:9464", "http://10.0.0.3:9464", "http://10.0.0.5:9464");
  }

  @Test
  void badSettingsAreRefusedWithAReason() {
    assertThatThrownBy(() -> new PodSidecars(kubernetes, "Prod_1", "app=vllm", "admin", 9464, null, http)).hasMessageContaining("namespace: Prod_1");
    assertThatThrownBy(() -> new PodSidecars(kubernetes, "prod", " ", "admin", 9464, null, http)).hasMessageContaining("selector");
    assertThatThrownBy(() -> new PodSidecars(kubernetes, "prod", "app=vllm", "admin", 0, null, http)).hasMessageContaining("admin-port: 0");
  }

  private static List<String> urls(PodSidecars source) {
    return source.sidecars().stream().map(s -> s.base().toString()).toList();
  }

  private void create(String namespace, String name, String label, String value, String ip, boolean ready, Integer adminPort) {
    List<io.fabric8.kubernetes.api.model.Container> containers = new java.util.ArrayList<>();
    containers.add(new io.fabric8.kubernetes.api.model.ContainerBuilder().withName("vllm").addNewPort().withName("http").withContainerPort(8000).endPort().build());
    if (adminPort != null) {
      containers.add(new io.fabric8.kubernetes.api.model.ContainerBuilder().withName("tokentap").addNewPort().withName("admin").withContainerPort(adminPort).endPort().build());
    }
    Pod pod = new PodBuilder().withNewMetadata().withName(name).withNamespace(namespace).addToLabels(label, value).endMetadata()
        .withNewSpec().withContainers(containers).endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip)
        .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition().endStatus().build();
    kubernetes.pods().inNamespace(namespace).resource(pod).createOr(r -> r.update());
  }
}
