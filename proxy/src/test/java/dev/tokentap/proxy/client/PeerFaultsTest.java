package dev.tokentap.proxy.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.NotSslRecordException;
import java.io.IOException;
import java.net.SocketException;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;

class PeerFaultsTest {
  @Test
  void resetsTlsAlertsAndUndecodableBytesAreThePeers() {
    assertThat(PeerFaults.unexpected(new SocketException("Connection reset"))).isFalse();
    assertThat(PeerFaults.unexpected(new IOException("Broken pipe"))).isFalse();
    assertThat(PeerFaults.unexpected(new DecoderException(new SSLException("bad record MAC")))).isFalse();
    assertThat(PeerFaults.unexpected(new NotSslRecordException("not an SSL/TLS record"))).isFalse();
    assertThat(PeerFaults.unexpected(new TooLongFrameException("too long"))).isFalse();
    assertThat(PeerFaults.unexpected(new java.nio.channels.NotYetConnectedException())).as("ENOTCONN on a read after a RST").isFalse();
    assertThat(PeerFaults.connectionLost(new java.nio.channels.NotYetConnectedException())).isTrue();
    assertThat(PeerFaults.connectionLost(new SocketException("Connection reset"))).isTrue();
    assertThat(PeerFaults.connectionLost(new IllegalStateException())).isFalse();
  }

  @Test
  void aHandlerOrDecoderThrowingIsTokentaps() {
    assertThat(PeerFaults.unexpected(new IllegalStateException("unexpected message type"))).isTrue();
    assertThat(PeerFaults.unexpected(new DecoderException(new IndexOutOfBoundsException("index 9")))).isTrue();
    assertThat(PeerFaults.unexpected(new io.netty.util.IllegalReferenceCountException(0))).isTrue();
  }
}
