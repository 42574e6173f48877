package dev.tokentap.proxy.metrics;

import java.util.Set;

/**
 * The {@code tenant} label (tokentap.metrics.tenant), bounded like models: the first {@code
 * max-tenants} values (or only those on the allow-list) keep their label, later ones are {@code
 * other} and counted in {@code tokentap_tenant_label_overflow_total}; a request without one is
 * {@code unknown}. When tenants are off, {@link #label} is null and series carry no tenant label at
 * all, exactly as before the option existed.
 */
public final class TenantLabels extends BoundedLabels {
  private static final TenantLabels OFF = new TenantLabels(false, 1, Set.of(), () -> {});

  private final boolean enabled;

  private TenantLabels(boolean enabled, int maxTenants, Set<String> allowed, Runnable onOverflow) {
    super(maxTenants, allowed, onOverflow);
    this.enabled = enabled;
  }

  public static TenantLabels off() {
    return OFF;
  }

  public static TenantLabels on(int maxTenants, Set<String> allowed, Runnable onOverflow) {
    return new TenantLabels(true, maxTenants, allowed, onOverflow);
  }

  public boolean enabled() {
    return enabled;
  }

  /** The label of a request whose tenant is {@code raw} (null: none found); null when tenants are off. */
  @Override
  public String label(String raw) {
    return enabled ? super.label(raw) : null;
  }

  @Override
  public void finished(String raw) {
    if (enabled) {
      super.finished(raw);
    }
  }
}
