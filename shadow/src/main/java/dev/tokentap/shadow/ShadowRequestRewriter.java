package dev.tokentap.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tokentap.proxy.config.ShadowTarget;
import dev.tokentap.proxy.tap.TappedRequest;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The request one copy sends to staging: the client's request with the target's rewrites. The
 * model is renamed; the headers the target removes ({@code tokentap.shadow.drop-headers}, the
 * client's credentials, and its own {@code remove-headers}; names compared case-insensitively) are
 * gone and the ones it sets are set; staging's own credential and {@code x-tokentap-shadow:
 * <copy>/<copies>} are added; and the extra copies (the second and later) get their prompt prefix
 * made unique, so staging's prefix cache is not flattered by identical twins. Each copy owns the
 * body it is given. What staging receives, header by header: docs/shadow.md.
 */
final class ShadowRequestRewriter {
  static final String SHADOW_HEADER = "x-tokentap-shadow";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Client headers never copied whatever the target says: this rewriter sets them itself. */
  private static final Set<String> REPLACED = Set.of("host", "content-length", "transfer-encoding", "expect");

  private final ShadowTarget target;
  private final Set<String> removed;

  ShadowRequestRewriter(ShadowTarget target) {
    this.target = target;
    Set<String> names = new HashSet<>(REPLACED);
    target.removeHeaders().forEach(n -> names.add(n.toLowerCase(Locale.ROOT)));
    this.removed = Set.copyOf(names);
  }

  /** The model staging is asked for: the target's rename, or the client's. */
  String stagingModel(String clientModel) {
    return target.model() != null ? target.model() : clientModel;
  }

  FullHttpRequest build(TappedRequest r, int copy, int copies) {
    byte[] body = body(r.body(), copy);
    FullHttpRequest req =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(r.method()), target.upstream().pathPrefix() + r.uri(), Unpooled.wrappedBuffer(body));
    HttpHeaders h = req.headers();
    for (Map.Entry<String, String> e : r.headers()) {
      if (!removed.contains(e.getKey().trim().toLowerCase(Locale.ROOT))) {
        h.add(e.getKey(), e.getValue());
      }
    }
    h.set(HttpHeaderNames.HOST, target.upstream().authority());
    h.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    target.setHeaders().forEach(h::set);
    if (target.authorizationToken() != null) {
      h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + target.authorizationToken());
    }
    h.set(SHADOW_HEADER, copy + "/" + copies);
    return req;
  }

  private byte[] body(byte[] original, int copy) {
    boolean rename = target.model() != null;
    boolean bust = copy > 1 && target.cacheBusting() != ShadowTarget.CacheBusting.NONE;
    if (!rename && !bust) {
      return original;
    }
    JsonNode root;
    try {
      root = JSON.readTree(original);
    } catch (IOException e) {
      return original; // not JSON: nothing to rewrite
    }
    if (!(root instanceof ObjectNode o)) {
      return original;
    }
    if (rename && o.has("model")) {
      o.put("model", target.model());
    }
    if (bust) {
      String nonce = UUID.randomUUID().toString();
      if (target.cacheBusting() == ShadowTarget.CacheBusting.CACHE_SALT) {
        o.put("cache_salt", nonce);
      } else {
        prefixFirstText(o, "[shadow " + nonce + "] ");
      }
    }
    try {
      return JSON.writeValueAsBytes(o);
    } catch (IOException e) {
      return original;
    }
  }

  /** Puts {@code prefix} in front of the first text the model reads: messages, prompt or input. */
  private static void prefixFirstText(ObjectNode o, String prefix) {
    for (String field : new String[] {"messages", "input", "prompt"}) {
      JsonNode v = o.get(field);
      if (v == null) {
        continue;
      }
      if (v.isTextual()) {
        o.put(field, prefix + v.asText());
        return;
      }
      if (v instanceof ArrayNode items && !items.isEmpty()) {
        JsonNode first = items.get(0);
        if (first.isTextual()) {
          items.set(0, TextNode.valueOf(prefix + first.asText()));
          return;
        }
        if (first instanceof ObjectNode message && prefixContent(message, prefix)) {
          return;
        }
      }
    }
  }

  private static boolean prefixContent(ObjectNode message, String prefix) {
    JsonNode content = message.get("content");
    if (content != null && content.isTextual()) {
      message.put("content", prefix + content.asText());
      return true;
    }
    if (content instanceof ArrayNode parts) {
      for (JsonNode part : parts) {
        if (part instanceof ObjectNode p && p.path("text").isTextual()) {
          p.put("text", prefix + p.get("text").asText());
          return true;
        }
      }
    }
    return false;
  }
}
