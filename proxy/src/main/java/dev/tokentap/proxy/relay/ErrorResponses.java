package dev.tokentap.proxy.relay;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * Responses tokentap sends itself when there is no upstream response to relay, in the OpenAI error
 * shape every OpenAI SDK parses: {@code {"error":{"message","type","param","code"}}}. The message
 * names the cause so an operator can tell a refused connection from a timeout.
 */
final class ErrorResponses {
  private ErrorResponses() {}

  static FullHttpResponse of(ByteBufAllocator alloc, HttpResponseStatus status, String type, String message) {
    String json =
        "{\"error\":{\"message\":\"" + new String(JsonStringEncoder.getInstance().quoteAsString(message))
            + "\",\"type\":\"" + type + "\",\"param\":null,\"code\":" + status.code() + "}}";
    ByteBuf body = alloc.buffer(json.length());
    body.writeCharSequence(json, StandardCharsets.UTF_8);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
        .set("x-tokentap-error", type);
    return response;
  }
}
