package dev.tokentap.proxy.metrics;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps the {@code model} label bounded: the first {@code maxModels} distinct names are kept (trimmed,
 * at most 128 characters), later ones become {@code other}. A request without a model is {@code
 * unknown}. Model names come from clients, so an unbounded label would let any client blow up the
 * number of series.
 */
public final class ModelLabels {
  public static final String UNKNOWN = "unknown";
  public static final String OTHER = "other";

  private final int maxModels;
  private final ConcurrentHashMap<String, String> known = new ConcurrentHashMap<>();

  public ModelLabels(int maxModels) {
    this.maxModels = maxModels;
  }

  public String label(String model) {
    if (model == null || model.isBlank()) {
      return UNKNOWN;
    }
    String existing = known.get(model);
    if (existing != null) {
      return existing;
    }
    if (known.size() >= maxModels) {
      return OTHER;
    }
    String normalised = model.strip();
    if (normalised.length() > 128) {
      normalised = normalised.substring(0, 128);
    }
    String raced = known.putIfAbsent(model, normalised);
    return raced == null ? normalised : raced;
  }
}
