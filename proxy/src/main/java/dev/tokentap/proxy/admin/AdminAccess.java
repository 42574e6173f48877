package dev.tokentap.proxy.admin;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Who may use the admin control endpoints: anyone with the configured bearer token, whatever its
 * Host; without it, only a loopback peer that names a loopback Host (and, when it sends an Origin,
 * a loopback origin). The Host check turns away a browser page on this machine that reached the
 * listener through a name resolving to 127.0.0.1 (DNS rebinding); the Origin check, a page that
 * posts a form to http://127.0.0.1:9464 directly. Neither stops a local process that writes its own
 * headers: only the token does (docs/reliability.md, "Who can reach admin").
 */
final class AdminAccess {
  private AdminAccess() {}

  /**
   * Null when the request may use a control endpoint, else why not (one line, for a 403 body).
   *
   * @param authorization the request's Authorization header, or null
   * @param host its Host header, or null
   * @param origin its Origin header, or null
   * @param token {@code tokentap.admin.token}, or null when none is set
   */
  static String refusal(SocketAddress peer, String authorization, String host, String origin, String token) {
    if (hasToken(authorization, token)) {
      return null;
    }
    if (!(peer instanceof InetSocketAddress a && a.getAddress() != null && a.getAddress().isLoopbackAddress())) {
      return "forbidden: loopback only, or Authorization: Bearer <tokentap.admin.token>";
    }
    if (!LoopbackHost.isLoopback(host)) {
      return "forbidden: Host " + quoted(host) + " is not localhost, 127.x.x.x or [::1]; without"
          + " Authorization: Bearer <tokentap.admin.token> a loopback client must name a loopback Host";
    }
    if (origin != null && !LoopbackHost.isLoopbackOrigin(origin)) {
      return "forbidden: a request from the page " + quoted(origin) + " needs Authorization: Bearer <tokentap.admin.token>";
    }
    return null;
  }

  private static boolean hasToken(String authorization, String token) {
    if (token == null || authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    // Constant time, so the token cannot be guessed byte by byte from response times.
    return MessageDigest.isEqual(authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
  }

  /** A header value safe to echo in a text/plain body: printable ASCII, at most 100 characters. */
  private static String quoted(String value) {
    if (value == null) {
      return "(none)";
    }
    String v = value.length() > 100 ? value.substring(0, 100) + "..." : value;
    return "\"" + v.replaceAll("[^\\x20-\\x7e]", "?").replace("\"", "?") + "\"";
  }
}
