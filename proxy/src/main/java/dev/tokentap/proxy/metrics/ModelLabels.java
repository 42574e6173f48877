package dev.tokentap.proxy.metrics;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps the {@code model} label bounded: the first {@code maxModels} distinct names are kept (trimmed,
 * at most 128 characters), later ones become {@code other} (tokentap.metrics.max-models). A request
 * without a model is {@code unknown}. Model names come from clients, so an unbounded label would let
 * any client blow up the number of series; requests folded into {@code other} are counted, so a cap
 * set too low shows.
 */
public final class ModelLabels {
  public static final String UNKNOWN = "unknown";
  public static final String OTHER = "other";

  private final int maxModels;
  private final Runnable onOverflow;
  private final ConcurrentHashMap<String, String> known = new ConcurrentHashMap<>();

  public ModelLabels(int maxModels) {
    this(maxModels, () -> {});
  }

  /** @param onOverflow called once per finished request whose model was folded into {@code other} */
  public ModelLabels(int maxModels, Runnable onOverflow) {
    this.maxModels = maxModels;
    this.onOverflow = onOverflow;
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

  /**
   * A request asking for {@code model} finished: counts it if its name did not fit. Names only ever
   * join the known set, so one unknown now was unknown when the request was labelled.
   */
  public void finished(String model) {
    if (model != null && !model.isBlank() && !known.containsKey(model)) {
      onOverflow.run();
    }
  }
}
