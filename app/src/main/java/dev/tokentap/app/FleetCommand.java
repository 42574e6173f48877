package dev.tokentap.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code tokentap fleet ...}: commands that act on many sidecars at once. */
@Command(name = "fleet", mixinStandardHelpOptions = true, description = "Act on a fleet of tokentap sidecars at once.",
    subcommands = {FleetShadowCommand.class, FleetRampCommand.class})
final class FleetCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
