package dev.tokentap.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Control endpoints: any peer and any Host with the configured bearer token; without it, loopback
 * peers naming a loopback Host (and a loopback Origin, if they send one). docs/reliability.md.
 */
class AdminAccessTest {

  @ParameterizedTest
  @CsvSource(nullValues = "null", value = {
    // peer     authorization    token   host                  origin                    allowed
    "127.0.0.1, null,            null,   localhost:9464,       null,                     true",
    "127.0.0.1, null,            null,   LOCALHOST,            null,                     true",
    "127.0.0.1, null,            null,   127.0.0.1:9464,       null,                     true",
    "127.0.0.1, null,            null,   127.8.9.10,           null,                     true",
    "::1,       null,            null,   [::1]:9464,           null,                     true",
    "::1,       null,            null,   [0:0:0:0:0:0:0:1],    null,                     true",
    "127.0.0.1, null,            null,   evil.example:9464,    null,                     false",
    "127.0.0.1, null,            null,   evil.example,         null,                     false",
    "127.0.0.1, null,            null,   null,                 null,                     false",
    "127.0.0.1, null,            null,   '',                   null,                     false",
    "127.0.0.1, null,            null,   localhost.evil.example, null,                   false",
    "127.0.0.1, null,            null,   127.0.0.1.nip.io:9464, null,                    false",
    "127.0.0.1, null,            null,   foo.localhost:9464,   null,                     false",
    "127.0.0.1, null,            null,   10.0.0.7:9464,        null,                     false",
    "127.0.0.1, null,            null,   128.0.0.1,            null,                     false",
    "127.0.0.1, null,            null,   127.0.0.256,          null,                     false",
    "127.0.0.1, null,            null,   2130706433,           null,                     false",
    "127.0.0.1, null,            null,   localhost:http,       null,                     false",
    "127.0.0.1, null,            null,   [::2]:9464,           null,                     false",
    "127.0.0.1, null,            null,   [::1%lo]:9464,        null,                     false",
    "127.0.0.1, null,            null,   [localhost]:9464,     null,                     false",
    "127.0.0.1, null,            null,   localhost:9464,       http://localhost:8080,    true",
    "127.0.0.1, null,            null,   localhost:9464,       http://127.0.0.1:9464,    true",
    "127.0.0.1, null,            null,   localhost:9464,       https://[::1],            true",
    "127.0.0.1, null,            null,   localhost:9464,       http://evil.example,      false",
    "127.0.0.1, null,            null,   localhost:9464,       null-origin,              false",
    "127.0.0.1, null,            null,   localhost:9464,       file://localhost,         false",
    "127.0.0.1, Bearer wrong,    s3cret, localhost:9464,       null,                     true",
    "127.0.0.1, Bearer wrong,    s3cret, evil.example,         null,                     false",
    "127.0.0.1, Bearer s3cret,   s3cret, evil.example:9464,    http://evil.example,      true",
    "10.0.0.7,  null,            null,   localhost,            null,                     false",
    "10.0.0.7,  Bearer s3cret,   null,   localhost,            null,                     false",
    "10.0.0.7,  null,            s3cret, localhost,            null,                     false",
    "10.0.0.7,  Bearer wrong,    s3cret, localhost,            null,                     false",
    "10.0.0.7,  Basic s3cret,    s3cret, localhost,            null,                     false",
    "10.0.0.7,  Bearer s3cret,   s3cret, 10.0.0.1:9464,        null,                     true",
    "10.0.0.7,  bearer s3cret,   s3cret, anything.example,     null,                     true",
  })
  void whoMayUseTheControlEndpoints(String peer, String authorization, String token, String host, String origin, boolean allowed) {
    String o = "null-origin".equals(origin) ? "null" : origin;
    String refusal = AdminAccess.refusal(new InetSocketAddress(peer, 40000), authorization, host, o, token);
    assertThat(refusal == null).as("refusal: %s", refusal).isEqualTo(allowed);
    if (refusal != null) {
      assertThat(refusal).startsWith("forbidden: ").doesNotContain("\n");
    }
  }
}
