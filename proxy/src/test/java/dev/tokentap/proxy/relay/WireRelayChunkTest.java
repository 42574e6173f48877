package dev.tokentap.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link WireRelay#chunk}: one HTTP/1.1 chunk per payload, small ones copied, large ones referenced; the payload released once. */
class WireRelayChunkTest {
  static String chunk(String payload, boolean last) {
    ByteBuf in = ByteBufAllocator.DEFAULT.buffer().writeBytes(payload.getBytes(StandardCharsets.ISO_8859_1));
    ByteBuf out = WireRelay.chunk(ByteBufAllocator.DEFAULT, in, last);
    try {
      return out.toString(StandardCharsets.ISO_8859_1);
    } finally {
      out.release();
      assertThat(in.refCnt()).isZero();
    }
  }

  @Test
  void framesEachSizeInHex() {
    assertThat(chunk("data: x\n\n", false)).isEqualTo("9\r\ndata: x\n\n\r\n");
    assertThat(chunk("a".repeat(16), false)).isEqualTo("10\r\n" + "a".repeat(16) + "\r\n");
    assertThat(chunk("b".repeat(255), true)).isEqualTo("ff\r\n" + "b".repeat(255) + "\r\n0\r\n\r\n");
    String big = "c".repeat(70_000); // referenced, not copied
    assertThat(chunk(big, false)).isEqualTo("11170\r\n" + big + "\r\n");
  }

  @Test
  void anEmptyPayloadIsNoChunkUnlessItEndsTheBody() {
    assertThat(WireRelay.chunk(ByteBufAllocator.DEFAULT, Unpooled.EMPTY_BUFFER, false).readableBytes()).isZero();
    assertThat(chunk("", true)).isEqualTo("0\r\n\r\n");
  }
}
