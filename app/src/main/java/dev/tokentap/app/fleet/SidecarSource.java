package dev.tokentap.app.fleet;

import java.util.List;

/** Where the fleet controller finds its sidecars, asked again every round: a static list, or Kubernetes. */
@FunctionalInterface
public interface SidecarSource {
  /** The sidecars now; an empty list when there are none (or they cannot be found this round). */
  List<SidecarAdmin> sidecars();

  /** A fixed list. */
  static SidecarSource of(List<SidecarAdmin> sidecars) {
    List<SidecarAdmin> fixed = List.copyOf(sidecars);
    return new SidecarSource() {
      @Override
      public List<SidecarAdmin> sidecars() {
        return fixed;
      }

      @Override
      public String toString() {
        return fixed.size() + " sidecars listed";
      }
    };
  }
}
