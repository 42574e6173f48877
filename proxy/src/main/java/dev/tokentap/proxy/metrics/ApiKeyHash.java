package dev.tokentap.proxy.metrics;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A short name for an API key that is not the key: the first 6 bytes (12 hex digits) of
 * HMAC-SHA256(salt, key). With a configured salt the name is stable across restarts and replicas
 * (and whoever knows the salt can compute a key's name, for an allow-list); with none, a random
 * salt per process makes names unlinkable to keys outside the process, at the price of names that
 * change on every restart and differ between replicas. 48 bits: collisions are negligible for the
 * few hundred tenants a label can afford.
 */
public final class ApiKeyHash {
  private final SecretKeySpec key;
  /** One initialised Mac per event-loop thread: no lookup or key setup per request. */
  private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

  /** @param salt "" for a random salt, drawn once for this process */
  public ApiKeyHash(String salt) {
    byte[] bytes;
    if (salt == null || salt.isEmpty()) {
      bytes = new byte[32];
      new SecureRandom().nextBytes(bytes);
    } else {
      bytes = salt.getBytes(StandardCharsets.UTF_8);
    }
    this.key = new SecretKeySpec(bytes, "HmacSHA256");
  }

  public String of(String apiKey) {
    byte[] digest = macs.get().doFinal(apiKey.getBytes(StandardCharsets.UTF_8)); // doFinal resets the Mac
    return HexFormat.of().formatHex(digest, 0, 6);
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JVM has HmacSHA256", e);
    }
  }
}
