package dev.tokentap.proxy.config;

/** A listen or connect address, {@code host:port}; port 0 asks the OS for a free one. */
public record HostAndPort(String host, int port) {

  /** Parses {@code host:port}, {@code [v6]:port} or {@code :port} (all interfaces). */
  public static HostAndPort parse(String value) {
    String v = value.trim();
    int colon = v.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("expected host:port");
    }
    String host = v.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.isEmpty()) {
      host = "0.0.0.0";
    }
    int port;
    try {
      port = Integer.parseInt(v.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected host:port with a numeric port");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range 0-65535");
    }
    return new HostAndPort(host, port);
  }

  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
