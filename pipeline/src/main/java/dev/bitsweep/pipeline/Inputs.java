package dev.bitsweep.pipeline;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;

/** Checks of a composite transform's keyed inputs, so that a wrongly wired pipeline fails at construction. */
final class Inputs {
  private Inputs() {}

  static void require(KeyedPCollectionTuple<String> input, String transform, TupleTag<?>... tags) {
    Set<String> given = input.getKeyedCollections().stream().map(c -> c.getTupleTag().getId())
        .collect(Collectors.toSet());
    Set<String> wanted = List.of(tags).stream().map(TupleTag::getId).collect(Collectors.toSet());
    if (!given.equals(wanted)) {
      throw new IllegalArgumentException(transform + " takes the keyed inputs " + wanted + ", got " + given);
    }
  }
}
