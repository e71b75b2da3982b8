using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Atomic.Cli.Commands;

/// <summary>
/// Draws <c>GET /v1/status</c> with Spectre.Console: a header line, then tables. Kept apart from
/// <see cref="StatusCommand"/> so that only <c>atomic status</c> loads Spectre.Console.
/// </summary>
internal static class StatusView
{
    /// <summary>The width when the output is not a terminal (a pipe, a file, a test): wide enough for a txid's row.</summary>
    private const int RedirectedWidth = 120;

    public static int Firing(JsonElement status)
    {
        int firing = 0;
        foreach (JsonElement alert in Array(status, "alerts"))
        {
            if (Text(alert, "state") == "firing")
            {
                firing++;
            }
        }

        return firing;
    }

    public static void Write(TextWriter writer, Uri origin, JsonElement status)
    {
        bool terminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        IAnsiConsole ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!terminal)
        {
            ansi.Profile.Width = RedirectedWidth;
        }

        string at = status.TryGetProperty("at", out JsonElement when) && when.TryGetDateTimeOffset(out DateTimeOffset time)
            ? time.ToString("u", CultureInfo.InvariantCulture)
            : "?";
        ansi.MarkupLine(
            $"[bold]atomic status[/] of {Markup.Escape(origin.ToString())} at {at} (rates over {Number(status, "windowSeconds")} s)");

        JsonElement rates = status.GetProperty("rates");
        var pipeline = new Table().Title("per second").AddColumns("accepted", "verified", "rejected", "broadcast", "mined");
        pipeline.AddRow(
            Rate(rates, "accepted"), Rate(rates, "verified"), Rate(rates, "rejected"), Rate(rates, "broadcast"), Rate(rates, "mined"));
        ansi.Write(pipeline);

        JsonElement latency = status.GetProperty("latency");
        JsonElement calls = status.GetProperty("broadcastCalls");
        var timing = new Table().AddColumns("submit→broadcast p50", "p99", "ARC acceptance", "ARC call p99", "pub/sub pending");
        timing.AddRow(
            Seconds(latency, "submitToBroadcastP50"), Seconds(latency, "submitToBroadcastP99"),
            calls.TryGetProperty("acceptance", out JsonElement acceptance) && acceptance.ValueKind == JsonValueKind.Number
                ? (acceptance.GetDouble() * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %"
                : "–",
            Seconds(calls, "p99Seconds"), Number(status.GetProperty("pubsub"), "pending"));
        ansi.Write(timing);

        if (status.TryGetProperty("sessions", out JsonElement sessions))
        {
            ansi.WriteLine($"sessions: {Number(sessions, "running")} running; since start {Number(sessions, "completed")} completed, "
                + $"{Number(sessions, "refunded")} refunded, {Number(sessions, "aborted")} aborted");
        }

        if (status.TryGetProperty("payments", out JsonElement payments) && payments.TryGetProperty("enabled", out JsonElement on) && on.ValueKind == JsonValueKind.True)
        {
            ansi.WriteLine($"payments: {Number(payments, "count")} since start, {Number(payments, "satoshis")} satoshis");
        }

        JsonElement[] alerts = Array(status, "alerts");
        if (alerts.Length == 0)
        {
            ansi.MarkupLine("[green]alerts: none firing[/]");
        }
        else
        {
            var table = new Table().Title("alerts").AddColumns("alert", "state", "since", "summary");
            foreach (JsonElement alert in alerts)
            {
                string state = Text(alert, "state");
                table.AddRow(
                    new Markup(Markup.Escape(Text(alert, "name"))),
                    new Markup(state == "firing" ? $"[red]{state}[/]" : $"[yellow]{Markup.Escape(state)}[/]"),
                    new Text(Text(alert, "since")),
                    new Text(Text(alert, "summary")));
            }

            ansi.Write(table);
        }

        Rows(ansi, "recent transactions", Array(status, "recent"), ["txid", "status", "updated"],
            t => [Text(t, "txid"), Text(t, "status"), Text(t, "updatedAt")]);
        Rows(ansi, "pub/sub queues", Array(status.GetProperty("pubsub"), "queues"), ["pubsub", "topic", "consumer", "pending"],
            q => [Text(q, "pubsub"), Text(q, "topic"), Text(q, "consumer"), Number(q, "pending")]);
        Rows(ansi, "topics", Array(status, "topics"), ["topic", "examined", "admitted"],
            t => [Text(t, "topic"), Number(t, "examined"), Number(t, "admitted")]);
        Rows(ansi, "baskets", Array(status, "baskets"), ["basket", "outputs"], b => [Text(b, "basket"), Number(b, "outputs")]);
    }

    private static void Rows(IAnsiConsole ansi, string title, JsonElement[] items, string[] columns, Func<JsonElement, string[]> cells)
    {
        if (items.Length == 0)
        {
            ansi.WriteLine($"{title}: none");
            return;
        }

        var table = new Table().Title(title).AddColumns(columns);
        foreach (JsonElement item in items)
        {
            table.AddRow([.. cells(item).Select(c => (Spectre.Console.Rendering.IRenderable)new Text(c))]);
        }

        ansi.Write(table);
    }

    private static JsonElement[] Array(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out JsonElement array) && array.ValueKind == JsonValueKind.Array ? [.. array.EnumerateArray()] : [];

    private static string Text(JsonElement parent, string name) =>
        !parent.TryGetProperty(name, out JsonElement value) ? ""
        : value.ValueKind == JsonValueKind.String ? value.GetString()!
        : value.ToString();

    private static string Number(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetRawText() : "–";

    private static string Rate(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble().ToString("0.00", CultureInfo.InvariantCulture)
            : "–";

    private static string Seconds(JsonElement parent, string name) =>
        !parent.TryGetProperty(name, out JsonElement value) || value.ValueKind != JsonValueKind.Number ? "–"
        : value.GetDouble() < 1 ? (value.GetDouble() * 1000).ToString("0", CultureInfo.InvariantCulture) + " ms"
        : value.GetDouble().ToString("0.00", CultureInfo.InvariantCulture) + " s";
}
