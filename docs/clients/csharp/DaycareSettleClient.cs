// Hand-written typed client stub for the daycare-settle HTTP service (not generated).
// It uses the classes quicktype generated into Episode.cs and Settlement.cs
// (System.Text.Json) and System.Net.Http.HttpClient. NOT COMPILED on the machine it was
// written on (no .NET SDK there); see docs/clients.md.
#nullable enable

namespace DaycareSettle.Client
{
    using System;
    using System.Collections.Generic;
    using System.Net.Http;
    using System.Text;
    using System.Text.Json;
    using System.Threading;
    using System.Threading.Tasks;
    using DaycareSettle.Client.EpisodeTypes;
    using DaycareSettle.Client.SettlementTypes;

    /// <summary>One problem of an invalid episode or query: the field path and what is wrong.</summary>
    public sealed record Problem(string Path, string Message);

    /// <summary>An RFC 9457 problem detail answered by the service, with the library's stable code.</summary>
    public sealed class DaycareSettleException : Exception
    {
        public DaycareSettleException(int status, string code, string detail, IReadOnlyList<Problem> problems)
            : base($"{code} (HTTP {status}): {detail}")
        {
            Status = status;
            Code = code;
            Problems = problems;
        }

        /// <summary>The HTTP status (400, 404, 413, 422, 500).</summary>
        public int Status { get; }

        /// <summary>The stable error code, e.g. <c>invalid_episode</c>, <c>unknown_policy</c>.</summary>
        public string Code { get; }

        /// <summary>Field paths and messages (for <c>invalid_episode</c> and bad query parameters).</summary>
        public IReadOnlyList<Problem> Problems { get; }
    }

    /// <summary>POSTs episodes to <c>/v1/settle?policy=ID</c>; a problem detail becomes a <see cref="DaycareSettleException"/>.</summary>
    public sealed class DaycareSettleClient
    {
        private readonly HttpClient http;

        /// <param name="http">an HttpClient whose BaseAddress is the service, e.g. http://127.0.0.1:8080/</param>
        public DaycareSettleClient(HttpClient http) => this.http = http;

        /// <summary>Settles a typed episode (amounts are decimal strings, e.g. "1234.50").</summary>
        public Task<Settlement> SettleAsync(string policy, Episode episode, CancellationToken cancel = default) =>
            SettleJsonAsync(policy, DaycareSettle.Client.EpisodeTypes.Serialize.ToJson(episode), cancel);

        /// <summary>Settles an episode given as JSON text.</summary>
        public async Task<Settlement> SettleJsonAsync(string policy, string episodeJson, CancellationToken cancel = default)
        {
            var uri = "v1/settle?policy=" + Uri.EscapeDataString(policy);
            using var content = new StringContent(episodeJson, Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(uri, content, cancel).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
            if ((int)response.StatusCode == 200)
            {
                return Settlement.FromJson(body)
                    ?? throw new DaycareSettleException(200, "unexpected_response", "empty settlement", Array.Empty<Problem>());
            }
            throw ToException((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body);
        }

        private static DaycareSettleException ToException(int status, string? mediaType, string body)
        {
            if (mediaType != "application/problem+json")
            {
                return new DaycareSettleException(status, "unexpected_response", body, Array.Empty<Problem>());
            }
            try
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                var problems = new List<Problem>();
                if (root.TryGetProperty("problems", out var items) && items.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in items.EnumerateArray())
                    {
                        problems.Add(new Problem(Text(item, "path"), Text(item, "message")));
                    }
                }
                return new DaycareSettleException(status, Text(root, "code"), Text(root, "detail"), problems);
            }
            catch (JsonException)
            {
                return new DaycareSettleException(status, "unexpected_response", body, Array.Empty<Problem>());
            }
        }

        private static string Text(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString() ?? ""
                : "";
    }
}
