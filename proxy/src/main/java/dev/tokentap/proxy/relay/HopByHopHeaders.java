package dev.tokentap.proxy.relay;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;

/**
 * Removes the headers that belong to one connection and must not be forwarded (RFC 9110 §7.6.1):
 * Connection and every field it names, Proxy-Connection, Keep-Alive, TE, Transfer-Encoding and
 * Upgrade. Transfer-Encoding is re-established by the outgoing encoder for the next hop.
 */
final class HopByHopHeaders {
  private HopByHopHeaders() {}

  static void strip(HttpHeaders headers) {
    List<String> named = new ArrayList<>();
    for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : value.split(",")) {
        String t = token.trim();
        if (!t.isEmpty()) {
          named.add(t);
        }
      }
    }
    for (String n : named) {
      headers.remove(n);
    }
    headers.remove(HttpHeaderNames.CONNECTION);
    headers.remove("proxy-connection");
    headers.remove(HttpHeaderNames.KEEP_ALIVE);
    headers.remove(HttpHeaderNames.TE);
    headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
    headers.remove(HttpHeaderNames.UPGRADE);
  }
}
