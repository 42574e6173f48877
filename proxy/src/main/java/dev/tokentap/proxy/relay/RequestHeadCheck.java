package dev.tokentap.proxy.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The request line and Host of a client request, checked before anything of it is relayed (RFC
 * 9112 §3, RFC 9110 §7.2), so the upstream only ever sees an origin-form HTTP/1.1 request whose
 * authority is the one its Host names. What is refused, and why (docs/reliability.md, "Hostile or
 * broken input from clients", compares each with nginx and HAProxy):
 *
 * <ul>
 *   <li>a version other than HTTP/1.0 and HTTP/1.1: 505 (Netty's decoder accepts any
 *       {@code HTTP/d.d}, and the relay would answer under it); a name other than {@code HTTP}:
 *       400 (Netty's decoder refuses it first; checked here too).
 *       The HTTP/2 prior-knowledge preface ({@code PRI * HTTP/2.0}) is answered in HTTP/2 itself, a
 *       SETTINGS and a GOAWAY with {@code HTTP_1_1_REQUIRED} (RFC 9113 §7), which an h2c client
 *       reports as such, recorded with status 505;
 *   <li>CONNECT and TRACE: 405 with {@code Allow} (no tunnels; TRACE would echo credentials); a
 *       method that is not a token: 400 (as the decoder's); any other method outside {@link #ALLOWED_METHODS}: 501;
 *   <li>a target with a control byte (0x00-0x20, 0x7F) or a byte over 0x7F: 400. Netty reads the
 *       line as ISO-8859-1 and its encoder writes UTF-8, so a high byte could not leave byte for
 *       byte; RFC 3986 targets are ASCII, percent-encoding is the client's to do;
 *   <li>asterisk-form ({@code *}) with a method other than OPTIONS, authority-form, anything else
 *       that is neither origin- nor absolute-form: 400;
 *   <li>absolute-form ({@code http://host/path}): rewritten here to origin-form when its authority
 *       is the one Host names (scheme's default port ignored), so route, metering and the upstream
 *       all see the path; 400 when it names another host, has userinfo, a scheme other than http
 *       or https, or there is no Host to compare it with;
 *   <li>Host: twice, or with a character no authority has: 400; missing on HTTP/1.1: 400. An
 *       HTTP/1.0 request without Host is served.
 * </ul>
 */
final class RequestHeadCheck {
  /** What the proxy relays; the {@code Allow} of its 405s. */
  static final String ALLOWED_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH";

  private static final Set<String> ALLOWED = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH");
  private static final Set<String> NOT_ALLOWED = Set.of("CONNECT", "TRACE");
  /** RFC 9110 §5.6.2 tchar, besides ALPHA and DIGIT. */
  private static final String TCHAR = "!#$%&'*+-.^_`|~";
  /** What a Host value (uri-host [":" port], RFC 3986 §3.2) may hold, besides ALPHA and DIGIT. */
  private static final String HOST_CHAR = "-._~%!$&'()*+,;=:[]";
  /** HTTP/2 error code HTTP_1_1_REQUIRED (RFC 9113 §7). */
  private static final int HTTP_1_1_REQUIRED = 0xd;

  private RequestHeadCheck() {}

  /** Why a head is refused; {@code http2Preface}: answer with {@link #goAway} rather than an HTTP/1.1 error. */
  record Refusal(HttpResponseStatus status, String message, boolean http2Preface) {
    static Refusal of(HttpResponseStatus status, String message) {
      return new Refusal(status, "tokentap: " + message, false);
    }
  }

  /**
   * Null when the head may be relayed; an absolute-form target has then been rewritten to origin
   * form in {@code request}. Otherwise what tokentap answers; nothing of the request is relayed.
   */
  static Refusal check(HttpRequest request) {
    HttpVersion version = request.protocolVersion();
    String method = request.method().name();
    String uri = request.uri();
    if (!"HTTP".equals(version.protocolName())) {
      return Refusal.of(HttpResponseStatus.BAD_REQUEST, "not an HTTP request line (protocol " + version.protocolName() + ")");
    }
    if (version.majorVersion() == 2 && version.minorVersion() == 0 && "PRI".equals(method) && "*".equals(uri)) {
      return new Refusal(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED,
          "tokentap: HTTP/2 is not served here, use HTTP/1.1", true);
    }
    if (version.majorVersion() != 1 || version.minorVersion() > 1) {
      return Refusal.of(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED,
          "HTTP version " + version.text() + " is not supported, only HTTP/1.1 and HTTP/1.0");
    }
    if (!isToken(method)) {
      return Refusal.of(HttpResponseStatus.BAD_REQUEST, "the method is not a token");
    }
    if (NOT_ALLOWED.contains(method)) {
      return Refusal.of(HttpResponseStatus.METHOD_NOT_ALLOWED, "method " + method + " is not allowed, only " + ALLOWED_METHODS);
    }
    if (!ALLOWED.contains(method)) {
      return Refusal.of(HttpResponseStatus.NOT_IMPLEMENTED, "method " + method + " is not implemented, only " + ALLOWED_METHODS);
    }
    for (int i = 0; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c <= 0x20 || c == 0x7f) {
        return Refusal.of(HttpResponseStatus.BAD_REQUEST, "control character 0x" + hex(c) + " in the request target");
      }
      if (c > 0x7f) {
        return Refusal.of(HttpResponseStatus.BAD_REQUEST, "byte 0x" + hex(c) + " in the request target: percent-encode it");
      }
    }
    List<String> hosts = request.headers().getAll(HttpHeaderNames.HOST);
    if (hosts.size() > 1) {
      return Refusal.of(HttpResponseStatus.BAD_REQUEST, "more than one Host header");
    }
    String host = hosts.isEmpty() ? null : hosts.get(0).trim();
    if (host == null && version.minorVersion() >= 1) {
      return Refusal.of(HttpResponseStatus.BAD_REQUEST, "an HTTP/1.1 request without Host");
    }
    if (host != null && !isHost(host)) {
      return Refusal.of(HttpResponseStatus.BAD_REQUEST, "invalid Host header");
    }
    if (uri.equals("*")) {
      return method.equals("OPTIONS") ? null
          : Refusal.of(HttpResponseStatus.BAD_REQUEST, "the asterisk-form target * is only for OPTIONS");
    }
    if (uri.startsWith("/")) {
      return null;
    }
    return absoluteForm(request, uri, host);
  }

  /** An absolute-form target whose authority is Host's becomes origin-form; any other is refused. */
  private static Refusal absoluteForm(HttpRequest request, String uri, String host) {
    int colon = uri.indexOf("://");
    String scheme = colon < 0 ? "" : uri.substring(0, colon).toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      return Refusal.of(HttpResponseStatus.BAD_REQUEST, "the request target is neither a path nor an http(s) URL");
    }
    int from = colon + 3;
    int end = from;
    while (end < uri.length() && uri.charAt(end) != '/' && uri.charAt(end) != '?' && uri.charAt(end) != '#') {
      end++;
    }
    String authority = uri.substring(from, end);
    if (authority.isEmpty() || authority.indexOf('@') >= 0) {
      return Refusal.of(HttpResponseStatus.BAD_REQUEST, "the URL in the request target has no host, or has userinfo");
    }
    if (host == null) {
      return Refusal.of(HttpResponseStatus.BAD_REQUEST, "an absolute-form target without a Host header to compare it with");
    }
    String port = scheme.equals("http") ? ":80" : ":443";
    if (!normalised(authority, port).equals(normalised(host, port))) {
      return Refusal.of(HttpResponseStatus.BAD_REQUEST,
          "the URL in the request target names host " + authority + ", not the Host header's " + host);
    }
    String rest = uri.substring(end);
    request.setUri(rest.isEmpty() || rest.charAt(0) != '/' ? "/" + rest : rest);
    return null;
  }

  /** Lower case, without the scheme's default port or an empty one. */
  private static String normalised(String authority, String defaultPort) {
    String a = authority.toLowerCase(Locale.ROOT);
    if (a.endsWith(defaultPort)) {
      return a.substring(0, a.length() - defaultPort.length());
    }
    return a.endsWith(":") ? a.substring(0, a.length() - 1) : a;
  }

  private static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || TCHAR.indexOf(c) >= 0)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isHost(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || HOST_CHAR.indexOf(c) >= 0)) {
        return false;
      }
    }
    return true;
  }

  private static String hex(char c) {
    return String.format("%02X", (int) c);
  }

  /**
   * The answer to the HTTP/2 preface: an empty SETTINGS (a server's first frame, RFC 9113 §3.4) and
   * a GOAWAY on stream 0 with {@code HTTP_1_1_REQUIRED}, its debug data saying why.
   */
  static ByteBuf goAway(ByteBufAllocator alloc, String why) {
    byte[] debug = why.getBytes(StandardCharsets.US_ASCII);
    ByteBuf out = alloc.buffer(9 + 9 + 8 + debug.length);
    out.writeMedium(0).writeByte(0x4).writeByte(0).writeInt(0); // SETTINGS, no parameters
    out.writeMedium(8 + debug.length).writeByte(0x7).writeByte(0).writeInt(0); // GOAWAY on stream 0
    out.writeInt(0).writeInt(HTTP_1_1_REQUIRED).writeBytes(debug); // no stream processed
    return out;
  }
}
