package dev.tokentap.bench;

import java.util.List;
import java.util.Locale;

/**
 * A line chart as inline SVG, drawn here rather than by a script or a library, so the report needs
 * no network and renders the same in any browser. Points whose x or y is NaN are left out; the y
 * axis starts at zero so slopes are not exaggerated.
 */
final class SvgChart {
  static final int WIDTH = 760;
  static final int HEIGHT = 380;
  private static final int LEFT = 72;
  private static final int RIGHT = 170;
  private static final int TOP = 44;
  private static final int BOTTOM = 52;

  /**
   * One line of points, in the order given.
   *
   * @param dash the line's SVG {@code stroke-dasharray}; null for a solid line
   * @param dot how each point is marked
   */
  record Series(String name, String color, double[] x, double[] y, String dash, Dot dot) {
    Series(String name, String color, double[] x, double[] y) {
      this(name, color, x, y, null, Dot.CIRCLE);
    }
  }

  /**
   * A point's mark. A later series drawn dashed with hollow squares leaves an earlier one's line and
   * dots visible where the two coincide (p99 on p50 when every request took the same time).
   */
  enum Dot {
    CIRCLE,
    HOLLOW_SQUARE,
    NONE
  }

  /** The knee: a dashed vertical line at {@code x}, a ring at {@code (x, y)} when y is defined. */
  record Marker(double x, double y, String label) {}

  private SvgChart() {}

  static String render(String id, String title, String xLabel, String yLabel, List<Series> series, Marker marker) {
    return render(id, title, xLabel, yLabel, series, marker, Double.NaN);
  }

  /** As above, with the y axis ending at {@code yTop} (a percentage's 100) rather than above the data; NaN for the default. */
  static String render(String id, String title, String xLabel, String yLabel, List<Series> series, Marker marker, double yTop) {
    double xMin = Double.POSITIVE_INFINITY;
    double xMax = Double.NEGATIVE_INFINITY;
    double yMax = 0;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (finite(s.x()[i]) && finite(s.y()[i])) {
          xMin = Math.min(xMin, s.x()[i]);
          xMax = Math.max(xMax, s.x()[i]);
          yMax = Math.max(yMax, s.y()[i]);
        }
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">%n",
        id, WIDTH, HEIGHT, WIDTH, HEIGHT, esc(title)));
    sb.append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">%s</text>%n", LEFT, esc(title)));
    if (xMin == Double.POSITIVE_INFINITY) {
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#888\">no data</text>%n</svg>%n", LEFT, HEIGHT / 2));
      return sb.toString();
    }
    if (marker != null && finite(marker.x())) {
      xMin = Math.min(xMin, marker.x());
      xMax = Math.max(xMax, marker.x());
    }
    if (xMax - xMin < 1e-12) {
      double pad = Math.max(Math.abs(xMin) * 0.1, 1);
      xMin -= pad;
      xMax += pad;
    }
    double yStep = niceStep(finite(yTop) ? yTop : yMax > 0 ? yMax * 1.1 : 1);
    if (!finite(yTop)) {
      yTop = Math.ceil((yMax > 0 ? yMax * 1.05 : 1) / yStep) * yStep;
    }
    double xStep = niceStep(xMax - xMin);
    Axis ax = new Axis(xMin, xMax, yTop);
    int plotBottom = HEIGHT - BOTTOM;
    int plotRight = WIDTH - RIGHT;
    // Grid and ticks.
    for (double y = 0; y <= yTop + yStep / 2; y += yStep) {
      double py = ax.py(y);
      sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>%n", LEFT, plotRight, py, py));
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>%n", LEFT - 6, py + 4, tick(y)));
    }
    for (double x = Math.ceil(xMin / xStep) * xStep; x <= xMax + xStep / 1e6; x += xStep) {
      double px = ax.px(x);
      sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#f0f0f0\"/>%n", px, px, TOP, plotBottom));
      sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>%n", px, plotBottom + 16, tick(x)));
    }
    sb.append(String.format(Locale.ROOT, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#333\" shape-rendering=\"crispEdges\"/>%n", LEFT, plotRight, plotBottom, plotBottom));
    sb.append(String.format(Locale.ROOT, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#333\" shape-rendering=\"crispEdges\"/>%n", LEFT, LEFT, TOP, plotBottom));
    sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%s</text>%n",
        (LEFT + plotRight) / 2, HEIGHT - 12, esc(xLabel)));
    sb.append(String.format(Locale.ROOT, "<text transform=\"translate(16 %d) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">%s</text>%n",
        (TOP + plotBottom) / 2, esc(yLabel)));
    // Series, then the legend.
    int legendY = TOP + 6;
    for (Series s : series) {
      StringBuilder points = new StringBuilder();
      StringBuilder dots = new StringBuilder();
      for (int i = 0; i < s.x().length; i++) {
        if (finite(s.x()[i]) && finite(s.y()[i])) {
          double px = ax.px(s.x()[i]);
          double py = ax.py(s.y()[i]);
          points.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
          String tip = String.format(Locale.ROOT, "<title>%s: %s, %s</title>", esc(s.name()), tick(s.x()[i]), tick(s.y()[i]));
          if (s.dot() == Dot.CIRCLE) {
            dots.append(String.format(Locale.ROOT, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\">%s</circle>%n",
                px, py, s.color(), tip));
          } else if (s.dot() == Dot.HOLLOW_SQUARE) {
            dots.append(String.format(Locale.ROOT,
                "<rect class=\"point\" x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\">%s</rect>%n",
                px - 6, py - 6, s.color(), tip));
          }
        }
      }
      String dash = s.dash() == null ? "" : " stroke-dasharray=\"" + s.dash() + "\"";
      sb.append(String.format(Locale.ROOT, "<polyline class=\"series\" data-series=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"3\"%s points=\"%s\"/>%n",
          esc(s.name()), s.color(), dash, points.toString().trim()));
      sb.append(dots);
      sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"%s/>%n",
          plotRight + 14, plotRight + 38, legendY, legendY, s.color(), dash));
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>%n", plotRight + 44, legendY + 4, esc(s.name())));
      legendY += 20;
    }
    if (marker != null && finite(marker.x())) {
      double px = ax.px(marker.x());
      sb.append("<g class=\"knee\">\n");
      sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>%n",
          px, px, TOP, plotBottom));
      if (finite(marker.y())) {
        sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"9\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"3\"/>%n", px, ax.py(marker.y())));
      }
      // Left of the line near the right edge, so the label stays off the legend.
      boolean flip = px > (LEFT + WIDTH - RIGHT) / 2.0;
      sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" fill=\"#d62728\" text-anchor=\"%s\">%s</text>%n",
          flip ? px - 6 : px + 6, TOP + 12, flip ? "end" : "start", esc(marker.label())));
      sb.append("</g>\n");
    }
    sb.append("</svg>\n");
    return sb.toString();
  }

  private record Axis(double xMin, double xMax, double yTop) {
    double px(double x) {
      return LEFT + (x - xMin) / (xMax - xMin) * (WIDTH - RIGHT - LEFT);
    }

    double py(double y) {
      return HEIGHT - BOTTOM - y / yTop * (HEIGHT - BOTTOM - TOP);
    }
  }

  /** 1, 2 or 5 × 10^k, about a fifth of the range. */
  static double niceStep(double range) {
    double raw = range / 5;
    double mag = Math.pow(10, Math.floor(Math.log10(raw)));
    double f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  }

  private static String tick(double v) {
    if (Math.abs(v) < 1e-9) {
      return "0";
    }
    return Math.abs(v) >= 100 || v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.3g", v);
  }

  private static boolean finite(double v) {
    return !Double.isNaN(v) && !Double.isInfinite(v);
  }

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
