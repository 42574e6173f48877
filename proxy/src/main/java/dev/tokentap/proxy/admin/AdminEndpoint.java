package dev.tokentap.proxy.admin;

/**
 * A control endpoint on the admin listener (such as the shadow engine's {@code /admin/shadow}).
 * Only requests from a loopback address, or carrying {@code Authorization: Bearer
 * <tokentap.admin.token>}, reach it; every other is refused with 403 before it is called.
 * Called on the admin event loop: it must answer at once.
 */
public interface AdminEndpoint {
  /** The exact path served, e.g. {@code /admin/shadow}. */
  String path();

  Response handle(String method, String query, byte[] body);

  record Response(int status, String contentType, String body) {
    public static Response json(int status, String body) {
      return new Response(status, "application/json", body);
    }
  }
}
