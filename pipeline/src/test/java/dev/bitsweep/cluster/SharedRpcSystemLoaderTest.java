package dev.bitsweep.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.reflect.Field;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.rpc.RpcService;
import org.apache.flink.runtime.rpc.RpcSystem;
import org.junit.jupiter.api.Test;

/** Every MiniCluster of a JVM gets the one RPC system; one cluster closing it leaves it usable for the next. */
class SharedRpcSystemLoaderTest {
  @Test
  void flinkLoadsTheSharedSystemAndItOutlivesAClose() throws Exception {
    RpcSystem first = RpcSystem.load(new Configuration());
    RpcSystem second = RpcSystem.load(new Configuration());
    assertEquals("dev.bitsweep.cluster.SharedRpcSystemLoader$Borrowed", first.getClass().getName(),
        "Flink's RpcSystem.load picks this loader first");
    assertSame(delegate(first), delegate(second), "one system per JVM");
    first.close();
    // a closed Flink RPC system cannot start services (its class loader is gone): this one still does
    RpcService service = second.localServiceBuilder(new Configuration()).createAndStart();
    service.closeAsync().get();
  }

  private static Object delegate(RpcSystem borrowed) throws Exception {
    Field field = borrowed.getClass().getDeclaredField("system");
    field.setAccessible(true);
    return field.get(borrowed);
  }
}
