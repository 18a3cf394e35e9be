/**
 * Where and how jobs run: {@link dev.bitsweep.cluster.Launch} (runner, Flink master, parallelism, thread budget,
 * jars to stage), {@link dev.bitsweep.cluster.BeamJob} (runner options, submission, waiting, metrics), and a Flink
 * session cluster's REST API ({@link dev.bitsweep.cluster.FlinkRest}, {@link dev.bitsweep.cluster.JobWatcher}) and
 * job jar ({@link dev.bitsweep.cluster.JobJar}). Knows nothing of sweeps: a new runner or runner option goes here.
 */
package dev.bitsweep.cluster;
