package dev.bitsweep.compress;

import java.io.Serializable;
import java.util.List;

/**
 * n:m sparsity: {@code n} of every {@code m} consecutive weights along a row are pruned (e.g. 2:4). In YAML,
 * manifests and Parquet it is the list {@code [n, m]} under the key {@code n_m_ratio}.
 */
public record NmRatio(int n, int m) implements Serializable {
  public static final String FIELD = "n_m_ratio";

  public NmRatio {
    if (m < 2 || n < 1 || n >= m) {
      throw new ConfigException(FIELD, "needs 1 <= n < m (n of every m weights pruned, e.g. [2, 4]), got [" + n + ", "
          + m + "]");
    }
  }

  /** From {@code [n, m]}; null stays null (no n:m). */
  public static NmRatio of(List<Integer> nm) {
    if (nm == null) {
      return null;
    }
    if (nm.size() != 2 || nm.contains(null)) {
      throw new ConfigException(FIELD, "must be two integers [n, m] (n of every m weights pruned), got " + nm);
    }
    return new NmRatio(nm.get(0), nm.get(1));
  }

  /** The share of weights pruned, n / m. */
  public double sparsity() {
    return (double) n / m;
  }

  /** The field value, {@code [n, m]}. */
  public List<Integer> asList() {
    return List.of(n, m);
  }

  @Override
  public String toString() {
    return n + ":" + m;
  }
}
