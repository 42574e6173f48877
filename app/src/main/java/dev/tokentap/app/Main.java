package dev.tokentap.app;

import dev.tokentap.proxy.BufferAllocator;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar tokentap.jar <verb>}: the one executable, with a verb per job. */
@Command(
    name = "tokentap",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Times every token of LLM inference traffic and exports it to Prometheus.",
    subcommands = {ProxyCommand.class, EmulateCommand.class, BenchCommand.class, BenchMergeCommand.class, DemoCommand.class, FleetCommand.class})
public final class Main implements Runnable {
  /** Exit status for configuration errors (a bad key or value), distinct from picocli's usage errors (2). */
  public static final int CONFIG_ERROR = 3;
  /** Exit status when a listener cannot be opened or a file cannot be written. */
  public static final int IO_ERROR = 4;
  /** Exit status of a bench run that failed as a whole: no completed request, or too many failed (--max-failure-ratio). */
  public static final int RUN_FAILED = 5;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    // Every command (the emulator and the bench too) keeps Netty's allocator out of its low-memory
    // mode; the proxy also picks tokentap.proxy.allocator when it starts (docs/performance.md).
    BufferAllocator.keepOutOfLowMemoryMode();
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs a command line and returns its exit status (tests call this in-process). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          if (e instanceof dev.tokentap.proxy.config.SettingsException || e instanceof IllegalArgumentException) {
            err.println("tokentap: configuration error: " + e.getMessage());
            return CONFIG_ERROR;
          }
          if (e instanceof java.io.IOException) {
            // Typically a port already in use: say so plainly instead of a stack trace.
            err.println("tokentap: " + e.getMessage());
            return IO_ERROR;
          }
          throw e;
        });
    return cli.execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"tokentap " + (v == null ? "dev" : v)};
    }
  }
}
