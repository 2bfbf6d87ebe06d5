// Hand-written check of the generated classes (not generated): read a settlement JSON file
// into the generated Settlement class and print its totals (amounts stay decimal strings).
package daycare.settle.client;

import daycare.settle.client.settlement.Converter;
import daycare.settle.client.settlement.Settlement;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

public final class ReadSettlement {
    public static void main(String[] args) throws Exception {
        Settlement settlement = Converter.fromJsonString(Files.readString(Path.of(args[0]), StandardCharsets.UTF_8));
        String included = settlement.getTotals().getIncluded();
        System.out.println("policy " + settlement.getPolicy().getID() + ", lines " + settlement.getLines().size()
                + ", totals.input " + settlement.getTotals().getInput() + ", totals.included " + included
                + " (BigDecimal " + new BigDecimal(included).toPlainString() + ")");
    }
}
