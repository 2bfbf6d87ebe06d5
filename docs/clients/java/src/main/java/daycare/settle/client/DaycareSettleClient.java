// Hand-written typed client stub for the daycare-settle HTTP service (not generated).
// It uses the classes quicktype generated from docs/clients/schemas/ and the JDK's
// java.net.http.HttpClient; the only dependency is Jackson (jackson-databind).
package daycare.settle.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import daycare.settle.client.episode.Episode;
import daycare.settle.client.settlement.Settlement;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** POSTs episodes to {@code /v1/settle?policy=ID}; a problem detail becomes a {@link DaycareSettleException}. */
public final class DaycareSettleClient {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private final URI base;
    private final HttpClient http;

    /** @param base the service's base URL, e.g. {@code http://127.0.0.1:8080} */
    public DaycareSettleClient(URI base) {
        this.base = base;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** Settles a typed episode. */
    public Settlement settle(String policy, Episode episode)
            throws IOException, InterruptedException, DaycareSettleException {
        return settleJson(policy, daycare.settle.client.episode.Converter.toJsonString(episode));
    }

    /** Settles an episode given as JSON text (as the hospital system already has it). */
    public Settlement settleJson(String policy, String episodeJson)
            throws IOException, InterruptedException, DaycareSettleException {
        URI uri = base.resolve("/v1/settle?policy=" + URLEncoder.encode(policy, StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(episodeJson, StandardCharsets.UTF_8))
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (response.statusCode() == 200) {
            return daycare.settle.client.settlement.Converter.fromJsonString(response.body());
        }
        throw problem(response);
    }

    private static DaycareSettleException problem(HttpResponse<String> response) {
        int status = response.statusCode();
        String type = response.headers().firstValue("Content-Type").orElse("");
        if (!type.startsWith("application/problem+json")) {
            return new DaycareSettleException(status, "unexpected_response", response.body(), List.of());
        }
        try {
            JsonNode body = MAPPER.readTree(response.body());
            List<DaycareSettleException.Problem> problems = new ArrayList<>();
            for (JsonNode item : body.path("problems")) {
                problems.add(new DaycareSettleException.Problem(item.path("path").asText(), item.path("message").asText()));
            }
            return new DaycareSettleException(status, body.path("code").asText(), body.path("detail").asText(), problems);
        } catch (IOException e) {
            return new DaycareSettleException(status, "unexpected_response", response.body(), List.of());
        }
    }
}
