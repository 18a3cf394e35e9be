package dev.bitsweep.layer;

import java.io.Serializable;

/** A tensor bitsweep leaves alone, and why (reported in the results). */
public record SkippedTensor(String name, String opType, String shape, long params, String reason) implements Serializable {}
