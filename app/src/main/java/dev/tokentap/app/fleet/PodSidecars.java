package dev.tokentap.app.fleet;

import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sidecars of a fleet running on Kubernetes: the pods of one namespace that match a label
 * selector, running, ready and with an address; each sidecar's admin URL is {@code
 * http://<pod IP>:<port>}, the port being the container port named {@code portName} (tokentap's
 * admin listener, "admin" in deploy/k8s/deployment.yaml) or, where no container names it, {@code defaultPort}.
 * Only {@code list pods} in that namespace is asked of the API (deploy/k8s/fleet-shadow.yaml's Role).
 */
public final class PodSidecars implements SidecarSource {
  private static final Logger LOG = LoggerFactory.getLogger(PodSidecars.class);

  private final KubernetesClient kubernetes;
  private final String namespace;
  private final String selector;
  private final String portName;
  private final int defaultPort;
  private final String token;
  private final HttpClient http;

  public PodSidecars(KubernetesClient kubernetes, String namespace, String selector, String portName, int defaultPort, String token, HttpClient http) {
    if (namespace == null || !namespace.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
      throw new IllegalArgumentException("namespace: " + namespace + " (expected: a Kubernetes namespace name)");
    }
    if (selector == null || selector.isBlank()) {
      throw new IllegalArgumentException("selector: empty (expected: a label selector such as app=vllm)");
    }
    if (defaultPort < 1 || defaultPort > 65535) {
      throw new IllegalArgumentException("admin-port: " + defaultPort + " (expected: 1 to 65535)");
    }
    this.kubernetes = kubernetes;
    this.namespace = namespace;
    this.selector = selector;
    this.portName = portName;
    this.defaultPort = defaultPort;
    this.token = token;
    this.http = http;
  }

  @Override
  public List<SidecarAdmin> sidecars() {
    List<Pod> pods;
    try {
      pods = kubernetes.pods().inNamespace(namespace).withLabelSelector(selector).list().getItems();
    } catch (KubernetesClientException e) {
      LOG.warn("fleet: cannot list pods {} in namespace {}: {}", selector, namespace, e.getMessage());
      return List.of();
    }
    List<SidecarAdmin> out = new ArrayList<>();
    for (Pod pod : pods) {
      String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
      if (ip == null || ip.isEmpty() || pod.getMetadata().getDeletionTimestamp() != null || !"Running".equals(pod.getStatus().getPhase())
          || !ready(pod)) {
        continue;
      }
      String host = ip.contains(":") ? "[" + ip + "]" : ip;
      out.add(new SidecarAdmin(URI.create("http://" + host + ":" + port(pod)), token, http, Duration.ofSeconds(5)));
    }
    return out;
  }

  private static boolean ready(Pod pod) {
    return pod.getStatus().getConditions() != null
        && pod.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private int port(Pod pod) {
    if (pod.getSpec() != null && pod.getSpec().getContainers() != null) {
      for (var c : pod.getSpec().getContainers()) {
        for (ContainerPort p : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
          if (portName.equals(p.getName()) && p.getContainerPort() != null) {
            return p.getContainerPort();
          }
        }
      }
    }
    return defaultPort;
  }

  @Override
  public String toString() {
    return "pods " + selector + " in namespace " + namespace;
  }
}
