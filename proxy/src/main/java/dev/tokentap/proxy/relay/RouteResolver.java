package dev.tokentap.proxy.relay;

import dev.tokentap.meter.Api;
import dev.tokentap.meter.Route;
import dev.tokentap.proxy.config.RouteRule;
import java.util.List;

/**
 * Names the API operation of a request path (the {@code route} label) and the format its response
 * is read in, by the rules of {@code tokentap.metrics.routes} (first match wins; gateways rewrite
 * paths, so the mapping is configuration). A path no rule matches is {@code other}, read by no
 * dialect: still relayed and recorded, bytes untouched.
 */
final class RouteResolver {
  /** What a path says: route label, response format, and a model named in the path (or null). */
  record Resolution(Route route, Api api, String pathModel) {
    static final Resolution OTHER = new Resolution(Route.OTHER, Api.UNKNOWN, null);
  }

  private static final String MODEL = "{model}";
  private static final String ANY = "*";

  private final List<String> excludedPrefixes;
  private final List<Matcher> matchers;

  RouteResolver(List<String> excludedPrefixes, List<RouteRule> rules) {
    this.excludedPrefixes = List.copyOf(excludedPrefixes);
    this.matchers = rules.stream().map(Matcher::new).toList();
  }

  static String pathOf(String uri) {
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }

  Resolution resolve(String path) {
    String p = path.endsWith("/") && path.length() > 1 ? path.substring(0, path.length() - 1) : path;
    for (Matcher m : matchers) {
      Resolution r = m.match(path, p);
      if (r != null) {
        return r;
      }
    }
    return Resolution.OTHER;
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

  /** Requests whose JSON body is read for model, stream and usage injection: any known API. */
  static boolean inspectsBody(Resolution resolution) {
    return resolution.route() != Route.OTHER || resolution.api() != Api.UNKNOWN;
  }

  /** One rule, its pattern split into segments once. */
  private static final class Matcher {
    private final RouteRule rule;
    private final Resolution fixed;
    private final String literal; // the path without a trailing slash
    private final String[] segments; // null for a prefix or a literal path

    Matcher(RouteRule rule) {
      this.rule = rule;
      this.fixed = new Resolution(rule.route(), rule.api(), null);
      String p = rule.path();
      boolean pattern = !rule.prefix() && (p.contains(MODEL) || p.contains("/" + ANY));
      this.literal = p.endsWith("/") && p.length() > 1 && !rule.prefix() ? p.substring(0, p.length() - 1) : p;
      this.segments = pattern ? literal.substring(1).split("/", -1) : null;
    }

    /** {@code path} as sent (for prefixes), {@code normalised} without a trailing slash. */
    Resolution match(String raw, String path) {
      if (rule.prefix()) {
        return raw.startsWith(literal) ? fixed : null;
      }
      if (segments == null) {
        return path.equals(literal) ? fixed : null;
      }
      return matchSegments(path);
    }

    private Resolution matchSegments(String path) {
      if (!path.startsWith("/")) {
        return null;
      }
      String model = null;
      int from = 1;
      for (int i = 0; i < segments.length; i++) {
        int slash = path.indexOf('/', from);
        boolean last = i == segments.length - 1;
        if (last != (slash < 0)) {
          return null; // too few or too many segments
        }
        int end = last ? path.length() : slash;
        String segment = segments[i];
        if (segment.equals(MODEL) || segment.equals(ANY)) {
          if (end == from) {
            return null; // an empty segment names nothing
          }
          if (segment.equals(MODEL)) {
            model = decode(path.substring(from, end));
          }
        } else if (!path.regionMatches(from, segment, 0, segment.length()) || end - from != segment.length()) {
          return null;
        }
        from = end + 1;
      }
      return model == null ? fixed : new Resolution(rule.route(), rule.api(), model);
    }

    /** A model name as the path carries it, percent-decoded; undecodable text is kept as it is. */
    private static String decode(String segment) {
      if (segment.indexOf('%') < 0) {
        return segment;
      }
      try {
        return java.net.URLDecoder.decode(segment.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return segment;
      }
    }
  }
}
