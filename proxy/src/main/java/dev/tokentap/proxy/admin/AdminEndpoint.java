package dev.tokentap.proxy.admin;

/**
 * A control endpoint on the admin listener (such as the shadow engine's {@code /admin/shadow}).
 * Only requests carrying {@code Authorization: Bearer <tokentap.admin.token>}, or from a loopback
 * address with a loopback Host (and Origin, if any), reach it; every other is refused with 403
 * before it is called ({@link AdminAccess}).
 * Called on the admin event loop: it must answer at once.
 */
public interface AdminEndpoint {
  /** The exact path served, e.g. {@code /admin/shadow}. */
  String path();

  Response handle(String method, String query, byte[] body);

  /** The parameters of a query string ({@code a=1&b=x%20y}), URL-decoded; the last of a repeated name wins. */
  static java.util.Map<String, String> queryParams(String query) {
    java.util.Map<String, String> params = new java.util.HashMap<>();
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        params.put(java.net.URLDecoder.decode(pair.substring(0, eq), java.nio.charset.StandardCharsets.UTF_8),
            java.net.URLDecoder.decode(pair.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    return params;
  }

  record Response(int status, String contentType, String body) {
    public static Response json(int status, String body) {
      return new Response(status, "application/json", body);
    }
  }
}
