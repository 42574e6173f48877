package dev.tokentap.proxy.record;

/** Who sent the request: a live client through the proxy, a shadow copy, or the load generator. */
public enum Role {
  PRIMARY("primary"),
  SHADOW("shadow"),
  BENCH("bench");

  private final String label;

  Role(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }
}
