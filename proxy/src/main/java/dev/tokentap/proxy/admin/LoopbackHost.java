package dev.tokentap.proxy.admin;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a {@code Host} header or an {@code Origin} names this machine's loopback interface:
 * {@code localhost}, an IPv4 address in 127.0.0.0/8 or the IPv6 address {@code [::1]}, each with
 * an optional port. Literals only; nothing here asks DNS, so a name an attacker controls (DNS
 * rebinding, docs/reliability.md) can never pass, and neither can {@code *.localhost}, {@code
 * localhost.} or a numeric form such as {@code 2130706433} (browsers send the dotted form).
 */
final class LoopbackHost {
  private static final Pattern PORT = Pattern.compile("(?::[0-9]{1,5})?");
  private static final Pattern IPV4 = Pattern.compile("([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

  private LoopbackHost() {}

  /** {@code authority} as a Host header carries it: {@code host[:port]}; false when null. */
  static boolean isLoopback(String authority) {
    if (authority == null) {
      return false;
    }
    String a = authority.trim();
    if (a.startsWith("[")) {
      int close = a.indexOf(']');
      return close > 0 && PORT.matcher(a.substring(close + 1)).matches() && isLoopbackIpv6(a.substring(1, close));
    }
    int colon = a.indexOf(':');
    String host = colon < 0 ? a : a.substring(0, colon);
    if (colon >= 0 && !PORT.matcher(a.substring(colon)).matches()) {
      return false;
    }
    return host.equalsIgnoreCase("localhost") || isLoopbackIpv4(host);
  }

  /**
   * An {@code Origin} header (RFC 6454): {@code http://} or {@code https://} and a loopback
   * authority. {@code null} (a sandboxed or file: page) and every other origin are not.
   */
  static boolean isLoopbackOrigin(String origin) {
    try {
      URI u = new URI(origin.trim());
      String scheme = u.getScheme();
      return ("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme)) && u.getRawUserInfo() == null
          && (u.getRawPath() == null || u.getRawPath().isEmpty()) && isLoopback(u.getRawAuthority());
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static boolean isLoopbackIpv4(String host) {
    Matcher m = IPV4.matcher(host);
    if (!m.matches()) {
      return false;
    }
    for (int i = 1; i <= 4; i++) {
      if (Integer.parseInt(m.group(i)) > 255) {
        return false;
      }
    }
    return m.group(1).equals("127");
  }

  private static boolean isLoopbackIpv6(String literal) {
    if (!IPV6.matcher(literal).matches() || literal.indexOf(':') < 0) {
      return false;
    }
    try {
      // A bracketed literal is parsed, never looked up: the pattern above leaves nothing else.
      return InetAddress.getByName("[" + literal + "]").isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
