package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class EvalMemoryTest {
  @Test
  void parsesSizes() {
    assertEquals(6L << 30, EvalMemory.parse("6g"));
    assertEquals(6L << 30, EvalMemory.parse("6G"));
    assertEquals(512L << 20, EvalMemory.parse("512m"));
    assertEquals(512L << 20, EvalMemory.parse("512MB"));
    assertEquals(3L << 29, EvalMemory.parse("1.5g"));
    assertEquals(2048, EvalMemory.parse("2k"));
    assertEquals(123456789, EvalMemory.parse("123456789"));
    assertEquals("'lots' is not a size; write e.g. 6g, 512m or a number of bytes",
        assertThrows(IllegalArgumentException.class, () -> EvalMemory.parse("lots")).getMessage());
    assertEquals("'0g' is not a size above 0; write e.g. 6g or 512m",
        assertThrows(IllegalArgumentException.class, () -> EvalMemory.parse("0g")).getMessage());
  }

  @Test
  void theDefaultIsThreeQuartersOfWhatTheHeapLeaves() {
    long physical = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getTotalMemorySize();
    long heap = Runtime.getRuntime().maxMemory();
    assertEquals((physical - heap) / 4 * 3, EvalMemory.defaultBudgetBytes());
    assertEquals(EvalMemory.defaultBudgetBytes(), EvalMemory.budgetBytes(0));
    assertEquals(5000, EvalMemory.budgetBytes(5000));
  }

  @Test
  void aSessionIsChargedTheDecodedWeightsAndItsFile() {
    assertEquals(600_000_000L + 80_000_000L, EvalMemory.sessionBytes(600_000_000L, 80_000_000L));
  }
}
