package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Renders {@code report.html} of a stage list with a knee in headless Chromium (Debian's {@code
 * chromium}), takes a screenshot and checks the curves are drawn: pixels of the series colours
 * inside the first chart's plot area (left of its legend, so the legend alone does not count), and
 * the knee's red ring. {@code --dump-dom} shows the chart elements as the browser parsed them.
 *
 * <p>Skips when no Chromium is installed, unless {@code TOKENTAP_REQUIRE_CHROMIUM=true} ({@code
 * .ci/run} installs it and sets that), then fails.
 */
class HtmlReportChromiumTest {
  private static final int BODY_MARGIN = 24;

  @Test
  void theReportRendersWithTheCurveAndTheKneeVisible(@TempDir Path dir) throws Exception {
    Path chromium = requireChromium();
    StepResults results;
    try (KneeFixture fixture = new KneeFixture()) {
      results = fixture.stages();
    }
    assertThat(results.highestPassing()).as("the fixture's knee").isNotNull();
    results.write(dir, null);
    String url = dir.resolve("report.html").toUri().toString();

    String dom = chromium(chromium, dir, "--dump-dom", url);
    assertThat(count(dom, "<svg ")).isEqualTo(4);
    assertThat(count(dom, "class=\"series\"")).isEqualTo(10);
    assertThat(count(dom, "class=\"knee\"")).isEqualTo(4);
    assertThat(count(dom, "class=\"point\"")).isEqualTo(10 * results.steps().size());
    // p99 dashed with hollow squares over p50's solid line and dots: both visible where they coincide.
    assertThat(count(dom, "stroke-dasharray=\"" + HtmlReport.P99_DASH + "\" points=")).isEqualTo(3);
    assertThat(count(dom, "<rect class=\"point\"")).isEqualTo(3 * results.steps().size());

    Path png = dir.resolve("report.png");
    chromium(chromium, dir, "--screenshot=" + png, "--window-size=1000,2400", url);
    // Kept for a look at target/report-screenshot.png when run from the module.
    if (Files.isDirectory(Path.of("target"))) {
      Files.copy(png, Path.of("target", "report-screenshot.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    BufferedImage image = ImageIO.read(png.toFile());
    assertThat(image).as("screenshot").isNotNull();
    // The first chart (throughput vs latency) is the first SVG on the page. Its x axis is the first
    // dark line across the plot's width; the plot area is the band above it, left of the legend.
    int left = BODY_MARGIN + 72;
    int right = BODY_MARGIN + SvgChart.WIDTH - 170;
    int axis = firstDarkRow(image, left + 4, right - 4);
    assertThat(axis).as("the first chart's x axis").isPositive();
    int top = axis - (SvgChart.HEIGHT - 52 - 44) - 2;
    // Drawn, not long: how far the curves run depends on the run's numbers (steps close in
    // throughput make short curves), and where p50 and p99 coincide (below the knee) the p99 curve,
    // drawn last, covers the p50 one; a point marker alone is about 30 pixels. So each curve must
    // show, and the two together must make more than a couple of markers.
    int p50 = pixels(image, left, right, top, axis, 0x1f77b4);
    int p99 = pixels(image, left, right, top, axis, 0xff7f0e);
    assertThat(p50).as("p50 curve pixels").isGreaterThan(10);
    assertThat(p99).as("p99 curve pixels").isGreaterThan(10);
    assertThat(p50 + p99).as("p50 and p99 curve pixels").isGreaterThan(80);
    assertThat(pixels(image, left, right, top, axis, 0xd62728)).as("knee marker pixels").isGreaterThan(30);
  }

  @Test
  void theSingleRunReportRendersItsHeadlineDistributionsAndTimeSeries(@TempDir Path dir) throws Exception {
    Path chromium = requireChromium();
    BenchReport report;
    try (KneeFixture fixture = new KneeFixture();
        Bench bench = new Bench(fixture.emulator.baseUri(), SloSpec.parse("ttft=150ms"), new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
      report = bench.run(BenchWarmup.parse("5").options(Workloads.parse("synthetic:input=32,output=uniform:4:16", "m", 1),
          LoadPlan.closed(2), 40, null, 1));
    }
    new StepResults("run", "concurrency", 0.9, List.of(new LoadStep(1, 2, true, report))).write(dir, null, null);
    String url = dir.resolve("report.html").toUri().toString();
    String dom = chromium(chromium, dir, "--dump-dom", url);
    assertThat(dom).contains("id=\"headline\"", "TTFT p50 / p99");
    assertThat(count(dom, "<svg ")).isEqualTo(6);
    assertThat(dom).doesNotContain("no data");

    Path png = dir.resolve("run-report.png");
    chromium(chromium, dir, "--screenshot=" + png, "--window-size=1000,3000", url);
    if (Files.isDirectory(Path.of("target"))) {
      Files.copy(png, Path.of("target", "run-report-screenshot.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    BufferedImage image = ImageIO.read(png.toFile());
    // The first chart below the headline and the table is the TTFT CDF: its curve is drawn.
    int left = BODY_MARGIN + 72;
    int right = BODY_MARGIN + SvgChart.WIDTH - 170;
    int axis = firstDarkRow(image, left + 4, right - 4);
    assertThat(axis).as("the TTFT chart's x axis").isPositive();
    assertThat(pixels(image, left, right, axis - (SvgChart.HEIGHT - 52 - 44) - 2, axis, 0x1f77b4)).as("CDF pixels").isGreaterThan(80);
  }

  /** The Chromium binary; the test is skipped without one, unless CI requires it. */
  private static Path requireChromium() {
    Path chromium = findChromium();
    if (chromium == null) {
      assertThat(System.getenv("TOKENTAP_REQUIRE_CHROMIUM")).as("chromium is required here but not installed").isNotEqualTo("true");
      Assumptions.abort("chromium is not installed (apt-get install chromium)");
    }
    return chromium;
  }

  private static Path findChromium() {
    for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
      for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
        Path p = Path.of(dir, name);
        if (Files.isExecutable(p)) {
          return p;
        }
      }
    }
    return null;
  }

  /** Runs headless Chromium with its own profile and returns what it printed on stdout. */
  private static String chromium(Path binary, Path dir, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--hide-scrollbars", "--force-device-scale-factor=1", "--user-data-dir=" + Files.createTempDirectory(dir, "profile")));
    cmd.addAll(List.of(args));
    Path stdout = Files.createTempFile(dir, "chromium", ".out");
    Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish within 180 s: " + cmd);
    }
    assertThat(p.exitValue()).as("chromium exit status").isZero();
    return Files.readString(stdout, StandardCharsets.UTF_8);
  }

  private static int count(String s, String what) {
    return s.split(java.util.regex.Pattern.quote(what), -1).length - 1;
  }

  private static int firstDarkRow(BufferedImage image, int left, int right) {
    for (int y = 0; y < image.getHeight(); y++) {
      int dark = 0;
      for (int x = left; x < right; x++) {
        if (near(image.getRGB(x, y), 0x333333)) {
          dark++;
        }
      }
      if (dark >= (right - left) * 0.9) {
        return y;
      }
    }
    return -1;
  }

  private static int pixels(BufferedImage image, int left, int right, int top, int bottom, int rgb) {
    int n = 0;
    for (int y = Math.max(0, top); y < bottom; y++) {
      for (int x = left; x < right && x < image.getWidth(); x++) {
        if (near(image.getRGB(x, y), rgb)) {
          n++;
        }
      }
    }
    return n;
  }

  private static boolean near(int argb, int rgb) {
    int dr = Math.abs((argb >> 16 & 0xff) - (rgb >> 16 & 0xff));
    int dg = Math.abs((argb >> 8 & 0xff) - (rgb >> 8 & 0xff));
    int db = Math.abs((argb & 0xff) - (rgb & 0xff));
    return dr <= 24 && dg <= 24 && db <= 24;
  }
}
