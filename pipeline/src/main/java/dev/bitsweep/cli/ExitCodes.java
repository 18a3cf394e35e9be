package dev.bitsweep.cli;

import dev.bitsweep.compress.ConfigException;
import dev.bitsweep.data.DataException;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.spec.SpecException;

/** 0: done; 1: the job failed or some configs failed; 2: bad input (spec, model, data, config). */
final class ExitCodes {
  static final int OK = 0;
  static final int FAILED = 1;
  static final int BAD_INPUT = 2;

  private ExitCodes() {}

  static int of(Exception e) {
    if (e instanceof SpecException || e instanceof ModelException || e instanceof DataException
        || e instanceof ConfigException) {
      return BAD_INPUT;
    }
    return FAILED;
  }
}
