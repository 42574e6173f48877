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
      assertThat(out.isDirect()).as("a heap part makes the epoll transport copy the chunk before writing it").isTrue();
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
  void aCompositePayloadIsCopiedPartByPartOrReferenced() {
    for (int size : new int[] {300, WireRelay.COPY_THRESHOLD, WireRelay.COPY_THRESHOLD + 1}) {
      // What the upstream decoder hands over: the payload slices of one read, framing cut out.
      ByteBuf read = ByteBufAllocator.DEFAULT.directBuffer();
      StringBuilder expected = new StringBuilder();
      for (int i = 0; expected.length() < size; i++) {
        String part = ("data: " + i + "\n\n").substring(0, Math.min(9, size - expected.length()));
        read.writeBytes(("x\r\n" + part).getBytes(StandardCharsets.ISO_8859_1));
        expected.append(part);
      }
      io.netty.buffer.CompositeByteBuf payload = ByteBufAllocator.DEFAULT.compositeDirectBuffer(Integer.MAX_VALUE);
      for (int at = 0, done = 0; done < size; at += 3 + 9, done += 9) {
        payload.addComponent(true, read.retainedSlice(at + 3, Math.min(9, size - done)));
      }
      read.release();
      ByteBuf out = WireRelay.chunk(ByteBufAllocator.DEFAULT, payload, true);
      try {
        assertThat(out.isDirect()).isTrue();
        assertThat(out.toString(StandardCharsets.ISO_8859_1))
            .isEqualTo(Integer.toHexString(size) + "\r\n" + expected + "\r\n0\r\n\r\n");
      } finally {
        out.release();
      }
      assertThat(payload.refCnt()).isZero();
    }
  }

  @Test
  void anEmptyPayloadIsNoChunkUnlessItEndsTheBody() {
    assertThat(WireRelay.chunk(ByteBufAllocator.DEFAULT, Unpooled.EMPTY_BUFFER, false).readableBytes()).isZero();
    assertThat(chunk("", true)).isEqualTo("0\r\n\r\n");
  }
}
