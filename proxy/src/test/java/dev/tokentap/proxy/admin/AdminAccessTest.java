package dev.tokentap.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Control endpoints: loopback peers always, others only with the configured bearer token. */
class AdminAccessTest {

  @ParameterizedTest
  @CsvSource(nullValues = "null", value = {
    "127.0.0.1, null,               null,   true",
    "::1,       null,               null,   true",
    "10.0.0.7,  null,               null,   false",
    "10.0.0.7,  Bearer s3cret,      null,   false",
    "10.0.0.7,  null,               s3cret, false",
    "10.0.0.7,  Bearer wrong,       s3cret, false",
    "10.0.0.7,  Basic s3cret,       s3cret, false",
    "10.0.0.7,  Bearer s3cret,      s3cret, true",
    "10.0.0.7,  bearer s3cret,      s3cret, true",
  })
  void whoMayUseTheControlEndpoints(String peer, String authorization, String token, boolean allowed) {
    assertThat(AdminAccess.allowed(new InetSocketAddress(peer, 40000), authorization, token)).isEqualTo(allowed);
  }
}
