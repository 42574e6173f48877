package dev.tokentap.proxy.config;

import java.nio.file.Path;

/**
 * TLS on the client-facing listener.
 *
 * @param certFile PEM certificate chain, the server's certificate first
 * @param keyFile PEM private key of that certificate, unencrypted PKCS#8
 */
public record ServerTls(Path certFile, Path keyFile) {}
