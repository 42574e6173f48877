package dev.tokentap.proxy.metrics;

import java.util.Set;

/**
 * Keeps the {@code model} label bounded: the first {@code maxModels} distinct names are kept (trimmed,
 * at most 128 characters), later ones become {@code other} (tokentap.metrics.max-models). A request
 * without a model is {@code unknown}. Model names come from clients, so an unbounded label would let
 * any client blow up the number of series; requests folded into {@code other} are counted, so a cap
 * set too low shows.
 */
public final class ModelLabels extends BoundedLabels {
  public ModelLabels(int maxModels) {
    this(maxModels, () -> {});
  }

  /** @param onOverflow called once per finished request whose model was folded into {@code other} */
  public ModelLabels(int maxModels, Runnable onOverflow) {
    super(maxModels, Set.of(), onOverflow);
  }
}
