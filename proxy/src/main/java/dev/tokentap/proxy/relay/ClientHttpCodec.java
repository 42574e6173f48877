package dev.tokentap.proxy.relay;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;

/**
 * HTTP/1.1 framing of client connections, as strict as a proxy in front of another server must be
 * (RFC 9112 §11.2: two parsers that frame one message differently let a request be smuggled). A
 * message whose framing is ambiguous becomes an invalid request (its {@code decoderResult} a
 * failure), which the relay answers with 400 and a close; nothing of it is relayed:
 *
 * <ul>
 *   <li>Content-Length together with Transfer-Encoding (§6.3), several Content-Length values, a
 *       Transfer-Encoding whose last coding is not chunked, chunk sizes that are not plain hex, a
 *       bare LF as a line end: Netty's decoder, configured strictly here rather than relying on
 *       its defaults;
 *   <li>obsolete line folding (obs-fold, §5.2): found here, because Netty joins folded lines.
 * </ul>
 *
 * <p>The response side is Netty's encoder, told which requests were HEAD so their responses carry
 * no body, as {@code HttpServerCodec} does. A response relayed in the upstream's own framing ({@link
 * WireRelay}) has only its head encoded here; its body bytes pass through as they are.
 */
final class ClientHttpCodec extends CombinedChannelDuplexHandler<ClientHttpCodec.RequestDecoder, ClientHttpCodec.ResponseEncoder> {
  /** Methods of the requests decoded and not yet answered, oldest first: pipelining answers in order. */
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2); // one per open connection: small, it grows if ever needed

  ClientHttpCodec(int maxInitialLineLength, int maxHeaderSize) {
    HttpDecoderConfig config = new HttpDecoderConfig()
        .setMaxInitialLineLength(maxInitialLineLength)
        .setMaxHeaderSize(maxHeaderSize)
        .setMaxChunkSize(65536)
        .setAllowDuplicateContentLengths(false)
        .setStrictLineParsing(true)
        .setUseRfc9112TransferEncoding(true);
    init(new RequestDecoder(config), new ResponseEncoder());
  }

  final class RequestDecoder extends HttpRequestDecoder {
    /** Obs-fold scan of the current head: at the start of a line, after a first non-empty line. */
    private boolean lineStart;
    private boolean lineEmpty = true;
    private boolean sawLine;
    private boolean headRead;
    /** A malformed head was reported; the connection closes, the rest is ignored. */
    private boolean rejected;

    RequestDecoder(HttpDecoderConfig config) {
      super(config);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
      if (rejected) {
        in.skipBytes(in.readableBytes());
        return;
      }
      int from = in.readerIndex();
      int before = out.size();
      super.decode(ctx, in, out);
      // The bytes this call consumed are scanned once each, whether or not the head is complete yet.
      if (!headRead && foldIn(in, from, in.readerIndex())) {
        for (int i = out.size() - 1; i >= before; i--) {
          ReferenceCountUtil.release(out.remove(i));
        }
        HttpMessage invalid = createInvalidMessage();
        invalid.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(
            "obsolete line folding (a header line starting with a space or tab) is not accepted, RFC 9112 section 5.2")));
        out.add(invalid);
        rejected = true;
        in.skipBytes(in.readableBytes());
      }
      for (int i = before; i < out.size(); i++) {
        Object msg = out.get(i);
        if (msg instanceof HttpRequest request) {
          methods.add(request.method());
        }
        if (msg instanceof LastHttpContent || msg instanceof HttpRequest && ((HttpRequest) msg).decoderResult().isFailure()) {
          lineStart = false;
          lineEmpty = true;
          sawLine = false;
          headRead = false;
        }
      }
    }

    /** Scans head bytes for a line end followed by SP or HTAB; stops at the blank line ending the head. */
    private boolean foldIn(ByteBuf in, int from, int to) {
      for (int i = from; i < to && !headRead; i++) {
        byte b = in.getByte(i);
        if (lineStart && sawLine && (b == ' ' || b == '\t')) {
          return true;
        }
        if (b == '\n') {
          if (lineEmpty && sawLine) {
            headRead = true;
          }
          lineStart = true;
          lineEmpty = true;
        } else {
          lineStart = false;
          if (b != '\r') {
            lineEmpty = false;
            sawLine = true;
          }
        }
      }
      return false;
    }
  }

  final class ResponseEncoder extends HttpResponseEncoder {
    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
      if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        return super.isContentAlwaysEmpty(msg); // an interim response: the request still awaits its final one
      }
      HttpMethod method = methods.poll();
      // A WireRelay.Head's body is written as WireRelay.Bytes, past the encoder: "always empty" for it.
      return HttpMethod.HEAD.equals(method) || msg instanceof WireRelay.Head || super.isContentAlwaysEmpty(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
      if (msg instanceof WireRelay.Bytes bytes) {
        ctx.write(bytes.content(), promise); // the holder's reference passes to the socket
        return;
      }
      super.write(ctx, msg, promise);
    }
  }
}
