package dev.tokentap.proxy.config;

import java.nio.file.Path;

/**
 * How tokentap checks the certificate of an {@code https://} upstream or staging target. Used only
 * for https URLs; plain http ignores it.
 *
 * @param caFile PEM bundle of the CAs trusted instead of the JVM's default trust store; null: the
 *     JVM's default
 * @param insecureSkipVerify accept any certificate for any host name (logged as a warning)
 */
public record ClientTls(Path caFile, boolean insecureSkipVerify) {}
