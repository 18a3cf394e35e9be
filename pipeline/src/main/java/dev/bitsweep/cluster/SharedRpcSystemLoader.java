package dev.bitsweep.cluster;

import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.rpc.AddressResolution;
import org.apache.flink.runtime.rpc.RpcSystem;
import org.apache.flink.runtime.rpc.RpcSystemLoader;

/**
 * One Flink RPC system per JVM for every embedded MiniCluster. Flink's own loader copies its 22 MB Pekko jar to a
 * temporary file and loads Pekko and Scala in a fresh class loader for each MiniCluster it starts (1-4 s of every
 * embedded job here); this loader, tried first ({@link #getLoadPriority}), asks the others once and hands the same
 * system to every MiniCluster, whose {@code close()} then leaves it open. It is closed (its temporary jar removed)
 * when the JVM exits. {@link #prewarm} loads it in the background while a sweep is being planned.
 */
public final class SharedRpcSystemLoader implements RpcSystemLoader {
  private static RpcSystem shared;

  @Override
  public int getLoadPriority() {
    return -1;
  }

  @Override
  public RpcSystem loadRpcSystem(Configuration config) {
    return new Borrowed(system(config));
  }

  /** Starts loading the RPC system on a daemon thread, for an embedded Flink job that will start soon. */
  public static void prewarm() {
    Thread thread = new Thread(() -> {
      try {
        system(new Configuration());
      } catch (RuntimeException | LinkageError e) {
        // the MiniCluster loads it itself then, and reports what fails
      }
    }, "bitsweep-flink-rpc-prewarm");
    thread.setDaemon(true);
    thread.start();
  }

  private static synchronized RpcSystem system(Configuration config) {
    if (shared == null) {
      List<RpcSystemLoader> others = new ArrayList<>();
      ServiceLoader.load(RpcSystemLoader.class).forEach(loader -> {
        if (!(loader instanceof SharedRpcSystemLoader)) {
          others.add(loader);
        }
      });
      others.sort(Comparator.comparingInt(RpcSystemLoader::getLoadPriority));
      RuntimeException failure = null;
      for (RpcSystemLoader loader : others) {
        try {
          shared = loader.loadRpcSystem(config);
          break;
        } catch (RuntimeException e) {
          failure = failure == null ? e : failure;
        }
      }
      if (shared == null) {
        throw failure != null ? failure : new IllegalStateException("no Flink RPC system on the class path");
      }
      RpcSystem closing = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(closing::close, "bitsweep-flink-rpc-close"));
    }
    return shared;
  }

  /** The shared system for one MiniCluster: everything but {@code close()}. */
  private static final class Borrowed implements RpcSystem {
    private final RpcSystem system;

    Borrowed(RpcSystem system) {
      this.system = system;
    }

    @Override
    public RpcServiceBuilder localServiceBuilder(Configuration configuration) {
      return system.localServiceBuilder(configuration);
    }

    @Override
    public RpcServiceBuilder remoteServiceBuilder(Configuration configuration, String externalAddress,
        String externalPortRange) {
      return system.remoteServiceBuilder(configuration, externalAddress, externalPortRange);
    }

    @Override
    public String getRpcUrl(String hostname, int port, String endpointName, AddressResolution addressResolution,
        Configuration config) throws UnknownHostException {
      return system.getRpcUrl(hostname, port, endpointName, addressResolution, config);
    }

    @Override
    public InetSocketAddress getInetSocketAddressFromRpcUrl(String url) throws Exception {
      return system.getInetSocketAddressFromRpcUrl(url);
    }

    @Override
    public long getMaximumMessageSizeInBytes(Configuration config) {
      return system.getMaximumMessageSizeInBytes(config);
    }

    @Override
    public void close() {
      // shared: closed when the JVM exits
    }
  }
}
