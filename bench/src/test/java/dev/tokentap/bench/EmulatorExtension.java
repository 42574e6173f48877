package dev.tokentap.bench;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import java.net.URI;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An emulator on a free port for the test class, {@code @RegisterExtension static final
 * EmulatorExtension EMULATOR = new EmulatorExtension(profile)}: started before the first test,
 * closed after the last.
 */
final class EmulatorExtension implements BeforeAllCallback, AfterAllCallback {
  private final EmulatorSettings settings;
  private Emulator emulator;

  EmulatorExtension(EngineProfile profile) {
    this(EmulatorSettings.defaults().withProfile(profile));
  }

  /** An emulator with these settings, on a free port. */
  EmulatorExtension(EmulatorSettings settings) {
    this.settings = settings.withPort(0);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    emulator = Emulator.start(settings);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    emulator.close();
  }

  URI baseUri() {
    return emulator.baseUri();
  }

  Emulator emulator() {
    return emulator;
  }
}
