package dev.tokentap.emulator;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.function.Function;

/**
 * Reads keys below a prefix and names the full key, the value and what is expected in every
 * complaint, e.g. {@code tokentap.emulator.port: 70000 (expected: 0..65535)}. A value of the wrong
 * type gets the same shape of message as an out-of-range one.
 */
final class SettingsReader {

  private final Config root;
  private final String prefix;

  SettingsReader(Config root, String prefix) {
    this.root = root;
    this.prefix = prefix;
  }

  boolean isSet(String key) {
    // A null in reference.conf means "the profile's value"; hasPath is false for null.
    return root.hasPath(prefix + key);
  }

  String nonBlank(String key) {
    String v = string(key);
    if (v.isBlank()) {
      throw invalid(key, "not blank");
    }
    return v;
  }

  int intAtLeast(String key, int min) {
    int v = read(key, "an integer", root::getInt);
    if (v < min) {
      throw invalid(key, ">= " + min);
    }
    return v;
  }

  int intBetween(String key, int min, int max) {
    int v = read(key, "an integer", root::getInt);
    if (v < min || v > max) {
      throw invalid(key, min + ".." + max);
    }
    return v;
  }

  long longAtLeast(String key, long min) {
    long v = read(key, "an integer", root::getLong);
    if (v < min) {
      throw invalid(key, ">= " + min);
    }
    return v;
  }

  double doubleAtLeast(String key, double min) {
    double v = read(key, "a number", root::getDouble);
    if (!(v >= min) || Double.isInfinite(v)) {
      throw invalid(key, ">= " + trim(min));
    }
    return v;
  }

  double doubleBetween(String key, double min, double max) {
    double v = read(key, "a number", root::getDouble);
    if (!(v >= min && v <= max)) {
      throw invalid(key, trim(min) + ".." + trim(max));
    }
    return v;
  }

  double doubleAbove(String key, double min) {
    double v = read(key, "a number", root::getDouble);
    if (!(v > min) || Double.isInfinite(v)) {
      throw invalid(key, "> " + trim(min));
    }
    return v;
  }

  long bytesBetween(String key, long min, long max) {
    long v = read(key, "a size such as 8MiB", root::getBytes);
    if (v < min || v > max) {
      throw invalid(key, min + ".." + max + " bytes");
    }
    return v;
  }

  Duration durationAtLeastZero(String key) {
    Duration v = read(key, "a duration such as 7ms", root::getDuration);
    if (v.isNegative()) {
      throw invalid(key, ">= 0");
    }
    return v;
  }

  String string(String key) {
    return read(key, "a string", root::getString);
  }

  long anyLong(String key) {
    return read(key, "an integer", root::getLong);
  }

  /**
   * Reads with the getter; a value of the wrong type gets the same message shape as a bad value.
   */
  private <T> T read(String key, String expected, Function<String, T> getter) {
    try {
      return getter.apply(prefix + key);
    } catch (ConfigException.WrongType | ConfigException.BadValue e) {
      throw invalid(key, expected);
    }
  }

  IllegalArgumentException invalid(String key, String expected) {
    Object value = root.getValue(prefix + key).unwrapped();
    return new IllegalArgumentException(
        prefix + key + ": " + value + " (expected: " + expected + ")");
  }

  private static String trim(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }
}
