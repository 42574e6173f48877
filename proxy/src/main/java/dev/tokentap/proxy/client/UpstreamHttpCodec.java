package dev.tokentap.proxy.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import java.util.ArrayDeque;
import java.util.List;

/**
 * HTTP/1.1 framing of upstream connections: requests are encoded by Netty's encoder; a response
 * head is decoded by Netty's decoder, and its body is not decoded at all. Each socket read's share
 * of the body becomes one {@link WireContent}, holding the bytes as the upstream sent them (relayed
 * as they are) and where the payload lies in them (metered there). {@link BodyFraming} finds
 * where the message ends, so the connection can carry the next one.
 *
 * <p>Compared with decoding chunks into {@code HttpContent} and encoding them again for the client,
 * no byte is copied and nothing is made per chunk: one part per read (a slice and an array of
 * offsets), and a read that carries several events is one write.
 *
 * <p>As in {@code HttpClientCodec}, the methods of the requests sent are remembered so a response
 * to HEAD is known to have no body.
 */
public final class UpstreamHttpCodec extends CombinedChannelDuplexHandler<UpstreamHttpCodec.ResponseDecoder, UpstreamHttpCodec.RequestEncoder> {
  /** Methods of the requests sent and not yet answered, oldest first. */
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2); // one per open connection: small, it grows if ever needed

  public UpstreamHttpCodec(int maxInitialLineLength, int maxHeaderSize) {
    HttpDecoderConfig config = new HttpDecoderConfig().setMaxInitialLineLength(maxInitialLineLength).setMaxHeaderSize(maxHeaderSize);
    init(new ResponseDecoder(config, maxHeaderSize), new RequestEncoder());
  }

  final class RequestEncoder extends HttpRequestEncoder {
    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
      if (msg instanceof HttpRequest request) {
        methods.add(request.method());
      }
      super.encode(ctx, msg, out);
    }
  }

  final class ResponseDecoder extends HttpResponseDecoder {
    private final int maxFramingBytes;
    /** The body being read, from the head that announced it to its last byte; null between messages. */
    private BodyFraming body;
    /** The framing was malformed: the connection is closing, nothing more is read. */
    private boolean broken;

    ResponseDecoder(HttpDecoderConfig config, int maxFramingBytes) {
      super(config);
      this.maxFramingBytes = maxFramingBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
      if (broken) {
        in.skipBytes(in.readableBytes());
        return;
      }
      if (body != null) {
        readBody(in, out);
        return;
      }
      int before = out.size();
      super.decode(ctx, in, out);
      if (out.size() == before + 1 && out.get(before) instanceof HttpResponse head) {
        body = framingOf(head); // the head alone: a body follows (a bodyless head comes with its end)
      }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
      if (broken) {
        return;
      }
      if (body == null) {
        super.decodeLast(ctx, in, out);
        return;
      }
      if (in.isReadable()) {
        readBody(in, out);
      }
      if (body != null) {
        if (body.kind() == BodyFraming.Kind.UNTIL_CLOSE) {
          out.add(new WireContent.Last(Unpooled.EMPTY_BUFFER, null, false)); // the close is its end
        } // else the connection closed inside the body: no end; the listener sees the connection break
        endBody();
      }
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
      if (msg instanceof HttpResponse r && r.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
        HttpMethod method = methods.poll();
        if (HttpMethod.HEAD.equals(method)) {
          return true;
        }
      }
      return super.isContentAlwaysEmpty(msg);
    }

    private BodyFraming framingOf(HttpResponse head) {
      if (head.decoderResult().isFailure() || head instanceof HttpContent || head.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        return null;
      }
      if (HttpUtil.isTransferEncodingChunked(head)) {
        return BodyFraming.chunked(maxFramingBytes);
      }
      long length = HttpUtil.getContentLength(head, -1L);
      return length >= 0 ? BodyFraming.fixedLength(length) : BodyFraming.untilClose();
    }

    private void readBody(ByteBuf in, List<Object> out) {
      boolean startsBetweenChunks = body.betweenChunks();
      int n;
      try {
        n = body.scan(in);
      } catch (CorruptedFrameException e) {
        broken = true;
        body = null;
        in.skipBytes(in.readableBytes());
        throw e;
      }
      int start = in.readerIndex();
      ByteBuf wire = in.retainedSlice(start, n);
      int[] ranges = body.kind() == BodyFraming.Kind.CHUNKED ? payloadRanges(start) : null;
      in.skipBytes(n);
      boolean wholeChunks = startsBetweenChunks && body.betweenChunks();
      if (body.done()) {
        endBody();
        out.add(new WireContent.Last(wire, ranges, wholeChunks));
      } else {
        out.add(new WireContent(wire, ranges, wholeChunks));
      }
    }

    /** The payload ranges of the last scan, as offset and length pairs from {@code start}. */
    private int[] payloadRanges(int start) {
      int[] ranges = new int[body.rangeCount() * 2];
      for (int i = 0; i < ranges.length; i += 2) {
        ranges[i] = body.rangeIndex(i / 2) - start;
        ranges[i + 1] = body.rangeLength(i / 2);
      }
      return ranges;
    }

    private void endBody() {
      body = null;
      reset(); // Netty's decoder reads the next head from the start
    }
  }
}
