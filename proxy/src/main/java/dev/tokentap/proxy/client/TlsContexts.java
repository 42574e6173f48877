package dev.tokentap.proxy.client;

import dev.tokentap.proxy.config.ClientTls;
import dev.tokentap.proxy.config.ServerTls;
import dev.tokentap.proxy.config.SettingsException;
import dev.tokentap.proxy.config.UpstreamUri;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.NetUtil;
import java.time.Duration;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Netty TLS contexts built from configuration, once, before any port opens; a file that cannot be
 * used becomes a {@link SettingsException} naming its key. The provider is Netty's default: OpenSSL
 * when netty-tcnative is on the class path, else the JDK's.
 */
public final class TlsContexts {
  private static final Logger log = LoggerFactory.getLogger(TlsContexts.class);

  private TlsContexts() {}

  /**
   * The client context for connections to {@code upstream}; null when it is plain http. Verifies the
   * certificate chain (against {@code ca-file}, else the JVM's trust store) and that the certificate
   * names the upstream's host (RFC 2818 / RFC 6125), unless verification is explicitly skipped.
   *
   * @param key the config object {@code tls} was read from, for messages (e.g. tokentap.upstream.tls)
   */
  public static SslContext forUpstream(UpstreamUri upstream, ClientTls tls, String key) {
    if (!upstream.secure()) {
      return null;
    }
    SslContextBuilder builder = SslContextBuilder.forClient();
    if (tls.insecureSkipVerify()) {
      log.warn("{}.insecure-skip-verify = true: the certificate of {} is NOT verified; anyone on the network path can read and"
          + " change that traffic. Use {}.ca-file instead.", key, upstream, key);
      builder.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
    } else {
      builder.endpointIdentificationAlgorithm("HTTPS");
      if (tls.caFile() != null) {
        try {
          builder.trustManager(tls.caFile().toFile());
        } catch (IllegalArgumentException e) {
          throw new SettingsException(key + ".ca-file: \"" + tls.caFile() + "\" (expected: PEM CA certificates; " + rootMessage(e) + ")");
        }
      }
    }
    sni(builder, upstream);
    try {
      return builder.build();
    } catch (Exception e) { // SSLException, or a provider's runtime exception for an unusable bundle
      throw new SettingsException(key + ".ca-file: \"" + tls.caFile() + "\" (expected: PEM CA certificates; " + rootMessage(e) + ")");
    }
  }

  /**
   * The client context for connections to {@code upstream} that trust what {@code trust} trusts (the
   * JVM's trust store when null); null when it is plain http. Verifies the chain and the host name
   * as {@link #forUpstream(UpstreamUri, ClientTls, String)} does.
   */
  public static SslContext forUpstream(UpstreamUri upstream, TrustManager trust) {
    if (!upstream.secure()) {
      return null;
    }
    SslContextBuilder builder = SslContextBuilder.forClient().endpointIdentificationAlgorithm("HTTPS");
    if (trust != null) {
      builder.trustManager(trust);
    }
    sni(builder, upstream);
    try {
      return builder.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot set up TLS for " + upstream + ": " + rootMessage(e), e);
    }
  }

  private static void sni(SslContextBuilder builder, UpstreamUri upstream) {
    String host = bare(upstream.host());
    if (!NetUtil.isValidIpV4Address(host) && !NetUtil.isValidIpV6Address(host)) {
      // The JDK sends SNI by itself only for names with a dot; servers behind a name-based front
      // (and single-label names such as Kubernetes services) need it always. Never for IPs (RFC 6066 §3).
      builder.serverName(new SNIHostName(host));
    }
  }

  /** The server context of the client listener; null when {@code tls} is null (plain HTTP). */
  public static SslContext forListener(ServerTls tls, String key) {
    if (tls == null) {
      return null;
    }
    try {
      return SslContextBuilder.forServer(tls.certFile().toFile(), tls.keyFile().toFile()).build();
    } catch (Exception e) {
      throw new SettingsException(key + ".key-file: \"" + tls.keyFile() + "\" (expected: the unencrypted PKCS#8 PEM key of "
          + key + ".cert-file \"" + tls.certFile() + "\"; " + rootMessage(e) + ")");
    }
  }

  /**
   * A handler for one connection to {@code upstream}: the host name it verifies and sends as SNI is
   * the URL's; a handshake longer than {@code handshakeTimeout} fails the connection.
   */
  public static SslHandler newHandler(SslContext context, ByteBufAllocator alloc, UpstreamUri upstream, Duration handshakeTimeout) {
    SslHandler handler = context.newHandler(alloc, bare(upstream.host()), upstream.port());
    handler.setHandshakeTimeoutMillis(Math.max(1, handshakeTimeout.toMillis()));
    return handler;
  }

  private static String bare(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String own = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return t == e || t.getMessage() == null ? own : own + ": " + t.getMessage();
  }
}
