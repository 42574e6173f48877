package dev.tokentap.proxy.admin;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Who may use the admin control endpoints: loopback peers, or anyone with the configured bearer token. */
final class AdminAccess {
  private AdminAccess() {}

  static boolean allowed(SocketAddress peer, String authorization, String token) {
    if (peer instanceof InetSocketAddress a && a.getAddress() != null && a.getAddress().isLoopbackAddress()) {
      return true;
    }
    if (token == null || authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    // Constant time, so the token cannot be guessed byte by byte from response times.
    return MessageDigest.isEqual(authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
  }
}
