/**
 * The {@code bitsweep} command line (picocli): one class per subcommand, turning options into a
 * {@link dev.bitsweep.cluster.Launch} and calling the pipeline; exit codes in {@link dev.bitsweep.cli.ExitCodes}
 * (2 for bad input). A new subcommand goes here and into {@link dev.bitsweep.cli.Main}'s list.
 */
package dev.bitsweep.cli;
