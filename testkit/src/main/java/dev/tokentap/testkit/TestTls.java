package dev.tokentap.testkit;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The test PKI in {@code resources/tls} (made by {@code generate.sh} there, valid for 100 years): a
 * test CA and server certificates, written once per JVM to a temporary folder, because the config
 * keys that take them want file paths. The keys are public: for tests only.
 */
public final class TestTls {
  /** A server certificate and its key. */
  public enum Server {
    /** Signed by the test CA for localhost, 127.0.0.1 and ::1. */
    LOCALHOST("localhost"),
    /** Signed by the test CA, but for wrong-host.invalid only. */
    WRONG_HOST("wrong-host"),
    /** Self-signed for localhost, 127.0.0.1 and ::1: no CA vouches for it. */
    UNTRUSTED("untrusted");

    private final String name;

    Server(String name) {
      this.name = name;
    }

    public Path certFile() {
      return file(name + ".pem");
    }

    public Path keyFile() {
      return file(name + "-key.pem");
    }

    /** A Netty server context presenting this certificate. */
    public SslContext serverContext() {
      try {
        return SslContextBuilder.forServer(certFile().toFile(), keyFile().toFile()).build();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static Path dir;

  private TestTls() {}

  /** The test CA's certificate (PEM), for {@code ca-file} keys. */
  public static Path caFile() {
    return file("ca.pem");
  }

  /** A trust manager trusting the test CA alone. */
  public static X509TrustManager caTrustManager() {
    try (InputStream in = Files.newInputStream(caFile())) {
      X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      store.setCertificateEntry("tokentap-test-ca", ca);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      return (X509TrustManager) tmf.getTrustManagers()[0];
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A JDK client context trusting the test CA alone (for HttpClient, OkHttp). */
  public static SSLContext clientContext() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new javax.net.ssl.TrustManager[] {caTrustManager()}, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static synchronized Path file(String name) {
    try {
      if (dir == null) {
        Path d = Files.createTempDirectory("tokentap-test-tls");
        d.toFile().deleteOnExit();
        for (String f : new String[] {"ca.pem", "localhost.pem", "localhost-key.pem", "wrong-host.pem", "wrong-host-key.pem", "untrusted.pem", "untrusted-key.pem"}) {
          try (InputStream in = TestTls.class.getResourceAsStream("/tls/" + f)) {
            if (in == null) {
              throw new IllegalStateException("test resource /tls/" + f + " is missing");
            }
            Path p = d.resolve(f);
            Files.copy(in, p);
            p.toFile().deleteOnExit();
          }
        }
        dir = d;
      }
      return dir.resolve(name);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
