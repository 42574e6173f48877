package dev.tokentap.proxy.relay;

import dev.tokentap.meter.Route;
import java.util.List;

/**
 * Names the API operation of a request path (the {@code route} label): the OpenAI paths this
 * version meters, {@code other} for the rest (still relayed and recorded, bytes untouched).
 */
final class RouteResolver {
  private final List<String> excludedPrefixes;

  RouteResolver(List<String> excludedPrefixes) {
    this.excludedPrefixes = List.copyOf(excludedPrefixes);
  }

  static String pathOf(String uri) {
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }

  Route resolve(String path) {
    String p = path.endsWith("/") && path.length() > 1 ? path.substring(0, path.length() - 1) : path;
    return switch (p) {
      case "/v1/chat/completions", "/chat/completions" -> Route.CHAT;
      case "/v1/completions", "/completions" -> Route.COMPLETIONS;
      default -> Route.OTHER;
    };
  }

  /** Paths relayed without a record (health probes, scrapes of the upstream's own metrics). */
  boolean excluded(String path) {
    for (String prefix : excludedPrefixes) {
      if (path.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /** Routes whose JSON request body is read for model, stream and usage injection. */
  static boolean inspectsBody(Route route) {
    return route != Route.OTHER;
  }
}
