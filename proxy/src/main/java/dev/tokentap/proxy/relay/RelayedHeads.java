package dev.tokentap.proxy.relay;

import dev.tokentap.proxy.config.Settings;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The heads as they leave tokentap: the request towards the upstream and the response towards the
 * client. End-to-end headers pass unchanged; hop-by-hop ones are dropped (RFC 9110 §7.6.1) and the
 * framing of each hop is decided here (RFC 9112 §6).
 */
final class RelayedHeads {
  private RelayedHeads() {}

  /**
   * The client's request for the upstream, with forwarding headers (X-Forwarded-*, RFC 7239
   * Forwarded) when configured. {@code fixedLength} replaces the body framing with a Content-Length
   * when the body was read whole (it may have been rewritten); null keeps the client's framing.
   */
  static HttpRequest toUpstream(HttpRequest request, Settings.Proxy settings, SocketAddress clientAddress, Integer fixedLength) {
    // Origin-form, or OPTIONS's asterisk-form which no path prefix applies to (RequestHeadCheck).
    String uri = request.uri().equals("*") ? "*" : settings.upstream().pathPrefix() + request.uri();
    HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(), uri, request.headers().copy());
    HttpHeaders h = head.headers();
    boolean chunked = HttpUtil.isTransferEncodingChunked(request);
    HopByHopHeaders.strip(h);
    h.remove(HttpHeaderNames.EXPECT); // answered on the client side (ClientConnectionHandler)
    String clientHost = request.headers().get(HttpHeaderNames.HOST);
    if (!settings.preserveHost() || clientHost == null) {
      h.set(HttpHeaderNames.HOST, settings.upstream().authority());
    }
    if (settings.forwardedHeaders()) {
      String ip = clientAddress instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "unknown";
      String prior = h.get("x-forwarded-for");
      h.set("x-forwarded-for", prior == null ? ip : prior + ", " + ip);
      String proto = settings.tls() != null ? "https" : "http";
      h.set("x-forwarded-proto", proto);
      if (clientHost != null) {
        h.set("x-forwarded-host", clientHost);
      }
      String node = ip.indexOf(':') >= 0 ? "\"[" + ip + "]\"" : ip;
      String forwarded = "for=" + node + ";proto=" + proto + (clientHost != null ? ";host=\"" + clientHost.replace("\"", "") + "\"" : "");
      String priorForwarded = h.get("forwarded");
      h.set("forwarded", priorForwarded == null ? forwarded : priorForwarded + ", " + forwarded);
    }
    if (fixedLength != null) {
      h.remove(HttpHeaderNames.TRANSFER_ENCODING);
      h.setInt(HttpHeaderNames.CONTENT_LENGTH, fixedLength);
    } else if (chunked) {
      HttpUtil.setTransferEncodingChunked(head, true);
    }
    return head;
  }

  /**
   * The upstream's response for the client. {@code bodyShrinks} (usage events are filtered out)
   * drops the Content-Length. A body without a length is chunked for HTTP/1.1 clients and
   * close-delimited for HTTP/1.0 ones; the result's Connection header says whether the client
   * connection stays open.
   */
  static HttpResponse toClient(HttpRequest request, HttpResponse response, boolean clientKeepAlive, boolean bodyShrinks) {
    HttpResponse toClient = new DefaultHttpResponse(request.protocolVersion(), response.status(), response.headers().copy());
    HttpHeaders h = toClient.headers();
    HopByHopHeaders.strip(h);
    if (bodyShrinks) {
      h.remove(HttpHeaderNames.CONTENT_LENGTH);
    }
    boolean keepAlive = clientKeepAlive;
    int status = response.status().code();
    boolean bodyless = request.method().equals(HttpMethod.HEAD) || status == 204 || status == 304;
    boolean http11 = request.protocolVersion().equals(HttpVersion.HTTP_1_1);
    if (!bodyless && !HttpUtil.isContentLengthSet(toClient)) {
      if (http11) {
        HttpUtil.setTransferEncodingChunked(toClient, true);
      } else {
        keepAlive = false; // HTTP/1.0: the body ends when the connection does
      }
    }
    if (!keepAlive) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (!http11) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    return toClient;
  }
}
