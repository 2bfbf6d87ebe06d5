// Hand-written run of the client stub (not generated): settle one episode file over HTTP,
// then send a broken copy and print the problem detail's code and field paths.
package daycare.settle.client;

import daycare.settle.client.settlement.Settlement;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

public final class SettleOnce {
    public static void main(String[] args) throws Exception {
        DaycareSettleClient client = new DaycareSettleClient(URI.create(args[0]));
        String policy = args[1];
        String episode = Files.readString(Path.of(args[2]), StandardCharsets.UTF_8);
        Settlement settlement = client.settleJson(policy, episode);
        System.out.println("settled: totals.included " + settlement.getTotals().getIncluded()
                + ", lines " + settlement.getLines().size());
        try {
            client.settleJson(policy, episode.replaceFirst("\"amount\": *\"", "\"amount\": \"-"));
            System.out.println("broken episode was accepted");
        } catch (DaycareSettleException e) {
            System.out.println("refused: status " + e.status() + ", code " + e.code());
            for (DaycareSettleException.Problem p : e.problems()) {
                System.out.println("  " + p.path() + ": " + p.message());
            }
        }
        try {
            client.settleJson("no-such-policy", episode);
        } catch (DaycareSettleException e) {
            System.out.println("refused: status " + e.status() + ", code " + e.code());
        }
    }
}
