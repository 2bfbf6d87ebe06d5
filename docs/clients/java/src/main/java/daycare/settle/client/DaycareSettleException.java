// Hand-written typed client stub for the daycare-settle HTTP service (not generated).
package daycare.settle.client;

import java.util.List;

/** An RFC 9457 problem detail answered by the service, with the library's stable code. */
public final class DaycareSettleException extends Exception {
    private static final long serialVersionUID = 1L;

    /** One problem of an invalid episode or query: the field path and what is wrong. */
    public record Problem(String path, String message) {}

    private final int status;
    private final String code;
    private final List<Problem> problems;

    public DaycareSettleException(int status, String code, String detail, List<Problem> problems) {
        super(code + " (HTTP " + status + "): " + detail);
        this.status = status;
        this.code = code;
        this.problems = List.copyOf(problems);
    }

    /** The HTTP status (400, 404, 413, 422, 500). */
    public int status() { return status; }

    /** The stable error code, e.g. {@code invalid_episode}, {@code unknown_policy}. */
    public String code() { return code; }

    /** Field paths and messages (for {@code invalid_episode} and bad query parameters). */
    public List<Problem> problems() { return problems; }
}
