package dev.bitsweep.pipeline;

import java.io.Serializable;

/** One evaluation batch of one packaged model. */
public record EvalTask(String configId, String packagePath, int batch) implements Serializable {}
