package dev.bitsweep.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * deploy/k8s parsed as YAML and checked for what the Flink Kubernetes Operator and the submission need (see
 * deploy/README.md, section 4). Structural only: no Kubernetes API server runs here.
 */
class KubernetesManifestsTest {
  private static final Path K8S = Fixtures.repositoryRoot().resolve("deploy/k8s");

  @SuppressWarnings("unchecked")
  private static Map<String, Object> manifest(String file) throws IOException {
    try (Reader reader = Files.newBufferedReader(K8S.resolve(file))) {
      Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
      return (Map<String, Object>) assertInstanceOf(Map.class, doc, file + " is one YAML mapping");
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> T at(Object node, String... path) {
    Object current = node;
    for (String key : path) {
      assertInstanceOf(Map.class, current, "a mapping above '" + key + "' in " + String.join(".", path));
      current = ((Map<String, Object>) current).get(key);
      assertNotNull(current, String.join(".", path) + " is missing (at '" + key + "')");
    }
    return (T) current;
  }

  @Test
  void theSessionClusterIsAStandaloneFlink119Deployment() throws IOException {
    Map<String, Object> session = manifest("flink-session.yaml");
    assertEquals("flink.apache.org/v1beta1", session.get("apiVersion"));
    assertEquals("FlinkDeployment", session.get("kind"));
    assertEquals("bitsweep-session", at(session, "metadata", "name"));
    assertEquals("v1_19", at(session, "spec", "flinkVersion"));
    assertEquals("standalone", at(session, "spec", "mode"));
    assertTrue(session.get("spec") instanceof Map<?, ?> spec && !spec.containsKey("job"),
        "a session cluster has no job section");
    assertInstanceOf(String.class, at(session, "spec", "image"));
  }

  @Test
  void flinkConfigurationIsStringsWithARestartStrategy() throws IOException {
    Map<String, Object> conf = at(manifest("flink-session.yaml"), "spec", "flinkConfiguration");
    for (Map.Entry<String, Object> entry : conf.entrySet()) {
      assertInstanceOf(String.class, entry.getValue(), "the operator takes flinkConfiguration values as strings: "
          + entry.getKey() + " is " + entry.getValue());
    }
    assertEquals("fixed-delay", conf.get("restart-strategy.type"));
    assertTrue(Integer.parseInt((String) conf.get("restart-strategy.fixed-delay.attempts")) >= 1);
    assertNotNull(conf.get("restart-strategy.fixed-delay.delay"));
    assertEquals("/docker-entrypoint.sh", conf.get("kubernetes.entry.path"));
    assertEquals("8081", conf.get("rest.port"));
    int slots = Integer.parseInt((String) conf.get("taskmanager.numberOfTaskSlots"));
    int replicas = ((Number) at(manifest("flink-session.yaml"), "spec", "taskManager", "replicas")).intValue();
    assertEquals(slots * replicas, Integer.parseInt((String) conf.get("parallelism.default")),
        "default parallelism = slots x TaskManager replicas");
  }

  @Test
  void jobManagerAndTaskManagersHaveResources() throws IOException {
    Map<String, Object> session = manifest("flink-session.yaml");
    for (String role : List.of("jobManager", "taskManager")) {
      assertTrue(((String) at(session, "spec", role, "resource", "memory")).matches("\\d+[mg]"), role + " memory");
      assertTrue(((Number) at(session, "spec", role, "resource", "cpu")).doubleValue() > 0, role + " cpu");
    }
  }

  @Test
  void everyFlinkPodMountsTheSharedReadWriteManyVolumeAtData() throws IOException {
    Map<String, Object> pvc = manifest("data-pvc.yaml");
    assertEquals("PersistentVolumeClaim", pvc.get("kind"));
    assertEquals(List.of("ReadWriteMany"), at(pvc, "spec", "accessModes"));
    String claim = at(pvc, "metadata", "name");

    Map<String, Object> podSpec = at(manifest("flink-session.yaml"), "spec", "podTemplate", "spec");
    assertMountsClaimAtData(podSpec, "flink-main-container", claim);
    Map<String, Object> jobPod = at(manifest("submit-sweep-job.yaml"), "spec", "template", "spec");
    assertMountsClaimAtData(jobPod, "submit", claim);
  }

  private void assertMountsClaimAtData(Map<String, Object> podSpec, String containerName, String claim) {
    List<Map<String, Object>> volumes = at(podSpec, "volumes");
    String volume = volumes.stream().filter(v -> v.get("persistentVolumeClaim") instanceof Map<?, ?> c
        && claim.equals(c.get("claimName"))).map(v -> (String) v.get("name")).findFirst()
        .orElseThrow(() -> new AssertionError("no volume for claim " + claim + " in " + volumes));
    List<Map<String, Object>> containers = at(podSpec, "containers");
    Map<String, Object> container = containers.stream().filter(c -> containerName.equals(c.get("name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no container " + containerName));
    List<Map<String, Object>> mounts = at(container, "volumeMounts");
    assertTrue(mounts.stream().anyMatch(m -> volume.equals(m.get("name")) && "/data".equals(m.get("mountPath"))),
        containerName + " mounts " + volume + " at /data: " + mounts);
  }

  @Test
  void theSubmissionJobRunsASweepAgainstTheSessionRestService() throws IOException {
    Map<String, Object> job = manifest("submit-sweep-job.yaml");
    assertEquals("batch/v1", job.get("apiVersion"));
    assertEquals("Job", job.get("kind"));
    List<Map<String, Object>> containers = at(job, "spec", "template", "spec", "containers");
    List<String> args = at(containers.get(0), "args");
    assertEquals("bitsweep", args.get(0), "the image's bitsweep role");
    assertEquals("sweep", args.get(1));
    assertTrue(args.get(2).startsWith("/data/"), "the spec lies on the shared volume: " + args.get(2));
    assertEquals("flink", args.get(args.indexOf("--runner") + 1));
    String session = at(manifest("flink-session.yaml"), "metadata", "name");
    assertEquals(session + "-rest:8081", args.get(args.indexOf("--flink-master") + 1),
        "the operator's REST service of the session cluster");
    assertEquals("Never", at(job, "spec", "template", "spec", "restartPolicy"));
  }

  @Test
  void kustomizationListsThePvcAndTheSessionCluster() throws IOException {
    List<String> resources = at(manifest("kustomization.yaml"), "resources");
    assertEquals(List.of("data-pvc.yaml", "flink-session.yaml"), resources);
    for (String resource : resources) {
      assertTrue(Files.isRegularFile(K8S.resolve(resource)), resource);
    }
  }
}
