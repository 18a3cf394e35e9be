package dev.bitsweep.methods;

import java.util.List;
import java.util.Objects;

/**
 * A runs-table column filled from the global config's field of the same name (null where the method has no such
 * field). {@link #CATALOG} fixes the order of the known columns in the schema; a column a method declares that is
 * not in it follows them.
 */
public record ResultColumn(String name, Type type) {
  public enum Type { STRING, INT, DOUBLE, BOOLEAN }

  public static final ResultColumn MODE = new ResultColumn("mode", Type.STRING);
  public static final ResultColumn NBITS = new ResultColumn("nbits", Type.INT);
  public static final ResultColumn DTYPE = new ResultColumn("dtype", Type.STRING);
  public static final ResultColumn GRANULARITY = new ResultColumn("granularity", Type.STRING);
  public static final ResultColumn GROUP_SIZE = new ResultColumn("group_size", Type.INT);
  /** The quantization block (columns per scale along a row); nothing else. */
  public static final ResultColumn BLOCK_SIZE = new ResultColumn("block_size", Type.INT);
  public static final ResultColumn CLUSTER_DIM = new ResultColumn("cluster_dim", Type.INT);
  public static final ResultColumn ENABLE_PER_CHANNEL_SCALE = new ResultColumn("enable_per_channel_scale",
      Type.BOOLEAN);
  public static final ResultColumn LUT_DTYPE = new ResultColumn("lut_dtype", Type.STRING);
  public static final ResultColumn TARGET_SPARSITY = new ResultColumn("target_sparsity", Type.DOUBLE);
  public static final ResultColumn N_M_RATIO = new ResultColumn("n_m_ratio", Type.STRING);
  public static final ResultColumn PRUNE_BLOCK_SIZE = new ResultColumn("prune_block_size", Type.INT);
  public static final ResultColumn LAZY_BATCH_SIZE = new ResultColumn("lazy_batch_size", Type.INT);

  public static final List<ResultColumn> CATALOG = List.of(MODE, NBITS, DTYPE, GRANULARITY, GROUP_SIZE, BLOCK_SIZE,
      CLUSTER_DIM, ENABLE_PER_CHANNEL_SCALE, LUT_DTYPE, TARGET_SPARSITY, N_M_RATIO, PRUNE_BLOCK_SIZE, LAZY_BATCH_SIZE);

  public ResultColumn {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
  }

  /** The field's value as this column stores it, or null. */
  public Object value(Object field) {
    if (field == null) {
      return null;
    }
    return switch (type) {
      case STRING -> field.toString();
      case INT -> field instanceof Number n ? n.intValue() : null;
      case DOUBLE -> field instanceof Number n ? n.doubleValue() : null;
      case BOOLEAN -> field instanceof Boolean b ? b : null;
    };
  }
}
