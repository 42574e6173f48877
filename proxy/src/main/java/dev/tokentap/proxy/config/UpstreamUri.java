package dev.tokentap.proxy.config;

import java.net.URI;

/**
 * The inference server's base URL: scheme ({@code http}, or {@code https} for TLS), host, port and an
 * optional path prefix that is put in front of every relayed path (for servers mounted under a
 * sub-path).
 */
public record UpstreamUri(String scheme, String host, int port, String pathPrefix) {

  public static UpstreamUri parse(String value) {
    URI uri;
    try {
      uri = URI.create(value.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a URL");
    }
    String scheme = uri.getScheme();
    if (!"http".equalsIgnoreCase(scheme) && !"https".equalsIgnoreCase(scheme)) {
      throw new IllegalArgumentException("expected an http:// or https:// URL");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("expected a host, as in http://127.0.0.1:8000");
    }
    boolean secure = "https".equalsIgnoreCase(scheme);
    int port = uri.getPort() == -1 ? (secure ? 443 : 80) : uri.getPort();
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    if (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return new UpstreamUri(scheme.toLowerCase(), uri.getHost(), port, path);
  }

  /** Connections to this upstream speak TLS. */
  public boolean secure() {
    return scheme.equals("https");
  }

  /** The value of a Host header naming this upstream. */
  public String authority() {
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return port == (secure() ? 443 : 80) ? h : h + ":" + port;
  }

  @Override
  public String toString() {
    return scheme + "://" + authority() + pathPrefix;
  }
}
