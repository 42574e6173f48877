package dev.tokentap.proxy.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokentap.proxy.config.ClientTls;
import dev.tokentap.proxy.config.ServerTls;
import dev.tokentap.proxy.config.SettingsException;
import dev.tokentap.proxy.config.UpstreamUri;
import dev.tokentap.testkit.TestTls;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEM files that pass the loader's first look but cannot be used still stop start-up, naming their key. */
class TlsContextsTest {

  @Test
  void plainHttpNeedsNoContextAndHttpsGetsAClientOne() {
    assertThat(TlsContexts.forUpstream(UpstreamUri.parse("http://x:1"), new ClientTls(null, false), "k")).isNull();
    assertThat(TlsContexts.forUpstream(UpstreamUri.parse("https://x:1"), new ClientTls(TestTls.caFile(), false), "k").isClient()).isTrue();
    assertThat(TlsContexts.forListener(null, "k")).isNull();
    assertThat(TlsContexts.forListener(new ServerTls(TestTls.Server.LOCALHOST.certFile(), TestTls.Server.LOCALHOST.keyFile()), "k").isServer()).isTrue();
  }

  @Test
  void caBundleWithACorruptCertificateNamesTheKey(@TempDir Path dir) throws Exception {
    Path ca = dir.resolve("ca.pem");
    Files.writeString(ca, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    assertThatThrownBy(() -> TlsContexts.forUpstream(UpstreamUri.parse("https://x:1"), new ClientTls(ca, false), "tokentap.upstream.tls"))
        .isInstanceOf(SettingsException.class)
        .hasMessageStartingWith("tokentap.upstream.tls.ca-file: \"" + ca + "\" (expected: PEM CA certificates;");
  }

  @Test
  void corruptPrivateKeyNamesTheKey(@TempDir Path dir) throws Exception {
    Path key = dir.resolve("key.pem");
    Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
    assertThatThrownBy(() -> TlsContexts.forListener(new ServerTls(TestTls.Server.LOCALHOST.certFile(), key), "tokentap.proxy.tls"))
        .isInstanceOf(SettingsException.class)
        .hasMessageStartingWith("tokentap.proxy.tls.key-file: \"" + key + "\" (expected: the unencrypted PKCS#8 PEM key of tokentap.proxy.tls.cert-file");
  }
}
