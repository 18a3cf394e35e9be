package dev.bitsweep.pipeline;

import dev.bitsweep.eval.OutputComparison;
import java.io.Serializable;

/** A config's combined evaluation over all batches. */
public record EvalSummary(OutputComparison comparison, int batches, double seconds) implements Serializable {}
