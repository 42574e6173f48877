package dev.tokentap.proxy.metrics;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A label whose values come from clients, kept bounded: the first {@code max} distinct values keep
 * their own label (trimmed, at most 128 characters), later ones become {@code other}; a missing
 * value is {@code unknown}. With an allow-list, only the values on it keep their label (still at
 * most {@code max} of them). Requests folded into {@code other} are counted through {@code
 * onOverflow}, so a cap set too low shows.
 */
public class BoundedLabels {
  public static final String UNKNOWN = "unknown";
  public static final String OTHER = "other";

  private final int max;
  private final Set<String> allowed; // empty: any value may take a place
  private final Runnable onOverflow;
  private final ConcurrentHashMap<String, String> known = new ConcurrentHashMap<>();

  /**
   * @param allowed values that may keep their label; empty for any
   * @param onOverflow called once per finished request whose value was folded into {@code other}
   */
  public BoundedLabels(int max, Set<String> allowed, Runnable onOverflow) {
    this.max = max;
    this.allowed = Set.copyOf(allowed);
    this.onOverflow = onOverflow;
  }

  public String label(String value) {
    if (value == null || value.isBlank()) {
      return UNKNOWN;
    }
    String existing = known.get(value);
    if (existing != null) {
      return existing;
    }
    String normalised = value.strip();
    if (normalised.length() > 128) {
      normalised = normalised.substring(0, 128);
    }
    if (known.size() >= max || (!allowed.isEmpty() && !allowed.contains(normalised))) {
      return OTHER;
    }
    String raced = known.putIfAbsent(value, normalised);
    return raced == null ? normalised : raced;
  }

  /**
   * A request carrying {@code value} finished: counts it if the value did not fit. Values only ever
   * join the known set, so one unknown now was unknown when the request was labelled.
   */
  public void finished(String value) {
    if (value != null && !value.isBlank() && !known.containsKey(value)) {
      onOverflow.run();
    }
  }
}
