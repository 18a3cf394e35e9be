package dev.bitsweep.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The few calls of a Flink session cluster's REST API that bitsweep needs (the web UI is served at the same address). */
public final class FlinkRest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String baseUrl;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** {@code flinkMaster}: HOST:PORT or http(s)://HOST:PORT, as given to --flink-master. */
  public FlinkRest(String flinkMaster) {
    String base = flinkMaster.contains("://") ? flinkMaster : "http://" + flinkMaster;
    this.baseUrl = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
  }

  /** True for the Flink runner's in-process masters, which have no REST API. */
  public static boolean isEmbedded(String flinkMaster) {
    return flinkMaster == null || flinkMaster.isBlank() || flinkMaster.equals("[local]") || flinkMaster.equals("[auto]")
        || flinkMaster.equals("[collection]");
  }

  public String webUi() {
    return baseUrl;
  }

  /** One row of {@code /jobs/overview}. */
  public record Job(String id, String name, String state, JsonNode tasks) {}

  public List<Job> jobs() {
    List<Job> jobs = new ArrayList<>();
    for (JsonNode job : get("/jobs/overview").path("jobs")) {
      jobs.add(new Job(job.path("jid").asText(), job.path("name").asText(), job.path("state").asText(), job.path("tasks")));
    }
    return jobs;
  }

  public Optional<Job> jobNamed(String name) {
    return jobs().stream().filter(j -> j.name().equals(name)).findFirst();
  }

  /**
   * A slot's share of its TaskManager's cores ({@code /taskmanagers}: cpuCores / slotsNumber, rounded down, at least
   * 1), the smallest over the registered TaskManagers; 1 when none is registered yet.
   */
  public int coresPerSlot() {
    int share = Integer.MAX_VALUE;
    for (JsonNode taskManager : get("/taskmanagers").path("taskmanagers")) {
      int cores = taskManager.path("hardware").path("cpuCores").asInt(1);
      int slots = Math.max(1, taskManager.path("slotsNumber").asInt(1));
      share = Math.min(share, Math.max(1, cores / slots));
    }
    return share == Integer.MAX_VALUE ? 1 : share;
  }

  /** {@code GET path} as JSON; an unreachable cluster is an {@link UncheckedIOException} naming the address. */
  public JsonNode get(String path) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(10)).GET().build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IOException("HTTP " + response.statusCode() + ": " + response.body());
      }
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException("Flink REST " + baseUrl + path + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UncheckedIOException(new IOException("interrupted while calling " + baseUrl + path));
    }
  }
}
