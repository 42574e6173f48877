package dev.tokentap.proxy.relay;

import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.metrics.ApiKeyHash;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Finds whose request this is, from its head (tokentap.metrics.tenant): a header's value, a short
 * salted hash of the client's API key (never the key: it does not leave this class), or the first
 * path segment. The value is raw: {@link dev.tokentap.proxy.metrics.TenantLabels} bounds it.
 */
final class TenantSource {
  private final Settings.TenantSource source;
  private final String header;
  private final ApiKeyHash hash; // api-key only

  TenantSource(Settings.Tenant tenant) {
    this.source = tenant.source();
    this.header = tenant.header();
    this.hash = tenant.source() == Settings.TenantSource.API_KEY ? new ApiKeyHash(tenant.salt()) : null;
  }

  boolean enabled() {
    return source != Settings.TenantSource.OFF;
  }

  /** The raw tenant of a request to {@code path}; null when it has none. */
  String of(HttpRequest request, String path) {
    return switch (source) {
      case OFF -> null;
      case HEADER -> request.headers().get(header);
      case API_KEY -> {
        String key = apiKey(request);
        yield key == null ? null : hash.of(key);
      }
      case PATH_PREFIX -> firstSegment(path);
    };
  }

  /** The bearer token of Authorization, else x-api-key, else api-key (Azure). */
  private static String apiKey(HttpRequest request) {
    String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    if (authorization != null) {
      int space = authorization.indexOf(' ');
      String credentials = (space < 0 ? authorization : authorization.substring(space + 1)).strip();
      if (!credentials.isEmpty()) {
        return credentials;
      }
    }
    for (String name : new String[] {"x-api-key", "api-key"}) {
      String value = request.headers().get(name);
      if (value != null && !value.isBlank()) {
        return value.strip();
      }
    }
    return null;
  }

  private static String firstSegment(String path) {
    int start = path.startsWith("/") ? 1 : 0;
    int end = path.indexOf('/', start);
    String segment = end < 0 ? path.substring(start) : path.substring(start, end);
    return segment.isEmpty() ? null : segment;
  }
}
