package dev.bitsweep.pipeline;

import dev.bitsweep.eval.OutputComparison;
import java.io.Serializable;

/** The comparison of one batch, with the seconds it took. */
public record EvalPartial(int batch, OutputComparison comparison, double seconds) implements Serializable {}
