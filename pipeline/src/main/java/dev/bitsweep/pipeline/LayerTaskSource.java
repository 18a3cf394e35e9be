package dev.bitsweep.pipeline;

import java.util.Comparator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.io.BoundedSource;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * A sweep's layer tasks as a bounded source that splits into one source per task.
 *
 * <p>Why a source and not a shuffle: compression costs differ by orders of magnitude between configs (8-bit grouped
 * k-means takes 1000x as long as int8 on the same layer). A shuffle places tasks by the hash of a key, so two heavy
 * tasks can land on one worker while the other idles. A runner hands the splits of a source out as its readers ask
 * for them (Flink: one split at a time to whichever subtask finished its last one), and the compression step runs
 * chained to the reader, so each worker takes its next task only when it has finished the previous one.
 */
final class LayerTaskSource extends BoundedSource<LayerTask> {
  private static final long serialVersionUID = 1L;
  private final List<LayerTask> tasks;

  LayerTaskSource(List<LayerTask> tasks) {
    this.tasks = List.copyOf(tasks);
  }

  List<LayerTask> tasks() {
    return tasks;
  }

  /**
   * One source per task, whatever bundle size is asked for: a task is the unit of work. The splits come cheapest
   * first by {@link TaskCost}: Flink's split assigner hands out the last split of the list first, so the heaviest
   * tasks start at once and the light ones fill the gaps at the end. Any other order only costs time.
   */
  @Override
  public List<LayerTaskSource> split(long desiredBundleSizeBytes, PipelineOptions options) {
    if (tasks.size() <= 1) {
      return List.of(this);
    }
    return tasks.stream()
        .sorted(Comparator.comparingDouble(TaskCost::seconds))
        .map(task -> new LayerTaskSource(List.of(task)))
        .toList();
  }

  /** The weight bytes the tasks compress: a size estimate in the units runners expect. */
  @Override
  public long getEstimatedSizeBytes(PipelineOptions options) {
    return tasks.stream().mapToLong(task -> 4L * task.layer().params()).sum();
  }

  @Override
  public BoundedReader<LayerTask> createReader(PipelineOptions options) {
    return new Reader(this);
  }

  @Override
  public Coder<LayerTask> getOutputCoder() {
    return SerializableCoder.of(LayerTask.class);
  }

  private static final class Reader extends BoundedReader<LayerTask> {
    private final LayerTaskSource source;
    private int index = -1;

    Reader(LayerTaskSource source) {
      this.source = source;
    }

    @Override
    public boolean start() {
      index = 0;
      return index < source.tasks.size();
    }

    @Override
    public boolean advance() {
      index++;
      return index < source.tasks.size();
    }

    @Override
    public LayerTask getCurrent() {
      if (index < 0 || index >= source.tasks.size()) {
        throw new NoSuchElementException("no current layer task (index " + index + " of " + source.tasks.size() + ")");
      }
      return source.tasks.get(index);
    }

    @Override
    public void close() {}

    @Override
    public LayerTaskSource getCurrentSource() {
      return source;
    }
  }
}
